"""The check's reads on SQL: accounts and their feed mentions in one statement, and the narrow
streams of keys the core keeps in memory (bot/registered.py, bot/search_keys.py).

`read` answers what `find` and `mentions` answer together, in one round trip: a UNION ALL of
the accounts' rows (one per evidence link), their entities' aliases and identifiers, and the
newest mentions of each account that may have any (two index ranges per account, as
knowledge/feeds/store.py reads them), all in one set of columns told apart by `kind`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.model import AccountRef, Evidence
from bot.platforms import ANY
from bot.ports import Known
from knowledge import registry as sql  # it imports this module: names are read at call time
from knowledge.compiled import Fetch
from knowledge.feeds.store import evidence_of
from knowledge.feeds.tables import feed_items, feeds, item_mentions
from knowledge.tables import (
    UtcDateTime,
    accounts,
    entities,
    entity_aliases,
    entity_identifiers,
    evidence,
    verifications,
)

RECORD, ALIAS, IDENTIFIER, MENTION = 0, 1, 2, 3
REFS_PER_READ = 100  # two mention ranges each: under SQLite's 500 terms of one compound SELECT
TEXTS = 10

# The slots of the shared row: which value each kind puts where.
_INTS = ("n1", "n2", "n3")
_TEXTS = tuple(f"s{i}" for i in range(1, TEXTS + 1))


def _row(kind: int, platform: Any, handle: Any, **values: Any) -> list[Any]:
    """A select list in the shared order; the slots a kind does not use are typed NULLs."""
    typed: dict[str, Any] = {**{n: Integer() for n in _INTS}, **{s: Text() for s in _TEXTS},
                             "day": Date(), "at": UtcDateTime()}
    columns = [literal(kind, Integer()).label("kind"), platform.label("platform"),
               handle.label("handle")]
    for name, type_ in typed.items():
        value = values.pop(name, None)
        columns.append((cast(null(), type_) if value is None else value).label(name))
    assert not values, values
    return columns


def _pair(table: Any, at: int) -> Any:
    """table's row for the at-th ref of the statement's bind parameters."""
    return and_(table.c.platform == bindparam(f"p{at}"), table.c.handle_key == bindparam(f"h{at}"))


def _records(count: int) -> Select[Any]:
    return (
        select(*_row(
            RECORD, accounts.c.platform, accounts.c.handle_key,
            n1=accounts.c.id, n2=accounts.c.entity_id, n3=evidence.c.id,
            s1=sql.SET_BY, s2=accounts.c.handle_as_written, s3=accounts.c.platform_id,
            s4=accounts.c.status, s5=accounts.c.note, s6=entities.c.name,
            s7=evidence.c.url, s8=evidence.c.title, s9=evidence.c.publisher,
            s10=evidence.c.quote, day=evidence.c.published, at=accounts.c.reviewed_at,
        ))
        .select_from(accounts.outerjoin(entities).outerjoin(evidence))
        .where(or_(*(_pair(accounts, at) for at in range(count))))
    )


def _identity(count: int) -> list[Select[Any]]:
    """The aliases and identifiers of the accounts' entities."""
    wanted = or_(*(_pair(accounts, at) for at in range(count)))
    aliases = (
        select(*_row(ALIAS, accounts.c.platform, accounts.c.handle_key,
                     n2=entity_aliases.c.entity_id, s2=entity_aliases.c.alias))
        .select_from(accounts.join(entity_aliases,
                                   entity_aliases.c.entity_id == accounts.c.entity_id))
        .where(wanted)
    )
    identifiers = (
        select(*_row(IDENTIFIER, accounts.c.platform, accounts.c.handle_key,
                     n2=entity_identifiers.c.entity_id, s1=entity_identifiers.c.scheme,
                     s2=entity_identifiers.c.value))
        .select_from(accounts.join(entity_identifiers,
                                   entity_identifiers.c.entity_id == accounts.c.entity_id))
        .where(wanted)
    )
    return [aliases, identifiers]


def _mentions(at: int, platform: Any) -> Select[Any]:
    """The at-th ref's newest mentions under platform (its own, or `any`: a bare @handle)."""
    handle: Any = bindparam(f"h{at}")
    newest = (
        select(item_mentions.c.item_id, item_mentions.c.published)
        .where(item_mentions.c.platform == platform, item_mentions.c.handle_key == handle)
        .order_by(item_mentions.c.published.desc())
        .limit(bindparam("limit"))
        .subquery()
    )
    return (
        select(*_row(
            MENTION, bindparam(f"p{at}", type_=Text()), bindparam(f"h{at}", type_=Text()),
            n1=newest.c.item_id, s1=feed_items.c.title, s2=feed_items.c.link,
            s3=feed_items.c.summary, s4=feeds.c.title, s5=feeds.c.url, at=newest.c.published,
        ))
        .select_from(newest.join(feed_items, feed_items.c.id == newest.c.item_id)
                     .join(feeds, feeds.c.id == feed_items.c.feed_id))
    )


@lru_cache(maxsize=4 * REFS_PER_READ)
def _statement(count: int, mentioned: int) -> CompoundSelect[Any]:
    """The read of count refs, the first `mentioned` of them with their mentions (bind
    parameters p0, h0, p1, h1, ... and limit), built once per shape: building and keying a
    statement this size costs more than running it."""
    parts = [_records(count), *_identity(count)]
    for at in range(mentioned):
        parts += [_mentions(at, bindparam(f"p{at}")), _mentions(at, literal(ANY))]
    return union_all(*parts)


async def read_known(
    fetch: Fetch, refs: Sequence[AccountRef], limit: int,
    mentioned: Collection[AccountRef] | None = None,
) -> dict[AccountRef, Known]:
    """Each ref's record and newest mentions: one statement per REFS_PER_READ refs. Only the
    refs in mentioned (None: every one) are read for mentions; the others have none (a check
    knows which may have some: most registered accounts are named in no feed, and their two
    mention ranges were a third of the read)."""
    known: dict[AccountRef, Known] = {}
    unique = list(dict.fromkeys(refs))
    may = set(unique if mentioned is None else mentioned)
    for chunk in sql.chunks(sorted(unique, key=lambda ref: ref not in may), REFS_PER_READ):
        params: dict[str, Any] = {"limit": limit}
        for at, ref in enumerate(chunk):  # those read for mentions first: the shape's order
            params |= {f"p{at}": ref.platform, f"h{at}": ref.handle}
        shape = _statement(len(chunk), sum(ref in may for ref in chunk))
        known.update(_known(chunk, await fetch(shape, params), limit))
    return known


def _known(refs: Sequence[AccountRef], rows: Sequence[Any], limit: int) -> dict[AccountRef, Known]:
    by_kind: dict[int, dict[AccountRef, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_kind[row.kind][AccountRef(row.platform, row.handle)].append(row)
    known = {}
    for ref in refs:
        found = by_kind[RECORD].get(ref)
        record = None
        if found:
            aliases = sorted({r.s2 for r in by_kind[ALIAS].get(ref, [])})
            schemes = sorted({f"{r.s1}:{r.s2}" for r in by_kind[IDENTIFIER].get(ref, [])})
            record = sql.record_of(_record_rows(found), (aliases, schemes))
        known[ref] = Known(record, _newest(by_kind[MENTION].get(ref, []), limit))
    return known


class _RecordRow:
    """A RECORD row under the names knowledge.registry.record_of reads."""

    __slots__ = ("entity", "entity_id", "handle_as_written", "handle_key", "id", "note",
                 "platform", "platform_id", "published", "publisher", "quote", "reviewed_at",
                 "set_by", "status", "title", "url")

    def __init__(self, row: Any) -> None:
        self.id, self.entity_id, self.set_by = row.n1, row.n2, row.s1
        self.platform, self.handle_key = row.platform, row.handle
        self.handle_as_written, self.platform_id, self.status = row.s2, row.s3, row.s4
        self.note, self.entity, self.reviewed_at = row.s5, row.s6, row.at
        self.url, self.title, self.publisher, self.quote = row.s7, row.s8, row.s9, row.s10
        self.published = row.day


def _record_rows(rows: list[Any]) -> list[_RecordRow]:
    ordered = sorted(rows, key=lambda r: -1 if r.n3 is None else r.n3)  # evidence as added
    return [_RecordRow(row) for row in ordered]


def _newest(rows: list[Any], limit: int) -> tuple[Evidence, ...]:
    """The newest items first, each once (an item may name the account both ways)."""
    items = {row.n1: row for row in rows}
    ordered = sorted(items.values(), key=lambda r: (r.at, r.n1), reverse=True)[:limit]
    return tuple(evidence_of(row.s1, row.s2, row.s3, row.at, row.s4, row.s5) for row in ordered)


# --- the keys the core keeps in memory ------------------------------------------------------


async def _stream(engine: AsyncEngine, query: Any, batch: int) -> AsyncIterator[list[Any]]:
    """The rows of one query, in batches (a server-side cursor: one query, little memory)."""
    async with engine.connect() as conn:
        result = await conn.stream(query)
        async for rows in result.partitions(batch):
            yield list(rows)


# SQLite: a million rows streamed through aiosqlite and SQLAlchemy cost seconds (a thread hop
# and a row object each); one group_concat per batch is one string, split in milliseconds.
# No stored text holds NUL (bot.limits), so it parts the values.
_KEYS = ("platform || ':' || handle_key", "handle_key")


async def _joined(
    engine: AsyncEngine, table: str, columns: Sequence[str], batch: int
) -> AsyncIterator[list[list[str]]]:
    """Each column's values, batch rows at a time in rowid order (SQLite only)."""
    # The inner query reads only what is joined (a subquery with a LIMIT is materialised).
    named = ", ".join(f"{column} AS c{at}" for at, column in enumerate(columns))
    joined = ", ".join(f"group_concat(c{at}, char(0))" for at in range(len(columns)))
    sql = (f"SELECT max(row_number), {joined} FROM (SELECT rowid AS row_number, {named}"
           f" FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?)")
    last = 0
    async with engine.connect() as conn:
        while True:
            row = (await conn.exec_driver_sql(sql, (last, batch))).one()
            if row[0] is None:
                return
            last = row[0]
            texts: list[str] = list(row[1:])
            yield [values.split("\0") for values in texts]


async def registered_keys(
    engine: AsyncEngine, batch: int
) -> AsyncIterator[tuple[list[str], list[str]]]:
    if engine.dialect.name == "sqlite":
        async for keys, handles in _joined(engine, "accounts", _KEYS, batch):
            yield keys, handles
        return
    query = select(accounts.c.platform + ":" + accounts.c.handle_key, accounts.c.handle_key)
    async for rows in _stream(engine, query, batch):
        yield [key for key, _ in rows], [handle for _, handle in rows]


async def mentioned_keys(engine: AsyncEngine, batch: int) -> AsyncIterator[list[str]]:
    query = select(item_mentions.c.platform + ":" + item_mentions.c.handle_key).distinct()
    async for rows in _stream(engine, query, batch):
        yield [key for (key,) in rows]


async def entity_names(engine: AsyncEngine, batch: int) -> AsyncIterator[list[str]]:
    if engine.dialect.name == "sqlite":
        for table, column in (("entities", "name"), ("entity_aliases", "alias")):
            async for (names,) in _joined(engine, table, (column,), batch):
                yield names
        return
    query = union_all(select(entities.c.name), select(entity_aliases.c.alias))
    async for rows in _stream(engine, query, batch):
        yield [name for (name,) in rows]


async def verified_keys(engine: AsyncEngine, batch: int) -> AsyncIterator[list[str]]:
    query = select(verifications.c.platform + ":" + verifications.c.handle_key).distinct()
    async for rows in _stream(engine, query, batch):
        yield [key for (key,) in rows]
