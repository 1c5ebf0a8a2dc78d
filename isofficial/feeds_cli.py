"""`isofficial feeds add URL | list | remove URL | refresh`."""

from __future__ import annotations

import argparse

from isofficial.bootstrap import open_sql_registry
from isofficial.settings import Settings
from knowledge.feeds import add_feed, format_feed_list, list_feeds, remove_feed
from knowledge.feeds.service import refresh_all


async def feeds_command(args: argparse.Namespace, settings: Settings) -> int:
    registry = await open_sql_registry(settings)
    engine = registry.engine
    try:
        action = args.feeds_command
        if action == "add":
            feed = await add_feed(engine, args.url)
            print(f"added {feed.url}: it is fetched on the next refresh")
        elif action == "remove":
            await remove_feed(engine, args.url)
            print(f"removed {args.url}")
        elif action == "list":
            print(format_feed_list(await list_feeds(engine)))
        else:
            reports = await refresh_all(engine, keep_days=settings.feeds_retention_days)
            print("\n".join(report.line() for report in reports) or "no feeds to refresh")
            return 0 if all(report.ok for report in reports) else 1
        return 0
    finally:
        await registry.close()
