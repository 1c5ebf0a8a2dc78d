"""One import row checked: the account it describes, or what is wrong with it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from bot import limits
from bot.handles import parse_ref
from bot.model import PROTECTED, AccountRef, Evidence, ImportProblem, IsOfficialError, Status
from bot.platforms import ANY, normalize_handle, platform_named
from bot.urls import http_link
from knowledge.formats import ERROR

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
    "entity_ids",
    "aliases",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_IDENTIFIER = re.compile(r"([a-z][a-z0-9_.-]{0,49}):(\S{1,200})")
_ID_SEPARATORS = re.compile(r"[\s;]+")
_NO_IDS: frozenset[str] = frozenset()
MAX_NAME = limits.MAX_ENTITY  # entities.name, an alias
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
    "entity_ids": (limits.MAX_NOTE, False),
    "aliases": (limits.MAX_NOTE, False),
}
_TIGHTEST = sorted((limit, column) for column, (limit, _) in _CELLS.items())

Proofs = dict[tuple[str, ...], Evidence | None]
Cells = tuple[str, ...]  # a row's cells in COLUMNS order


@dataclass(frozen=True, slots=True)
class ImportResult:
    written: int  # rows whose account or source was written (or would be, on a dry run)
    unchanged: int  # rows already in the registry (or repeated in the file)
    skipped: int  # rows with a problem
    problems: list[ImportProblem] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)  # entities taken as registered ones, by line


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
    identifiers: frozenset[str] = frozenset()  # the entity's, as `scheme:value`
    aliases: tuple[str, ...] = ()  # the entity's other names
    rows: int = 1  # rows merged into it
    repeats: int = 0  # of those, rows that added nothing


def check_row(row: dict[str, str], proofs: Proofs) -> Planned:
    """The account a row describes; raises IsOfficialError (or ValueError) saying what is wrong."""
    if ERROR in row:
        raise ValueError(row[ERROR])
    cells = _cells(row)
    return planned(tuple([cells.get(column, "") for column in COLUMNS]), proofs)


def planned(cells: Cells, proofs: Proofs) -> Planned:
    """The account of a row's cells (stripped and within their limits: _cells or screened)."""
    (entity_name, platform, handle, url, verdict, source_url, note, title, publisher,
     published, quote, platform_id, entity_ids, aliases) = cells
    if not verdict:
        raise ValueError("missing verdict")
    status = _status(verdict)
    ref, written = _account(platform, handle, url)
    entity = entity_name or None
    if entity is None and status in PROTECTED:
        raise ValueError(f"a {status} account needs its entity")
    if entity is None and (entity_ids or aliases):
        raise ValueError("entity_ids or aliases without an entity")
    proof = _evidence((source_url, title, publisher, published, quote), proofs)
    return Planned([], ref, written, status, entity, note or None, platform_id or None,
                   {proof.url: proof} if proof else {}, parse_identifiers(entity_ids),
                   _aliases(aliases, entity))


def screened(rows: Sequence[tuple[int, dict[str, str]]]) -> list[Cells | None]:
    """Each row's cells as planned takes them, checked a column at a time where rows share
    their columns (a file's rows do): C loops over a column instead of Python per cell, the
    same cells _cells gives. None for a row that check_row must look at by itself (a cell
    too long or holding a control character, a row that could not be read)."""
    found: list[Cells | None] = [None] * len(rows)
    shapes = [tuple(row) for _, row in rows]
    groups: dict[tuple[str, ...], list[int]] = {}
    if shapes and shapes.count(shapes[0]) == len(shapes):  # nearly always
        groups[shapes[0]] = list(range(len(rows)))
    else:
        for at, shape in enumerate(shapes):
            groups.setdefault(shape, []).append(at)
    for shape, members in groups.items():
        if ERROR not in shape:
            _screen(shape, [rows[at][1] for at in members], members, found)
    return found


def _screen(shape: tuple[str, ...], rows: list[dict[str, str]], members: list[int],
            found: list[Cells | None]) -> None:
    """screened for rows of these columns (members: their places in found)."""
    given = list(zip(*(row.values() for row in rows), strict=True))
    columns: dict[str, list[str]] = {}
    refused: set[int] = set()
    for column, values in zip(shape, given, strict=True):
        if column not in _CELLS:
            continue  # ignored, as _cells ignores it
        cells = columns[column] = list(map(str.strip, values))
        limit, _ = _CELLS[column]
        if not limits.plain("".join(cells)):
            refused.update(at for at, cell in enumerate(cells) if not limits.plain(cell))
        if max(map(len, cells)) > limit:
            refused.update(at for at, cell in enumerate(cells) if len(cell) > limit)
    empty = [""] * len(rows)
    every = zip(*(columns.get(column, empty) for column in COLUMNS), strict=True)
    for at, row_cells in zip(members, every, strict=True):
        found[at] = row_cells
    for at in refused:
        found[members[at]] = None


def _cells(row: dict[str, str]) -> dict[str, str]:
    """The row's known columns within the limits (bot.limits): one look at the whole row when it
    holds no control character or line break (nearly every row), else cell by cell."""
    cells = {column: value.strip() for column, value in row.items()}
    if not cells.keys() <= _CELLS.keys():
        cells = {k: v for k, v in cells.items() if k in _CELLS}
    whole = "".join(cells.values())
    if not limits.plain(whole):
        return {k: _cell(k, v) for k, v in cells.items()}
    for limit, column in _TIGHTEST:
        if limit >= len(whole):
            break  # no one cell is longer than all of them together
        if len(cells.get(column, "")) > limit:
            _cell(column, cells[column])  # raises, naming the column
    return cells


@lru_cache(maxsize=64)
def _status(word: str) -> Status:
    """Status.parse, once per spelling: a file writes a handful of verdicts a million times."""
    return Status.parse(word)


@lru_cache(maxsize=64)
def _platform(word: str) -> str:
    """platform_named, once per spelling."""
    return platform_named(word)


def _cell(column: str, value: str) -> str:
    if not value:
        return value
    limit, multiline = _CELLS[column]
    return limits.clean(column, value, limit, multiline=multiline)


def parse_identifiers(text: str) -> frozenset[str]:
    """`wikidata:Q42 bioguide:B001314` (spaces or `;` between): at most one value per scheme."""
    if not text:
        return _NO_IDS
    found: dict[str, str] = {}
    for token in filter(None, _ID_SEPARATORS.split(text)):
        match = _IDENTIFIER.fullmatch(token)
        if match is None:
            raise ValueError(f"entity_ids takes scheme:value, not {token[:60]!r}")
        scheme, value = match.groups()
        if found.get(scheme, value) != value:
            raise ValueError(f"entity_ids gives two {scheme} values: {found[scheme]}, {value}")
        found[scheme] = value
    return frozenset(f"{scheme}:{value}" for scheme, value in found.items())


def scheme_of(identifier: str) -> str:
    return identifier.partition(":")[0]


def _aliases(text: str, entity: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    names = (name.strip() for name in text.split(";"))
    aliases = tuple(dict.fromkeys(n for n in names if n and n != entity))
    if any(len(name) > MAX_NAME for name in aliases):
        raise ValueError(f"an alias longer than {MAX_NAME} characters")
    return aliases


def _account(platform: str, handle: str, url: str) -> tuple[AccountRef, str]:
    if url:
        check_url(url, "url")
    if not handle and not url:
        raise ValueError("give a handle or a profile url")
    name = _platform(platform) if platform else None
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


def check_url(url: str, column: str) -> None:
    http_link(url, column)  # the rule the chat commands apply to a source link


def _evidence(fields: tuple[str, str, str, str, str], proofs: Proofs) -> Evidence | None:
    """The source of (source_url, source_title, source_publisher, source_published,
    source_quote)."""
    if fields in proofs:  # rows citing the same source share one object (memory, 1M rows)
        return proofs[fields]
    url, title, publisher, published, quote = fields
    if not url:
        if title or publisher or published or quote:
            raise ValueError("source details without a source_url")
        proofs[fields] = None
        return None
    check_url(url, "source_url")
    proof = Evidence(url, title, publisher or None, _date(published), quote or None)
    proofs[fields] = proof
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


def problem(line: int, error: Exception, row: dict[str, str]) -> ImportProblem:
    return ImportProblem(line, str(error), row)


__all__ = ["COLUMNS", "ImportResult", "IsOfficialError", "Planned", "check_row"]
