"""The index built in a process of its own (bot.building.IndexBuilding with a pool, as an
import builds it): the index built here, and still the same when the pool fails at any point."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot import building, folding
from bot.building import LOWEST_PRIORITY, IndexBuilding
from bot.folding import CHUNK, Batch, Folding, Row
from bot.lookalike import LookalikeIndex
from bot.model import AccountRef
from isofficial import bootstrap
from isofficial.settings import Settings


def accounts(count: int) -> list[Row]:
    """More than one chunk's worth: handles as written, None (the key itself) and odd ones."""
    made: list[Row] = []
    for at in range(count):
        handle = f"office_{at:05d}" if at % 7 else f"Mrbeast{at}rn"
        written = None if at % 5 == 0 else handle.title()
        platform = "x" if at % 3 else "instagram"
        made.append((AccountRef(platform, handle.lower()), f"Entity {at % 900}", written))
    return made


def built(building: IndexBuilding, rows: list[Row]) -> LookalikeIndex | None:
    building.add(rows[: CHUNK + 10])  # one chunk handed out now, the rest later
    building.add(rows[CHUNK + 10 :])
    return building.index()


def assert_same(index: LookalikeIndex | None, expected: LookalikeIndex | None) -> None:
    assert index is not None and expected is not None
    arrays, wanted = index.arrays(), expected.arrays()
    assert arrays.keys() == wanted.keys()
    for name, array in arrays.items():
        assert np.array_equal(array, wanted[name]), name


class FailingPool(Executor):
    """A pool whose process dies: its futures fail from the after-th task on, or (at_submit)
    submitting fails."""

    def __init__(self, after: int, at_submit: bool = False) -> None:
        self.after, self.at_submit, self.tasks = after, at_submit, 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        broken = BrokenProcessPool("the building process was killed")
        if self.tasks > self.after and self.at_submit:
            raise broken
        future: Future[Any] = Future()
        if self.tasks > self.after:
            future.set_exception(broken)
        else:
            future.set_result(fn(*args, **kwargs))
        return future


class ChunkLosingPool(Executor):
    """Runs each task here; the lost-th task (a chunk's fold) raises, its chunk not kept."""

    def __init__(self, lost: int) -> None:
        self.tasks, self.lost = 0, lost

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        future: Future[Any] = Future()
        if self.tasks == self.lost:
            future.set_exception(MemoryError("out of memory folding a chunk"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


ROWS = accounts(2 * CHUNK + 500)


@pytest.fixture(scope="module")
def expected() -> LookalikeIndex:
    index = built(IndexBuilding(), ROWS)
    assert index is not None  # built here: never None
    return index


def test_without_a_pool_the_index_is_the_one_built_from_the_accounts(
    expected: LookalikeIndex,
) -> None:
    assert_same(expected, LookalikeIndex.built(ROWS))
    assert len(expected) == len(ROWS)


@pytest.mark.parametrize("in_a_file", [False, True])
def test_a_process_pool_builds_the_index_built_here(
    expected: LookalikeIndex, in_a_file: bool, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")  # as the import's pool: no fork of threads
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert_same(built(IndexBuilding(pool, tmp_path if in_a_file else None), ROWS), expected)
        # A second building in the same process keeps its chunks apart from the first's.
        first, second = IndexBuilding(pool, tmp_path), IndexBuilding(pool, tmp_path)
        first.add(ROWS[:CHUNK])
        second.add(ROWS[:700])
        first.add(ROWS[CHUNK:])
        assert_same(second.index(), LookalikeIndex.built(ROWS[:700]))
        assert_same(first.index(), expected)
    assert not list(tmp_path.iterdir())  # the result file taken, none left behind


class FileLosingPool(Executor):
    """Runs each task here; the index's file is lost (cut short: the first ten bytes kept)."""

    def __init__(self, kept: int | None) -> None:
        self.kept = kept

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        result = fn(*args, **kwargs)
        if isinstance(result, str):
            path = Path(result)
            if self.kept is None:
                path.unlink()
            else:
                path.write_bytes(path.read_bytes()[: self.kept])
        future.set_result(result)
        return future


@pytest.mark.parametrize("kept", [None, 10])
def test_an_index_file_lost_or_cut_short_is_no_index(
    kept: int | None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # None: the build reads the registry instead (tests/test_import_index.py).
    assert built(IndexBuilding(FileLosingPool(kept), tmp_path), ROWS) is None
    assert "building process failed" in caplog.text


@pytest.mark.parametrize("after", [0, 1, 2, 3])
@pytest.mark.parametrize("at_submit", [False, True])
def test_a_pool_that_fails_at_any_task_gives_no_index(
    after: int, at_submit: bool, caplog: pytest.LogCaptureFixture
) -> None:
    assert built(IndexBuilding(FailingPool(after, at_submit)), ROWS) is None  # 4 tasks
    assert "building process failed" in caplog.text


@pytest.mark.parametrize("lost", [1, 2, 3])  # the first chunk, one between, the last
def test_a_chunk_its_process_failed_to_fold_is_never_left_out(
    lost: int, caplog: pytest.LogCaptureFixture
) -> None:
    assert built(IndexBuilding(ChunkLosingPool(lost)), ROWS) is None
    assert "out of memory folding a chunk" in caplog.text  # the cause, not the build's symptom


def test_a_pool_that_holds_out_builds_the_index_built_here(expected: LookalikeIndex) -> None:
    index = built(IndexBuilding(FailingPool(after=4)), ROWS)  # its 4 tasks done
    assert index is not None
    assert_same(index, expected)
    for ref in (AccountRef("x", "office_00101"), AccountRef("x", "mrbeast7rm")):
        assert index.find(ref) == expected.find(ref)
        assert expected.find(ref)  # a lookalike of a registered one: something to agree on


def test_an_import_builds_in_a_process_of_its_own_or_folds_there_what_a_kept_index_merges(
    tmp_path: Path, expected: LookalikeIndex
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        assert_same(built(imported.building, ROWS), expected)
        folder = imported.building._folder
        assert folder is not None and Path(folder).is_dir()  # the index came as a file
    assert not Path(folder).exists()  # and their folder went with the import
    (tmp_path / "index.bin").write_bytes(b"kept")  # a kept index: the import's merged in
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None and imported.added is not None
        imported.building.add(ROWS)
        batch = imported.building.batch()
    here = Folding()
    here.add(ROWS)
    assert_same_batch(batch, here.batch())


def assert_same_batch(batch: Batch | None, expected: Batch) -> None:
    assert batch is not None
    assert (batch.platforms, batch.entities) == (expected.platforms, expected.entities)
    folded, wanted = batch.folded, expected.folded
    for name in ("handles", "keys"):
        strings, wanted_strings = getattr(folded, name), getattr(wanted, name)
        assert strings.many(range(len(strings))) == wanted_strings.many(range(len(strings)))
    for name in ("letters", "unpaired", "ids", "written"):
        assert np.array_equal(getattr(folded, name), getattr(wanted, name)), name
    for mine, theirs in zip(folded.entries, wanted.entries, strict=True):
        assert np.array_equal(mine, theirs)


def test_a_few_accounts_are_folded_here_without_starting_the_process() -> None:
    pool = FailingPool(after=0)  # any task handed to it fails
    building = IndexBuilding(pool)
    building.add(ROWS[:CHUNK - 1])
    index = building.index()
    assert pool.tasks == 0 and index is not None and len(index) == CHUNK - 1
    again = IndexBuilding(FailingPool(after=0))
    again.add(ROWS[:CHUNK - 1])
    here = Folding()
    here.add(ROWS[:CHUNK - 1])
    assert_same_batch(again.batch(), here.batch())


def test_a_batch_is_folded_there_as_here_and_a_failure_says_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(building, "CHUNK", 7)
    here = Folding()
    here.add(ROWS)
    expected = here.batch()
    there = IndexBuilding(FailingPool(after=10**6))  # every task run, here
    there.add(ROWS)
    assert_same_batch(there.batch(), expected)
    broken = IndexBuilding(FailingPool(after=3))
    broken.add(ROWS)
    assert broken.batch() is None


def test_an_import_removes_the_fold_folders_of_killed_imports_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    killed = tmp_path / "tmp" / f"{bootstrap.FOLD_FOLDER}{gone.stdout.strip()}-abc"
    alive = tmp_path / "tmp" / f"{bootstrap.FOLD_FOLDER}{os.getppid()}-def"
    unrelated = tmp_path / "tmp" / "isofficial-other"
    for folder in (killed, alive, unrelated):
        folder.mkdir()
        (folder / "0.pickle").write_bytes(b"folded")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        mine = Path(imported.building._folder or "")
        assert mine.name.startswith(f"{bootstrap.FOLD_FOLDER}{os.getpid()}-")
    assert not killed.exists()
    assert alive.exists() and unrelated.exists()
    assert not mine.exists()


def test_without_process_semaphores_an_import_builds_here(
    tmp_path: Path, expected: LookalikeIndex, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_semaphores(*args: object, **kwargs: object) -> Executor:
        raise OSError(38, "sem_open: Function not implemented")

    monkeypatch.setattr(bootstrap, "ProcessPoolExecutor", no_semaphores)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        assert_same(built(imported.building, ROWS), expected)
    assert "folding the lookalike index in this process" in caplog.text
    assert "building process failed" not in caplog.text


def test_an_import_of_fewer_than_a_chunk_starts_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[object] = []
    monkeypatch.setattr(bootstrap, "ProcessPoolExecutor", lambda *a, **k: started.append(a))
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        imported.building.add(ROWS[: CHUNK - 1])
        index = imported.building.index()
    assert not started and index is not None and len(index) == CHUNK - 1


def interrupt_handler() -> object:
    return signal.getsignal(signal.SIGINT)


def niceness() -> int:
    return os.nice(0)


def test_the_import_pools_process_leaves_ctrl_c_to_the_import(tmp_path: Path) -> None:
    # Ctrl-C reaches the whole process group: the import shuts its pool down; the pool's
    # process, waiting for work, would only print a KeyboardInterrupt traceback.
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        pool = imported.building._pool
        assert pool is not None
        assert pool.submit(interrupt_handler).result() == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # this process's untouched


def test_the_import_pools_process_works_at_the_lowest_priority(tmp_path: Path) -> None:
    # Its results are wanted once the rows are written: the import's own work goes first.
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    mine = niceness()
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None and imported.building._pool is not None
        assert imported.building._pool.submit(niceness).result() == LOWEST_PRIORITY
    assert niceness() == mine  # this process's untouched


def test_many_chunks_build_the_index_built_here(monkeypatch: pytest.MonkeyPatch) -> None:
    # Their entries merged as they come (a run into the one before it), entities counted
    # across chunks: the chunks' count is no power of two, so runs of several sizes are left.
    monkeypatch.setattr(building, "CHUNK", 7)  # handed out, and folded in the pool's process
    monkeypatch.setattr(folding, "CHUNK", 7)
    rows = accounts(7 * 45 + 3)
    assert_same(built(IndexBuilding(FailingPool(after=10**6)), rows), LookalikeIndex.built(rows))


class PendingPool(Executor):
    """Hands out tasks that never end (a process still folding)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()


def test_a_building_is_idle_only_once_every_task_it_handed_out_is_over() -> None:
    # The import's pool is shut down without waiting only then: no file lands afterwards.
    pending = IndexBuilding(PendingPool())
    pending.add(ROWS[:CHUNK])
    assert not pending.idle()
    done = IndexBuilding(FailingPool(after=10**6))
    built(done, ROWS)
    assert done.idle()
