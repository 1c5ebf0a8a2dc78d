"""Import (CSV / YAML / JSON) and export on the real registry data, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import TEST_DATA
from sqlalchemy import func, select

from bot.model import AccountRef, Correction, Evidence, Status
from bot.platforms import normalize_handle
from knowledge.exporter import export_file, export_rows, write_csv, write_json
from knowledge.importer import BadImportFile, import_rows, read_rows
from knowledge.registry import SqlRegistry, open_registry
from knowledge.tables import changes

REGISTRY_FILES = sorted(p for p in TEST_DATA.glob("registry_*.csv") if "_meta" not in p.name)
HEADER = "entity,platform,handle,url,verdict,source_url,note,source_title,source_published\n"
SOURCE = "https://example.org/source"


def rows_of(text: str, fmt: str | None = "csv") -> list[tuple[int, dict[str, str]]]:
    return list(read_rows(io.StringIO(text), fmt))


async def change_count(registry: SqlRegistry) -> int:
    async with registry.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(changes)) or 0)


def test_the_shared_registry_files_are_there() -> None:
    names = {p.name for p in REGISTRY_FILES}
    assert {"registry_congress.csv", "registry_europarl.csv", "registry_openstates.csv"} <= names


@pytest.mark.parametrize("path", REGISTRY_FILES, ids=lambda p: p.stem)
async def test_each_real_registry_imports(path: Path, sqlite_url: str) -> None:
    registry = await open_registry(sqlite_url)
    result = await import_rows(
        registry, read_rows(path), by=f"import:{path.name}", skip_invalid=True
    )
    rows = sum(1 for _ in read_rows(path))
    assert result.written + result.unchanged + result.skipped == rows
    assert result.written > 0.9 * rows
    # every problem is a conflict between rows of the file (the upstream data's own errors)
    assert all(p.reason.startswith("conflict:") for p in result.problems)
    assert await registry.count() == await change_count(registry)  # one change per account
    again = await import_rows(registry, read_rows(path), by="again", skip_invalid=True)
    assert (again.written, again.unchanged) == (0, result.written + result.unchanged)
    await registry.close()


async def test_congress_conflict_names_both_lines_and_blocks_the_import(
    registry: SqlRegistry,
) -> None:
    path = TEST_DATA / "registry_congress.csv"
    lines = {n: row for n, row in read_rows(path) if row["handle"] == "RogerMarshallMD"}
    assert len(lines) == 2
    first, second = sorted(lines)
    result = await import_rows(registry, read_rows(path), by="import:registry_congress.csv")
    assert [p.line for p in result.problems] == [first, second]
    for problem, other in zip(result.problems, (second, first), strict=True):
        assert "facebook:rogermarshallmd" in problem.reason and f"line {other}" in problem.reason
        assert problem.row.items() <= lines[problem.line].items()  # the first is rebuilt
        assert problem.row["entity"] == lines[problem.line]["entity"]
    assert "Tommy Tuberville" in result.problems[0].reason
    assert result.written == 0 and await registry.is_empty()

    result = await import_rows(registry, read_rows(path), by="import:c", skip_invalid=True)
    assert result.skipped == 2 and result.written + result.unchanged == 1734 - 2
    found = await registry.find(
        [AccountRef("facebook", "rogermarshallmd"), AccountRef("x", "repaaronbean")]
    )
    assert list(found) == [AccountRef("x", "repaaronbean")]
    record = found[AccountRef("x", "repaaronbean")]
    assert (record.status, record.entity, record.handle_as_written) == (
        Status.OFFICIAL,
        "Aaron Bean",
        "RepAaronBean",
    )
    assert record.evidence[0].url.startswith("https://github.com/unitedstates/")
    history = await registry.history(AccountRef("x", "repaaronbean"))
    assert [(c.by, c.old_status, c.new_status) for c in history] == [
        ("import:c", Status.UNKNOWN, Status.OFFICIAL)
    ]


BAD_ROWS = (
    "NASA,x,nasa,https://x.com/nasa,official,https://nasa.gov,,NASA,2020-01-01\n"  # 2: fine
    "NASA,myspace,nasa,,official,,,,\n"  # 3
    "NASA,x,not a handle!,,official,,,,\n"  # 4
    "NASA,x,nasa2,,legit,,,,\n"  # 5
    "NASA,x,nasa3,ftp://x.com/nasa3,official,,,,\n"  # 6
    "NASA,x,nasa4,,official,https://nasa.gov,,T,24/08/2010\n"  # 7
    ",x,nasa5,,official,,,,\n"  # 8
    "NASA,x,nasa6,,official,javascript:alert(1),,,\n"  # 9
    "NASA,x,nasa7,,official,,,Title only,\n"  # 10
    '"Multi\nline",x,,,,,,,\n'  # 11-12: a line break in the entity, reported on its first line
    "NASA,x,nasa8,,official,https://nasa.gov,,T,2010-02-30\n"  # 13
    ",x,,,official,,,,\n"  # 14
    "Fans,x,nasa9,,unofficial,,,,\n"  # 15: fine, no entity needed
)
EXPECTED = {
    3: "unknown platform 'myspace'",
    4: "no valid x handle",
    5: "unknown status 'legit'",
    6: "url must be an http(s) link",
    7: "YYYY-MM-DD",
    8: "official account needs its entity",
    9: "source_url must be an http(s) link",
    10: "source details without a source_url",
    11: "entity holds a control character (U+000A)",
    13: "no real date",
    14: "give a handle or a profile url",
}


async def test_bad_rows_each_reported_with_line_and_reason(registry: SqlRegistry) -> None:
    result = await import_rows(registry, rows_of(HEADER + BAD_ROWS), by="test")
    assert {p.line: p.reason for p in result.problems}.keys() == EXPECTED.keys()
    for problem in result.problems:
        assert EXPECTED[problem.line] in problem.reason
        assert "\n" not in problem.reason
    assert (result.written, result.skipped) == (0, len(EXPECTED))
    assert await registry.is_empty() and await change_count(registry) == 0

    result = await import_rows(registry, rows_of(HEADER + BAD_ROWS), by="t", skip_invalid=True)
    assert (result.written, result.skipped) == (2, len(EXPECTED))
    found = await registry.find([AccountRef("x", "nasa"), AccountRef("x", "nasa9")])
    assert found[AccountRef("x", "nasa")].evidence == (
        Evidence("https://nasa.gov", "NASA", None, date(2020, 1, 1)),
    )
    assert found[AccountRef("x", "nasa9")].status is Status.UNOFFICIAL


async def test_dry_run_counts_but_writes_nothing(registry: SqlRegistry) -> None:
    text = HEADER + "NASA,x,nasa,,official,,,,\nNASA,twitter,@NASA,,official,,,,\n"
    result = await import_rows(registry, rows_of(text), by="t", dry_run=True)
    assert (result.written, result.unchanged, result.problems) == (1, 1, [])
    assert await registry.is_empty()


async def test_rows_merge_into_one_account_with_every_source(registry: SqlRegistry) -> None:
    text = HEADER + (
        f"ESA,x,esa,,official,{SOURCE}/1,,One,\n"
        f"ESA,twitter,ESA,,official,{SOURCE}/2,,Two,\n"
        f"ESA,x,esa,,official,{SOURCE}/1,,One,\n"
    )
    result = await import_rows(registry, rows_of(text), by="t")
    assert (result.written, result.unchanged) == (2, 1)
    record = (await registry.find([AccountRef("x", "esa")]))[AccountRef("x", "esa")]
    assert [e.title for e in record.evidence] == ["One", "Two"]
    assert await change_count(registry) == 1


async def test_an_import_adds_sources_but_changes_no_verdict(registry: SqlRegistry) -> None:
    ref = AccountRef("x", "esa")
    await import_rows(registry, rows_of(HEADER + f"ESA,x,esa,,official,{SOURCE}/1,,,\n"), by="a")
    other = await import_rows(registry, rows_of(HEADER + "Not ESA,x,ESA,,parody,,,,\n"), by="b")
    assert [p.line for p in other.problems] == [2] and "registered as official for ESA" in (
        other.problems[0].reason
    )
    noted = await import_rows(registry, rows_of(HEADER + "ESA,x,esa,,official,,a note,,\n"), by="c")
    assert "another note" in noted.problems[0].reason
    grown = await import_rows(
        registry, rows_of(HEADER + f"ESA,x,esa,,official,{SOURCE}/2,,Second,\n"), by="d"
    )
    assert (grown.written, grown.problems) == (1, [])
    record = (await registry.find([ref]))[ref]
    assert [e.url for e in record.evidence] == [f"{SOURCE}/1", f"{SOURCE}/2"]
    assert [c.by for c in await registry.history(ref)] == ["d", "a"]
    undone, _ = await registry.undo(ref, by="mod")  # the import's change is undoable like any
    assert undone is not None and [e.url for e in undone.evidence] == [f"{SOURCE}/1"]


YAML_ROWS = """
- entity: Government of North Korea (DPRK)
  platform: twitter
  handle: uriminzok
  verdict: unofficial
  note: run by fans, not the government
  source_url: https://example.org/2010/08/24/dprk
  source_title: DPRK says fans run the accounts
  source_published: 2010-08-24
- platform: youtube
  url: https://www.youtube.com/user/uriminzok
  verdict: unofficial
- [not, a, mapping]
- platform: x
  handle: uriminzok
  verdict: official
  entity: Someone else
"""


@pytest.mark.parametrize("fmt", ["yaml", "json", None])
async def test_yaml_and_json_rows_by_item_position(fmt: str | None, registry: SqlRegistry) -> None:
    items = yaml.safe_load(YAML_ROWS)
    text = YAML_ROWS if fmt != "json" else json.dumps(items, default=str)
    result = await import_rows(registry, rows_of(text, fmt), by="t", skip_invalid=True)
    assert {p.line for p in result.problems} == {1, 3, 4}  # item 1 and 4 conflict
    assert "mapping" in next(p.reason for p in result.problems if p.line == 3)
    youtube = AccountRef("youtube", "uriminzok")
    assert (await registry.find([youtube]))[youtube].status is Status.UNOFFICIAL


def test_read_rows_by_extension_and_sniffing(tmp_path: Path) -> None:
    for name, text in {
        "a.csv": HEADER + "NASA,x,nasa,,official,,,,\n",
        "a.json": '[{"entity": "NASA", "platform": "x", "handle": "nasa", "verdict": "official"}]',
        "a.yml": "- {entity: NASA, platform: x, handle: nasa, verdict: official}\n",
    }.items():
        (tmp_path / name).write_text(text)
        [(line, row)] = read_rows(tmp_path / name)
        assert (row["handle"], line) == ("nasa", 2 if name.endswith("csv") else 1)
        [(_, sniffed)] = read_rows(io.StringIO(text))
        assert sniffed["handle"] == "nasa"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.txt", "x", "cannot tell the format"),
        ("a.json", "{not json", "not valid JSON"),
        ("a.yaml", "a: [1", "not valid YAML"),
        ("a.json", '{"a": 1}', "must be a list"),
        ("a.csv", "entity,handle\nNASA,nasa\n", "lacks platform, verdict"),
        ("a.csv", 'platform,verdict\nx,"a"b\n', "line 2: not valid CSV"),
        ("missing.csv", None, "cannot read missing.csv"),
    ],
)
def test_unreadable_files_give_one_line(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    with pytest.raises(BadImportFile, match=message) as raised:
        list(read_rows(tmp_path / name))
    assert "\n" not in str(raised.value)


async def test_export_then_import_round_trips_exactly(
    registry: SqlRegistry, tmp_path: Path
) -> None:
    path = TEST_DATA / "registry_europarl.csv"
    await import_rows(registry, read_rows(path), by="import", skip_invalid=True)
    ref = AccountRef("x", "uriminzok")
    proof = Evidence(
        "https://example.org/a",
        "Fans, not the state",
        "Example",
        date(2010, 8, 24),
        'q, "quoted"\nline',
    )
    await registry.apply(
        Correction(
            ref, Status.UNOFFICIAL, "DPRK", proof, 'fan-run, says "the state"', "Uriminzok", "123"
        ),
        by="m",
    )
    await registry.apply(
        Correction(ref, Status.UNOFFICIAL, evidence=Evidence("https://example.org/b", "")), by="m"
    )
    await registry.apply(
        Correction(AccountRef("mastodon", "a@example.social"), Status.PARODY), by="m"
    )
    originals = [row async for row in export_rows(registry)]

    for writer, fmt in ((write_csv, "csv"), (write_json, "json")):
        out = io.StringIO()
        assert await writer(export_rows(registry), out) == len(originals)
        copy = await open_registry(f"sqlite+aiosqlite:///{tmp_path / fmt / 'copy.db'}")
        result = await import_rows(copy, read_rows(io.StringIO(out.getvalue()), fmt), by="copy")
        assert result.problems == [] and result.written == len(originals)
        assert [row async for row in export_rows(copy)] == originals
        refs = [
            AccountRef(r["platform"], normalize_handle(r["platform"], r["handle"]))
            for r in originals
        ]
        mine, theirs = await registry.find(refs), await copy.find(refs)
        assert len(mine) == await registry.count() and mine.keys() == theirs.keys()
        for key, record in mine.items():  # when and by whom it was set belong to each registry
            local = {"reviewed": None, "set_by": None}
            assert replace(record, **local) == replace(theirs[key], **local)
        await copy.close()


async def test_csv_line_numbers_count_multiline_fields() -> None:
    text = HEADER + '"A\nB",x,ab,,official,,,,\nC,x,c,,official,,,,\n'
    assert [line for line, _ in rows_of(text)] == [2, 4]
    assert list(csv.reader(io.StringIO(text)))[1][0] == "A\nB"


async def test_an_export_that_fails_midway_leaves_the_old_file(
    registry: SqlRegistry, tmp_path: Path
) -> None:
    await import_rows(registry, read_rows(TEST_DATA / "registry_europarl.csv"), by="import",
                      skip_invalid=True)
    (tmp_path / "out").mkdir()
    dump = tmp_path / "out" / "registry.csv"
    whole = await export_file(export_rows(registry), "csv", dump)
    before = dump.read_text()
    assert len(before.splitlines()) == whole + 1

    async def cut_off() -> AsyncIterator[dict[str, str]]:  # e.g. the database went away
        rows = export_rows(registry)
        for _ in range(whole // 2):
            yield await anext(rows)
        raise ConnectionError("the database went away")

    with pytest.raises(ConnectionError):
        await export_file(cut_off(), "json", dump)
    assert dump.read_text() == before and list(dump.parent.iterdir()) == [dump]
