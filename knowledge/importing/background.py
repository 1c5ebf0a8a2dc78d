"""SQLite: a part's new accounts written in aiosqlite's thread while Python goes on (issue 12).

executemany takes the GIL back for every row it steps, so beside busy Python it waits up to the
switch interval per row. One `INSERT ... SELECT ... FROM json_each(?)` per table and chunk is one
sqlite3_step, run without the GIL: aiosqlite's thread writes part N while the main thread folds
part N's accounts and checks part N+1 (on two cores, 1M rows: about 8 s of 27 s hidden in a
stand-alone measure). Each statement is queued at once (one hop each, aiosqlite runs them in
order), so none waits for the busy event loop; the next part's reads queue behind them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.model import Evidence, Status
from knowledge.importing.plan import first_source
from knowledge.importing.rows import Planned
from knowledge.importing.write import ACCOUNT_COLUMNS, CHANGE_COLUMNS, EVIDENCE_COLUMNS

if TYPE_CHECKING:  # loaded by SQLAlchemy's SQLite dialect, where it is used at all
    from aiosqlite import Connection as DriverConnection


def _insert(table: str, columns: Sequence[str], source: str, values: Sequence[str]) -> str:
    named = ", ".join(f'"{column}"' for column in columns)
    return f"INSERT INTO {table} ({named}) SELECT {', '.join(values)} FROM {source} ORDER BY key"


def _items(count: int, first: int = 0) -> list[str]:
    return [f"json_each.value ->> {at}" for at in range(first, first + count)]


_ACCOUNTS = _insert("accounts", ACCOUNT_COLUMNS, "json_each(?)", _items(len(ACCOUNT_COLUMNS)))
# Each source row names its account by (platform, handle key), inserted by the statement before:
# one unique-index lookup per row, json_each first (CROSS JOIN keeps that order).
_EVIDENCE = _insert(
    "evidence",
    EVIDENCE_COLUMNS,
    "json_each(?) CROSS JOIN accounts ON accounts.platform = json_each.value ->> 0"
    " AND accounts.handle_key = json_each.value ->> 1",
    ["accounts.id", *_items(len(EVIDENCE_COLUMNS) - 1, 2)],
)
_CHANGES = _insert("changes", CHANGE_COLUMNS, "json_each(?)", _items(len(CHANGE_COLUMNS)))


class Writes:
    """The statements started and not yet done; awaiting them raises a failure of theirs."""

    def __init__(self) -> None:
        self._pending: list[asyncio.Future[Any]] = []

    async def done(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)

    async def settled(self) -> None:
        """Every statement finished, failed or not (on the way out of another failure: the
        rollback must come after them)."""
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending, return_exceptions=True)

    def start(self, driver: DriverConnection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run sql on rows (as one JSON array) once queued()."""
        text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        self._pending.append(asyncio.ensure_future(_run(driver, sql, text)))

    async def queued(self) -> None:
        """The statements started handed to aiosqlite's thread (each task's first step), which
        runs them whether or not the event loop gets a turn meanwhile."""
        await asyncio.sleep(0)


async def _run(driver: DriverConnection, sql: str, rows: str) -> None:
    await driver.execute_fetchall(sql, (rows,))  # queued on the first step: one hop


def start_accounts(
    writes: Writes, driver: DriverConnection, chunk: Sequence[Planned], names: dict[str, int],
    by: str, when: str,
) -> None:
    """insert_accounts' rows (SQLite's forms of times and dates), as three statements started."""
    known: dict[int, tuple[Any, ...]] = {}  # by id(): rows citing one page share its Evidence
    writes.start(driver, _ACCOUNTS, [
        (a.ref.platform, a.ref.handle, a.handle_as_written, a.platform_id,
         names[a.entity] if a.entity else None, a.status.value, a.note, when)
        for a in chunk
    ])
    writes.start(driver, _EVIDENCE, [
        (a.ref.platform, a.ref.handle, *_fields(p, known))
        for a in chunk
        for p in a.evidence.values()
    ])
    writes.start(driver, _CHANGES, [
        (a.ref.platform, a.ref.handle, when, by, Status.UNKNOWN.value, a.status.value, a.entity,
         a.note, *_fields(first_source(a), known))
        for a in chunk
    ])


def _fields(proof: Evidence | None, known: dict[int, tuple[Any, ...]]) -> tuple[Any, ...]:
    """url, title, publisher, published (ISO text, as SQLAlchemy stores a date), quote; known:
    by id(proof), for proofs alive while it is (the chunk's)."""
    if proof is None:
        return (None,) * 5
    fields = known.get(id(proof))
    if fields is None:
        published = proof.published.isoformat() if proof.published else None
        fields = proof.url, proof.title, proof.publisher, published, proof.quote
        known[id(proof)] = fields
    return fields
