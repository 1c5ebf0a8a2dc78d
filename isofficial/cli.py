"""`isofficial`: the command line of INTERFACE.md. Exit 0 success, 1 bad query or row, 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import io
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

from bot import render
from bot.collector import cycles_uncollected
from bot.model import OPERATOR, Asker, IsOfficialError, Status
from isofficial import sources_cli, version
from isofficial.bootstrap import (
    STARTER_BY,
    build_core,
    core_on,
    index_to_build,
    keep_index,
    open_sql_registry,
)
from isofficial.check_cli import check_command
from isofficial.settings import Settings, env_files
from knowledge.database import checkpoint_now, writing
from knowledge.registry import SqlRegistry

log = logging.getLogger("isofficial")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="isofficial", description="Is this account official?")
    parser.add_argument("--version", action="version", version=f"isofficial {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="check accounts named in queries (or stdin lines)")
    check.add_argument("queries", nargs="*", metavar="QUERY")
    check.add_argument("--json", action="store_true", help="JSON Lines, one per account")

    imp = sub.add_parser("import", help="import registry rows, or an upstream's own files")
    imp.add_argument("file", metavar="FILE", help="a file or folder, or - for standard input")
    imp.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    imp.add_argument("--skip-invalid", action="store_true", help="write the valid rows anyway")
    imp.add_argument("--strict", action="store_true", help="upstreams: refuse all on a problem")
    imp.add_argument("--format", choices=[*ROW_FORMATS, *NATIVE_FORMATS], help="default: by name")
    imp.add_argument("--revision", help="upstreams: the commit read (default: from .git)")
    imp.add_argument("--published", type=_day, help="upstreams: its date (default: the file's)")
    imp.add_argument("--by", help="who the change log names (default: import:FILE)")
    imp.add_argument(
        "--restore",
        action="store_true",
        help="an earlier version's export into a fresh install: replaces the starter data",
    )

    exp = sub.add_parser("export", help="the whole registry, importable again")
    exp.add_argument(
        "--format",
        choices=["csv", "json", "backup"],
        default="csv",
        help="backup: every table (history, reports, feeds, settings), restored by import",
    )
    exp.add_argument("--output", "-o", type=Path, help="default: standard output")

    verdict = sub.add_parser("verdict", help="set or correct a verdict")
    verdict.add_argument("ref", metavar="REF")
    verdict.add_argument("status", metavar="STATUS", help=" | ".join(s.value for s in Status))
    verdict.add_argument("--entity")
    verdict.add_argument("--source", metavar="URL")
    verdict.add_argument("--note")
    verdict.add_argument("--by", metavar="NAME")

    history = sub.add_parser("history", help="every change of REF, newest first")
    history.add_argument("ref", metavar="REF")

    undo = sub.add_parser("undo", help="revert the latest change of REF")
    undo.add_argument("ref", metavar="REF")
    undo.add_argument("--by", metavar="NAME")

    sub.add_parser("reports", help="open suggestions from users")

    verify = sub.add_parser("verify", help="live check that an official site links to REF")
    verify.add_argument("ref", metavar="REF")
    verify.add_argument("--entity", help="whose official sites to read (default: REF's entity)")
    verify.add_argument("--json", action="store_true", help="one JSON object")

    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument(
        "--as",
        dest="as_user",
        metavar="PLATFORM:ID",
        help="act as this chat user (default: the operator, a moderator)",
    )

    run = sub.add_parser("run", help="start every adapter whose token is set")
    run.add_argument("--webhook", action="store_true", help="Telegram webhook mode")

    feeds = sub.add_parser("feeds", help="news feeds that mention accounts")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_sub.add_parser("add").add_argument("url", metavar="URL")
    feeds_sub.add_parser("remove").add_argument("url", metavar="URL")
    feeds_sub.add_parser("list")
    feeds_sub.add_parser("refresh")

    sources_cli.add_parser(sub)

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    return parser


ROW_FORMATS = ("csv", "yaml", "json")
NATIVE_FORMATS = ("congress-legislators", "openstates", "wikidata")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _operator(name: str | None) -> Asker:
    """The local command line acts as the operator; --by names who is at the keyboard."""
    who = name or os.environ.get("USER") or _login()
    return Asker(platform=OPERATOR.platform, user_id=who, name=who)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return OPERATOR.user_id


async def _check(args: argparse.Namespace, settings: Settings) -> int:
    core = await build_core(settings)
    asker = _operator(None)  # once: the login is looked up in the password database
    return await check_command(core, asker, args.queries, args.json)


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    registry = await open_sql_registry(settings)
    try:  # The collector off until the rows and the index are freed: once back on, its first
        with cycles_uncollected():  # pass looks at every young object (1M rows: 0.64 s).
            return await _import_into(registry, args, settings)
    finally:  # the last connection closed folds SQLite's write-ahead log (hundreds of MB after
        await registry.close()  # a large import) into the file: later starts need not read it


async def _import_into(registry: SqlRegistry, args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.backup import clear_fresh, is_backup, restore_backup
    from knowledge.importer import import_rows, read_rows
    from knowledge.upstreams import Upstream, readers

    name = "stdin" if args.file == "-" else Path(args.file).name
    if args.file != "-" and is_backup(Path(args.file)):
        if args.dry_run:
            raise IsOfficialError("a backup is restored whole: --dry-run does not apply")
        counts = await restore_backup(registry.engine, Path(args.file), STARTER_BY)
        await keep_index(registry, settings)
        shown = ", ".join(f"{count} {table}" for table, count in counts.items() if count)
        print(f"restored {shown or 'an empty registry'}", file=sys.stderr)
        return 0
    if args.restore and not args.dry_run:
        async with writing(registry.engine) as conn:
            await clear_fresh(conn, STARTER_BY)
    native = args.format in NATIVE_FORMATS
    if native and args.file == "-":
        raise IsOfficialError(f"--format {args.format} reads a file or folder, not stdin")
    if native and not Path(args.file).exists():
        raise IsOfficialError(f"no such file or folder: {args.file}")
    source = sys.stdin if args.file == "-" else Path(args.file)
    rows = (
        readers()[args.format](Path(args.file), Upstream(args.revision, args.published))
        if native
        else read_rows(source, args.format)
    )
    skip_invalid = args.skip_invalid or (native and not args.strict)  # quirks stop nothing
    with nullcontext() if args.dry_run else index_to_build(settings) as imported:
        result = await import_rows(
            registry,
            rows,
            by=args.by or f"import:{name}",
            skip_invalid=skip_invalid,
            dry_run=args.dry_run,
            index=imported,
            checkpoint=False,  # folded below, beside the index's keep
        )
        steps = [checkpoint_now(registry.engine)]
        if result.written and not args.dry_run:
            steps.append(keep_index(registry, settings, imported))
        # Both finished before a failure of either is raised (the registry closes after).
        for outcome in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
    for problem in result.problems:
        print(f"{name}:{problem.line}: {problem.reason}", file=sys.stderr)
    for merge in result.merges:
        print(f"{name}: {merge}", file=sys.stderr)
    verb = "would write" if args.dry_run else "wrote"
    if result.problems and not (skip_invalid or args.dry_run):
        verb = "nothing written; would write"
    print(
        f"{verb} {result.written} rows, {result.unchanged} unchanged, "
        f"{len(result.problems)} invalid rows, {len(result.merges)} entities merged",
        file=sys.stderr,
    )
    return 1 if result.problems else 0


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.exporter import WRITERS, export_file, export_rows

    registry = await open_sql_registry(settings)
    if args.format == "backup":
        return await _backup(registry, args.output)
    if args.output:
        count = await export_file(export_rows(registry), args.format, args.output)
    else:
        count = await WRITERS[args.format](export_rows(registry), sys.stdout)
    print(f"exported {count} accounts", file=sys.stderr)
    return 0


async def _backup(registry: SqlRegistry, output: Path | None) -> int:
    from knowledge.backup import write_backup
    from knowledge.exporter import atomic_output

    if output is None:
        counts = await write_backup(registry.engine, sys.stdout)
    else:
        with atomic_output(output) as out:
            counts = await write_backup(registry.engine, out)
    print(f"backed up {sum(counts.values())} rows of {len(counts)} tables", file=sys.stderr)
    return 0


async def _verdict(args: argparse.Namespace, settings: Settings) -> int:
    core = await build_core(settings, lookalikes=False)
    answer = await core.set_verdict(
        args.ref,
        Status.parse(args.status),
        _operator(args.by),
        args.entity,
        args.note,
        args.source,
    )
    _print(render.full_text([answer]))
    return 0


async def _history(args: argparse.Namespace, settings: Settings) -> int:
    core = await build_core(settings, lookalikes=False)
    ref, changes = await core.history(args.ref)
    _print(render.history_text(ref, changes, await core.verifications(ref)))
    return 0


async def _verify(args: argparse.Namespace, settings: Settings) -> int:
    from isofficial.verifying import verify_command

    core = await build_core(settings, lookalikes=False)
    return await verify_command(core, args, _operator(None))


async def _undo(args: argparse.Namespace, settings: Settings) -> int:
    core = await build_core(settings, lookalikes=False)
    _print(render.full_text([await core.undo(args.ref, _operator(args.by))]))
    return 0


async def _reports(args: argparse.Namespace, settings: Settings) -> int:
    core = await build_core(settings, lookalikes=False)
    reports = await core.open_reports(_operator(None))
    _print("\n".join(map(render.report_text, reports)) or "no open reports")
    return 0


async def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.console import chat
    from knowledge.notify import following_changes

    core = await build_core(settings)
    if isinstance(sys.stdin, io.TextIOWrapper):  # a line that is not UTF-8 is a line, not a crash
        sys.stdin.reconfigure(errors="replace")
    asker = _operator(None)
    if args.as_user:
        platform, _, user_id = args.as_user.partition(":")
        if not user_id:
            raise IsOfficialError("--as takes PLATFORM:ID, e.g. telegram:42")
        asker = Asker(platform=platform.lower(), user_id=user_id, is_private=True)
    async with following_changes(settings.database_url, core.reload, core.index_change):
        await chat(core, asker)
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from isofficial.service import serve

    if args.webhook:
        settings = settings.model_copy(update={"telegram_webhook": True})
    registry = await open_sql_registry(settings)
    core = await core_on(registry, settings)
    status = await serve(core, registry, settings, env_files())
    await core.keep_index()  # a clean shutdown: the next start has nothing to catch up
    return status


async def _feeds(args: argparse.Namespace, settings: Settings) -> int:
    from isofficial.feeds_cli import feeds_command

    return await feeds_command(args, settings)


async def _sources(args: argparse.Namespace, settings: Settings) -> int:
    return await sources_cli.sources_command(args, settings, _operator(None).user_id)


async def _db(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.database import default_database_url, schema_revision

    url = settings.database_url or default_database_url()
    before = await schema_revision(url)
    registry = await open_sql_registry(settings)  # opening applies every migration
    await registry.close()
    after = await schema_revision(url)
    if before == after:
        print(f"the registry schema was already up to date ({after})", file=sys.stderr)
    else:
        print(f"upgraded the registry schema: {before or 'empty'} -> {after}", file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]] = {
    "check": _check,
    "import": _import,
    "export": _export,
    "verdict": _verdict,
    "history": _history,
    "undo": _undo,
    "reports": _reports,
    "verify": _verify,
    "chat": _chat,
    "run": _run,
    "feeds": _feeds,
    "sources": _sources,
    "db": _db,
}


def _print(text: str) -> None:
    print(text, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if os.environ.get("ISOFFICIAL_DEBUG") else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings(_env_file=tuple(env_files()) or None)  # type: ignore[call-arg]
        return asyncio.run(COMMANDS[args.command](args, settings))
    except IsOfficialError as error:
        print(f"isofficial: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug or a broken environment: one line, details on demand
        log.debug("internal error", exc_info=True)
        print(
            f"isofficial: {type(error).__name__}: {str(error)[:300]} "
            "(set ISOFFICIAL_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
