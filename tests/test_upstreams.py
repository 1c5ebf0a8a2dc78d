"""Several upstreams merged: the registry CSVs in any order, and the native importers on the
upstreams' own published files (tests/data/upstream), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from conftest import TEST_DATA

from bot import render
from bot.model import AccountRef, Asker
from isofficial.bootstrap import core_on
from isofficial.settings import Settings
from knowledge.importer import ImportResult, import_rows, read_rows
from knowledge.registry import SqlRegistry, open_registry
from knowledge.upstreams import Upstream, readers

CSVS = {name: TEST_DATA / f"registry_{name}.csv" for name in ("congress", "openstates", "europarl")}
UPSTREAM = TEST_DATA / "upstream"
CONGRESS_COMMIT = "dfa9622263dd4c8d08636926e498f1845704d7eb"
OPENSTATES_COMMIT = "934bf09a94a35351baf872c70e778a4367c8266e"
READER = Asker(platform="console", user_id="reader")


async def import_csv(registry: SqlRegistry, name: str) -> ImportResult:
    path = CSVS[name]
    return await import_rows(registry, read_rows(path), by=f"import:{path.name}", skip_invalid=True)


def refused(result: ImportResult) -> set[str]:
    """What each refused row is about: the playlist rows, or the account two senators claim."""
    kinds = set()
    for problem in result.problems:
        if "youtube:playlist" in problem.reason or "is a playlist or video" in problem.reason:
            kinds.add("playlist")
        elif "facebook:rogermarshallmd" in problem.reason:
            kinds.add("rogermarshallmd")
        else:
            kinds.add(problem.reason)
    return kinds


@pytest.mark.parametrize(
    "order",
    [("congress", "openstates", "europarl"), ("openstates", "europarl", "congress")],
    ids="-".join,
)
async def test_the_registry_csvs_merge_in_any_order(
    order: tuple[str, ...], sqlite_url: str
) -> None:
    registry = await open_registry(sqlite_url)
    results = {name: await import_csv(registry, name) for name in order}
    # nothing refused but the upstreams' own errors
    assert refused(results["congress"]) == {"rogermarshallmd"}
    assert refused(results["openstates"]) == {"playlist"}
    assert len(results["openstates"].problems) == 40 and not results["europarl"].problems
    # the second of congress/openstates takes the same people under their registered names
    second = max(("congress", "openstates"), key=order.index)
    merges = results[second].merges
    assert len(merges) > 100 and all(m.startswith("line ") and " taken as " in m for m in merges)
    assert any('"Alma S. Adams"' in m and '"Alma Adams"' in m for m in merges)
    assert results[second].written > 0  # their evidence arrived
    core = await core_on(registry, Settings(), lookalikes=False)
    (answer,) = await core.check("x:repadams", READER)
    assert answer.entity in ("Alma Adams", "Alma S. Adams")
    assert {"Alma Adams", "Alma S. Adams"} == {answer.entity, *answer.aliases}
    publishers = {e.url.split("/")[4] for e in answer.evidence}
    assert publishers == {"congress-legislators", "people"}
    alias = next(a for a in answer.aliases)
    found = await registry.search(alias.lower(), limit=10)
    assert (AccountRef("x", "repadams"), answer.entity) in found
    await registry.close()


def csv_accounts(path: Path, within: str | None = None) -> set[AccountRef]:
    """The accounts of a registry CSV (of the rows whose source is under `within`)."""
    from bot.platforms import normalize_handle, platform_named

    with path.open(encoding="utf-8") as stream:
        return {
            AccountRef(platform, normalize_handle(platform, row["handle"]))
            for row in csv.DictReader(stream)
            if (within is None or f"/{within}/" in row["source_url"])
            and row["handle"] not in ("playlist", "watch")  # a playlist or video, no channel
            and (platform := platform_named(row["platform"]) or "")
        }


async def native(registry: SqlRegistry, fmt: str, folder: str, commit: str) -> ImportResult:
    rows = readers()[fmt](UPSTREAM / folder, Upstream(commit, date(2026, 7, 9)))
    return await import_rows(registry, rows, by=f"import:{fmt}", skip_invalid=True)


async def registered(registry: SqlRegistry) -> set[AccountRef]:
    from sqlalchemy import select

    from knowledge.tables import accounts

    async with registry.engine.connect() as conn:
        rows = await conn.execute(select(accounts.c.platform, accounts.c.handle_key))
        return {AccountRef(p, k) for p, k in rows}


async def test_native_importers_give_the_csvs_accounts_merged_by_id(sqlite_url: str) -> None:
    registry = await open_registry(sqlite_url)  # PostgreSQL: the same path, in test_wikidata
    fmt = "congress-legislators"
    congress = await native(registry, fmt, fmt, CONGRESS_COMMIT)
    assert refused(congress) == {"rogermarshallmd"} and congress.written == 1732
    after_congress = await registered(registry)
    without_websites = {ref for ref in after_congress if ref.platform != "website"}
    claimed_twice = AccountRef("facebook", "rogermarshallmd")  # refused in both
    assert without_websites == csv_accounts(CSVS["congress"]) - {claimed_twice}
    people = await native(registry, "openstates", "openstates-people", OPENSTATES_COMMIT)
    assert refused(people) == {"playlist"}
    # people of both merged by identifier, never by a guess from shared accounts
    by_id = [m for m in people.merges if "(same bioguide:" in m or "(same wikidata:" in m]
    assert people.merges and by_id == people.merges
    expected = set()
    parts = ("us/legislature", "pa/legislature", "co/legislature", "ca/executive", "ia/executive")
    for part in parts:
        expected |= csv_accounts(CSVS["openstates"], f"data/{part}")
    assert expected - {claimed_twice} <= await registered(registry)
    record = (await registry.find([AccountRef("x", "repadams")]))[AccountRef("x", "repadams")]
    assert "bioguide:A000370" in record.entity_ids and "wikidata:Q4733597" in record.entity_ids
    assert {e.publisher for e in record.evidence} == {"congress-legislators", "openstates"}
    assert record.platform_id == "2916086925"
    core = await core_on(registry, Settings(), lookalikes=False)
    text = render.full_text(await core.check("x:repadams", READER))
    assert "listed by congress-legislators, 2026-07-09; openstates, 2026-07-09" in text
    await registry.close()


def test_a_record_out_of_shape_costs_only_its_own_rows(tmp_path: Path) -> None:
    """An openstates person whose `ids` is a list, and a congress-legislators entry whose social
    block is a list: each is one problem row, the other records still give their accounts."""
    people = tmp_path / "people" / "data" / "zz" / "legislature"
    people.mkdir(parents=True)
    (people / "bad.yml").write_text("id: ocd-person/1\nname: Bad Shape\nids: [a, b]\n")
    (people / "good.yml").write_text(
        "id: ocd-person/2\nname: Good Shape\nids: {twitter: GoodShape}\n")
    rows = [row for _, row in readers()["openstates"](people, Upstream("abc", date(2026, 7, 9)))]
    [bad] = [r["__error__"] for r in rows if "__error__" in r]
    assert bad.startswith("data/zz/legislature/bad.yml: not in the upstream's shape")
    good = [(r["entity"], r["handle"]) for r in rows if "handle" in r]
    assert good == [("Good Shape", "GoodShape")]

    congress = tmp_path / "congress"
    congress.mkdir()
    (congress / "legislators-current.yaml").write_text(
        "- id: {bioguide: A000001}\n  name: {official_full: Ann One}\n"
        "- id: {bioguide: B000002}\n  name: {official_full: Ben Two}\n")
    (congress / "legislators-social-media.yaml").write_text(
        "- id: {bioguide: A000001}\n  social: [oops]\n"
        "- id: {bioguide: B000002}\n  social: {twitter: BenTwo}\n")
    read = readers()["congress-legislators"]
    rows = [row for _, row in read(congress, Upstream("abc", None))]
    assert rows[0]["__error__"].startswith("legislators-social-media.yaml #1: not in the")
    assert [(r["entity"], r["handle"]) for r in rows[1:]] == [("Ben Two", "BenTwo")]
