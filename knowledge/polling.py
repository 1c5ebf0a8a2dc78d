"""What other processes wrote, found by its marks: the newest change, feed item and
verification ids. SQLite has no NOTIFY: a process polls the marks (a few primary-key lookups,
POLL_SECONDS apart) and reloads the accounts the new rows name. PostgreSQL's listener uses the
same marks to catch up after a reconnect (knowledge/notify.py).

Deletions leave no new row: a feed item forgotten by another process's retention may show in
this one's cached answers until the account changes or the cache lets it go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.model import AccountRef

POLL_SECONDS = 0.25  # the bound for replicas is 1 s
Reload = Callable[[list[AccountRef]], Awaitable[None]]
Marks = tuple[int, int, int]

MARKS = (
    "SELECT (SELECT coalesce(max(id), 0) FROM changes),"
    " (SELECT coalesce(max(id), 0) FROM feed_items),"
    " (SELECT coalesce(max(id), 0) FROM verifications)"
)
# The accounts named by rows newer than the marks ($1..$3: asyncpg's placeholders).
TOUCHED = (
    "SELECT platform, handle_key FROM changes WHERE id > $1"
    " UNION SELECT platform, handle_key FROM item_mentions WHERE item_id > $2"
    " UNION SELECT platform, handle_key FROM verifications WHERE id > $3"
)
log = logging.getLogger(__name__)


async def poll_for_changes(
    url: str,
    reload: Reload,
    stop: asyncio.Event,
    *,
    ready: asyncio.Event | None = None,
    every: float = POLL_SECONDS,
    since: int | None = None,
) -> None:
    """Reload the accounts other processes' writes name, until stop is set; first those
    changed after change `since` (the one the index was started at)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            seen = await marks(conn)
        if since is not None and since < seen[0]:
            seen = await _catch_up(engine, (since, seen[1], seen[2]), reload)
        if ready is not None:
            ready.set()
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            try:
                seen = await _catch_up(engine, seen, reload)
            except Exception:  # the file may be locked or away: the next round catches up
                log.exception("looking for changes failed")
    finally:
        await engine.dispose()


async def _catch_up(engine: AsyncEngine, seen: Marks, reload: Reload) -> Marks:
    async with engine.connect() as conn:
        now = await marks(conn)
        touched = await touched_since(conn, seen) if now != seen else []
    if touched:
        await reload(touched)
    return now


async def marks(conn: AsyncConnection) -> Marks:
    row = (await conn.execute(text(MARKS))).one()
    return int(row[0]), int(row[1]), int(row[2])


async def touched_since(conn: AsyncConnection, seen: Marks) -> list[AccountRef]:
    query = text(TOUCHED.replace("$1", ":c").replace("$2", ":i").replace("$3", ":v"))
    rows = await conn.execute(query, {"c": seen[0], "i": seen[1], "v": seen[2]})
    return [AccountRef(platform, key) for platform, key in rows]
