"""Short reads in one round trip of the driver: a statement compiled once, its rows typed as
SQLAlchemy types them.

On SQLite every await of aiosqlite is a hop to its thread and back, and a SQLAlchemy execute
makes several (a cursor, the statement, the rows, the cursor's close) besides building the
result: for a check's few-row reads that costs many times the query. Here a statement is
compiled to SQL text once and run with one `execute_fetchall` on the driver's connection;
its values go through the same result processors. Other databases run the statement as usual.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache
from sqlalchemy import CompoundSelect, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

if TYPE_CHECKING:  # loaded by SQLAlchemy's SQLite dialect, where it is used at all
    from aiosqlite import Connection as DriverConnection

Params = Mapping[str, Any]
Statement = Select[Any] | CompoundSelect[Any]
# Runs a statement with its bind parameters: its rows, with attributes named as its columns.
Fetch = Callable[[Statement, Params], Awaitable[Sequence[Any]]]
Processor = Callable[[Any], Any] | None


class Compiled:
    """One statement as SQL text with positional parameters, for one dialect."""

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup)
        self.fixed = dict(compiled.construct_params(_check=False))  # the values compiled in
        self.binds = compiled._bind_processors
        columns = compiled._result_columns
        self.processors: tuple[Processor, ...] = tuple(
            column.type._cached_result_processor(dialect, None) for column in columns
        )
        self.typed = [i for i, p in enumerate(self.processors) if p is not None]
        self.row: Any = namedtuple("Row", [column.keyname for column in columns])  # type: ignore[misc]

    def values(self, params: Params) -> list[Any]:
        found = [params[name] if name in params else self.fixed[name] for name in self.names]
        if self.binds:
            for at, name in enumerate(self.names):
                bind = self.binds.get(name)
                if callable(bind):
                    found[at] = bind(found[at])
        return found

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        if not self.typed:
            return [self.row._make(values) for values in raw]
        found = []
        for values in raw:
            typed = list(values)
            for i in self.typed:
                typed[i] = self.processors[i](typed[i])  # type: ignore[misc]
            found.append(self.row._make(typed))
        return found


COMPILED_KEPT = 512  # statements kept compiled: the module constants and the shapes in use


class _Statements:
    """Each statement compiled once, keyed by identity: the statements are module constants or
    cached per shape; each is held while its entry is, so its id is never another's. The
    least recently used go past COMPILED_KEPT (reads come in many shapes)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: LRUCache[int, tuple[Statement, Compiled]] = LRUCache(COMPILED_KEPT)

    def compiled(self, statement: Statement) -> Compiled:
        held = self._compiled.get(id(statement))
        if held is None:
            held = self._compiled[id(statement)] = (statement, Compiled(statement, self.dialect))
        return held[1]


class OneHop(_Statements):
    """Fetch on an SQLite reader: one thread hop per statement at most. With inline (a plain
    sqlite3 connection to the same file) a statement runs on the event loop's thread and
    makes no hop: these are index lookups of a tenth of a millisecond, the hop costs more,
    and in WAL mode a read waits for no writer; a read that would wait all the same (a busy
    file) takes the hop instead, and waits in aiosqlite's thread. SQLAlchemy's events do not
    see these statements: the lists in heard get each one's SQL (tests count them)."""

    def __init__(self, driver: DriverConnection, dialect: Dialect,
                 inline: sqlite3.Connection | None = None) -> None:
        super().__init__(dialect)
        self.driver = driver
        self.inline = inline
        self.heard: list[list[str]] = []

    async def __call__(self, statement: Statement, params: Params) -> Sequence[Any]:
        compiled = self.compiled(statement)
        for heard in self.heard:
            heard.append(compiled.sql)
        values = compiled.values(params)
        if self.inline is not None:
            try:
                return compiled.rows(self.inline.execute(compiled.sql, values).fetchall())
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF not in _WOULD_WAIT:  # extended codes too
                    raise
        raw = await self.driver.execute_fetchall(compiled.sql, values)
        return compiled.rows(list(raw))

    def close(self) -> None:
        if self.inline is not None:
            self.inline.close()
            self.inline = None


_WOULD_WAIT = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


def inline_reader(path: str) -> sqlite3.Connection:
    """A read-only connection to the SQLite file at path, for OneHop: autocommit (each read
    sees the latest commit), no busy wait (the loop's thread never sleeps on a lock)."""
    reader = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    for pragma in ("query_only=ON", "cache_size=-65536"):  # the page cache the reader had
        reader.execute(f"PRAGMA {pragma}")
    return reader


def fetch_on(conn: AsyncConnection) -> Fetch:
    """The usual execute on conn (any database)."""

    async def fetch(statement: Statement, params: Params) -> Sequence[Any]:
        return (await conn.execute(statement, dict(params))).all()

    return fetch
