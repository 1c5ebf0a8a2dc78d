"""An import into a registry whose lookalike index is kept: its building process folds the
import's own accounts, and the keep merges them into the kept index caught up to the import's
start, instead of reading them back (or the whole registry). The kept file then answers, and
knows registered, exactly what a fresh build of the registry does: through changes made before
the import while no index was kept, a building process that fails, an index kept by another
while the import ran, an import of accounts the index never holds, and an import too small to
be worth merging. Real officials (tests/data), a real SQLite registry, a real spawned process."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from lookalike_cases import Official, cases, officials
from test_import_index import BrokenPool

from bot import building, kept
from bot.building import IndexBuilding
from bot.kept import build_index, from_kept
from bot.model import AccountRef, Correction, Status
from isofficial import bootstrap
from isofficial.settings import Settings
from knowledge.importer import import_rows, read_rows
from knowledge.registry import SqlRegistry, open_registry


@pytest.fixture(scope="module")
def protected() -> list[Official]:
    return officials()


def csv_of(accounts: list[Official], verdict: str = "official") -> str:
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow(["entity", "platform", "handle", "verdict", "source_url", "aliases"])
    for at, o in enumerate(accounts):
        alias = f"{o.entity} office" if at % 10 == 0 else ""  # names the search must find
        rows.writerow([o.entity, o.ref.platform, o.written, verdict, "https://example.org/a",
                       alias])
    return out.getvalue()


async def import_text(registry: SqlRegistry, settings: Settings, text: str,
                      failing: bool = False, kept_meanwhile: bool = False) -> None:
    """As `isofficial import` does: the rows checked and written, then the index kept
    (kept_meanwhile: first kept by another, caught up with the import, as a core would)."""
    with bootstrap.index_to_build(settings) as imported:
        if failing and imported is not None:
            imported.building = IndexBuilding(BrokenPool())
        result = await import_rows(registry, read_rows(io.StringIO(text), "csv"), by="t",
                                   index=imported)
        assert result.written and not result.problems
        if kept_meanwhile:
            await bootstrap.keep_index(registry, settings)
        await bootstrap.keep_index(registry, settings, imported)


async def assert_kept_is_fresh(registry: SqlRegistry, settings: Settings,
                               protected: list[Official]) -> None:
    store = bootstrap.index_store(settings)
    assert store is not None
    loaded = store.load()
    assert loaded is not None and loaded.change_id == await registry.newest_change()
    index, presence = from_kept(loaded.arrays)
    fresh = await build_index(registry)
    assert len(index) == len(fresh.index)
    asked = [(case.query, case.written) for case in cases(protected, 25)]
    asked += [(AccountRef("x" if o.ref.platform != "x" else "instagram", o.ref.handle), o.written)
              for o in protected[::7]]
    expected = [fresh.index.find(ref, written, limit=5) for ref, written in asked]
    assert sum(map(bool, expected)) > len(asked) // 4  # the queries do find lookalikes
    assert [index.find(ref, written, limit=5) for ref, written in asked] == expected
    assert presence is not None and fresh.presence is not None
    mine, theirs = presence.arrays(), fresh.presence.arrays()
    assert np.array_equal(mine["registered.keys"], theirs["registered.keys"])
    for name in ("prefixes.keys", "grams.keys"):  # a superset is safe; these are the same
        assert np.isin(theirs[name], mine[name]).all(), name


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                    index_file=str(tmp_path / "index.bin"))


@pytest.fixture
async def registry(settings: Settings) -> AsyncIterator[SqlRegistry]:
    opened = await open_registry(settings.database_url or "")
    yield opened
    await opened.close()


async def test_an_import_into_a_kept_index_is_merged_in_as_its_process_folded_it(
    registry: SqlRegistry, settings: Settings, protected: list[Official],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(building, "CHUNK", 64)  # many chunks handed to the process
    half = len(protected) // 2
    await import_text(registry, settings, csv_of(protected[:half]))  # built whole
    # Changes while no index is kept: the keep catches them up before it merges.
    demoted, added = protected[3], protected[half]
    await registry.apply(Correction(demoted.ref, Status.UNOFFICIAL, demoted.entity), "mod")
    await registry.apply(Correction(added.ref, Status.OFFICIAL, added.entity,
                                    handle_as_written=added.written), "mod")
    caplog.set_level(logging.INFO)
    await import_text(registry, settings, csv_of(protected[half + 1 :]))
    assert "merged into it" in caplog.text and "rebuilding" not in caplog.text
    assert "building process failed" not in caplog.text
    await assert_kept_is_fresh(registry, settings, protected)


@pytest.mark.parametrize(("failing", "kept_meanwhile", "said"), [
    (True, False, "building process failed"),
    (False, True, "kept lookalike index loaded"),  # a core may hold the import's accounts
], ids=["its building process failed", "an index was kept since it began"])
async def test_the_import_is_read_back_when_its_batch_cannot_be_merged(
    registry: SqlRegistry, settings: Settings, protected: list[Official],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
    failing: bool, kept_meanwhile: bool, said: str,
) -> None:
    monkeypatch.setattr(building, "CHUNK", 64)
    half = len(protected) // 2
    await import_text(registry, settings, csv_of(protected[:half]))
    caplog.set_level(logging.INFO)
    await import_text(registry, settings, csv_of(protected[half:]), failing, kept_meanwhile)
    assert said in caplog.text and "merged into it" not in caplog.text
    await assert_kept_is_fresh(registry, settings, protected)


async def test_a_small_import_is_caught_up_from_the_change_log(
    registry: SqlRegistry, settings: Settings, protected: list[Official],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kept, "SAVE_AFTER", 1)  # the catch-up kept, to be compared
    await import_text(registry, settings, csv_of(protected[:-100]))
    caplog.set_level(logging.INFO)
    await import_text(registry, settings, csv_of(protected[-100:]))  # under BULK
    assert "reloaded from the change log" in caplog.text
    assert "merged into it" not in caplog.text
    await assert_kept_is_fresh(registry, settings, protected)


async def test_an_import_of_accounts_the_index_never_holds_is_merged_for_the_presence_sets(
    registry: SqlRegistry, settings: Settings, protected: list[Official],
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(building, "CHUNK", 64)
    half = len(protected) // 2
    await import_text(registry, settings, csv_of(protected[:half]))
    caplog.set_level(logging.INFO)
    await import_text(registry, settings, csv_of(protected[half:], verdict="parody"))
    assert "merged into it: 0 accounts" in caplog.text
    await assert_kept_is_fresh(registry, settings, protected)
