"""Export the registry as import rows (CSV or JSON): importing them again gives the same registry.

One row per source of each account (one row without a source when it has none), ordered by
account; every column of knowledge.importer.COLUMNS is written, empty when unknown.
CSV cells a spreadsheet would run as formulas are escaped (knowledge.formats); JSON is as it is.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import select

from bot.model import AccountRef
from bot.platforms import profile_url
from knowledge.formats import escape_formula
from knowledge.importer import COLUMNS
from knowledge.registry import SqlRegistry
from knowledge.tables import accounts, entities, entity_aliases, entity_identifiers, evidence

BATCH = 5_000


async def export_rows(registry: SqlRegistry) -> AsyncIterator[dict[str, str]]:
    """Every account as import rows, in batches (constant memory on a large registry)."""
    last = 0
    while True:
        async with registry.engine.connect() as conn:
            found = await conn.execute(
                select(accounts, entities.c.name.label("entity"))
                .outerjoin(entities)
                .where(accounts.c.id > last)
                .order_by(accounts.c.id)
                .limit(BATCH)
            )
            batch = found.all()
            if not batch:
                return
            sources = await _sources(conn, batch[0].id, batch[-1].id)
            identity = await _identity(conn, {a.entity_id for a in batch if a.entity_id})
        for account in batch:
            for source in sources.get(account.id) or [None]:
                yield _row(account, source) | identity.get(account.entity_id, _NO_IDENTITY)
        last = batch[-1].id


async def _sources(conn: Any, first: int, last: int) -> dict[int, list[Any]]:
    rows = await conn.execute(
        select(evidence)
        .where(evidence.c.account_id.between(first, last))
        .order_by(evidence.c.account_id, evidence.c.id)
    )
    by_account: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_account[row.account_id].append(row)
    return by_account


_NO_IDENTITY = {"entity_ids": "", "aliases": ""}


async def _identity(conn: Any, entity_ids: set[int]) -> dict[int, dict[str, str]]:
    """The entity_ids and aliases columns of each entity."""
    ids: dict[int, list[str]] = defaultdict(list)
    aliases: dict[int, list[str]] = defaultdict(list)
    wanted = sorted(entity_ids)
    found = select(entity_identifiers).where(entity_identifiers.c.entity_id.in_(wanted))
    for row in await conn.execute(found.order_by(*entity_identifiers.primary_key)):
        ids[row.entity_id].append(f"{row.scheme}:{row.value}")
    named = select(entity_aliases).where(entity_aliases.c.entity_id.in_(wanted))
    for row in await conn.execute(named.order_by(*entity_aliases.primary_key)):
        aliases[row.entity_id].append(row.alias)
    return {
        id_: {"entity_ids": " ".join(ids[id_]), "aliases": "; ".join(aliases[id_])}
        for id_ in wanted
    }


def _row(account: Any, source: Any) -> dict[str, str]:
    ref = AccountRef(account.platform, account.handle_key)
    row = {
        "entity": account.entity or "",
        "platform": account.platform,
        "handle": account.handle_as_written,
        "url": _http_url(ref),
        "verdict": account.status,
        "note": account.note or "",
        "platform_id": account.platform_id or "",
        "source_url": "",
        "source_title": "",
        "source_publisher": "",
        "source_published": "",
        "source_quote": "",
        "entity_ids": "",
        "aliases": "",
    }
    if source is not None:
        row["source_url"] = source.url
        row["source_title"] = source.title
        row["source_publisher"] = source.publisher or ""
        row["source_published"] = source.published.isoformat() if source.published else ""
        row["source_quote"] = source.quote or ""
    return {column: row[column] for column in COLUMNS}


def _http_url(ref: AccountRef) -> str:
    """The profile link, when it is an http(s) one (an import accepts no other)."""
    url = profile_url(ref)
    return url if url.startswith(("http://", "https://")) else ""


async def write_csv(rows: AsyncIterator[dict[str, str]], out: TextIO) -> int:
    """Rows as CSV with a header; returns how many. Safe to open in a spreadsheet: a cell that
    would run as a formula gets a leading `'` (OWASP; import reads it back as it was), and any
    cell with a line break, a bare `\r` too, is quoted (the `\r\n` line ends of RFC 4180)."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    async for row in rows:
        writer.writerow({column: escape_formula(cell) for column, cell in row.items()})
        count += 1
    return count


async def write_json(rows: AsyncIterator[dict[str, str]], out: TextIO) -> int:
    """Rows as one JSON list, one object per line; returns how many."""
    count = 0
    async for row in rows:
        out.write(",\n" if count else "[\n")
        out.write(json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


WRITERS = {"csv": write_csv, "json": write_json}


async def export_file(rows: AsyncIterator[dict[str, str]], fmt: str, path: Path) -> int:
    """Rows written to path whole or not at all (see atomic_output)."""
    with atomic_output(path) as out:
        return await WRITERS[fmt](rows, out)


@contextmanager
def atomic_output(path: Path) -> Iterator[TextIO]:
    """A file written whole or not at all: into a file beside it, renamed over it at the end,
    so an error or a kill midway leaves the previous file as it was."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
