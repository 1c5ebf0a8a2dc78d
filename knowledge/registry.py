"""The registry on SQL (SQLite or PostgreSQL): implements bot.ports.Registry.

Semantics (kept in step with knowledge/memory.py):
- apply: the correction's entity, handle_as_written and platform_id replace the stored ones when
  given and keep them when None; its note replaces the note; its evidence is added (replacing
  the account's evidence with the same url);
- undo reverts the newest change of the account that is neither an undo nor undone already, by
  restoring the snapshot that change stored (`changes.before`); repeated undos walk back in time.
Writers of one account are serialised: SQLite by BEGIN IMMEDIATE, PostgreSQL by a transaction
advisory lock on the account's key, so no change is lost and the log gets every one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import limits
from bot.model import (
    PROTECTED,
    AccountRecord,
    AccountRef,
    Change,
    Correction,
    Evidence,
    NoSuchReport,
    NothingToUndo,
    Outcome,
    ProtectedRow,
    Report,
    Status,
)
from bot.ports import Known
from knowledge import changelog, reads
from knowledge.compiled import Fetch, OneHop, fetch_on, inline_reader
from knowledge.database import (
    any_of,
    default_database_url,
    dialect_insert,
    listed,
    make_engine,
    upgrade_schema,
    writing,
)
from knowledge.feeds.store import recent_mentions
from knowledge.notify import announce, follow_local
from knowledge.polling import Reload
from knowledge.sources import tables as _source_tables  # noqa: F401  (the whole schema's metadata)
from knowledge.tables import (
    accounts,
    changes,
    chat_preferences,
    entities,
    entity_aliases,
    entity_identifiers,
    evidence,
    reports,
)

__all__ = ["SqlChatPreferences", "SqlRegistry", "default_database_url", "open_registry"]

Snapshot = dict[str, Any]  # an account as JSON, stored in changes.before
KEYS_PER_QUERY = 500
LAST_CHAR = "\U0010ffff"  # a noncharacter: no handle has it, so key + LAST_CHAR ends key's range
T = TypeVar("T")
AnyRow = Any  # a sqlalchemy Row (its type parameters differ between 2.0 and 2.1)

_undone = changes.alias("undone")
# Who set the verdict in force: the latest change of the account that no undo took back.
SET_BY = (
    select(changes.c.by)
    .where(changes.c.platform == accounts.c.platform, changes.c.handle_key == accounts.c.handle_key)
    .where(changes.c.undoes.is_(None), ~exists().where(_undone.c.undoes == changes.c.id))
    .order_by(changes.c.id.desc())
    .limit(1)
    .correlate(accounts)
    .scalar_subquery()
)
_RECORD_COLUMNS = (
    accounts.c.id,
    SET_BY.label("set_by"),
    accounts.c.platform,
    accounts.c.handle_key,
    accounts.c.handle_as_written,
    accounts.c.platform_id,
    accounts.c.status,
    accounts.c.note,
    accounts.c.reviewed_at,
    entities.c.name.label("entity"),
    accounts.c.entity_id,
)
_EVIDENCE_COLUMNS = (
    evidence.c.url,
    evidence.c.title,
    evidence.c.publisher,
    evidence.c.published,
    evidence.c.quote,
)


async def open_registry(url: str) -> SqlRegistry:
    """The registry at url, its schema upgraded (an SQLite file and its directory are created)."""
    engine = make_engine(url)
    try:
        await upgrade_schema(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlRegistry(engine)


class SqlRegistry:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite: the per-check lookups share one autocommit connection, which saves a pool
        # checkout, a BEGIN and a ROLLBACK (each a thread hop in aiosqlite) on every check.
        self._reader: AsyncConnection | None = None
        self._one_hop: OneHop | None = None  # the reader's statements, each in one thread hop
        self._reader_lock = asyncio.Lock()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one short read; every statement sees the latest committed data."""
        if self.engine.dialect.name != "sqlite":
            async with self.engine.connect() as conn:
                yield conn
            return
        async with self._reader_lock:
            if self._reader is None:
                conn = await self.engine.connect()
                self._reader = await conn.execution_options(isolation_level="AUTOCOMMIT")
                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None  # aiosqlite's Connection
                self._one_hop = OneHop(driver, self.engine.dialect, self._inline_reader())
            yield self._reader

    @asynccontextmanager
    async def fetching(self) -> AsyncIterator[Fetch]:
        """reading's connection as a fetch: on SQLite each statement in one thread hop."""
        async with self.reading() as conn:
            yield self._one_hop if self._one_hop is not None else fetch_on(conn)

    @asynccontextmanager
    async def one_hop_statements(self) -> AsyncIterator[list[str]]:
        """The SQL of each one-hop read run inside the block (SQLAlchemy's events see every
        other statement): for tests and benchmarks that count round trips."""
        heard: list[str] = []
        async with self.reading():
            one_hop = self._one_hop
        if one_hop is None:
            yield heard
            return
        one_hop.heard.append(heard)
        try:
            yield heard
        finally:
            one_hop.heard.remove(heard)

    def _inline_reader(self) -> sqlite3.Connection | None:
        """A plain connection to the SQLite file for the reader's statements (an in-memory
        database is one connection's own: none)."""
        path = self.engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return inline_reader(str(Path(path).expanduser()))

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            if self._one_hop is not None:
                self._one_hop.close()
            self._reader = self._one_hop = None
        await self.engine.dispose()

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(accounts)) or 0)

    async def is_empty(self) -> bool:
        async with self.engine.connect() as conn:
            return await conn.scalar(select(accounts.c.id).limit(1)) is None

    async def find(self, refs: Sequence[AccountRef]) -> dict[AccountRef, AccountRecord]:
        async with self.reading() as conn:
            return await find_in(conn, refs)

    async def protected(self, batch: int = 10_000) -> AsyncIterator[list[ProtectedRow]]:
        query = (
            select(accounts.c.id, accounts.c.platform, accounts.c.handle_key, entities.c.name,
                   accounts.c.handle_as_written)
            .join(entities)
            .where(accounts.c.status.in_([s.value for s in PROTECTED]))
            .order_by(accounts.c.id)
            .limit(batch)
        )
        last = 0
        while True:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(query.where(accounts.c.id > last))).all()
            if not rows:
                return
            yield [(AccountRef(r.platform, r.handle_key), r.name, r.handle_as_written)
                   for r in rows]
            last = rows[-1].id

    async def newest_change(self) -> int:
        async with self.reading() as conn:
            return await changelog.newest_change(conn)

    async def changed_since(
        self, change_id: int, until: int | None = None
    ) -> tuple[int, list[AccountRef]]:
        async with self.reading() as conn:
            return await changelog.changed_since(conn, change_id, until)

    async def change_mark(self, change_id: int) -> str | None:
        async with self.reading() as conn:
            return await changelog.change_mark(conn, change_id)

    def registered_keys(
        self, batch: int = 100_000
    ) -> AsyncIterator[tuple[list[str], list[str]]]:
        return reads.registered_keys(self.engine, batch)

    def mentioned_keys(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        return reads.mentioned_keys(self.engine, batch)

    def entity_names(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        return reads.entity_names(self.engine, batch)

    async def read(
        self, refs: Sequence[AccountRef], mentions: int = 5,
        mentioned: Collection[AccountRef] | None = None,
    ) -> dict[AccountRef, Known]:
        async with self.fetching() as fetch:
            return await reads.read_known(fetch, refs, mentions, mentioned)

    def follow(self, reload: Reload) -> None:
        follow_local(self.engine, reload)

    async def apply(self, correction: Correction, by: str) -> tuple[AccountRecord, Change]:
        correction, by = limits.checked_correction(correction), limits.who(by)
        async with writing(self.engine) as conn:
            ref = correction.ref
            await _lock(conn, ref)
            before = await _snapshot(conn, ref)
            after = _corrected(before, correction, ref)
            await store(conn, ref, after)
            change = await _log(conn, ref, by, before, after, correction.note, correction.evidence)
            open_ones = (*_is(reports, ref), reports.c.resolved.is_(False))
            closed = {"resolved": True, "closed_by": by[:200], "closed_at": datetime.now(UTC),
                      "closed_reason": f"verdict: {correction.status.value}"}
            await conn.execute(  # decided now: its reports are closed, each with its outcome
                update(reports).where(*open_ones).values(
                    outcome=case(
                        (reports.c.status == correction.status.value, Outcome.ACCEPTED.value),
                        else_=Outcome.DECIDED.value,
                    ),
                    **closed,
                )
            )
            await announce(conn, [ref])
            record = await _find_one(conn, ref)
        assert record is not None
        return record, change

    async def undo(self, ref: AccountRef, by: str) -> tuple[AccountRecord | None, Change]:
        by = limits.who(by)
        async with writing(self.engine) as conn:
            await _lock(conn, ref)
            target = await _latest_undoable(conn, ref)
            if target is None:
                raise NothingToUndo(f"nothing to undo for {ref}")
            before = await _snapshot(conn, ref)
            restored: Snapshot | None = target.before
            await store(conn, ref, restored)
            note = f"undo #{target.id}"
            change = await _log(conn, ref, by, before, restored, note, None, undoes=target.id)
            await announce(conn, [ref])
            return await _find_one(conn, ref), change

    async def history(self, ref: AccountRef) -> list[Change]:
        query = select(changes).where(*_is(changes, ref)).order_by(changes.c.id.desc())
        async with self.engine.connect() as conn:
            return [_change(row) for row in await conn.execute(query)]

    async def remember_platform_id(self, ref: AccountRef, platform_id: str) -> None:
        async with writing(self.engine) as conn:
            await conn.execute(
                update(accounts).where(*_is(accounts, ref)).values(platform_id=platform_id)
            )

    async def add_report(self, report: Report) -> Report:
        """Queue a suggestion; a repeat of an open one (same account and status) merges in."""
        report = limits.checked_report(report)
        at = datetime.now(UTC)
        same = (*_is(reports, report.ref), reports.c.status == report.status.value,
                reports.c.resolved.is_(False))
        async with writing(self.engine) as conn:
            await _lock(conn, report.ref)
            row = (await conn.execute(select(reports).where(*same).limit(1))).first()
            if row is None:
                values = {
                    "platform": report.ref.platform, "handle_key": report.ref.handle,
                    "status": report.status.value, "note": report.note, "by": report.by,
                    "at": at, "resolved": False, "count": 1, "reporters": [report.by],
                }
                new_id = await conn.scalar(insert(reports).values(values).returning(reports.c.id))
                return await _report_by_id(conn, new_id)
            reporters = list(dict.fromkeys([*(row.reporters or [row.by]), report.by]))
            note = row.note or report.note
            await conn.execute(
                update(reports).where(reports.c.id == row.id)
                .values(count=row._mapping["count"] + 1, reporters=reporters, note=note)
            )
            return await _report_by_id(conn, row.id)

    async def open_reports(self, limit: int = 50) -> list[Report]:
        query = select(reports).where(reports.c.resolved.is_(False)).order_by(reports.c.id.desc())
        async with self.engine.connect() as conn:
            return [_report(r) for r in await conn.execute(query.limit(limit))]

    async def open_reports_about(self, ref: AccountRef) -> list[Report]:
        query = select(reports).where(*_is(reports, ref), reports.c.resolved.is_(False))
        async with self.engine.connect() as conn:
            return [_report(r) for r in await conn.execute(query.order_by(reports.c.id))]

    async def report(self, report_id: int) -> Report | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(reports).where(reports.c.id == report_id))).first()
        return _report(row) if row else None

    async def close_report(
        self, report_id: int, outcome: Outcome, by: str, reason: str | None
    ) -> Report:
        """Close an open report (NoSuchReport otherwise), naming who and why."""
        values = {"resolved": True, "outcome": outcome.value, "closed_by": by[:200],
                  "closed_reason": reason, "closed_at": datetime.now(UTC)}
        async with writing(self.engine) as conn:
            closed = await conn.execute(
                update(reports).where(reports.c.id == report_id, reports.c.resolved.is_(False))
                .values(values)
            )
            if closed.rowcount != 1:
                raise NoSuchReport(report_id)
            return await _report_by_id(conn, report_id)

    async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
        async with self.reading() as conn:
            return await recent_mentions(conn, ref, limit)

    async def search(
        self, prefix: str, limit: int = 25, platform: str | None = None, names: bool = True
    ) -> list[tuple[AccountRef, str | None]]:
        key = limits.printable(prefix).strip().lower()[: limits.MAX_HANDLE]
        async with self.fetching() as fetch:
            found = await _search_handles(fetch, self.engine.dialect.name, key, limit, platform)
        if key and names and platform is None and len(found) < limit:
            async with self.engine.connect() as conn:  # a scan: not on the shared reader
                found += await _search_entities(conn, key, limit)
        return list(dict.fromkeys(found))[:limit]


class SqlChatPreferences:
    """Chats' preferences on the registry's database: implements bot.ports.ChatPreferences."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def autocheck(self, platform: str, chat_id: str) -> bool:
        query = select(chat_preferences.c.autocheck).where(
            chat_preferences.c.platform == platform, chat_preferences.c.chat_id == chat_id
        )
        async with self.engine.connect() as conn:
            return bool(await conn.scalar(query))

    async def set_autocheck(self, platform: str, chat_id: str, on: bool, by: str) -> None:
        values = {"autocheck": on, "changed_by": by[:200], "changed_at": datetime.now(UTC)}
        async with writing(self.engine) as conn:
            upsert = dialect_insert(conn, chat_preferences).values(
                platform=platform, chat_id=chat_id, **values
            )
            await conn.execute(
                upsert.on_conflict_do_update(index_elements=["platform", "chat_id"], set_=values)
            )

    async def language(self, platform: str, chat_id: str) -> str | None:
        query = select(chat_preferences.c.language).where(
            chat_preferences.c.platform == platform, chat_preferences.c.chat_id == chat_id
        )
        async with self.engine.connect() as conn:
            found = await conn.scalar(query)
        return str(found) if found else None

    async def set_language(
        self, platform: str, chat_id: str, language: str | None, by: str
    ) -> None:
        values = {"language": language, "changed_by": by[:200], "changed_at": datetime.now(UTC)}
        async with writing(self.engine) as conn:
            upsert = dialect_insert(conn, chat_preferences).values(
                platform=platform, chat_id=chat_id, autocheck=False, **values
            )
            await conn.execute(
                upsert.on_conflict_do_update(index_elements=["platform", "chat_id"], set_=values)
            )

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        old = (chat_preferences.c.platform == platform, chat_preferences.c.chat_id == old_id)
        async with writing(self.engine) as conn:
            if await conn.scalar(select(func.count()).where(*old)):
                await conn.execute(
                    delete(chat_preferences).where(
                        chat_preferences.c.platform == platform,
                        chat_preferences.c.chat_id == new_id,
                    )
                )
                await conn.execute(update(chat_preferences).where(*old).values(chat_id=new_id))


# Reading


async def _report_by_id(conn: AsyncConnection, report_id: int) -> Report:
    return _report((await conn.execute(select(reports).where(reports.c.id == report_id))).one())


def _report(row: AnyRow) -> Report:
    return Report(
        AccountRef(row.platform, row.handle_key), Status(row.status), row.by, row.note, row.id,
        row.at, count=row._mapping["count"], reporters=tuple(row.reporters or [row.by]),
        outcome=Outcome(row.outcome) if row.outcome else None, closed_by=row.closed_by,
        reason=row.closed_reason,
    )


def _is(table: Any, ref: AccountRef) -> tuple[Any, Any]:
    return table.c.platform == ref.platform, table.c.handle_key == ref.handle


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def refs_clause(refs: Iterable[AccountRef]) -> Any:
    """WHERE (platform = p AND handle_key IN (...)) OR ...: one index range per platform."""
    keys: dict[str, list[str]] = defaultdict(list)
    for ref in refs:
        keys[ref.platform].append(ref.handle)
    return or_(
        *(and_(accounts.c.platform == p, accounts.c.handle_key.in_(ks)) for p, ks in keys.items())
    )


async def find_in(
    conn: AsyncConnection, refs: Sequence[AccountRef]
) -> dict[AccountRef, AccountRecord]:
    """The registered records among refs, read on conn (a few hundred refs per query)."""
    found: dict[AccountRef, AccountRecord] = {}
    for chunk in chunks(list(set(refs)), KEYS_PER_QUERY):
        found.update(await _find(conn, chunk))
    return found


async def account_ids(conn: AsyncConnection, refs: Sequence[AccountRef]) -> dict[AccountRef, int]:
    """The row id of each registered ref (by the unique index, one query per platform)."""
    keys: dict[str, list[str]] = defaultdict(list)
    for ref in refs:
        keys[ref.platform].append(ref.handle)
    ids: dict[AccountRef, int] = {}
    query = select(accounts.c.platform, accounts.c.handle_key, accounts.c.id)
    for platform, handles in keys.items():
        handle_in = any_of(conn, accounts.c.handle_key, handles)
        found = query.where(accounts.c.platform == platform, handle_in)
        for _, key, id_ in await conn.execute(found):
            ids[AccountRef(platform, key)] = id_
    return ids


# Built once: a check usually names one account, and building the join costs more than the query.
_RECORDS = (
    select(*_RECORD_COLUMNS, *_EVIDENCE_COLUMNS)
    .select_from(accounts.outerjoin(entities).outerjoin(evidence))
    .order_by(accounts.c.id, evidence.c.id)
)
_ONE_RECORD = _RECORDS.where(
    accounts.c.platform == bindparam("platform"), accounts.c.handle_key == bindparam("key")
)


async def _find(
    conn: AsyncConnection, refs: Sequence[AccountRef]
) -> dict[AccountRef, AccountRecord]:
    if len(refs) == 1:
        result = await conn.execute(
            _ONE_RECORD, {"platform": refs[0].platform, "key": refs[0].handle}
        )
    else:
        result = await conn.execute(_RECORDS.where(refs_clause(refs)))
    rows_by_account: dict[int, list[AnyRow]] = defaultdict(list)
    for row in result:
        rows_by_account[row.id].append(row)
    entity_ids = {rows[0].entity_id for rows in rows_by_account.values()} - {None}
    identity = await _identity(conn, entity_ids) if entity_ids else {}
    records = (_record(rows, identity) for rows in rows_by_account.values())
    return {record.ref: record for record in records}


async def _identity(
    conn: AsyncConnection, ids: set[int]
) -> dict[int, tuple[list[str], list[str]]]:
    """Each entity's aliases and identifiers, in one query."""
    wanted = sorted(ids)
    aliases = select(
        entity_aliases.c.entity_id, literal("").label("scheme"), entity_aliases.c.alias
    ).where(entity_aliases.c.entity_id.in_(wanted))
    identifiers = select(
        entity_identifiers.c.entity_id, entity_identifiers.c.scheme, entity_identifiers.c.value
    ).where(entity_identifiers.c.entity_id.in_(wanted))
    found: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for entity_id, scheme, value in await conn.execute(union_all(aliases, identifiers)):
        names, schemes = found[entity_id]
        if scheme:
            schemes.append(f"{scheme}:{value}")
        else:
            names.append(value)
    return {k: (sorted(v[0]), sorted(v[1])) for k, v in found.items()}


def _record(
    rows: Sequence[AnyRow], identity: dict[int, tuple[list[str], list[str]]]
) -> AccountRecord:
    return record_of(rows, identity.get(rows[0].entity_id, ([], [])))


def record_of(rows: Sequence[Any], identity: tuple[list[str], list[str]]) -> AccountRecord:
    """An account from its rows (one per evidence link, in order) and its entity's aliases
    and identifiers."""
    first = rows[0]
    aliases, entity_ids = identity
    return AccountRecord(
        ref=AccountRef(first.platform, first.handle_key),
        status=Status(first.status),
        entity=first.entity,
        handle_as_written=first.handle_as_written,
        evidence=tuple(
            Evidence(r.url, r.title, r.publisher, r.published, r.quote) for r in rows if r.url
        ),
        note=first.note,
        platform_id=first.platform_id,
        reviewed=first.reviewed_at,
        set_by=first.set_by,
        aliases=tuple(aliases),
        entity_ids=tuple(entity_ids),
    )


async def _find_one(conn: AsyncConnection, ref: AccountRef) -> AccountRecord | None:
    return (await _find(conn, [ref])).get(ref)


@lru_cache(maxsize=4)
def _handles_from(dialect: str, on_platform: bool) -> Select[Any]:
    """Accounts whose lower(handle_key) is in [low, high), in key order (limit, platform: bind
    parameters): the range of ix_accounts_handle_lower, which holds it in byte order on both
    databases."""
    lowered: Any = func.lower(accounts.c.handle_key)
    lowered = lowered.collate("C") if dialect == "postgresql" else lowered
    query = (
        select(accounts.c.platform, accounts.c.handle_key, entities.c.name)
        .select_from(accounts.outerjoin(entities))
        .where(lowered >= bindparam("low"), lowered < bindparam("high"))
        .order_by(lowered, accounts.c.platform)
        .limit(bindparam("limit"))
    )
    return query.where(accounts.c.platform == bindparam("platform")) if on_platform else query


async def _search_handles(
    fetch: Fetch, dialect: str, key: str, limit: int, platform: str | None
) -> list[tuple[AccountRef, str | None]]:
    """Accounts whose handle key starts with key (lower case): one index range, in key order."""
    params: dict[str, Any] = {"low": key, "high": key + LAST_CHAR, "limit": limit}
    if platform is not None:
        params["platform"] = platform
    rows = await fetch(_handles_from(dialect, platform is not None), params)
    return [(AccountRef(r.platform, r.handle_key), r.name) for r in rows]


async def _search_entities(
    conn: AsyncConnection, key: str, limit: int
) -> list[tuple[AccountRef, str | None]]:
    """Accounts of entities whose name (or an alias) starts with key, then contains it."""
    name = func.lower(entities.c.name)
    by_alias = select(entity_aliases.c.entity_id).where(
        func.lower(entity_aliases.c.alias).contains(key, autoescape=True)
    )
    query = (
        select(accounts.c.platform, accounts.c.handle_key, entities.c.name)
        .select_from(entities.join(accounts))
        .where(or_(name.contains(key, autoescape=True), entities.c.id.in_(by_alias)))
        .order_by(
            case((name.startswith(key, autoescape=True), 0), else_=1),
            name,
            accounts.c.platform,
            accounts.c.handle_key,
        )
        .limit(limit)
    )
    rows = await conn.execute(query)
    return [(AccountRef(r.platform, r.handle_key), r.name) for r in rows]


def _change(row: AnyRow) -> Change:
    proof = None
    if row.evidence_url:
        proof = Evidence(
            row.evidence_url,
            row.evidence_title or "",
            row.evidence_publisher,
            row.evidence_published,
            row.evidence_quote,
        )
    return Change(
        id=row.id,
        ref=AccountRef(row.platform, row.handle_key),
        at=row.at,
        by=row.by,
        old_status=Status(row.old_status),
        new_status=Status(row.new_status),
        old_entity=row.old_entity,
        new_entity=row.new_entity,
        note=row.note,
        evidence=proof,
        undoes=row.undoes,
    )


async def _latest_undoable(conn: AsyncConnection, ref: AccountRef) -> AnyRow | None:
    undone = changes.alias("undone")
    query = (
        select(changes.c.id, changes.c.before)
        .where(*_is(changes, ref), changes.c.undoes.is_(None))
        .where(~exists().where(undone.c.undoes == changes.c.id))
        .order_by(changes.c.id.desc())
        .limit(1)
    )
    return (await conn.execute(query)).first()


# Snapshots: an account as plain JSON, the unit of apply and undo.


def snapshot_of(record: AccountRecord) -> Snapshot:
    return {
        "status": record.status.value,
        "entity": record.entity,
        "note": record.note,
        "handle_as_written": record.handle_as_written,
        "platform_id": record.platform_id,
        "reviewed": record.reviewed.isoformat() if record.reviewed else None,
        "evidence": [evidence_json(e) for e in record.evidence],
    }


def evidence_json(proof: Evidence) -> dict[str, str | None]:
    published = proof.published.isoformat() if proof.published else None
    return {
        "url": proof.url,
        "title": proof.title,
        "publisher": proof.publisher,
        "published": published,
        "quote": proof.quote,
    }


def _evidence_row(item: dict[str, Any]) -> dict[str, Any]:
    published = date.fromisoformat(item["published"]) if item["published"] else None
    return {**item, "published": published}


async def _snapshot(conn: AsyncConnection, ref: AccountRef) -> Snapshot | None:
    record = await _find_one(conn, ref)
    return snapshot_of(record) if record else None


def _corrected(before: Snapshot | None, correction: Correction, ref: AccountRef) -> Snapshot:
    old: Snapshot = before or {
        "entity": None,
        "note": None,
        "handle_as_written": ref.handle,
        "platform_id": None,
        "evidence": [],
    }
    proofs = list(old["evidence"])
    if correction.evidence:
        added = evidence_json(correction.evidence)
        proofs = [p for p in proofs if p["url"] != added["url"]] + [added]

    def given(value: str | None, key: str) -> Any:
        return value if value is not None else old[key]

    return {
        "status": correction.status.value,
        "entity": given(correction.entity, "entity"),
        "note": correction.note,
        "handle_as_written": given(correction.handle_as_written, "handle_as_written"),
        "platform_id": given(correction.platform_id, "platform_id"),
        "reviewed": datetime.now(UTC).isoformat(),
        "evidence": proofs,
    }


# Writing


async def _lock(conn: AsyncConnection, ref: AccountRef) -> None:
    """Serialise writers of one account (SQLite needs nothing: BEGIN IMMEDIATE did it)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": str(ref)}
        )


async def entity_ids(conn: AsyncConnection, names: Iterable[str]) -> dict[str, int]:
    """The id of each entity name, creating the missing ones (in name order): two statements
    however many names."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    adding = dialect_insert(conn, entities).from_select(["name"], listed(conn, wanted))
    await conn.execute(adding.on_conflict_do_nothing())
    named = select(entities.c.name, entities.c.id).where(any_of(conn, entities.c.name, wanted))
    return {name: id_ for name, id_ in await conn.execute(named)}


async def store(conn: AsyncConnection, ref: AccountRef, state: Snapshot | None) -> None:
    """Make the account exactly `state` (None: absent), evidence set included."""
    account_id = await conn.scalar(select(accounts.c.id).where(*_is(accounts, ref)))
    if state is None:
        if account_id is not None:
            await conn.execute(delete(evidence).where(evidence.c.account_id == account_id))
            await conn.execute(delete(accounts).where(accounts.c.id == account_id))
        return
    entity = state["entity"]
    values = {
        "handle_as_written": state["handle_as_written"],
        "platform_id": state["platform_id"],
        "entity_id": (await entity_ids(conn, [entity]))[entity] if entity else None,
        "status": state["status"],
        "note": state["note"],
        "reviewed_at": datetime.fromisoformat(state["reviewed"]) if state["reviewed"] else None,
    }
    if account_id is None:
        account_id = await conn.scalar(
            insert(accounts)
            .values(platform=ref.platform, handle_key=ref.handle, **values)
            .returning(accounts.c.id)
        )
    else:
        await conn.execute(update(accounts).where(accounts.c.id == account_id).values(values))
        await conn.execute(delete(evidence).where(evidence.c.account_id == account_id))
    if state["evidence"]:
        rows = [{"account_id": account_id, **_evidence_row(e)} for e in state["evidence"]]
        await conn.execute(insert(evidence), rows)


async def _log(
    conn: AsyncConnection,
    ref: AccountRef,
    by: str,
    before: Snapshot | None,
    after: Snapshot | None,
    note: str | None,
    proof: Evidence | None,
    undoes: int | None = None,
) -> Change:
    values = change_values(ref, by, before, after, note, proof, undoes)
    return _change((await conn.execute(insert(changes).values(values).returning(changes))).one())


def change_values(
    ref: AccountRef,
    by: str,
    before: Snapshot | None,
    after: Snapshot | None,
    note: str | None,
    proof: Evidence | None,
    undoes: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """One change-log row (shared with the importer's bulk insert)."""
    unknown = Status.UNKNOWN.value
    return {
        "platform": ref.platform,
        "handle_key": ref.handle,
        "at": at or datetime.now(UTC),
        "by": by,
        "old_status": before["status"] if before else unknown,
        "new_status": after["status"] if after else unknown,
        "old_entity": before["entity"] if before else None,
        "new_entity": after["entity"] if after else None,
        "note": note,
        "evidence_url": proof.url if proof else None,
        "evidence_title": proof.title if proof else None,
        "evidence_publisher": proof.publisher if proof else None,
        "evidence_published": proof.published if proof else None,
        "evidence_quote": proof.quote if proof else None,
        "undoes": undoes,
        "before": before,
    }
