"""A backup that restores: every table of the registry's database as JSON Lines, read back into
a fresh install (starter data only) or an empty database exactly, ids and history included.

Line 1: {"format": "isofficial-backup", "version": 1, "schema": REVISION, "exported_at": ...};
then one {"table": NAME, "row": {column: value}} per row, tables in dependency order, rows in
key order (dates and times as ISO text). Restoring replaces what is there, in one transaction,
and refuses a database with anything but starter data in it (nothing of it is lost so).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Date, DateTime, Table, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Imported for their tables, which they put on the metadata:
import knowledge.feeds.tables
import knowledge.sources.tables  # noqa: F401
from bot.model import IsOfficialError
from knowledge.database import writing
from knowledge.tables import changes, metadata

FORMAT = "isofficial-backup"
VERSION = 1
CHUNK = 1_000
# Tables the starter data fills; a database with rows in any other is not fresh.
STARTER_TABLES = {"entities", "entity_identifiers", "entity_aliases", "accounts", "evidence",
                  "changes"}


class BadBackup(IsOfficialError):
    """The file is not a backup this version can restore."""


def tables() -> list[Table]:
    """Every table of the registry, parents before children (alembic's own table aside)."""
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


async def write_backup(engine: AsyncEngine, out: TextIO) -> dict[str, int]:
    """Every row of every table to out; returns the row count of each table."""
    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        schema = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        header = {"format": FORMAT, "version": VERSION, "schema": schema,
                  "exported_at": datetime.now(UTC).isoformat()}
        out.write(json.dumps(header) + "\n")
        for table in tables():
            counts[table.name] = 0
            query = select(table).order_by(*table.primary_key.columns)
            async for row in await conn.stream(query):
                line = {"table": table.name, "row": _encoded(row._mapping)}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                counts[table.name] += 1
    return counts


def is_backup(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as stream:
            first = stream.readline(10_000)
        return bool(json.loads(first).get("format") == FORMAT)
    except (OSError, ValueError, AttributeError):
        return False


async def restore_backup(engine: AsyncEngine, path: Path, starter_by: str) -> dict[str, int]:
    """Replace the database's rows with the backup's; refused unless the database is fresh."""
    by_name = {t.name: t for t in tables()}
    counts = dict.fromkeys(by_name, 0)
    with path.open(encoding="utf-8") as stream:
        _check_header(stream.readline())
        async with writing(engine) as conn:
            await clear_fresh(conn, starter_by)
            pending: list[dict[str, Any]] = []
            current: Table | None = None
            for number, (name, row) in enumerate(_rows(stream), start=2):
                table = by_name.get(name)
                if table is None:
                    raise BadBackup(f"line {number}: unknown table {name!r}")
                if table is not current or len(pending) >= CHUNK:
                    await _insert(conn, current, pending)
                    current, pending = table, []
                pending.append(_decoded(table, row))
                counts[name] += 1
            await _insert(conn, current, pending)
            await _reset_sequences(conn)
    return counts


async def clear_fresh(conn: AsyncConnection, starter_by: str) -> None:
    """Empty every table, if all there is is starter data; else refuse (one clear line)."""
    for table in tables():
        if table.name in STARTER_TABLES:
            continue
        if await conn.scalar(select(func.count()).select_from(table)):
            raise IsOfficialError(
                f"the registry already holds {table.name}: restore into a fresh install or "
                "an empty database"
            )
    others = select(func.count()).select_from(changes).where(changes.c.by != starter_by)
    if await conn.scalar(others):
        raise IsOfficialError(
            "the registry has changes of its own (not only starter data): restore into a "
            "fresh install or an empty database"
        )
    for table in reversed(tables()):
        await conn.execute(delete(table))


def _check_header(line: str) -> None:
    try:
        header = json.loads(line)
    except ValueError:
        raise BadBackup("not an isofficial backup (its first line is no JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BadBackup("not an isofficial backup")
    if header.get("version") != VERSION:
        raise BadBackup(f"backup version {header.get('version')} is not {VERSION}")


def _rows(stream: TextIO) -> Iterator[tuple[str, dict[str, Any]]]:
    for number, line in enumerate(stream, start=2):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            yield str(item["table"]), dict(item["row"])
        except (ValueError, KeyError, TypeError):
            raise BadBackup(f"line {number}: not a backup row") from None


async def _insert(conn: AsyncConnection, table: Table | None, rows: list[dict[str, Any]]) -> None:
    if table is not None and rows:
        await conn.execute(table.insert(), rows)


async def _reset_sequences(conn: AsyncConnection) -> None:
    """PostgreSQL: the next id after the restored ones (SQLite takes max(id) + 1 itself)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables():
        if "id" in table.c and table.c.id.primary_key:
            await conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table.name}"
            ))


def _encoded(row: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}


def _decoded(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in row.items():
        if name not in table.c:
            raise BadBackup(f"table {table.name} has no column {name!r}")
        kind = table.c[name].type
        if value is not None and (isinstance(kind, DateTime) or _is_time(kind)):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(kind, Date):
            value = date.fromisoformat(value)
        decoded[name] = value
    return decoded


def _is_time(kind: Any) -> bool:
    return isinstance(getattr(kind, "impl", None), DateTime)
