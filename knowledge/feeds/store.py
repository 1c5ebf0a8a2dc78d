"""The feed list, stored items, the accounts they mention, and retention."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import (
    BindParameter,
    Subquery,
    bindparam,
    delete,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import limits
from bot.model import AccountRef, Evidence, IsOfficialError
from bot.platforms import ANY
from bot.render import feed_line
from knowledge.database import writing
from knowledge.feeds.errors import FeedError
from knowledge.feeds.retention import forget_old, mentioned_in, registered_among
from knowledge.feeds.tables import feed_items, feeds, item_mentions
from knowledge.notify import announce

if TYPE_CHECKING:  # fetching loads aiohttp, which a check never needs
    from knowledge.feeds.fetch import Fetched
    from knowledge.feeds.parse import FeedItem

AnyRow = Any  # a sqlalchemy Row (its type parameters differ between 2.0 and 2.1)
MAX_URL = 2000
MAX_UID = 600
TEXT_SEARCHED = 20_000  # characters of one item given to the account parser
MENTIONS_PER_ITEM = 20  # more than this is a link farm, not news about an account
QUOTE_CHARS = 200
BATCH = 500


class Named(Protocol):
    """What bot.handles.find_accounts returns: an account named in a text."""

    @property
    def ref(self) -> AccountRef: ...


AccountFinder = Callable[[str], Sequence[Named]]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One row of `feeds list`."""

    id: int
    url: str
    title: str | None
    last_success: datetime | None
    last_error: str | None
    item_count: int
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Mentioning:
    """A parsed item and the accounts its text and links name."""

    item: FeedItem
    refs: frozenset[AccountRef]


@dataclass(frozen=True, slots=True)
class Ingested:
    new: int
    duplicates: int  # already stored, from this feed or another
    too_old: int  # older than the retention window


class UnknownFeed(FeedError):
    def __init__(self, url: str) -> None:
        super().__init__(f"no feed {url[:200]!r} in the feed list")


# --- the feed list -------------------------------------------------------------------------


def checked_url(url: str) -> str:
    """url if it is an http(s) URL with a host; FeedError saying what is wrong otherwise."""
    url = url.strip()
    if limits.printable(url) != url:  # NUL and control characters: no database stores them
        raise FeedError(f"not a feed URL: {url[:200]!r} (it holds control characters)")
    if len(url) > MAX_URL:
        raise FeedError(f"feed URL longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        # .port raises ValueError when the port is no number or out of range
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # that, or an unclosed [IPv6 bracket
        usable = False
    if not usable:
        raise FeedError(f"not a feed URL: {url[:200]!r} (use http:// or https://)")
    return url


async def add_feed(engine: AsyncEngine, url: str, now: datetime | None = None) -> FeedStatus:
    """Add a feed to the list; FeedError if the URL is bad or already listed."""
    url = checked_url(url)
    async with writing(engine) as conn:
        if await _feed_row(conn, url) is not None:
            raise FeedError(f"{url} is already in the feed list")
        added = now or datetime.now(UTC)
        await conn.execute(insert(feeds).values(url=url, added_at=added, item_count=0))
        row = await _feed_row(conn, url)
    assert row is not None
    return _status(row)


async def remove_feed(engine: AsyncEngine, url: str) -> None:
    """Remove a feed with the items only it brought; UnknownFeed if it is not listed."""
    async with writing(engine) as conn:
        listed = limits.printable(url) == url  # none is listed with a NUL: ask no database
        row = await _feed_row(conn, url.strip()) if listed else None
        if row is None:
            raise UnknownFeed(url)
        items = select(feed_items.c.id).where(feed_items.c.feed_id == row.id)
        await announce(conn, await mentioned_in(conn, items))
        await conn.execute(delete(item_mentions).where(item_mentions.c.item_id.in_(items)))
        await conn.execute(delete(feed_items).where(feed_items.c.feed_id == row.id))
        await conn.execute(delete(feeds).where(feeds.c.id == row.id))


async def list_feeds(engine: AsyncEngine) -> list[FeedStatus]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(feeds).order_by(feeds.c.url))).all()
    return [_status(row) for row in rows]


def format_feed_list(rows: Sequence[FeedStatus]) -> str:
    """`feeds list`: one line per feed with its last success, item count and last error."""
    if not rows:
        return "no feeds yet: add one with `isofficial feeds add URL`"
    return "\n".join(feed_line(row) for row in rows)


class SqlFeedCatalog:
    """The feed list for the core (moderators' chat commands): implements bot.ports.FeedCatalog."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add_feed(self, url: str) -> FeedStatus:
        return await add_feed(self.engine, url)

    async def list_feeds(self) -> list[FeedStatus]:
        return await list_feeds(self.engine)

    async def remove_feed(self, url: str) -> None:
        await remove_feed(self.engine, url)


# --- ingesting -----------------------------------------------------------------------------


def mentioning(items: Iterable[FeedItem], find_accounts: AccountFinder) -> list[Mentioning]:
    """Each item with the accounts it names (CPU work: run it off the event loop)."""
    return [Mentioning(item, accounts_named(item, find_accounts)) for item in items]


def accounts_named(item: FeedItem, find_accounts: AccountFinder) -> frozenset[AccountRef]:
    """Accounts in an item's title, text and links; its publisher's own website is no mention."""
    text = "\n".join([item.title, item.summary, *item.links])[:TEXT_SEARCHED]
    refs = _refs(find_accounts, text)
    own_site = {ref for ref in _refs(find_accounts, item.link or "") if ref.platform == "website"}
    return frozenset(sorted(refs - own_site)[:MENTIONS_PER_ITEM])


def _refs(find_accounts: AccountFinder, text: str) -> set[AccountRef]:
    if not text:
        return set()
    try:
        return {named.ref for named in find_accounts(text)}
    except IsOfficialError:  # text naming something malformed names nothing usable
        return set()


async def store_fetch(
    engine: AsyncEngine,
    feed: FeedStatus,
    fetched: Fetched,
    title: str | None,
    entries: Sequence[Mentioning],
    keep_since: datetime,
    now: datetime,
    warning: str | None = None,
) -> Ingested:
    """Store a successful fetch in one transaction: new items, their mentions, the feed's state."""
    async with writing(engine) as conn:
        ingested = await _ingest(conn, feed, entries, keep_since, now)
        count = select(func.count()).where(feed_items.c.feed_id == feed.id).scalar_subquery()
        await conn.execute(
            update(feeds)
            .where(feeds.c.id == feed.id)
            .values(
                title=title or feed.title,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                last_success=now,
                last_error=warning,
                last_error_at=now if warning else None,
                item_count=count,
            )
        )
    return ingested


async def record_not_modified(engine: AsyncEngine, feed: FeedStatus, now: datetime) -> None:
    async with writing(engine) as conn:
        await conn.execute(
            update(feeds).where(feeds.c.id == feed.id).values(last_success=now, last_error=None)
        )


async def record_error(engine: AsyncEngine, feed: FeedStatus, error: str, now: datetime) -> None:
    async with writing(engine) as conn:
        await conn.execute(
            update(feeds).where(feeds.c.id == feed.id).values(last_error=error, last_error_at=now)
        )


async def _ingest(
    conn: AsyncConnection,
    feed: FeedStatus,
    entries: Sequence[Mentioning],
    keep_since: datetime,
    now: datetime,
) -> Ingested:
    by_uid: dict[str, Mentioning] = {}
    for entry in entries:
        by_uid.setdefault(item_uid(entry.item, feed.url), entry)
    # An old item is kept when it names a registered account: it is evidence, not news.
    registered = await registered_among(conn, {r for e in by_uid.values() for r in e.refs})
    recent = {
        uid: e
        for uid, e in by_uid.items()
        if _published(e.item, now) >= keep_since or e.refs & registered
    }
    known = await _known_uids(conn, list(recent))
    fresh = [(uid, entry) for uid, entry in recent.items() if uid not in known]
    if fresh:
        await _insert(conn, feed.id, fresh, now)
    too_old = len(by_uid) - len(recent)
    return Ingested(len(fresh), len(entries) - len(fresh) - too_old, too_old)


async def _insert(
    conn: AsyncConnection, feed_id: int, fresh: list[tuple[str, Mentioning]], now: datetime
) -> None:
    rows = [_item_row(uid, entry.item, feed_id, now) for uid, entry in fresh]
    returning = insert(feed_items).returning(
        feed_items.c.id, feed_items.c.uid, sort_by_parameter_order=True
    )
    ids = {row.uid: row.id for row in (await conn.execute(returning, rows)).all()}
    mentions = [
        {
            "platform": ref.platform,
            "handle_key": ref.handle,
            "item_id": ids[uid],
            "published": _published(entry.item, now),
        }
        for uid, entry in fresh
        for ref in entry.refs
    ]
    if mentions:
        await conn.execute(insert(item_mentions), mentions)
        await announce(conn, (ref for _, entry in fresh for ref in entry.refs))


async def _known_uids(conn: AsyncConnection, uids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(uids), BATCH):
        chunk = uids[start : start + BATCH]
        query = select(feed_items.c.uid).where(feed_items.c.uid.in_(chunk))
        known.update((await conn.execute(query)).scalars())
    return known


def item_uid(item: FeedItem, feed_url: str) -> str:
    """An item's identity across feeds: its link (the same article anywhere), else its guid
    within its feed, else a digest of its content."""
    uid = item.link or (f"{feed_url}#{item.guid}" if item.guid else None)
    if uid is None or len(uid) > MAX_UID:
        content = uid or f"{feed_url}\n{item.title}\n{item.summary}"
        uid = "sha256:" + hashlib.sha256(content.encode()).hexdigest()
    return uid


def _published(item: FeedItem, now: datetime) -> datetime:
    # A feed's future dates would pin its items on top: no item is newer than its fetch.
    return min(item.published, now) if item.published else now


def _item_row(uid: str, item: FeedItem, feed_id: int, now: datetime) -> dict[str, Any]:
    return {
        "uid": uid,
        "feed_id": feed_id,
        "title": item.title or "(untitled)",
        "link": item.link if item.link and len(item.link) <= MAX_URL else None,
        "summary": item.summary,
        "published": _published(item, now),
        "seen_at": now,
    }


# --- reading and retention -----------------------------------------------------------------


def _newest(platform: BindParameter[str] | str) -> Subquery:
    return (
        select(item_mentions.c.item_id, item_mentions.c.published)
        .where(
            item_mentions.c.platform == platform,
            item_mentions.c.handle_key == bindparam("handle"),
        )
        .order_by(item_mentions.c.published.desc())
        .limit(bindparam("limit"))
        .subquery()
    )


# Built once: composing the statement per call costs more than running it.
_NEWEST = union(select(_newest(bindparam("platform"))), select(_newest(ANY))).subquery()
_RECENT = (
    select(
        feed_items.c.title,
        feed_items.c.link,
        feed_items.c.summary,
        _NEWEST.c.published,
        feeds.c.title.label("publisher"),
        feeds.c.url.label("feed_url"),
    )
    .join(feed_items, feed_items.c.id == _NEWEST.c.item_id)
    .join(feeds, feeds.c.id == feed_items.c.feed_id)
    .order_by(_NEWEST.c.published.desc(), _NEWEST.c.item_id.desc())
    .limit(bindparam("limit"))
)


async def recent_mentions(
    engine_or_conn: AsyncEngine | AsyncConnection, ref: AccountRef, limit: int
) -> list[Evidence]:
    """Feed items naming ref, newest first, as evidence.

    A bare `@handle` in an item names no platform: it is stored under `any` and counts as a
    mention of that handle on every platform. Each of the two lookups is one index range scan.
    """
    params = {"platform": ref.platform, "handle": ref.handle, "limit": limit}
    if isinstance(engine_or_conn, AsyncEngine):
        async with engine_or_conn.connect() as conn:
            rows = (await conn.execute(_RECENT, params)).all()
    else:
        rows = (await engine_or_conn.execute(_RECENT, params)).all()
    return [_evidence(row) for row in rows]


def _evidence(row: AnyRow) -> Evidence:
    return evidence_of(row.title, row.link, row.summary, row.published, row.publisher,
                       row.feed_url)


def evidence_of(
    title: str,
    link: str | None,
    summary: str | None,
    published: datetime,
    publisher: str | None,
    feed_url: str,
) -> Evidence:
    """A stored feed item as a mention: its link (else its feed's), a short quote."""
    summary = summary or ""
    quote = summary if len(summary) <= QUOTE_CHARS else summary[: QUOTE_CHARS - 1] + "…"
    return Evidence(
        url=link or feed_url,
        title=title,
        publisher=publisher or urlsplit(feed_url).hostname,
        published=published.date(),
        quote=quote or None,
    )


async def delete_older_than(engine: AsyncEngine, days: float, now: datetime | None = None) -> int:
    """Retention: forget items published more than `days` ago that are no evidence (see
    knowledge/feeds/retention.py); returns how many."""
    return await forget_old(engine, days, now)


async def _feed_row(conn: AsyncConnection, url: str) -> AnyRow | None:
    return (await conn.execute(select(feeds).where(feeds.c.url == url))).first()


def _status(row: AnyRow) -> FeedStatus:
    return FeedStatus(
        id=row.id,
        url=row.url,
        title=row.title,
        last_success=row.last_success,
        last_error=row.last_error,
        item_count=row.item_count,
        etag=row.etag,
        last_modified=row.last_modified,
    )
