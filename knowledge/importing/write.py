"""The import's writes: new accounts in bulk (COPY on PostgreSQL; SQLite writes them in the
background, knowledge/importing/background.py), new sources one account at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRecord, Evidence, Status
from knowledge.database import driver_date, driver_time, insert_many
from knowledge.importing.plan import first_source
from knowledge.importing.rows import Planned
from knowledge.registry import change_values, evidence_json, snapshot_of, store
from knowledge.tables import accounts, changes, evidence

ACCOUNT_COLUMNS = (
    "platform",
    "handle_key",
    "handle_as_written",
    "platform_id",
    "entity_id",
    "status",
    "note",
    "reviewed_at",
)
EVIDENCE_COLUMNS = ("account_id", "url", "title", "publisher", "published", "quote")
CHANGE_COLUMNS = (
    "platform",
    "handle_key",
    "at",
    "by",
    "old_status",
    "new_status",
    "new_entity",
    "note",
    "evidence_url",
    "evidence_title",
    "evidence_publisher",
    "evidence_published",
    "evidence_quote",
)


async def insert_accounts(
    conn: AsyncConnection,
    chunk: Sequence[Planned],
    names: dict[str, int],
    by: str,
    at: datetime,
) -> None:
    """Accounts, their evidence and one change each, by insert_many (COPY on PostgreSQL; an
    import on SQLite writes them in the background instead: background.py)."""
    when = driver_time(conn, at)
    fields: dict[int, tuple[Any, ...]] = {}  # by id(): rows citing one page share its Evidence
    last_id = await conn.scalar(select(func.max(accounts.c.id))) or 0
    account_rows = (
        (
            a.ref.platform,
            a.ref.handle,
            a.handle_as_written,
            a.platform_id,
            names[a.entity] if a.entity else None,
            a.status.value,
            a.note,
            when,
        )
        for a in chunk
    )
    await insert_many(conn, accounts, ACCOUNT_COLUMNS, account_rows)
    ids = await _ids_after(conn, last_id)
    evidence_rows = (
        (ids[a.ref.platform, a.ref.handle], *_source_fields(conn, p, fields))
        for a in chunk
        for p in a.evidence.values()
    )
    await insert_many(conn, evidence, EVIDENCE_COLUMNS, evidence_rows)
    change_rows = (
        (
            a.ref.platform,
            a.ref.handle,
            when,
            by,
            Status.UNKNOWN.value,
            a.status.value,
            a.entity,
            a.note,
            *_source_fields(conn, first_source(a), fields),
        )
        for a in chunk
    )
    await insert_many(conn, changes, CHANGE_COLUMNS, change_rows)


async def _ids_after(conn: AsyncConnection, last_id: int) -> dict[tuple[str, str], int]:
    """Ids of the accounts inserted after last_id by (platform, handle key): a range scan, not a
    lookup per key."""
    query = select(accounts.c.platform, accounts.c.handle_key, accounts.c.id)
    rows = await conn.execute(query.where(accounts.c.id > last_id))
    return {(platform, key): id_ for platform, key, id_ in rows}


def _source_fields(
    conn: AsyncConnection, proof: Evidence | None, known: dict[int, tuple[Any, ...]]
) -> tuple[Any, ...]:
    """url, title, publisher, published (as the driver takes it), quote; known: by id(proof),
    for proofs alive while it is (the chunk's)."""
    if proof is None:
        return (None,) * 5
    fields = known.get(id(proof))
    if fields is None:
        published = driver_date(conn, proof.published)
        fields = proof.url, proof.title, proof.publisher, published, proof.quote
        known[id(proof)] = fields
    return fields


async def add_sources(
    conn: AsyncConnection, account: Planned, record: AccountRecord, by: str
) -> None:
    """A registered account gets the import's new sources and platform id (one at a time)."""
    before = snapshot_of(record)
    known = {e.url for e in record.evidence}
    added = [e for url, e in account.evidence.items() if url not in known]
    after = {
        **before,
        "evidence": [*before["evidence"], *map(evidence_json, added)],
        "platform_id": record.platform_id or account.platform_id,
    }
    await store(conn, account.ref, after)
    values = change_values(account.ref, by, before, after, None, added[0] if added else None)
    await conn.execute(insert(changes).values(values))
