"""Reads of the change log that keep a lookalike index current without rebuilding it: the
newest change, the accounts changed since a change, and a mark that tells this database's
history from any other (a file built on another database, or before a backup was restored,
is never trusted).
"""

from __future__ import annotations

import xxhash
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRef
from knowledge.tables import changes


async def newest_change(conn: AsyncConnection) -> int:
    """The id of the newest change (0: none yet)."""
    return int(await conn.scalar(select(func.coalesce(func.max(changes.c.id), 0))) or 0)


async def changed_since(
    conn: AsyncConnection, change_id: int, until: int | None = None
) -> tuple[int, list[AccountRef]]:
    """The newest change id (or until), and every account with a change after change_id up
    to it."""
    newest = await newest_change(conn) if until is None else until
    query = (
        select(changes.c.platform, changes.c.handle_key)
        .where(changes.c.id > change_id, changes.c.id <= newest)
        .distinct()
    )
    rows = (await conn.execute(query)).all()
    return newest, [AccountRef(platform, handle) for platform, handle in rows]


async def change_mark(conn: AsyncConnection, change_id: int) -> str | None:
    """A digest of the first change and of change change_id (ids, times, accounts, authors):
    the same only on this database's history up to there; None when it has no such change."""
    if change_id == 0:
        return "empty"
    columns = (changes.c.id, changes.c.at, changes.c.platform, changes.c.handle_key, changes.c.by,
               changes.c.new_status, changes.c.new_entity)
    first = select(func.min(changes.c.id)).scalar_subquery()
    rows = (await conn.execute(
        select(*columns).where(changes.c.id.in_([first, change_id])).order_by(changes.c.id)
    )).all()
    if not rows or rows[-1].id != change_id:
        return None
    return mark_of([tuple(row) for row in rows])


def mark_of(rows: list[tuple[object, ...]]) -> str:
    """The digest of change rows (shared with the in-memory registry)."""
    digest = xxhash.xxh3_128()
    for row in rows:
        digest.update(repr(tuple(_plain(value) for value in row)).encode())
    return digest.hexdigest()


def _plain(value: object) -> object:
    """Times as ISO text: SQLite gives naive and PostgreSQL aware values of the same instant."""
    iso = getattr(value, "isoformat", None)
    return iso() if iso is not None else value
