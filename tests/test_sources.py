"""Sources that stay in step, synced from a real local HTTP server (tests/fake_feeds.py): an
upstream that adds, changes and drops accounts; a moderator's verdict that survives a sync."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_feeds import FeedServer

from bot import render
from bot.model import AccountRef, Asker, Correction, Status
from isofficial.bootstrap import STARTER_BY, core_on
from isofficial.settings import Settings
from knowledge.registry import SqlRegistry
from knowledge.sources.catalog import (
    SourceError,
    add_source,
    due_sources,
    list_sources,
    remove_source,
    sync_source,
)

HEADER = "entity,platform,handle,verdict,source_url,source_title,source_publisher,"
HEADER += "source_published,entity_ids\n"


def listed(url: str, day: str) -> str:
    return f"{url},listed by roster (roster.csv),roster,{day}"


V1 = listed("https://example.org/roster/1", "2026-07-01")
V2 = listed("https://example.org/roster/2", "2026-07-09")
FIRST = HEADER + (
    f"Ann Example,x,annexample,official,{V1},roster:1\n"
    f"Ann Example,instagram,annexample,official,{V1},roster:1\n"
    f"Bob Example,x,bobexample,official,{V1},roster:2\n"
    f"Cy Example,x,cyexample,official,{V1},roster:3\n"
)
# a week later: Ann's Instagram dropped, Bob's account now listed as defunct, Dee added; Cy is
# listed as before, but a moderator had set Cy's verdict by hand meanwhile
SECOND = HEADER + (
    f"Ann Example,x,annexample,official,{V2},roster:1\n"
    f"Bob Example,x,bobexample,defunct,{V2},roster:2\n"
    f"Cy Example,x,cyexample,official,{V2},roster:3\n"
    f"Dee Example,x,deeexample,official,{V2},roster:4\n"
)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


async def test_a_sync_adds_changes_retires_and_reports(
    registry: SqlRegistry, server: FeedServer
) -> None:
    engine = registry.engine
    server.set("/roster.csv", FIRST, "text/csv")
    await add_source(engine, "roster", server.url("/roster.csv"), "csv", "24h", "operator")
    assert await due_sources(engine) == ["roster"]
    first = await sync_source(engine, "roster", STARTER_BY)
    assert first is not None and (first.added, first.changed, first.retired) == (4, 0, 0)
    assert await due_sources(engine) == []  # synced: due again in 24 hours
    assert await sync_source(engine, "roster", STARTER_BY) is None  # unchanged: HTTP 304

    cy = AccountRef("x", "cyexample")
    await registry.apply(Correction(cy, Status.IMPERSONATOR, "Cy Example", note="mod"), by="tg:1")
    server.set("/roster.csv", SECOND, "text/csv")
    second = await sync_source(engine, "roster", STARTER_BY)
    assert second is not None
    assert (second.added, second.changed, second.retired) == (1, 1, 1)
    assert len(second.disagreements) == 1 and "x:cyexample" in second.disagreements[0]

    found = await registry.find(
        [cy, AccountRef("x", "bobexample"), AccountRef("instagram", "annexample")]
    )
    assert (found[cy].status, found[cy].note) == (Status.IMPERSONATOR, "mod")  # survives
    assert found[AccountRef("x", "bobexample")].status is Status.DEFUNCT
    gone = found[AccountRef("instagram", "annexample")]  # retired, not deleted
    assert gone.status is Status.OFFICIAL
    assert gone.evidence[0].title.startswith("no longer listed by roster since ")
    [report] = await registry.open_reports()
    assert (report.ref, report.status, report.by) == (cy, Status.OFFICIAL, "source:roster")
    assert [c.by for c in await registry.history(AccountRef("x", "bobexample"))] == [
        "source:roster",
        "source:roster",
    ]
    # the next sync does not queue the same disagreement twice
    server.set("/roster.csv", SECOND + "\n", "text/csv")
    await sync_source(engine, "roster", STARTER_BY)
    assert len(await registry.open_reports()) == 1

    core = await core_on(registry, Settings(), lookalikes=False)
    text = render.full_text(await core.check("x:annexample", core_asker()))
    assert "listed by roster, 2026-07-09" in text
    [listed] = await list_sources(engine)
    assert "added 0" in (listed.last_result or "")
    await remove_source(engine, "roster")
    assert await list_sources(engine) == [] and await registry.count() == 5
    with pytest.raises(SourceError, match="no source named"):
        await sync_source(engine, "roster", STARTER_BY)


def core_asker() -> Asker:
    return Asker(platform="console", user_id="reader")


async def test_sources_refuse_bad_input_in_one_line(registry: SqlRegistry, tmp_path: Path) -> None:
    engine = registry.engine
    for name, location, fmt, every, message in [
        ("Bad Name", str(tmp_path), "csv", None, "lower-case"),
        ("ok", str(tmp_path / "missing.csv"), "csv", None, "no such file"),
        ("ok", str(tmp_path), "xml", None, "unknown format"),
        ("ok", str(tmp_path), "csv", "often", "--every takes"),
        ("ok", "https://example.org/people", "openstates", None, "local folder"),
    ]:
        with pytest.raises(SourceError, match=message):
            await add_source(engine, name, location, fmt, every, "operator")
    path = tmp_path / "r.csv"
    path.write_text(FIRST, encoding="utf-8")
    await add_source(engine, "local", str(path), "csv", None, "operator")
    with pytest.raises(SourceError, match="already"):
        await add_source(engine, "local", str(path), "csv", None, "operator")
    result = await sync_source(engine, "local", STARTER_BY)
    assert result is not None and result.added == 4
