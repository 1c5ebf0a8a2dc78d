"""Import registry rows from CSV, YAML or JSON: validate everything, then write in bulk.

Rows: entity, platform, handle, url, verdict, source_url and optional note, source_title,
source_publisher, source_published (YYYY-MM-DD), source_quote, platform_id.

Rules:
- Every row is checked before anything is written; with problems nothing is written unless
  skip_invalid, which writes the valid rows only.
- Rows naming the same account (platform, handle key) merge into one account with every source,
  when they agree on verdict and entity. When they disagree, every row of that account is a
  problem (each names the other's line): an import reports a conflict, it does not pick a side.
- An import adds accounts and sources; it never changes a verdict already in the registry. A row
  whose account is registered with another verdict, entity, note or platform id is a problem
  ("use `isofficial verdict`"). A row whose account and source are all there already is unchanged.
- One change-log entry per account written, by `by`; the whole import is one transaction.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import limits
from bot.handles import parse_ref
from bot.model import (
    PROTECTED,
    AccountRecord,
    AccountRef,
    Evidence,
    ImportProblem,
    IsOfficialError,
    Status,
)
from bot.platforms import ANY, normalize_handle, platform_named
from bot.urls import http_link
from knowledge.database import driver_date, driver_time, insert_many, writing
from knowledge.formats import ERROR, READERS, BadImportFile, read_capped
from knowledge.notify import announce
from knowledge.registry import (
    SqlRegistry,
    account_ids,
    change_values,
    chunks,
    entity_ids,
    evidence_json,
    find_in,
    snapshot_of,
    store,
)
from knowledge.tables import accounts, changes, evidence

COLUMNS = (
    "entity",
    "platform",
    "handle",
    "url",
    "verdict",
    "source_url",
    "note",
    "source_title",
    "source_publisher",
    "source_published",
    "source_quote",
    "platform_id",
)
_EMPTY_ROW = dict.fromkeys(COLUMNS, "")
WRITE_CHUNK = 5_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Each column's limit (bot.limits, the same the chat commands apply) and whether it may hold
# line breaks; other columns are ignored.
_CELLS = {
    "entity": (limits.MAX_ENTITY, False),
    "platform": (40, False),
    "handle": (limits.MAX_HANDLE, False),
    "url": (limits.MAX_URL, False),
    "verdict": (40, False),
    "source_url": (limits.MAX_URL, False),
    "note": (limits.MAX_NOTE, True),
    "source_title": (limits.MAX_TITLE, True),
    "source_publisher": (limits.MAX_TITLE, False),
    "source_published": (40, False),
    "source_quote": (limits.MAX_QUOTE, True),
    "platform_id": (limits.MAX_PLATFORM_ID, False),
}


@dataclass(frozen=True, slots=True)
class ImportResult:
    written: int  # rows whose account or source was written (or would be, on a dry run)
    unchanged: int  # rows already in the registry (or repeated in the file)
    skipped: int  # rows with a problem
    problems: list[ImportProblem] = field(default_factory=list)


@dataclass(slots=True)
class Planned:
    """One account the import would write, merged from every row that names it."""

    lines: list[int]
    ref: AccountRef
    handle_as_written: str
    status: Status
    entity: str | None
    note: str | None
    platform_id: str | None
    evidence: dict[str, Evidence]  # by url, in file order
    rows: int = 1  # rows merged into it
    repeats: int = 0  # of those, rows that added nothing


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


# Checking one row


def _check_row(row: dict[str, str], proofs: dict[tuple[str, ...], Evidence]) -> Planned:
    """The account a row describes; raises IsOfficialError (or ValueError) saying what is wrong."""
    if ERROR in row:
        raise ValueError(row[ERROR])
    get = _EMPTY_ROW | _cells(row)
    status = Status.parse(get["verdict"]) if get["verdict"] else None
    if status is None:
        raise ValueError("missing verdict")
    ref, written = _account(get["platform"], get["handle"], get["url"])
    entity = get["entity"] or None
    if entity is None and status in PROTECTED:
        raise ValueError(f"a {status} account needs its entity")
    proof = _evidence(get, proofs)
    return Planned(
        lines=[],
        ref=ref,
        handle_as_written=written,
        status=status,
        entity=entity,
        note=get["note"] or None,
        platform_id=get["platform_id"] or None,
        evidence={proof.url: proof} if proof else {},
    )


def _cells(row: dict[str, str]) -> dict[str, str]:
    """The row's known columns within the limits (bot.limits): one look at the whole row when it
    holds no control character or line break (nearly every row), else cell by cell."""
    cells = {k: v for k, v in row.items() if k in _CELLS}
    if not limits.plain("".join(cells.values())):
        return {k: _cell(k, v) for k, v in cells.items()}
    stripped = {k: v.strip() for k, v in cells.items()}
    for column, value in stripped.items():
        if len(value) > _CELLS[column][0]:
            _cell(column, value)  # raises, naming the column
    return stripped


def _cell(column: str, value: str) -> str:
    if not value:
        return value
    limit, multiline = _CELLS[column]
    return limits.clean(column, value, limit, multiline=multiline)


def _account(platform: str, handle: str, url: str) -> tuple[AccountRef, str]:
    if url:
        _check_url(url, "url")
    if not handle and not url:
        raise ValueError("give a handle or a profile url")
    name = platform_named(platform) if platform else None
    if name == ANY:
        raise ValueError("name the platform (x, youtube, facebook, ...)")
    if handle:
        if name is None:
            raise ValueError("missing platform")
        key = normalize_handle(name, handle)
        return AccountRef(name, key), handle.removeprefix("@") if name != "youtube" else handle
    named = parse_ref(url)
    if name is not None and named.ref.platform != name:
        raise ValueError(f"the url is a {named.ref.platform} account, not {name}")
    return named.ref, named.written


def _check_url(url: str, column: str) -> None:
    http_link(url, column)  # the rule the chat commands apply to a source link


def _evidence(get: dict[str, str], proofs: dict[tuple[str, ...], Evidence]) -> Evidence | None:
    source = ("source_url", "source_title", "source_publisher", "source_published", "source_quote")
    url, title, publisher, published, quote = (get[k] for k in source)
    if not url:
        if title or publisher or published or quote:
            raise ValueError("source details without a source_url")
        return None
    key = (url, title, publisher, published, quote)
    if key in proofs:  # rows citing the same source share one object (memory, 1M rows)
        return proofs[key]
    _check_url(url, "source_url")
    proof = Evidence(url, title, publisher or None, _date(published), quote or None)
    proofs[key] = proof
    return proof


def _date(text: str) -> date | None:
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise ValueError(f"source_published must be YYYY-MM-DD, not {text[:20]!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"source_published is no real date: {text!r}") from None


# Checking the whole file


def plan_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
) -> tuple[dict[AccountRef, Planned], list[ImportProblem]]:
    """The accounts the rows describe, merged, and the problems (conflicts included)."""
    planned: dict[AccountRef, Planned] = {}
    problems: list[ImportProblem] = []
    clashes: dict[AccountRef, list[tuple[int, dict[str, str], Planned]]] = {}
    proofs: dict[tuple[str, ...], Evidence] = {}
    for line, row in rows:
        try:
            account = _check_row(row, proofs)
        except (IsOfficialError, ValueError) as error:
            problems.append(ImportProblem(line, str(error), row))
            continue
        account.lines.append(line)
        ref = account.ref
        known = planned.get(ref)
        if clashes and ref in clashes:
            clashes[ref].append((line, row, account))
        elif known is None:
            planned[ref] = account
        elif (known.status, known.entity) == (account.status, account.entity):
            _merge(known, account)
        else:
            clashes[ref] = [(n, _row_of(known), known) for n in known.lines]
            clashes[ref].append((line, row, account))
            del planned[ref]
    for ref, listed in clashes.items():
        problems.extend(_conflicts(ref, listed))
    problems.sort(key=lambda p: p.line)
    return planned, problems


def _merge(known: Planned, other: Planned) -> None:
    """Fold a row into the account it repeats."""
    known.lines.append(other.lines[0])
    known.rows += 1
    known.note = known.note or other.note
    known.platform_id = known.platform_id or other.platform_id
    new = {url: e for url, e in other.evidence.items() if url not in known.evidence}
    known.evidence.update(new)
    known.repeats += 0 if new else 1


def _row_of(account: Planned) -> dict[str, str]:
    return {
        "entity": account.entity or "",
        "platform": account.ref.platform,
        "handle": account.handle_as_written,
        "verdict": account.status.value,
    }


def _conflicts(
    ref: AccountRef, listed: Sequence[tuple[int, dict[str, str], Planned]]
) -> Iterator[ImportProblem]:
    for line, row, account in listed:
        others = [
            f"line {other_line}: {_verdict(other)}"
            for other_line, _, other in listed
            if (other.status, other.entity) != (account.status, account.entity)
        ]
        more = f" and {len(others) - 3} more lines" if len(others) > 3 else ""
        shown = "; ".join(others[:3]) + more
        yield ImportProblem(line, f"conflict: {ref} is {_verdict(account)} here, but {shown}", row)


def _verdict(account: Planned | AccountRecord) -> str:
    return f"{account.status} for {account.entity}" if account.entity else str(account.status)


def _registry_conflict(account: Planned, record: AccountRecord) -> str | None:
    clash = (
        (account.status, account.entity) != (record.status, record.entity)
        or (account.note is not None and account.note != record.note)
        or (account.platform_id is not None and account.platform_id != record.platform_id)
    )
    if not clash:
        return None
    return (
        f"conflict: {account.ref} is {_verdict(account)} here, but registered as "
        f"{_verdict(record)}{_differing(account, record)}; an import changes no verdict "
        "(use `isofficial verdict`)"
    )


def _differing(account: Planned, record: AccountRecord) -> str:
    if (account.status, account.entity) != (record.status, record.entity):
        return ""
    return " with another note" if account.note != record.note else " with another platform id"


# Writing


async def import_rows(
    registry: SqlRegistry,
    rows: Iterable[tuple[int, dict[str, str]]],
    by: str,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Check every row, then write in one transaction (unless problems, or a dry run)."""
    planned, problems = plan_rows(rows)
    async with writing(registry.engine) as conn:
        existing = await _registered(conn, list(planned))
        new, grown, unchanged = _against_registry(planned, existing, problems)
        writes = [*new, *grown]
        written = sum(a.rows - a.repeats for a in writes)
        unchanged += sum(a.repeats for a in writes)
        skipped = len({p.line for p in problems})
        if problems and not skip_invalid:
            written = 0
        if dry_run or written == 0:
            await conn.rollback()
            return ImportResult(written, unchanged, skipped, problems)
        at = datetime.now(UTC)
        if conn.dialect.name == "postgresql":
            # Plans cached while the tables were small would scan them whole once they grow.
            await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        for chunk in chunks(new, WRITE_CHUNK):
            await _insert_accounts(conn, chunk, by, at)
        for account in grown:
            await _add_sources(conn, account, existing[account.ref], by)
        await announce(conn, [account.ref for account in writes])
    return ImportResult(written, unchanged, skipped, problems)


async def _registered(
    conn: AsyncConnection, refs: list[AccountRef]
) -> dict[AccountRef, AccountRecord]:
    """The records of the refs already registered (cheap when few are: ids first)."""
    if await conn.scalar(select(accounts.c.id).limit(1)) is None:
        return {}
    return await find_in(conn, list(await account_ids(conn, refs)))


def _against_registry(
    planned: dict[AccountRef, Planned],
    existing: dict[AccountRef, AccountRecord],
    problems: list[ImportProblem],
) -> tuple[list[Planned], list[Planned], int]:
    """Split planned accounts into new, registered-but-with-new-sources, and rows already there."""
    new: list[Planned] = []
    grown: list[Planned] = []
    unchanged = 0
    for ref, account in planned.items():
        record = existing.get(ref)
        if record is None:
            new.append(account)
        elif reason := _registry_conflict(account, record):
            problems.extend(ImportProblem(line, reason) for line in account.lines)
        elif set(account.evidence) - {e.url for e in record.evidence}:
            grown.append(account)
        else:
            unchanged += account.rows
    problems.sort(key=lambda p: p.line)
    return new, grown, unchanged


async def _insert_accounts(
    conn: AsyncConnection, chunk: Sequence[Planned], by: str, at: datetime
) -> None:
    """Accounts, their evidence and one change each, by the driver's executemany."""
    names = await entity_ids(conn, (a.entity for a in chunk if a.entity))
    when = driver_time(conn, at)
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
        (ids[a.ref], p.url, p.title, p.publisher, driver_date(conn, p.published), p.quote)
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
            *_evidence_fields(conn, _first(a)),
        )
        for a in chunk
    )
    await insert_many(conn, changes, CHANGE_COLUMNS, change_rows)


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


async def _ids_after(conn: AsyncConnection, last_id: int) -> dict[AccountRef, int]:
    """Ids of the accounts inserted after last_id (a range scan, not a lookup per key)."""
    query = select(accounts.c.platform, accounts.c.handle_key, accounts.c.id)
    rows = await conn.execute(query.where(accounts.c.id > last_id))
    return {AccountRef(platform, key): id_ for platform, key, id_ in rows}


def _evidence_fields(conn: AsyncConnection, proof: Evidence | None) -> tuple[Any, ...]:
    if proof is None:
        return (None,) * 5
    published = driver_date(conn, proof.published)
    return proof.url, proof.title, proof.publisher, published, proof.quote


async def _add_sources(
    conn: AsyncConnection, account: Planned, record: AccountRecord, by: str
) -> None:
    """A registered account gets the import's new sources (the rare path: one at a time)."""
    before = snapshot_of(record)
    known = {e.url for e in record.evidence}
    added = [e for url, e in account.evidence.items() if url not in known]
    after = {**before, "evidence": [*before["evidence"], *map(evidence_json, added)]}
    await store(conn, account.ref, after)
    values = change_values(account.ref, by, before, after, None, added[0])
    await conn.execute(insert(changes).values(values))


def _first(account: Planned) -> Evidence | None:
    return next(iter(account.evidence.values()), None)


__all__ = [
    "COLUMNS",
    "BadImportFile",
    "ImportResult",
    "import_rows",
    "plan_rows",
    "read_rows",
]
