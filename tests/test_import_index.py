"""The lookalike index folded by an import as it writes (knowledge.importer's index, on SQLite)
is the index built from the registry it committed: the same arrays, the same change, through
registered accounts, repeats, merged entities, grown accounts, refused rows, other verdicts,
several checking parts and fold chunks. Where it cannot be (PostgreSQL, a rolled-back import),
it is left unset and the build reads the registry."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot import building, folding
from bot.building import IndexBuilding
from bot.kept import Imported, build_index
from isofficial.cli import main
from knowledge import importer
from knowledge.importer import import_rows, read_rows
from knowledge.index_file import IndexFile
from knowledge.registry import SqlRegistry, open_registry

DATA = Path(__file__).parent / "data"

HEADER = "entity,platform,handle,verdict,source_url,entity_ids,note\n"
BEFORE = HEADER + (
    "NASA,x,NASA,official,https://nasa.gov/a,wikidata:Q23548,\n"
    "NASA,instagram,nasa,official,https://nasa.gov/a,,\n"
    "ESA,x,esa,affiliated,https://esa.int/a,,\n"
    ",x,nasa_fan,unofficial,,,\n"
)
IMPORT = HEADER + (
    "National Aeronautics,youtube,@NASA,official,https://nasa.gov/b,wikidata:Q23548,\n"  # merges
    "NASA,x,nasa,official,https://nasa.gov/c,,\n"  # registered: a new source (grown)
    "Bank of England,x,BankOfEngland,official,https://boe.uk/a,,\n"
    "Bank of England,x,bankofengland,official,https://boe.uk/a,,\n"  # a repeat
    "Taylor Swift,x,taylorswift13,official,https://ts.com/a,,\n"
    "Taylor Swift,instagram,taylor.swift_fan,parody,https://ts.com/a,,\n"  # not protected
    ",x,someone,unofficial,,,\n"
    "ESA,x,esa,official,https://esa.int/b,,\n"  # another verdict: refused
    "Vitalik,bluesky,vitalik.bsky.social,affiliated,https://v.eth/a,,\n"
    "Vitalik,website,vitalik.ca,official,https://v.eth/a,,\n"
    "Ñandú,website,ñandú-oficial.com.ar,official,https://n.ar/a,,\n"
    "Discord,x,discord_app,official,https://discord.com/a,,\n"
)


async def imported(registry: SqlRegistry, text: str, index: Imported | None) -> None:
    result = await import_rows(registry, read_rows(io.StringIO(text), "csv"), by="t",
                               skip_invalid=True, index=index)
    assert result.written


def arrays_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(("part", "chunk"), [(1000, 1 << 16), (3, 4), (1, 1)])
async def test_the_index_an_import_folds_is_the_one_built_from_the_registry(
    sqlite_url: str, part: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_ROWS", part)
    monkeypatch.setattr(folding, "CHUNK", chunk)
    registry = await open_registry(sqlite_url)
    try:
        await imported(registry, BEFORE, None)
        index = Imported()
        await imported(registry, IMPORT, index)
        assert index.change_id == await registry.newest_change()
        from_import = await build_index(registry, imported=index)
        from_registry = await build_index(registry)
    finally:
        await registry.close()
    assert len(from_import.index) == len(from_registry.index) == 10
    assert from_import.change_id == from_registry.change_id
    assert arrays_equal(from_import.index.arrays(), from_registry.index.arrays())


class BrokenPool(Executor):
    """A pool whose process is gone: every task fails."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("the building process was killed"))
        return future


async def test_when_the_imports_building_process_fails_the_build_reads_the_registry(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(building, "CHUNK", 2)  # handed to the pool (fewer are folded here)
    registry = await open_registry(sqlite_url)
    try:
        await imported(registry, BEFORE, None)
        index = Imported(IndexBuilding(BrokenPool()))
        await imported(registry, IMPORT, index)
        from_import = await build_index(registry, imported=index)
        from_registry = await build_index(registry)
    finally:
        await registry.close()
    assert "building process failed" in caplog.text
    assert len(from_import.index) == len(from_registry.index) == 10
    assert from_import.change_id == from_registry.change_id
    assert arrays_equal(from_import.index.arrays(), from_registry.index.arrays())


@pytest.mark.postgres
async def test_on_postgresql_the_import_leaves_the_index_to_the_build(postgres_url: str) -> None:
    registry = await open_registry(postgres_url)
    try:
        index = Imported()
        await imported(registry, IMPORT, index)
    finally:
        await registry.close()
    assert index.change_id is None
    nothing = index.building.index()
    assert nothing is not None and len(nothing) == 0


async def test_an_import_rolled_back_leaves_the_index_unset(registry: SqlRegistry) -> None:
    index = Imported()
    refused = IMPORT + "Nobody,x,no such handle!,official,,,\n"  # nothing written
    result = await import_rows(registry, read_rows(io.StringIO(refused), "csv"), by="t",
                               index=index)
    assert result.problems and not result.written
    assert index.change_id is None


def test_isofficial_import_keeps_the_index_a_build_from_the_registry_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reg.sqlite3'}"
    kept = IndexFile(tmp_path / "index.bin", url)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ISOFFICIAL_DATABASE_URL", url)
    monkeypatch.setenv("ISOFFICIAL_INDEX_FILE", str(kept.path))
    assert main(["import", str(DATA / "registry_europarl.csv"), "--skip-invalid"]) in (0, 1)
    saved = kept.load()
    assert saved is not None

    async def built() -> tuple[int, dict[str, np.ndarray]]:
        registry = await open_registry(url)
        try:
            started = await build_index(registry)
        finally:
            await registry.close()
        return started.change_id, dict(started.index.arrays())

    change_id, arrays = asyncio.run(built())
    assert len(arrays["accounts.platform"]) > 500
    assert saved.change_id == change_id
    assert arrays_equal({k.removeprefix("lookalikes/"): v for k, v in saved.arrays.items()
                         if k.startswith("lookalikes/")}, arrays)
