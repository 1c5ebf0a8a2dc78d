"""Feed benchmark: items ingested per second, and what mentions add to a `check`.

    .venv/bin/python benchmarks/bench_feeds.py [--mentions 1000000] [--items 5000]

1. Ingest: an RSS 2.0 document of --items items (each naming accounts by link and @handle)
   through each stage: parse (feedparser), account finding (bot.handles), storing (SQLite).
2. Lookup: --mentions stored mentions over 100k accounts; `Core.check` p50/p99 with the feed
   store answering mentions vs. a registry with no mentions (the cost added), and the same
   lookup as a full scan of item_mentions (what the index saves).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parents[1]))

from bot.core import Core
from bot.handles import find_accounts
from bot.model import OPERATOR, AccountRef, Evidence
from knowledge.feeds.fetch import Fetched
from knowledge.feeds.parse import parse_feed
from knowledge.feeds.store import add_feed, mentioning, recent_mentions, store_fetch
from knowledge.feeds.tables import feed_items, item_mentions
from knowledge.registry import SqlRegistry, open_registry

ACCOUNTS = 100_000
PER_ITEM = 4
BATCH = 20_000


class FeedRegistry(SqlRegistry):
    """SqlRegistry with the proposed patch: mentions from the feed store."""

    async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
        return await recent_mentions(self.engine, ref, limit)


def rss(items: int) -> bytes:
    entries = "".join(
        f"<item><title>Story {n} about @acct{n % 997}</title>"
        f"<link>https://news.example/{n}</link>"
        f"<pubDate>Tue, 24 Aug 2010 09:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;See &lt;a href='https://x.com/acct{n}'&gt;x&lt;/a&gt; and "
        f"youtube.com/@chan{n % 313} for more.&lt;/p&gt;</description></item>"
        for n in range(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{entries}</channel></rss>'.encode()  # noqa: E501


async def bench_ingest(url: str, items: int) -> None:
    registry = await open_registry(url)
    body = rss(items)
    started = time.perf_counter()
    parsed = parse_feed(body, "application/rss+xml")
    parsed_at = time.perf_counter()
    entries = mentioning(parsed.items, find_accounts)
    found_at = time.perf_counter()
    feed = await add_feed(registry.engine, "https://news.example/rss")
    fetched = Fetched(feed.url, body, "application/rss+xml", None, None)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    await store_fetch(registry.engine, feed, fetched, "Bench", entries, since, datetime.now(UTC))
    stored_at = time.perf_counter()
    await registry.close()
    mentions = sum(len(e.refs) for e in entries)
    print(f"ingest: {items} items, {len(body) / 1e6:.1f} MB, {mentions} mentions")
    print(f"  {'stage':<22}{'seconds':>10}{'items/s':>12}")
    for stage, seconds in [
        ("parse (feedparser)", parsed_at - started),
        ("find accounts", found_at - parsed_at),
        ("store (SQLite)", stored_at - found_at),
        ("end to end", stored_at - started),
    ]:
        print(f"  {stage:<22}{seconds:>10.3f}{items / seconds:>12,.0f}")


async def fill(registry: SqlRegistry, mentions: int) -> None:
    """mentions rows over ACCOUNTS x accounts, PER_ITEM per item, dates over a year."""
    feed = await add_feed(registry.engine, "https://bulk.example/rss")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(7)
    items = mentions // PER_ITEM
    async with registry.engine.begin() as conn:
        for first in range(0, items, BATCH):
            ids = range(first + 1, min(first + BATCH, items) + 1)
            when = {i: start + timedelta(minutes=rng.randrange(525_600)) for i in ids}
            await conn.execute(
                insert(feed_items),
                [
                    {
                        "id": i,
                        "uid": f"https://bulk.example/{i}",
                        "feed_id": feed.id,
                        "title": f"item {i}",
                        "link": f"https://bulk.example/{i}",
                        "summary": "",
                        "published": when[i],
                        "seen_at": when[i],
                    }
                    for i in ids
                ],
            )
            rows = {(i, f"acct{rng.randrange(ACCOUNTS)}") for i in ids for _ in range(PER_ITEM)}
            await conn.execute(
                insert(item_mentions),
                [
                    {"platform": "x", "handle_key": h, "item_id": i, "published": when[i]}
                    for i, h in rows
                ],
            )


async def latencies(call: Callable[[int], Awaitable[object]], runs: int) -> list[float]:
    times = []
    for n in range(runs):
        began = time.perf_counter()
        await call(n)
        times.append((time.perf_counter() - began) * 1000)
    return sorted(times)


def row(name: str, times: list[float]) -> str:
    p99 = times[int(len(times) * 0.99) - 1]
    return f"  {name:<44}{statistics.median(times):>9.3f}{p99:>9.3f}"


async def bench_lookup(url: str, mentions: int, runs: int) -> None:
    registry = await open_registry(url)
    began = time.perf_counter()
    await fill(registry, mentions)
    print(f"\nlookup: {mentions:,} mentions stored in {time.perf_counter() - began:.1f} s")
    with_feeds = await Core.start(FeedRegistry(registry.engine))
    without = await Core.start(registry)
    rng = random.Random(11)
    queries = [f"is x.com/acct{rng.randrange(ACCOUNTS)} official?" for _ in range(runs)]

    def checks(core: Core) -> Callable[[int], Awaitable[object]]:
        return lambda n: core.check(queries[n], OPERATOR)

    for core in (with_feeds, without):  # warm caches and compiled statements
        await latencies(checks(core), 50)
    base = await latencies(checks(without), runs)
    fed = await latencies(checks(with_feeds), runs)
    [answer] = await with_feeds.check(queries[0], OPERATOR)
    assert answer.mentions, "the benchmark's accounts should have mentions"
    lookup = await latencies(
        lambda n: recent_mentions(registry.engine, AccountRef("x", f"acct{n}"), 5), runs
    )
    scan_sql = text(
        "SELECT item_id FROM item_mentions NOT INDEXED WHERE platform = 'x' AND handle_key = :h "
        "ORDER BY published DESC LIMIT 5"
    )

    async def scan(n: int) -> None:
        async with registry.engine.connect() as conn:
            await conn.execute(scan_sql, {"h": f"acct{n}"})

    brute = await latencies(scan, 20)
    print(f"  {'ms per call':<44}{'p50':>9}{'p99':>9}")
    print(row("check, registry without mentions (baseline)", base))
    print(row("check, mentions from the feed store", fed))
    print(row("recent_mentions alone (index range scans)", lookup))
    print(row("same lookup as a full scan (brute force)", brute))
    added = statistics.median(fed) - statistics.median(base)
    print(f"  mentions add {added:.3f} ms to a check at p50 (target <= 1 ms)")
    await registry.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await bench_ingest(f"sqlite+aiosqlite:///{folder}/ingest.sqlite3", args.items)
        await bench_lookup(f"sqlite+aiosqlite:///{folder}/lookup.sqlite3", args.mentions, args.runs)


if __name__ == "__main__":
    asyncio.run(main())
