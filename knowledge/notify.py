"""Tell every process of a PostgreSQL deployment which accounts changed (LISTEN/NOTIFY).

Writers call `announce(conn, refs)` inside their write transaction: PostgreSQL delivers a NOTIFY
only when its transaction commits, so listeners never hear of a change that was rolled back.
Each process runs `listen_for_changes` on a dedicated connection and reloads what it hears.
A payload is one or more "platform:handle" lines (a bulk import packs many into one notice).
Within one process (and so on SQLite, where there is no NOTIFY), the accounts a write announced
are handed to the process's followers (`follow_local`) once `knowledge.database.writing` has
committed it: the feed service's and the source syncs' writes reach the core's in-memory sets
at once. (On PostgreSQL the listener hears them again: one more read, never a stale answer.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.model import AccountRef
from knowledge.polling import MARKS, TOUCHED, Marks, Reload, poll_for_changes

if TYPE_CHECKING:
    import asyncpg

CHANNEL = "isofficial_changes"
MAX_PAYLOAD = 7_900  # PostgreSQL refuses payloads of 8000 bytes or more
RETRY_SECONDS = 1.0
APPLICATION_NAME = "isofficial-listener"  # how pg_stat_activity shows the listening connection

ANNOUNCED = "isofficial_announced"  # conn.info: the refs announced in its open transaction

log = logging.getLogger(__name__)
_followers: WeakKeyDictionary[Engine, list[Reload]] = WeakKeyDictionary()


def is_postgres(url: str | None) -> bool:
    return url is not None and make_url(url).get_backend_name() == "postgresql"


# Writing side


async def announce(conn: AsyncConnection, refs: Iterable[AccountRef]) -> None:
    """Queue a notice of these changed accounts in conn's transaction (sent on commit only)."""
    refs = list(refs)
    conn.info.setdefault(ANNOUNCED, []).extend(refs)  # for this process: see writing()
    if conn.dialect.name != "postgresql":
        return
    notices = [{"channel": CHANNEL, "payload": payload} for payload in payloads(refs)]
    if notices:
        await conn.execute(text("SELECT pg_notify(:channel, :payload)"), notices)


def payloads(refs: Iterable[AccountRef]) -> Iterator[str]:
    """Refs as "platform:handle" lines, packed into payloads under PostgreSQL's size limit."""
    lines: list[str] = []
    size = 0
    for ref in dict.fromkeys(refs):
        line = f"{ref.platform}:{ref.handle}"
        if lines and size + len(line.encode()) + 1 > MAX_PAYLOAD:
            yield "\n".join(lines)
            lines, size = [], 0
        lines.append(line)
        size += len(line.encode()) + 1
    if lines:
        yield "\n".join(lines)


def parse_payload(payload: str) -> list[AccountRef]:
    refs = []
    for line in payload.splitlines():
        platform, _, handle = line.partition(":")
        if platform and handle:
            refs.append(AccountRef(platform, handle))
    return refs


# In one process (SQLite)


def follow_local(engine: AsyncEngine, reload: Reload) -> None:
    """reload hears the accounts each write through engine in this process changed, once
    committed."""
    _followers.setdefault(engine.sync_engine, []).append(reload)


async def tell_followers(engine: AsyncEngine, refs: list[AccountRef]) -> None:
    """Hand a committed write's announced accounts to this process's followers; one that fails
    is logged (the write stands)."""
    for reload in _followers.get(engine.sync_engine, []):
        try:
            await reload(list(dict.fromkeys(refs)))
        except Exception:
            log.exception("reloading %d changed accounts failed", len(refs))


# Listening side


async def listen_for_changes(
    url: str,
    reload: Reload,
    stop: asyncio.Event,
    *,
    ready: asyncio.Event | None = None,
    retry: float = RETRY_SECONDS,
    since: int | None = None,
) -> None:
    """Reload every account another process changes, until stop is set; reconnects when lost.

    After a reconnect, the accounts changed while deaf are reloaded from the change log, the
    feed items and the verifications; on the first connect, those changed after change `since`
    (the one the index was started at). SQLite: polled (knowledge/polling.py).
    """
    if not is_postgres(url):
        await poll_for_changes(url, reload, stop, ready=ready, since=since)
        return
    import asyncpg  # here: an SQLite registry never loads the PostgreSQL driver

    heard: asyncio.Queue[list[AccountRef]] = asyncio.Queue()
    applier = asyncio.create_task(_apply(heard, reload))
    seen: Marks | None = None  # the newest ids when we last started listening
    try:
        while not stop.is_set():
            try:
                seen = await _listen_once(_dsn(url), heard, stop, seen or since, ready)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("change listener: %s; retrying in %.0fs", error, retry)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry)
    finally:
        applier.cancel()
        with suppress(asyncio.CancelledError):
            await applier


@asynccontextmanager
async def following_changes(
    url: str | None, reload: Reload, since: int | None = None
) -> AsyncIterator[None]:
    """Listen in the background while the block runs (returns once listening); url None:
    the default database. The changes after change `since` are reloaded first."""
    if url is None:
        from knowledge.database import default_database_url  # it imports this module

        url = default_database_url()
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(listen_for_changes(url, reload, stop, ready=ready, since=since))
    try:
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait((waiting, task), return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()  # it ended before listening: raise why
        yield
    finally:
        stop.set()
        await task


async def _listen_once(
    dsn: str,
    heard: asyncio.Queue[list[AccountRef]],
    stop: asyncio.Event,
    seen: Marks | int | None,
    ready: asyncio.Event | None,
) -> Marks:
    """One connection's life: LISTEN, catch up, then wait for stop or the connection's loss."""
    import asyncpg

    conn = await asyncpg.connect(dsn, server_settings={"application_name": APPLICATION_NAME})
    lost = asyncio.Event()
    try:
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, lambda *args: heard.put_nowait(parse_payload(args[3])))
        newest = await _marks(conn)
        if isinstance(seen, int):  # the first connect: the changes since the index's change id
            seen = (seen, newest[1], newest[2])
        if seen is not None and newest != seen:
            heard.put_nowait(await _touched_since(conn, seen))
        log.info("listening for registry changes on %s", CHANNEL)
        if ready is not None:
            ready.set()
        await _first(stop, lost)
        if lost.is_set():
            log.warning("change listener: connection lost")
        return newest
    finally:
        if not conn.is_closed():
            await conn.close()


async def _apply(heard: asyncio.Queue[list[AccountRef]], reload: Reload) -> None:
    """Reload what was heard, everything queued meanwhile in one call."""
    while True:
        refs = await heard.get()
        while not heard.empty():
            refs.extend(heard.get_nowait())
        try:
            await reload(list(dict.fromkeys(refs)))
        except Exception:  # the registry may be away: the next notice or reconnect catches up
            log.exception("reloading %d changed accounts failed", len(refs))


async def _marks(conn: asyncpg.Connection) -> Marks:
    row = await conn.fetchrow(MARKS)
    return int(row[0]), int(row[1]), int(row[2])


async def _touched_since(conn: asyncpg.Connection, seen: Marks) -> list[AccountRef]:
    rows = await conn.fetch(TOUCHED, *seen)
    return [AccountRef(row["platform"], row["handle_key"]) for row in rows]


async def _first(*events: asyncio.Event) -> None:
    """Wait until the first of these events is set."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (asyncpg wants postgresql://, not +asyncpg)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)
