"""`isofficial sources add NAME URL|PATH --format F [--every 24h] | list | sync [NAME] |
remove NAME`."""

from __future__ import annotations

import argparse
import sys

from isofficial.bootstrap import STARTER_BY, keep_index, open_sql_registry
from isofficial.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("sources", help="upstream registries kept in step")
    actions = parser.add_subparsers(dest="sources_command", required=True)
    add = actions.add_parser("add", help="a source to sync: its file, folder or URL")
    add.add_argument("name", metavar="NAME")
    add.add_argument("location", metavar="URL|PATH")
    add.add_argument("--format", required=True, help="csv, json, yaml, congress-legislators, "
                     "openstates or wikidata")
    add.add_argument("--every", metavar="PERIOD", help="sync by `run` every 30m, 24h, 7d, ...")
    actions.add_parser("list", help="the sources and their last sync")
    sync = actions.add_parser("sync", help="sync one source, or every one")
    sync.add_argument("name", metavar="NAME", nargs="?")
    actions.add_parser("remove", help="forget a source (its accounts stay)").add_argument(
        "name", metavar="NAME"
    )


async def sources_command(args: argparse.Namespace, settings: Settings, by: str) -> int:
    # Here, not at the top: the catalog brings the fetcher (aiohttp), which a check never needs.
    from knowledge.sources.catalog import add_source, list_sources, remove_source, sync_source

    registry = await open_sql_registry(settings)
    engine = registry.engine
    try:
        action = args.sources_command
        if action == "add":
            source = await add_source(engine, args.name, args.location, args.format, args.every, by)
            print(f"added {source.line()}: `isofficial sources sync {source.name}` syncs it now")
        elif action == "remove":
            await remove_source(engine, args.name)
            print(f"removed {args.name}; the accounts it brought stay, with their history")
        elif action == "list":
            found = await list_sources(engine)
            print("\n".join(s.line() for s in found) or "no sources yet: `isofficial sources add`")
        else:
            names = [args.name] if args.name else [s.name for s in await list_sources(engine)]
            status = 0
            for name in names:
                result = await sync_source(engine, name, STARTER_BY)
                if result is None:
                    print(f"{name}: not modified since the last sync")
                    continue
                for problem in result.problems:
                    print(f"{name}:{problem.line}: {problem.reason}", file=sys.stderr)
                for line in (*result.merges, *result.disagreements):
                    print(f"{name}: {line}", file=sys.stderr)
                print(f"{name}: {result.line()}")
                status = 1 if result.problems else status
            await keep_index(registry, settings)
            return status
        return 0
    finally:
        await registry.close()
