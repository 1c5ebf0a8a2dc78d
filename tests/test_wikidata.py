"""The Wikidata importer on files in the three published shapes (tests/data/wikidata: written for
these tests in the formats of Special:EntityData, the JSON dumps and SPARQL JSON results, on
the Wikidata sandbox items; the accounts in them are test data)."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

from conftest import TEST_DATA

from bot.model import AccountRef, Status
from knowledge.importer import import_rows
from knowledge.registry import SqlRegistry
from knowledge.upstreams import Upstream
from knowledge.upstreams.wikidata import rows

WIKIDATA = TEST_DATA / "wikidata"
SANDBOX = AccountRef("x", "sandboxnow")


def records(path: Path) -> list[dict[str, str]]:
    return [row for _, row in rows(path, Upstream())]


def test_entity_data_reads_ranks_end_times_and_numeric_ids() -> None:
    found = records(WIKIDATA / "Special_EntityData_Q4115189.json")
    by_handle = {(r["platform"], r.get("handle") or r.get("url")): r for r in found}
    now, before = by_handle["x", "SandboxNow"], by_handle["x", "SandboxBefore"]
    assert (now["verdict"], now["platform_id"]) == ("official", "1500000000000000001")
    assert before["verdict"] == "defunct" and before["note"] == "former account, until 2021-03-31"
    assert ("x", "SandboxWrong") not in by_handle  # deprecated: not the item's account
    platforms = {p for p, _ in by_handle}
    assert platforms == {"x", "instagram", "facebook", "youtube", "mastodon", "telegram",
                         "bluesky", "tiktok", "website"}
    assert {r["entity"] for r in found} == {"Wikidata Sandbox"}
    assert {r["entity_ids"] for r in found} == {"wikidata:Q4115189"}
    assert {r["aliases"] for r in found} == {"Sandbox item; WD Sandbox"}
    assert {r["source_url"] for r in found} == {
        "https://www.wikidata.org/w/index.php?title=Q4115189&oldid=2270000001"
    }
    assert {r["source_published"] for r in found} == {"2026-07-09"}


async def test_a_dump_imports_line_by_line_and_reports_quirks(
    registry: SqlRegistry, tmp_path: Path
) -> None:
    packed = tmp_path / "latest-all.json.gz"
    with (WIKIDATA / "dump-sample.json").open("rb") as plain, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(plain, out)
    result = await import_rows(registry, rows(packed, Upstream()), by="wd", skip_invalid=True)
    (problem,) = result.problems  # the invalid Instagram handle; "no value" is no account
    assert "instagram" in problem.reason
    refs = [SANDBOX, AccountRef("x", "sandboxbefore"), AccountRef("x", "sandboxtwo")]
    found = await registry.find(refs)
    assert found[SANDBOX].status is Status.OFFICIAL and found[SANDBOX].platform_id
    assert found[AccountRef("x", "sandboxbefore")].status is Status.DEFUNCT
    assert found[SANDBOX].aliases == ("Sandbox item", "WD Sandbox")
    assert found[SANDBOX].entity_ids == ("wikidata:Q4115189",)
    assert found[SANDBOX].evidence[0].published == date(2026, 7, 9)
    assert await registry.count() == 10 + 1 + 1  # sandbox (two X, not the deprecated), 2, 3


async def test_sparql_results_merge_with_the_items_by_id(registry: SqlRegistry) -> None:
    await import_rows(registry, rows(WIKIDATA / "dump-sample.json", Upstream()), by="dump",
                      skip_invalid=True)
    renamed = WIKIDATA / "sparql-results.json"
    result = await import_rows(
        registry, rows(renamed, Upstream(published=date(2026, 8, 1))), by="sparql"
    )
    assert result.problems == [] and result.merges == []  # same names, same ids: no merge needed
    record = (await registry.find([SANDBOX]))[SANDBOX]
    urls = [e.url for e in record.evidence]
    assert urls[-1] == "https://www.wikidata.org/wiki/Q4115189"
    assert record.evidence[-1].published == date(2026, 8, 1)
