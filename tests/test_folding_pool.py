"""Folding in a process of its own (bot.folding.Folding with a pool, as an import folds): the
same batch as folding here, and still the same when the pool fails at any point."""

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

from bot.folding import CHUNK, LOWEST_PRIORITY, Batch, Folding, Row
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


def folded(folding: Folding, rows: list[Row]) -> Batch:
    folding.add(rows[: CHUNK + 10])  # one chunk handed out now, the rest later
    folding.add(rows[CHUNK + 10 :])
    return folding.batch()


def assert_same(batch: Batch, expected: Batch) -> None:
    assert (batch.platforms, batch.entities) == (expected.platforms, expected.entities)
    folded, want = batch.folded, expected.folded
    for strings in ("handles", "keys"):
        assert list(map(getattr(folded, strings).__getitem__, range(len(batch)))) == list(
            map(getattr(want, strings).__getitem__, range(len(expected))))
    for column in ("letters", "unpaired", "ids", "written"):
        assert np.array_equal(getattr(folded, column), getattr(want, column))
    for entries, wanted in zip(folded.entries, want.entries, strict=True):
        assert np.array_equal(entries, wanted)


class FailingPool(Executor):
    """A pool whose process dies: its futures fail from the after-th task on, or (at_submit)
    submitting fails."""

    def __init__(self, after: int, at_submit: bool = False) -> None:
        self.after, self.at_submit, self.tasks = after, at_submit, 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        broken = BrokenProcessPool("the folding process was killed")
        if self.tasks > self.after and self.at_submit:
            raise broken
        future: Future[Any] = Future()
        if self.tasks > self.after:
            future.set_exception(broken)
        else:
            future.set_result(fn(*args, **kwargs))
        return future


ROWS = accounts(2 * CHUNK + 500)


@pytest.fixture(scope="module")
def expected() -> Batch:
    return folded(Folding(), ROWS)


@pytest.mark.parametrize("in_files", [False, True])
def test_a_process_pool_folds_what_folding_here_folds(
    expected: Batch, in_files: bool, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")  # as the import's pool: no fork of threads
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert_same(folded(Folding(pool, tmp_path if in_files else None), ROWS), expected)
    assert not list(tmp_path.iterdir())  # each result file taken, none left behind


class FileLosingPool(Executor):
    """Runs each task here; the second result's file is lost, the third's cut short."""

    def __init__(self) -> None:
        self.tasks = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        future: Future[Any] = Future()
        path = Path(fn(*args, **kwargs))
        if self.tasks == 2:
            path.unlink()
        if self.tasks == 3:
            path.write_bytes(path.read_bytes()[:100])
        future.set_result(str(path))
        return future


def test_a_result_file_lost_or_cut_short_is_folded_here(
    expected: Batch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert_same(folded(Folding(FileLosingPool(), tmp_path), ROWS), expected)
    assert "2 chunks folded here" in caplog.text


@pytest.mark.parametrize("after", [0, 1, 2])
@pytest.mark.parametrize("at_submit", [False, True])
def test_a_pool_that_fails_costs_time_never_the_batch(
    expected: Batch, after: int, at_submit: bool, caplog: pytest.LogCaptureFixture
) -> None:
    assert_same(folded(Folding(FailingPool(after, at_submit)), ROWS), expected)
    assert "the folding process failed" in caplog.text


def test_an_index_of_a_pools_batch_answers_as_one_folded_here(expected: Batch) -> None:
    pooled = LookalikeIndex.of_batch(folded(Folding(FailingPool(1)), ROWS))
    here = LookalikeIndex.of_batch(expected)
    for ref in (AccountRef("x", "office_00101"), AccountRef("x", "mrbeast7rm")):
        assert pooled.find(ref) == here.find(ref)
        assert here.find(ref)  # a lookalike of a registered one: something to agree on


def test_an_import_folds_in_a_process_of_its_own_until_an_index_is_kept(
    tmp_path: Path, expected: Batch
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        assert_same(folded(imported.folding, ROWS), expected)
        folder = imported.folding._folder
        assert folder is not None and Path(folder).is_dir()  # the results came as files
    assert not Path(folder).exists()  # and their folder went with the import
    (tmp_path / "index.bin").write_bytes(b"kept")  # a kept index: the keep catches it up
    with bootstrap.index_to_build(settings) as imported:
        assert imported is None


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
        mine = Path(imported.folding._folder or "")
        assert mine.name.startswith(f"{bootstrap.FOLD_FOLDER}{os.getpid()}-")
    assert not killed.exists()
    assert alive.exists() and unrelated.exists()
    assert not mine.exists()


def test_without_process_semaphores_an_import_folds_here(
    tmp_path: Path, expected: Batch, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def no_semaphores(*args: object, **kwargs: object) -> Executor:
        raise OSError(38, "sem_open: Function not implemented")

    monkeypatch.setattr(bootstrap, "ProcessPoolExecutor", no_semaphores)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None
        assert_same(folded(imported.folding, ROWS), expected)
    assert "folding the lookalike index in this process" in caplog.text


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
        pool = imported.folding._pool
        assert pool is not None
        assert pool.submit(interrupt_handler).result() == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # this process's untouched


def test_the_import_pools_process_folds_at_the_lowest_priority(tmp_path: Path) -> None:
    # Its results are wanted once the rows are written: the import's own work goes first.
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
                        index_file=str(tmp_path / "index.bin"))
    mine = niceness()
    with bootstrap.index_to_build(settings) as imported:
        assert imported is not None and imported.folding._pool is not None
        assert imported.folding._pool.submit(niceness).result() == LOWEST_PRIORITY
    assert niceness() == mine  # this process's untouched
