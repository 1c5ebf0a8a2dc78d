"""Import registry rows from CSV, YAML or JSON (or a native upstream's records, as rows).

Rows: entity, platform, handle, url, verdict, source_url and optional note, source_title,
source_publisher, source_published (YYYY-MM-DD), source_quote, platform_id, entity_ids
(`scheme:value`, spaces or `;` between) and aliases (`;` between).

Rules (knowledge/importing/ checks, merges and writes):
- Every row is checked before anything is written; with problems nothing is written unless
  skip_invalid, which writes the valid rows only.
- Rows naming the same account merge when they agree on verdict and entity; disagreeing rows
  are each a problem naming the others' lines.
- Entities: the same identifier is the same entity; two values of one scheme are two entities;
  an entity whose registered accounts all belong to one registered entity (same verdicts) is
  that entity: it merges, its name becomes an alias, and the merge is listed with its line.
- An import adds accounts, sources, identifiers and aliases; it never changes a verdict already
  in the registry ("use `isofficial verdict`").
- One change-log entry per account written, by `by`; the whole import is one transaction.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import limits
from bot.collector import cycles_uncollected
from bot.model import PROTECTED, AccountRef, ImportProblem, ProtectedRow
from knowledge.changelog import newest_change
from knowledge.database import driver_time, writing
from knowledge.formats import READERS, BadImportFile, read_capped
from knowledge.importing.accounts import against_registry, registered
from knowledge.importing.background import Writes, start_accounts, start_entities
from knowledge.importing.entities import match_entities, write_entities
from knowledge.importing.plan import Plan, plan_rows
from knowledge.importing.rows import COLUMNS, ImportResult, Planned
from knowledge.importing.write import add_sources, insert_accounts
from knowledge.importing.written import Written
from knowledge.notify import announce
from knowledge.registry import SqlRegistry, chunks, entity_ids

if TYPE_CHECKING:
    from bot.kept import Imported  # the lookalike index's code, loaded by those who keep it

WRITE_CHUNK = 5_000
BATCH_ROWS = 50_000  # rows checked together; a longer file is checked part after part


# Reading


def read_rows(
    source: str | Path | TextIO, fmt: str | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) pairs: the file's line for CSV, the item's position (from 1) for JSON/YAML,
    read by knowledge.formats (no implicit typing, no aliases, no duplicate or nested values).

    fmt is csv, json or yaml; without it the file's extension decides, or, for a stream,
    its first character ([ or { is JSON, a CSV header line is CSV, anything else YAML).
    """
    if isinstance(source, str | Path):
        path = Path(source)
        fmt = fmt or _format_of(path)
        try:
            if path.stat().st_size > limits.MAX_IMPORT_BYTES:
                limit = limits.MAX_IMPORT_BYTES // 2**20
                raise BadImportFile(f"{path.name} is larger than {limit} MB")
            with path.open(encoding="utf-8-sig", newline="") as stream:
                yield from read_rows(stream, fmt)
        except OSError as error:
            raise BadImportFile(f"cannot read {path.name}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise BadImportFile(f"{path.name} is not UTF-8 text") from None
        return
    if fmt is None:
        text = read_capped(source).removeprefix("\ufeff")
        fmt = _sniff(text)
        source = io.StringIO(text)
    reader = READERS.get(fmt)
    if reader is None:
        raise BadImportFile(f"unknown format {fmt!r}: use csv, json or yaml")
    yield from reader(source)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    formats = {"csv": "csv", "json": "json", "yaml": "yaml", "yml": "yaml"}
    if suffix not in formats:
        raise BadImportFile(f"{path.name}: cannot tell the format, use .csv, .json or .yaml")
    return formats[suffix]


def _sniff(text: str) -> str:
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        return "json"
    lines = (line.strip() for line in text.splitlines())
    header = next((line for line in lines if line and not line.startswith("#")), "")
    return "csv" if "," in header and ":" not in header else "yaml"


# Checking and writing: knowledge/importing/


async def import_rows(
    registry: SqlRegistry,
    rows: Iterable[tuple[int, dict[str, str]]],
    by: str,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    index: Imported | None = None,
    checkpoint: bool = True,
) -> ImportResult:
    """Check every row, then write in one transaction (unless problems, or a dry run).

    A file is checked in parts of BATCH_ROWS rows, each against the registry as the parts before
    it left it, so memory stays bounded however long the file: a conflict between two parts is
    reported on the later one only, as a conflict with the registry.

    index: on SQLite (one writer at a time: nothing else changes the registry meanwhile), the
    lookalike index's accounts are folded into it as they are written, after those registered
    before, and its change_id is set when the import commits.

    checkpoint=False: on SQLite the commit's pages are left in the write-ahead log for the
    caller's knowledge.database.checkpoint_now (see writing).
    """
    totals = _Totals()
    with cycles_uncollected():  # checking a batch makes many young objects, no cycles
        async with writing(registry.engine, checkpoint=checkpoint) as conn:
            if conn.dialect.name == "postgresql":
                # Plans cached while the tables were small would scan them whole once they grow.
                await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                index = None
            if index is not None:  # the write lock is ours: nothing changes the registry else
                index.since = await newest_change(conn)
            if index is not None and index.added is None:  # built whole: the registered first
                async for protected in registry.protected():  # (another connection reads)
                    index.building.add(row for row in protected if row[1])
            at, writes = datetime.now(UTC), Writes()
            # SQLite: nothing else writes meanwhile, so what the import wrote is known here.
            so_far = await Written.since(conn) if conn.dialect.name == "sqlite" else None
            try:
                for batch in _batches(rows, BATCH_ROWS):
                    plan = plan_rows(batch)  # while the parts before are written (SQLite)
                    await writes.all_but_last_part()  # memory: two parts' writes at most
                    part = await _import_part(conn, plan, by, at, totals, writes, so_far)
                    if index is not None:
                        if index.added is not None:
                            index.added.add(part.new, _names(plan))
                        del batch, plan  # the part's rows freed before it folds (peak memory)
                        index.building.add(part.indexed)
                await writes.done()
            finally:
                await writes.settled()  # before a rollback
            refused = bool(totals.problems) and not skip_invalid
            if dry_run or refused or not (totals.written or totals.entity_rows):
                await conn.rollback()
            elif index is not None:
                index.change_id = await newest_change(conn)
    return ImportResult(
        0 if refused else totals.written,
        totals.unchanged,
        len({p.line for p in totals.problems}),
        totals.problems,
        [f"line {line}: {text}" for line, text in totals.merges],
    )


@dataclass(slots=True)
class _Totals:
    written: int = 0
    unchanged: int = 0
    entity_rows: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    merges: list[tuple[int, str]] = field(default_factory=list)


class _Part(NamedTuple):
    """What a part wrote, for the lookalike index and the presence sets."""

    indexed: list[ProtectedRow]  # its new accounts the index holds, in id order
    new: list[AccountRef]  # its new accounts


async def _import_part(
    conn: AsyncConnection,
    plan: Plan,
    by: str,
    at: datetime,
    totals: _Totals,
    writes: Writes,
    so_far: Written | None,
) -> _Part:
    """Check the part against the registry and write it (its new accounts last: on SQLite
    they are left writing in writes). so_far: what the registry may hold (its few rows at the
    start, what the parts before wrote): only those refs and names are read."""
    refs, names_held = list(plan.accounts), None
    if so_far is not None:  # the part's own count as written from here (its writes queue next)
        refs, names_held = so_far.to_read(refs, plan.entities)
    existing = await registered(conn, refs)
    matched = await match_entities(conn, plan, existing, names_held)
    new, grown, unchanged = against_registry(plan, existing)
    written = [*new, *grown]
    totals.written += sum(a.rows - a.repeats for a in written)
    totals.unchanged += unchanged + sum(a.repeats for a in written)
    totals.problems.extend(plan.problems)
    totals.merges.extend(matched.merges)
    named = set(matched.identifiers) | set(matched.aliases)  # what write_entities needs now
    if conn.dialect.name != "sqlite":  # SQLite creates the others as it writes (_write_new)
        named |= {a.entity for a in new if a.entity}
    names = await entity_ids(conn, named)
    for account in grown:
        await add_sources(conn, account, existing[account.ref], by)
    totals.entity_rows += await write_entities(conn, matched, names)
    await announce(conn, [account.ref for account in written])
    await _write_new(conn, new, names, (by, at), writes)
    # Inserted in this order, so in id order; grown accounts stay as the index holds them.
    indexed = [(a.ref, a.entity, a.handle_as_written) for a in new
               if a.entity and a.status in PROTECTED]
    return _Part(indexed, [a.ref for a in new])


def _names(plan: Plan) -> set[str]:
    """The entity names and aliases a part may have written (the aliases it gives registered
    entities are among them: knowledge/importing/entities.py)."""
    return {name for entity in plan.entities.values() for name in (entity.name, *entity.aliases)}


async def _write_new(
    conn: AsyncConnection,
    new: list[Planned],
    names: dict[str, int],
    signed: tuple[str, datetime],
    writes: Writes,
) -> None:
    """New accounts, their sources and changes: on SQLite started in writes (their entities
    not in names first, in name order; one statement per table and chunk, see
    knowledge/importing/background.py), elsewhere written now (COPY)."""
    by, at = signed
    if conn.dialect.name != "sqlite":
        for chunk in chunks(new, WRITE_CHUNK):
            await insert_accounts(conn, chunk, names, by, at)
        return
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None  # aiosqlite's Connection
    when = str(driver_time(conn, at))
    start_entities(writes, driver, sorted({a.entity for a in new if a.entity} - names.keys()))
    for chunk in chunks(new, WRITE_CHUNK):
        start_accounts(writes, driver, chunk, by, when)
        await writes.queued()  # the writer, idle since this part's reads, starts on the chunk


def _batches(
    rows: Iterable[tuple[int, dict[str, str]]], size: int
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


__all__ = [
    "COLUMNS",
    "BadImportFile",
    "ImportResult",
    "import_rows",
    "plan_rows",
    "read_rows",
]
