"""The import's new accounts as SQLite writes them (knowledge/importing/background.py: one JSON
array per statement, run in aiosqlite's thread while the next part is checked): every value as
it was given, and a write that fails fails the whole import."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import make_url

from bot.model import AccountRef, Evidence, Status
from knowledge import importer
from knowledge.importer import import_rows
from knowledge.importing import background
from knowledge.registry import SqlRegistry, open_registry

AWKWARD = {
    "entity": 'Bureau "Ünïcödé" \\ 𝔘ffice',
    "platform": "x",
    "handle": "Desk_007",
    "verdict": "official",
    "platform_id": "0070",  # text that looks like a number stays text
    "note": 'line one\nline "two" \\ tab\tend ☃',
    "source_url": "https://example.org/ü?q=\"1\"&x=\\",
    "source_title": "𝕏 roster, 'quoted' \"twice\"",
    "source_publisher": "Ministère",
    "source_published": "2026-01-02",
    "source_quote": "[1, 2] {\"json\": null}",
}


async def test_awkward_texts_are_stored_as_given(registry: SqlRegistry) -> None:
    result = await import_rows(registry, [(2, AWKWARD)], by="import: ☃")
    assert (result.written, result.problems) == (1, [])
    ref = AccountRef("x", "desk_007")
    record = (await registry.find([ref]))[ref]
    proof = Evidence(AWKWARD["source_url"], AWKWARD["source_title"], "Ministère",
                     date(2026, 1, 2), AWKWARD["source_quote"])
    assert (record.entity, record.handle_as_written, record.platform_id, record.note) == (
        AWKWARD["entity"], "Desk_007", "0070", AWKWARD["note"])
    assert (record.status, record.evidence, record.set_by) == (Status.OFFICIAL, (proof,),
                                                               "import: ☃")
    [change] = await registry.history(ref)
    assert (change.old_status, change.new_status, change.by) == (
        Status.UNKNOWN, Status.OFFICIAL, "import: ☃")
    assert (change.new_entity, change.note, change.evidence) == (
        AWKWARD["entity"], AWKWARD["note"], proof)


def many_rows(count: int) -> Iterator[tuple[int, dict[str, str]]]:
    for n in range(count):
        yield n + 2, {"entity": f"Office {n}", "platform": "x", "handle": f"h{n:05d}",
                      "verdict": "official", "source_url": f"https://example.org/{n // 10}"}


async def test_a_write_refused_in_an_early_part_writes_nothing(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first part's change rows are refused (a trigger) while later parts are checked:
    the import raises and nothing of any part stays."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 500)
    registry = await open_registry(sqlite_url)
    path = make_url(sqlite_url).database
    assert path is not None
    with sqlite3.connect(Path(path)) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON changes WHEN NEW.handle_key = 'h00042'"
                   " BEGIN SELECT RAISE(ABORT, 'refused'); END")
    try:
        with pytest.raises(Exception, match="refused"):
            await import_rows(registry, many_rows(2_000), by="bulk")
        assert await registry.count() == 0
        assert await registry.newest_change() == 0
        rows = [(n, row) for n, row in many_rows(2_000) if row["handle"] != "h00042"]
        result = await import_rows(registry, rows, by="bulk")  # the connection still writes
        assert (result.written, await registry.count()) == (1_999, 1_999)
    finally:
        await registry.close()


async def test_new_accounts_join_registered_and_new_entities(registry: SqlRegistry) -> None:
    """An entity named again by a later import is the same row; a new one is created once,
    however many accounts and chunks name it (SQLite looks each up by name as it writes)."""
    first = [(2, {**row, "entity": "Office 1"}) for _, row in many_rows(1)]
    assert (await import_rows(registry, first, by="one")).written == 1
    later = [(n, {**row, "entity": f"Office {int(row['handle'][1:]) % 2}"})
             for n, row in many_rows(1_200)][1:]
    assert (await import_rows(registry, later, by="two")).written == 1_199
    refs = [AccountRef("x", f"h{n:05d}") for n in range(1_200)]
    found = await registry.find(refs)
    expected = ["Office 1", *(f"Office {n % 2}" for n in range(1, 1_200))]
    assert [found[ref].entity for ref in refs] == expected
    async with registry.engine.connect() as conn:
        named = (await conn.exec_driver_sql("SELECT name, count(*) FROM entities GROUP BY name"
                                            " ORDER BY name")).all()
    assert [tuple(row) for row in named] == [("Office 0", 1), ("Office 1", 1)]


async def test_accounts_with_several_sources_or_none_in_one_chunk(registry: SqlRegistry) -> None:
    second = {**AWKWARD, "source_url": "https://example.org/two", "source_title": "Two",
              "source_publisher": "", "source_published": "", "source_quote": ""}
    bare = {"entity": "Bare", "platform": "x", "handle": "bare", "verdict": "official"}
    result = await import_rows(registry, [(2, AWKWARD), (3, second), (4, bare)], by="t")
    assert (result.written, result.problems) == (3, [])
    desk, plain = AccountRef("x", "desk_007"), AccountRef("x", "bare")
    found = await registry.find([desk, plain])
    assert [e.url for e in found[desk].evidence] == [AWKWARD["source_url"], second["source_url"]]
    assert found[desk].evidence[1] == Evidence("https://example.org/two", "Two")
    assert (found[plain].entity, found[plain].evidence) == ("Bare", ())
    [change] = await registry.history(desk)
    assert change.evidence is not None and change.evidence.url == AWKWARD["source_url"]
    [change] = await registry.history(plain)
    assert change.evidence is None


def test_rows_go_to_sqlite_as_the_json_json_writes() -> None:
    # orjson writes them; json where orjson refuses (a lone surrogate: rows are checked
    # before, and refused, but the writes never depend on it).
    rows = [("x", "desk_007", None, 7, AWKWARD["note"], AWKWARD["source_title"])]
    assert json.loads(background._json(rows)) == json.loads(json.dumps(rows))
    assert background._json(["a\udcffb"]) == json.dumps(["a\udcffb"], ensure_ascii=False)
