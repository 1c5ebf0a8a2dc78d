"""SQLite: a part's new accounts written in aiosqlite's thread while Python goes on (issue 12).

executemany takes the GIL back for every row it steps, so beside busy Python it waits up to the
switch interval per row. One `INSERT ... SELECT ... FROM json_each(?)` per table and chunk is one
sqlite3_step, run without the GIL: aiosqlite's thread writes part N while the main thread folds
part N's accounts and checks part N+1 (1M rows on two cores: the writes cost the main thread
about 2 s instead of 17 s, when the other core is free). Each statement is queued at once (one
hop each, aiosqlite runs them in order), so none waits for the busy event loop; the next part's
reads queue behind them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from functools import cache
from itertools import compress
from typing import TYPE_CHECKING, Any

import orjson

from bot.model import Evidence, Status
from knowledge.importing.plan import first_source
from knowledge.importing.rows import Planned
from knowledge.importing.write import ACCOUNT_COLUMNS, CHANGE_COLUMNS, EVIDENCE_COLUMNS

if TYPE_CHECKING:  # loaded by SQLAlchemy's SQLite dialect, where it is used at all
    from aiosqlite import Connection as DriverConnection


Fields = tuple[bool, ...]  # whether each field varies between the chunk's rows


def _insert(table: str, columns: Sequence[str], source: str, values: Sequence[str]) -> str:
    named = ", ".join(f'"{column}"' for column in columns)
    return f"INSERT INTO {table} ({named}) SELECT {', '.join(values)} FROM {source} ORDER BY key"


def _values(fields: Fields) -> list[str]:
    """Each field's SQL: a varying one read from its row's array (each read parses the row's
    JSON: most of the statement's time), one the same in every row bound once, as ?2, ?3..."""
    values, item, bound = [], 0, 2
    for varies in fields:
        if varies:
            values.append(f"json_extract(json_each.value, '$[{item}]')")  # not ->>: SQLite 3.38
            item += 1
        else:
            values.append(f"?{bound}")
            bound += 1
    return values


@cache
def _accounts(fields: Fields) -> str:
    """Each account's entity by name (created by the statement before): a unique-index lookup."""
    values = _values(fields)
    entity = ACCOUNT_COLUMNS.index("entity_id")
    values[entity] = f"(SELECT id FROM entities WHERE name = {values[entity]})"
    return _insert("accounts", ACCOUNT_COLUMNS, "json_each(?1)", values)


# An entity already registered stays (WHERE true: SQLite's rule for an upsert of a SELECT).
_ENTITIES = ("INSERT INTO entities (name) SELECT value FROM json_each(?1) WHERE true"
             " ORDER BY key ON CONFLICT (name) DO NOTHING")


@cache
def _evidence(fields: Fields) -> str:
    """Each source row names its account by its place in the chunk. The statement before
    inserted the chunk's accounts in order, and SQLite gives a new row the largest id plus one:
    their ids run from max(id) - count + 1, found once per statement, not looked up per row
    (200k sources: 0.45 -> 0.29 s). The chunk's first and last accounts are checked to hold the
    ids that puts them at; were they not, account_id would be NULL and the statement fail."""
    place, count, first_platform, first_handle, last_platform, last_handle, *values = (
        _values(fields))
    first = (f"(SELECT f.id FROM (SELECT max(id) - {count} + 1 AS id FROM accounts) AS f"
             f" JOIN accounts AS a ON a.id = f.id JOIN accounts AS b ON b.id = f.id + {count} - 1"
             f" WHERE a.platform = {first_platform} AND a.handle_key = {first_handle}"
             f" AND b.platform = {last_platform} AND b.handle_key = {last_handle})")
    return _insert("evidence", EVIDENCE_COLUMNS, "json_each(?1)", [f"{first} + {place}", *values])


@cache
def _changes(fields: Fields) -> str:
    return _insert("changes", CHANGE_COLUMNS, "json_each(?1)", _values(fields))


class Writes:
    """The statements started and not yet done; awaiting them raises a failure of theirs."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[Any]] = []
        self._earlier: list[asyncio.Future[Any]] = []  # those started before the last part

    async def done(self) -> None:
        pending, self.pending, self._earlier = [*self._earlier, *self.pending], [], []
        if pending:
            await asyncio.gather(*pending)

    async def all_but_last_part(self) -> None:
        """The statements started before the last part's done; the last part's become the
        earlier ones. A part is checked while the one before it is written (its reads, if
        any, queue behind those writes on aiosqlite's one thread)."""
        earlier, self._earlier, self.pending = self._earlier, self.pending, []
        if earlier:
            await asyncio.gather(*earlier)

    async def settled(self) -> None:
        """Every statement finished, failed or not (on the way out of another failure: the
        rollback must come after them)."""
        pending, self.pending, self._earlier = [*self._earlier, *self.pending], [], []
        await asyncio.gather(*pending, return_exceptions=True)

    def start(
        self, driver: DriverConnection, sql: Callable[[Fields], str], columns: list[list[Any]]
    ) -> None:
        """Insert rows, given as their fields' columns (by sql of which fields vary), once
        queued(): the fields that vary as one JSON array of rows, the others bound once each."""
        if not columns or not columns[0]:
            return
        varies = tuple(column.count(column[0]) != len(column) for column in columns)
        same = [column[0] for column, varying in zip(columns, varies, strict=True) if not varying]
        items = list(zip(*compress(columns, varies), strict=True)) or [()] * len(columns[0])
        self.run(driver, sql(varies), (_json(items), *same))

    def run(self, driver: DriverConnection, sql: str, values: tuple[Any, ...]) -> None:
        """Start one statement (queued on aiosqlite's thread at the task's first step)."""
        self.pending.append(asyncio.ensure_future(driver.execute_fetchall(sql, values)))

    async def queued(self) -> None:
        """The statements started handed to aiosqlite's thread (each task's first step), which
        runs them whether or not the event loop gets a turn meanwhile."""
        await asyncio.sleep(0)


def start_entities(writes: Writes, driver: DriverConnection, names: list[str]) -> None:
    """The entities of these names, those not registered yet created (in this order)."""
    if names:
        writes.run(driver, _ENTITIES, (_json(names),))


def start_accounts(
    writes: Writes, driver: DriverConnection, chunk: Sequence[Planned], by: str, when: str
) -> None:
    """insert_accounts' rows (SQLite's forms of times and dates), as three statements started;
    their entities must be registered or started before. Built column by column (a list each,
    shared by the statements that write it): the main thread's share of the write."""
    count = len(chunk)
    refs = [a.ref for a in chunk]
    platform, handle = [r.platform for r in refs], [r.handle for r in refs]
    entity, note = [a.entity for a in chunk], [a.note for a in chunk]
    status = [a.status._value_ for a in chunk]  # Enum.value is a Python property: slow
    written, platform_id = [a.handle_as_written for a in chunk], [a.platform_id for a in chunk]
    writes.start(driver, _accounts,
                 [platform, handle, written, platform_id, entity, status, note, [when] * count])
    first = _source_columns([first_source(a) for a in chunk])
    if all(len(a.evidence) == 1 for a in chunk):  # the evidence rows are the first sources
        places, sources = list(range(count)), first
    else:
        rows = [(at, p) for at, a in enumerate(chunk) for p in a.evidence.values()]
        places, sources = [at for at, _ in rows], _source_columns([p for _, p in rows])
    edges = (refs[0].platform, refs[0].handle, refs[-1].platform, refs[-1].handle)
    size = len(places)
    writes.start(driver, _evidence,
                 [places, [count] * size, *([edge] * size for edge in edges), *sources])
    unknown = [Status.UNKNOWN.value] * count
    writes.start(driver, _changes, [platform, handle, [when] * count, [by] * count, unknown,
                                    status, entity, note, *first])


def _source_columns(proofs: list[Evidence | None]) -> list[list[Any]]:
    """url, title, publisher, published (ISO text, as SQLAlchemy stores a date), quote."""
    days = [p.published if p else None for p in proofs]
    return [[p.url if p else None for p in proofs], [p.title if p else None for p in proofs],
            [p.publisher if p else None for p in proofs],
            [day.isoformat() if day else None for day in days],
            [p.quote if p else None for p in proofs]]


def _json(items: object) -> str:
    """items as JSON text: by orjson, in a tenth of json's time (1M rows: about 1.6 s less of
    the main thread); by json where orjson refuses (a lone surrogate, which JSON can carry)."""
    try:
        return orjson.dumps(items).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(items, ensure_ascii=False, separators=(",", ":"))
