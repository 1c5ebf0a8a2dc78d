"""Engines for the registry (SQLite via aiosqlite, PostgreSQL via asyncpg) and schema upgrades."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    any_,
    bindparam,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.model import IsOfficialError
from knowledge.notify import ANNOUNCED, tell_followers

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option that makes an SQLite transaction take the write lock up front (BEGIN
# IMMEDIATE): a deferred one that reads and then writes fails when another writer got in between.
WRITE = "isofficial_write"
DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")  # the async drivers we ship
URL_FORMS = "use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DATABASE"


def default_database_url() -> str:
    """An SQLite file in the user's data directory."""
    path = Path(platformdirs.user_data_dir("isofficial")) / "registry.sqlite3"
    return f"sqlite+aiosqlite:///{path}"


def make_engine(url: str) -> AsyncEngine:
    """An async engine; for SQLite: its directory created, WAL, foreign keys, busy timeout."""
    parsed = _supported(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed)
    if parsed.database and parsed.database != ":memory:":
        try:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise IsOfficialError(f"cannot create the database's directory: {error}") from None
    engine = create_async_engine(parsed)
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _supported(url: str) -> URL:
    """The parsed URL if it names a database and driver we ship; one clear line otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise IsOfficialError(f"the database URL cannot be parsed; {URL_FORMS}") from None
    if parsed.drivername not in DRIVERS:
        raise IsOfficialError(f"unsupported database URL {parsed.drivername}://...; {URL_FORMS}")
    return parsed


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # A 64 MiB page cache keeps a large import's index pages in memory.
    pragmas = ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "cache_size=-65536")
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return  # each statement its own transaction: reads always see the latest commit
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE, False) else "BEGIN")


AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: a commit past it folds the log into the file
MIGRATION_LOCK = 0x150FF1C1A1  # any constant shared by every isofficial process


@asynccontextmanager
async def writing(
    engine: AsyncEngine, *, checkpoint: bool = True
) -> AsyncIterator[AsyncConnection]:
    """One write transaction: committed when the block ends, rolled back if it raises. The
    accounts it announced (knowledge.notify) are then handed to this process's followers.

    checkpoint=False: on SQLite the commit leaves its pages in the write-ahead log, for the
    caller to fold into the file later (checkpoint_now), beside other work: after a large
    import that fold copies hundreds of MB, a second and more at a million accounts."""
    async with engine.connect() as conn:
        conn.info.pop(ANNOUNCED, None)  # a rolled-back transaction's, on this pooled connection
        await conn.execution_options(**{WRITE: True})
        deferred = not checkpoint and conn.dialect.name == "sqlite"
        if deferred:
            await _driver_pragma(conn, "wal_autocheckpoint = 0")
        try:
            async with conn.begin():
                yield conn
        finally:
            if deferred:  # the pooled connection checkpoints its commits again
                await _driver_pragma(conn, f"wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        announced = conn.info.pop(ANNOUNCED, [])
    if announced:
        await tell_followers(engine, announced)


async def checkpoint_now(engine: AsyncEngine) -> None:
    """SQLite: the write-ahead log folded into the database file now, as a commit does past
    AUTOCHECKPOINT_PAGES (passive: readers and writers go on meanwhile); elsewhere nothing."""
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            await _driver_pragma(conn, "wal_checkpoint(PASSIVE)")


async def _driver_pragma(conn: AsyncConnection, pragma: str) -> None:
    """A PRAGMA on the connection's aiosqlite connection itself (no transaction begun)."""
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    await driver.execute(f"PRAGMA {pragma}")


@asynccontextmanager
async def one_process_at_a_time(engine: AsyncEngine) -> AsyncIterator[None]:
    """Processes starting together on one PostgreSQL take turns through the block (a session
    advisory lock); on SQLite writers already queue for the file's write lock."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        await conn.commit()
        try:
            yield
        finally:
            await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            await conn.commit()


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Apply every Alembic migration not yet applied (idempotent).

    A schema already at the head is read in one query, without Alembic (a fifth of a second of
    imports at every start). Otherwise replicas starting together on PostgreSQL take turns: a
    transaction-scoped advisory lock.
    """
    async with engine.connect() as conn:
        if await conn.run_sync(_current_heads) == [head_revision()]:
            return
    async with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        await conn.run_sync(_upgrade)


_REVISION = re.compile(r"^(down_)?revision\s*=\s*[\"']([^\"']*)[\"']", re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest migration's revision, read from the scripts: the one no other revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("[0-9]*.py"):
        for down, revision in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revised if down else revisions).add(revision)
    (head,) = revisions - revised
    return head


def _current_heads(connection: Connection) -> list[str]:
    """The revisions in Alembic's version table, as Alembic reads them (none: no schema)."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
    return [row[0] for row in rows]


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    _refuse_newer(connection, ScriptDirectory.from_config(config))
    command.upgrade(config, "head")


def _refuse_newer(connection: Connection, scripts: ScriptDirectory) -> None:
    """A database migrated by a newer isofficial: say so, instead of Alembic's riddle."""
    known = {script.revision for script in scripts.walk_revisions()}
    for revision in _current_heads(connection):
        if revision not in known:
            raise IsOfficialError(
                f"the database's schema ({revision}) is newer than this isofficial knows "
                f"(latest {scripts.get_current_head()}): install the newer isofficial that "
                "upgraded it"
            )


async def schema_revision(url: str) -> str | None:
    """The schema revision a database is at (None: no schema yet)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            heads = await conn.run_sync(_current_heads)
    finally:
        await engine.dispose()
    return ", ".join(heads) or None


async def insert_many(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT rows (tuples in `columns` order) by the driver: COPY on PostgreSQL, else executemany.

    SQLAlchemy's per-row parameter processing costs more than SQLite's own insert, so a bulk
    import hands the driver values it takes as they are: see driver_time and driver_date.
    """
    if conn.dialect.driver == "asyncpg":
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.copy_records_to_table(table.name, records=rows, columns=list(columns))
        return
    await _execute_many(conn, insert(table).inline(), columns, rows)


async def insert_new(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """insert_many, skipping rows whose key is there already (by executemany: COPY cannot)."""
    statement = dialect_insert(conn, table).on_conflict_do_nothing()
    await _execute_many(conn, statement, columns, rows)


def dialect_insert(conn: AsyncConnection, table: Table) -> Any:
    """The connection's dialect's INSERT, which has ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # here: an SQLite registry never needs it

        return postgresql.insert(table)
    return sqlite.insert(table)


async def _execute_many(
    conn: AsyncConnection, statement: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(columns))
    if list(compiled.positiontup or columns) != list(columns):
        raise ValueError("the driver expects the columns in another order")
    batch = list(rows)
    if batch:
        await conn.exec_driver_sql(str(compiled), batch)


def listed(conn: AsyncConnection, values: Sequence[str]) -> Select[tuple[str]]:
    """SELECT of the values, in their order, bound as one parameter (PostgreSQL: an array;
    SQLite: JSON text, read by json_each): one statement however many, compiled once."""
    if conn.dialect.name == "postgresql":
        keys = bindparam(None, list(values), type_=ARRAY(String()), unique=True)
        unnested = func.unnest(keys).table_valued("value", with_ordinality="position")
        unnested = unnested.render_derived()
        return select(unnested.c.value).order_by(unnested.c.position)
    each = func.json_each(json.dumps(list(values))).table_valued("value", "key")
    return select(each.c.value).order_by(each.c.key)


def any_of(conn: AsyncConnection, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """column IN values, by one statement however many (not a few hundred values at a time)."""
    if conn.dialect.name == "postgresql":
        keys = bindparam(None, list(values), type_=ARRAY(String()), unique=True)
        return column == any_(keys)  # type: ignore[no-any-return]
    each = func.json_each(json.dumps(list(values))).table_valued("value")
    return column.in_(select(each.c.value))  # type: ignore[no-any-return]


def driver_time(conn: AsyncConnection, moment: datetime) -> datetime | str:
    """An aware datetime as the driver stores it (SQLite: SQLAlchemy's naive-UTC text form)."""
    if conn.dialect.name != "sqlite":
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def driver_date(conn: AsyncConnection, day: date | None) -> date | str | None:
    if day is None or conn.dialect.name != "sqlite":
        return day
    return day.isoformat()
