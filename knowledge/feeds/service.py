"""Refreshing every feed (one failing feed never stops the others) and the refresh schedule."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.handles import find_accounts as bot_find_accounts
from knowledge.feeds.errors import FeedError
from knowledge.feeds.fetch import DEFAULT_LIMITS, Fetched, Fetcher, FetchError, FetchLimits
from knowledge.feeds.parse import ParsedFeed, parse_feed
from knowledge.feeds.store import (
    AccountFinder,
    FeedStatus,
    Mentioning,
    delete_older_than,
    list_feeds,
    mentioning,
    record_error,
    record_not_modified,
    store_fetch,
)

log = logging.getLogger(__name__)

KEEP_DAYS = 30.0
REFRESH_INTERVAL = 15 * 60.0
CONCURRENT_FEEDS = 8  # fetches in flight at once (each host is capped lower by the Fetcher)


@dataclass(frozen=True, slots=True)
class FeedReport:
    """What one refresh did to one feed."""

    url: str
    error: str | None = None
    new: int = 0
    duplicates: int = 0
    too_old: int = 0
    not_modified: bool = False
    warning: str | None = None  # the parser recovered from this; the items were kept

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.error:
            return f"{self.url}: failed: {self.error}"
        if self.not_modified:
            return f"{self.url}: not modified"
        warning = f" (recovered from: {self.warning})" if self.warning else ""
        return f"{self.url}: {self.new} new, {self.duplicates} already known{warning}"


async def refresh_all(
    engine: AsyncEngine,
    *,
    fetcher: Fetcher | None = None,
    limits: FetchLimits = DEFAULT_LIMITS,
    keep_days: float = KEEP_DAYS,
    find_accounts: AccountFinder | None = None,
) -> list[FeedReport]:
    """Fetch, parse and store every listed feed; one report per feed, in list order."""
    if fetcher is None:
        async with Fetcher.open(limits) as own:
            return await refresh_all(
                engine, fetcher=own, keep_days=keep_days, find_accounts=find_accounts
            )
    # By default, the parser user queries go through.
    refresh = _Round(engine, fetcher, find_accounts or bot_find_accounts, keep_days)
    return list(await asyncio.gather(*(refresh.feed(f) for f in await list_feeds(engine))))


class _Round:
    """One refresh of every feed: fetches run concurrently, database writes one at a time."""

    def __init__(
        self, engine: AsyncEngine, fetcher: Fetcher, find: AccountFinder, keep_days: float
    ) -> None:
        self.engine = engine
        self.fetcher = fetcher
        self.find = find
        self.keep_days = keep_days
        self.slots = asyncio.Semaphore(CONCURRENT_FEEDS)
        self.writes = asyncio.Lock()  # SQLite has one writer; no point queueing inside it

    async def feed(self, feed: FeedStatus) -> FeedReport:
        try:
            return await self._refresh(feed)
        except (FeedError, FetchError) as error:
            message = str(error)
        except Exception:  # a bug met on one feed is logged and reported, not spread
            log.exception("refreshing feed %s failed", feed.url)
            message = "internal error (see the log)"
        async with self.writes:
            await record_error(self.engine, feed, message, datetime.now(UTC))
        return FeedReport(feed.url, error=message)

    async def _refresh(self, feed: FeedStatus) -> FeedReport:
        async with self.slots:
            fetched = await self.fetcher.fetch(feed.url, feed.etag, feed.last_modified)
        now = datetime.now(UTC)
        if fetched.body is None:
            async with self.writes:
                await record_not_modified(self.engine, feed, now)
            return FeedReport(feed.url, not_modified=True)
        parsed, entries = await asyncio.to_thread(_parse_and_find, fetched, self.find)
        keep_since = now - timedelta(days=self.keep_days)
        async with self.writes:
            ingested = await store_fetch(
                self.engine, feed, fetched, parsed.title, entries, keep_since, now, parsed.warning
            )
        return FeedReport(
            feed.url,
            new=ingested.new,
            duplicates=ingested.duplicates,
            too_old=ingested.too_old,
            warning=parsed.warning,
        )


def _parse_and_find(fetched: Fetched, find: AccountFinder) -> tuple[ParsedFeed, list[Mentioning]]:
    assert fetched.body is not None
    parsed = parse_feed(fetched.body, fetched.content_type)
    return parsed, mentioning(parsed.items, find)


async def run_feed_scheduler(
    engine: AsyncEngine,
    *,
    interval: float = REFRESH_INTERVAL,
    stop: asyncio.Event,
    keep_days: float = KEEP_DAYS,
    limits: FetchLimits = DEFAULT_LIMITS,
    find_accounts: AccountFinder | None = None,
) -> None:
    """Refresh every feed and apply retention every `interval` seconds until stop is set."""
    async with Fetcher.open(limits) as fetcher:
        while not stop.is_set():
            await _until_stopped(_one_round(engine, fetcher, keep_days, find_accounts), stop)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


async def _one_round(
    engine: AsyncEngine, fetcher: Fetcher, keep_days: float, find: AccountFinder | None
) -> None:
    try:
        reports = await refresh_all(
            engine, fetcher=fetcher, keep_days=keep_days, find_accounts=find
        )
        forgotten = await delete_older_than(engine, keep_days)
    except Exception:  # e.g. the database is away: try again next round
        log.exception("feed refresh round failed")
        return
    failed = sum(not report.ok for report in reports)
    new = sum(report.new for report in reports)
    log.info(
        "feeds: %d refreshed, %d failed, %d new items, %d expired",
        len(reports),
        failed,
        new,
        forgotten,
    )


async def _until_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Run work, cancelling it if stop is set first (shutdown must not wait for slow feeds)."""
    task = asyncio.create_task(work)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, stopped):
        pending.cancel()
    await asyncio.gather(task, stopped, return_exceptions=True)
