"""Feed items are sources, whatever their age: retention bounds storage, it keeps evidence.

An item older than the retention window is kept (and, when a feed brings it, ingested) if it
names a registered account: the newest KEEP_PER_ACCOUNT such items of each account. An item
whose link a verdict cites as its source is never dropped. Only the rest is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.model import AccountRef
from bot.platforms import ANY
from knowledge.database import writing
from knowledge.feeds.tables import feed_items, feeds, item_mentions
from knowledge.notify import announce
from knowledge.tables import accounts, changes, evidence

KEEP_PER_ACCOUNT = 50


async def registered_among(conn: AsyncConnection, refs: Iterable[AccountRef]) -> set[AccountRef]:
    """The refs that name a registered account (a bare `any:` handle: on any platform)."""
    wanted = set(refs)
    handles = sorted({ref.handle for ref in wanted})
    if not handles:
        return set()
    query = select(accounts.c.platform, accounts.c.handle_key).where(
        accounts.c.handle_key.in_(handles)
    )
    found = {AccountRef(p, k) for p, k in await conn.execute(query)}
    any_platform = {AccountRef(ANY, ref.handle) for ref in found}
    return wanted & (found | any_platform)


async def mentioned_in(conn: AsyncConnection, items: Any) -> list[AccountRef]:
    """The accounts these items (ids, or a query of ids) name."""
    query = select(item_mentions.c.platform, item_mentions.c.handle_key).distinct()
    rows = await conn.execute(query.where(item_mentions.c.item_id.in_(items)))
    return [AccountRef(platform, key) for platform, key in rows]


def _mentions_registered() -> object:
    named = or_(
        and_(
            accounts.c.platform == item_mentions.c.platform,
            accounts.c.handle_key == item_mentions.c.handle_key,
        ),
        and_(item_mentions.c.platform == ANY, accounts.c.handle_key == item_mentions.c.handle_key),
    )
    return select(accounts.c.id).where(named).exists()


def kept_items() -> object:
    """Ids of the items retention keeps whatever their age."""
    ranked = (
        select(
            item_mentions.c.item_id,
            func.row_number()
            .over(
                partition_by=(item_mentions.c.platform, item_mentions.c.handle_key),
                order_by=item_mentions.c.published.desc(),
            )
            .label("rank"),
        )
        .where(_mentions_registered())  # type: ignore[arg-type]
        .subquery()
    )
    newest = select(ranked.c.item_id).where(ranked.c.rank <= KEEP_PER_ACCOUNT)
    cited = select(feed_items.c.id).where(
        or_(
            feed_items.c.link.in_(select(evidence.c.url)),
            feed_items.c.link.in_(select(changes.c.evidence_url)),
        )
    )
    return union(newest, cited)


async def forget_old(engine: AsyncEngine, days: float, now: datetime | None = None) -> int:
    """Forget items published more than `days` ago that are no evidence; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    async with writing(engine) as conn:
        kept = {row[0] for row in await conn.execute(kept_items())}  # type: ignore[call-overload]
        old = [i for i in await conn.scalars(select(feed_items.c.id).where(
            feed_items.c.published < cutoff)) if i not in kept]
        for start in range(0, len(old), 500):
            chunk = old[start : start + 500]
            await announce(conn, await mentioned_in(conn, chunk))  # their readers' caches
            await conn.execute(delete(item_mentions).where(item_mentions.c.item_id.in_(chunk)))
            await conn.execute(delete(feed_items).where(feed_items.c.id.in_(chunk)))
        count = select(func.count()).where(feed_items.c.feed_id == feeds.c.id).scalar_subquery()
        await conn.execute(update(feeds).values(item_count=count))
    return len(old)
