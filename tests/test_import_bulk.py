"""The import's fast paths give what the plain ones gave: CSV rows and their lines as
csv.DictReader made them, the collector off only while an import runs, sources and change rows
on the right accounts across write chunks and checking batches."""

from __future__ import annotations

import csv
import gc
import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, make_url, select
from sqlalchemy import text as sql

from bot.model import AccountRef, IsOfficialError
from knowledge import importer
from knowledge.database import AUTOCHECKPOINT_PAGES, checkpoint_now, insert_new, writing
from knowledge.formats import ERROR, BadImportFile, csv_rows, unescape_formula
from knowledge.importer import import_rows, read_rows
from knowledge.importing.entities import _registered_ids as entities_named
from knowledge.importing.rows import COLUMNS, _cells, screened
from knowledge.registry import SqlRegistry, account_ids, entity_ids, open_registry
from knowledge.tables import accounts, changes, entities, entity_aliases, evidence


def dict_reader_rows(text: str) -> list[tuple[int, dict[str, str]]] | str:
    """csv_rows as it was, on csv.DictReader (the reference): rows, or the error's message."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as error:
        return f"line 1: not a valid CSV header: {error}"
    if header is None:
        return []
    names = [name.strip().lower() for name in header]
    twice = sorted({name for name in names if names.count(name) > 1 and name})
    if twice:
        return f"the CSV header names {', '.join(twice)} more than once"
    reader.fieldnames = names
    missing = {"platform", "verdict"} - set(names)
    if missing:
        return f"the CSV header lacks {', '.join(sorted(missing))}"
    found: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num + 1
    try:
        for row in reader:
            cells = {k: unescape_formula(v) if v else "" for k, v in row.items() if k is not None}
            found.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        return f"line {line}: not valid CSV: {error}"
    return found


def fast_rows(text: str) -> list[tuple[int, dict[str, str]]] | str:
    try:
        return list(csv_rows(io.StringIO(text, newline="")))
    except BadImportFile as error:
        return str(error)


CELLS = ["a", "'=x", "''+y", "'b", "", '"q\nr"', '"x""y"', " z ", '"bad"x', "@h"]


def random_files(count: int) -> Iterator[str]:
    chance = random.Random(12)
    yield from ("", "\n", "platform,verdict\n", "Platform , VERDICT,a,a\n", "platform,x\n")
    yield "platform,verdict,,\n\n\nx,y\n\nx,y,z,w,v\nx\n"
    for _ in range(count):
        lines = ["platform,verdict," + chance.choice(["note,", "entity,", ",", ""]) + "x"]
        for _ in range(chance.randint(0, 6)):
            width = chance.randint(0, 6)
            lines.append(",".join(chance.choice(CELLS) for _ in range(width)))
        yield chance.choice(["\n", "\r\n"]).join(lines) + chance.choice(["", "\n"])


def test_csv_rows_and_lines_are_csv_dict_readers() -> None:
    for text in random_files(2_000):
        assert fast_rows(text) == dict_reader_rows(text), text


def test_csv_blank_lines_short_and_long_records() -> None:
    text = "platform,verdict,note\n\nx,official\n\n\ny,official,n,extra\nz,'=1,''+2\n"
    assert list(csv_rows(io.StringIO(text))) == [
        (2, {"platform": "x", "verdict": "official", "note": ""}),
        (4, {"platform": "y", "verdict": "official", "note": "n"}),  # as csv.DictReader
        (7, {"platform": "z", "verdict": "=1", "note": "'+2"}),
    ]


ROW_CELLS = ["x", " official ", "a\tb", "n\nm", "\x00", "\ud800", "é" * 41, "q" * 301, "", "  ",
             "https://example.org/a", "2020-01-02", "wikidata:Q1"]


def test_rows_screened_a_column_at_a_time_are_the_rows_checked_one_by_one() -> None:
    chance = random.Random(7)
    columns = [*COLUMNS, "unknown", ERROR]
    for _ in range(300):
        shapes = [chance.sample(columns, chance.randint(1, 6)) for _ in range(chance.randint(1, 3))]
        rows = [(line, {c: chance.choice(ROW_CELLS) for c in chance.choice(shapes)})
                for line in range(chance.randint(1, 8))]
        for (_, row), cells in zip(rows, screened(rows), strict=True):
            try:
                expected: tuple[str, ...] | str = _checked_cells(row)
            except (IsOfficialError, ValueError) as error:
                expected = str(error)
            if cells is not None:  # None: checked one by one, as before
                assert cells == expected, row
    assert screened([]) == []


def _checked_cells(row: dict[str, str]) -> tuple[str, ...]:
    if ERROR in row:
        raise ValueError(row[ERROR])
    cells = _cells(row)
    return tuple(cells.get(column, "") for column in COLUMNS)


def rows_watching_the_collector(seen: list[bool]) -> Iterator[tuple[int, dict[str, str]]]:
    for line, row in read_rows(io.StringIO("platform,handle,verdict\nx,abc,parody\n"), "csv"):
        seen.append(gc.isenabled())
        yield line, row


async def test_the_collector_is_off_only_while_importing(registry: SqlRegistry) -> None:
    seen: list[bool] = []
    assert gc.isenabled()
    result = await import_rows(registry, rows_watching_the_collector(seen), by="t")
    assert (result.written, seen, gc.isenabled()) == (1, [False], True)
    gc.disable()  # someone else turned it off: it stays off
    try:
        await import_rows(registry, rows_watching_the_collector(seen), by="t", dry_run=True)
        assert not gc.isenabled()
    finally:
        gc.enable()


def many_rows(count: int) -> Iterator[tuple[int, dict[str, str]]]:
    for n in range(count):
        yield n + 2, {
            "entity": f"Person {n // 3}",
            "platform": "x",
            "handle": f"H{n:05d}",
            "verdict": "official",
            "source_url": f"https://example.org/page/{n // 7}",
            "source_published": "2026-01-02" if n % 2 else "",
        }


async def test_sources_and_changes_land_on_their_accounts_across_chunks(
    registry: SqlRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "WRITE_CHUNK", 700)
    monkeypatch.setattr(importer, "BATCH_ROWS", 2_000)
    result = await import_rows(registry, many_rows(5_000), by="bulk")
    assert (result.written, result.problems) == (5_000, [])
    query = select(accounts.c.handle_key, evidence.c.url, evidence.c.published).join(evidence)
    logged = select(changes.c.handle_key, changes.c.evidence_url, changes.c.evidence_published)
    async with registry.engine.connect() as conn:
        sources = sorted(tuple(row) for row in await conn.execute(query))
        log = sorted(tuple(row) for row in await conn.execute(logged))
    expected = [
        (f"h{n:05d}", f"https://example.org/page/{n // 7}", "2026-01-02" if n % 2 else None)
        for n in range(5_000)
    ]
    shown = [(key, url, day.isoformat() if day else None) for key, url, day in sources]
    assert shown == expected
    assert [(key, url, day.isoformat() if day else None) for key, url, day in log] == expected


async def test_sources_land_on_their_accounts_with_several_each_and_ids_reused(
    registry: SqlRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer finds a chunk's accounts by their place, counting back from the largest id:
    right when accounts hold several sources, and when the newest ids were freed before."""
    monkeypatch.setattr(importer, "WRITE_CHUNK", 300)
    monkeypatch.setattr(importer, "BATCH_ROWS", 1_000)
    await import_rows(registry, many_rows(60), by="before")
    async with writing(registry.engine) as conn:  # the newest accounts gone: their ids reused
        newest = await conn.scalar(select(func.max(accounts.c.id)))
        await conn.execute(delete(accounts).where(accounts.c.id > newest - 20))

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for n in range(2_500):
            for url in [f"https://example.org/g/{n}"] + [f"https://example.org/more/{n}"] * (
                    n % 5 == 0):
                yield n + 2, {"entity": f"G {n}", "platform": "x", "handle": f"G{n:05d}",
                              "verdict": "official", "source_url": url}

    result = await import_rows(registry, rows(), by="bulk")
    assert (result.written, result.problems) == (3_000, [])
    query = select(accounts.c.handle_key, evidence.c.url).join(evidence)
    async with registry.engine.connect() as conn:
        found = {tuple(row) for row in await conn.execute(query) if row[0].startswith("g")}
    assert found == {(f"g{n:05d}", url) for n in range(2_500) for url in
                     [f"https://example.org/g/{n}"] + [f"https://example.org/more/{n}"] * (
                         n % 5 == 0)}


async def test_an_import_may_leave_its_log_to_fold_later_and_commits_fold_it_again(
    sqlite_url: str
) -> None:
    registry = await open_registry(sqlite_url)
    path = Path(make_url(sqlite_url).database or "")
    before = path.stat().st_size
    await import_rows(registry, many_rows(20_000), by="bulk", checkpoint=False)
    assert path.stat().st_size == before  # every page still in the write-ahead log
    assert await registry.count() == 20_000  # and read from there
    await checkpoint_now(registry.engine)
    assert path.stat().st_size > before + 2_000_000
    async with registry.engine.connect() as conn:  # the pooled connection checkpoints again
        assert await conn.scalar(sql("PRAGMA wal_autocheckpoint")) == AUTOCHECKPOINT_PAGES
    await registry.close()


async def test_a_part_meets_the_registry_as_the_parts_before_it_left_it(
    registry: SqlRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_ROWS", 1_000)
    rows = list(many_rows(2_500))
    rows.insert(1_000, (9_999, {**rows[10][1], "verdict": "parody", "entity": ""}))  # 2nd part
    result = await import_rows(registry, rows, by="bulk", skip_invalid=True)
    assert (result.written, [p.line for p in result.problems]) == (2_500, [9_999])
    assert "registered as official for Person 3" in result.problems[0].reason
    assert await registry.count() == 2_500


def rows_then_a_broken_file() -> Iterator[tuple[int, dict[str, str]]]:
    yield from many_rows(1_500)
    raise BadImportFile("line 1502: not valid CSV")


async def test_a_file_broken_in_a_later_part_writes_nothing(
    registry: SqlRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_ROWS", 1_000)
    with pytest.raises(BadImportFile, match="line 1502"):
        await import_rows(registry, rows_then_a_broken_file(), by="bulk")
    assert await registry.count() == 0


NAMES = ["Zoë", "Ana", "O'Brien", 'Say "hi"', "名前", "a;b", "Ünal", "%_like"]


async def test_entity_ids_for_many_names_keep_the_registered_ones_and_number_the_new_in_order(
    registry: SqlRegistry,
) -> None:
    async with writing(registry.engine) as conn:
        before = await entity_ids(conn, ["Ana", "Person 0700"])
        names = [f"Person {n:04d}" for n in range(1_200)] + NAMES
        ids = await entity_ids(conn, [*names, *names[:50]])  # repeats are one name each
        assert await entity_ids(conn, []) == {}
        every = await conn.execute(select(entities.c.name, entities.c.id))
        stored = {name: id_ for name, id_ in every}
    assert ids == stored
    assert ids["Ana"] == before["Ana"] and ids["Person 0700"] == before["Person 0700"]
    new = sorted(set(names) - before.keys())
    assert [ids[name] for name in new] == sorted(ids[name] for name in new)  # in name order


async def test_account_ids_and_entity_lookups_take_any_values(registry: SqlRegistry) -> None:
    named = [(name, platform) for name in NAMES for platform in ("x", "instagram")]
    rows = [
        (2 + n, {"entity": name, "platform": platform, "handle": f"Handle{n:02d}"})
        for n, (name, platform) in enumerate(named)
    ]
    for _, row in rows:
        row["verdict"] = "official"
    assert (await import_rows(registry, rows, by="t")).written == len(rows)
    x0, instagram1 = AccountRef("x", "handle00"), AccountRef("instagram", "handle01")
    wanted = [x0, instagram1, AccountRef("x", "nobody"), AccountRef("instagram", "handle00")]
    async with registry.engine.connect() as conn:
        ids = await account_ids(conn, [*wanted, x0])
        query = select(accounts.c.platform, accounts.c.handle_key, accounts.c.id)
        stored = list(await conn.execute(query))
        registered = await entities_named(conn, [*NAMES, "Nobody"])
        assert await account_ids(conn, []) == {}
    assert ids == {ref: id_ for p, key, id_ in stored if (ref := AccountRef(p, key)) in wanted}
    assert ids.keys() == {x0, instagram1}
    assert registered == {name: set() for name in NAMES}


async def test_insert_new_skips_the_rows_whose_key_is_there(registry: SqlRegistry) -> None:
    async with writing(registry.engine) as conn:
        ids = await entity_ids(conn, ["A", "B"])
        columns = ("entity_id", "alias")
        await insert_new(conn, entity_aliases, columns, [(ids["A"], "a1"), (ids["B"], "b1")])
        rows = [(ids["A"], "a1"), (ids["A"], "a2"), (ids["B"], "b1"), (ids["B"], "A")]
        await insert_new(conn, entity_aliases, columns, rows)
        await insert_new(conn, entity_aliases, columns, [])
        found = await conn.execute(select(entity_aliases.c.entity_id, entity_aliases.c.alias))
        assert sorted(found) == sorted(rows)
