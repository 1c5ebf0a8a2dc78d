"""The lookalike index of accounts that come a few at a time (an import's, as it writes them):
folded CHUNK at a time, here or by a process of its own.

Given a pool (one process of the import's own), the pool's process folds each chunk and keeps
it; asked for the index, it builds it of its chunks and hands back the index's arrays. The
importing process only sends plain texts. So after the import's commit the index is built
there while the presence sets are read here (bot.kept.build_index), on two cores and under two
GILs: sent back chunk by chunk and built here, the build and the reads took turns at one GIL
(1M rows: the keep after the commit took 4.8-4.9 s instead of 6.3-6.8, medians of alternated
runs; the import's rows themselves were not written faster). Into a registry whose index is
kept, it hands back the batch of the import's own accounts instead, which the keep merges into
the kept index (bot.kept): nothing is read back. An import of fewer than CHUNK accounts starts
no process: they are folded here when asked for.

Whatever fails there (the process killed, a chunk lost, the result file gone or cut short)
costs time, never the index: the build (or the catch-up) reads the accounts from the registry
then. They are not kept here meanwhile: at 1M rows the importing process peaks at 828 MB, not
1,763 (its building process holds the chunks instead; the two together 1,772 MB, not 1,856).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any, TypeVar

from bot.collector import cycles_uncollected
from bot.columns import Arrays
from bot.folding import CHUNK, Batch, Folding, Row
from bot.lookalike import LookalikeIndex
from bot.model import AccountRef

log = logging.getLogger(__name__)

LOWEST_PRIORITY = 19  # the pool's process's niceness (Unix)
Texts = list[tuple[str, str, str, str | None]]  # platform, handle key, entity, handle as written
T = TypeVar("T")
_RESULT = "built.pickle"  # the index's arrays or the batch, one at a time


class IndexBuilding:
    """Distinct accounts (ref, entity, handle as written or None) indexed as they come."""

    def __init__(self, pool: Executor | None = None, folder: Path | None = None) -> None:
        """pool: one process that folds and builds (else here); folder: where it leaves the
        index's arrays (else they come back through the pool's pipe)."""
        self._pool = pool
        self._folder = str(folder) if folder is not None else None
        self._here = Folding()  # without a pool: folded as they come, names dropped after
        self._waiting: list[Row] = []  # with one: the accounts not handed to it yet
        self._count = 0  # the accounts handed to it
        self._tasks: list[Future[Any]] = []
        self._token = f"{os.getpid()}-{id(self)}"  # this building's chunks in the pool's process

    def add(self, accounts: Iterable[Row]) -> None:
        if self._pool is None:
            self._here.add(accounts)
            return
        self._waiting.extend(accounts)
        while len(self._waiting) >= CHUNK:
            self._send(self._pool, self._waiting[:CHUNK])
            del self._waiting[:CHUNK]

    def index(self) -> LookalikeIndex | None:
        """The index of every account added; None when the pool's process failed (what it
        was handed is not kept here: the registry has it, and the caller reads it)."""
        if not self._handed_out():
            return LookalikeIndex.of_batch(self._here.batch())
        arrays = self._result(build_kept, dict)
        return LookalikeIndex.from_arrays(arrays) if arrays is not None else None

    def batch(self) -> Batch | None:
        """Every account added, folded and numbered from 0, for a kept index to merge in
        (LookalikeIndex.merge_batch); None when the pool's process failed."""
        if not self._handed_out():
            return self._here.batch()
        return self._result(batch_kept, Batch)

    def _handed_out(self) -> bool:
        """Whether the pool has any of the accounts (else the few added, if any, are folded
        here: no process is started for them)."""
        if self._pool is None or not self._count:
            self._here.add(self._waiting)
            self._waiting = []
            return False
        return True

    def _result(self, task: Callable[[str, int, str | None], object], kind: type[T]) -> T | None:
        """What task made (a kind) of every account the pool was handed (the last ones handed
        now), or None when the pool's process failed."""
        assert self._pool is not None
        self._send(self._pool, self._waiting)
        self._waiting = []
        try:
            made = self._taken(self._submit(self._pool, task, self._count, self._folder).result())
            if not isinstance(made, kind):
                raise TypeError(f"the building process sent no {kind.__name__}")
            return made
        except Exception as error:  # the process died, or a chunk or the result is lost
            failed = [e for e in map(Future.exception, self._tasks) if e is not None]
            log.warning("the lookalike index's building process failed: %s",
                        failed[0] if failed else error)
            return None

    def idle(self) -> bool:
        """Whether every task handed to the pool is over (so none writes in the folder)."""
        return all(task.done() for task in self._tasks)

    def _send(self, pool: Executor, chunk: list[Row]) -> None:
        if chunk:
            texts = [(ref.platform, ref.handle, entity, written) for ref, entity, written in chunk]
            self._submit(pool, fold_kept, texts)
            self._count += len(chunk)

    def _submit(self, pool: Executor, task: Callable[..., Any], *args: object) -> Future[Any]:
        try:
            future = pool.submit(task, self._token, *args)
        except Exception as error:  # a broken pool: index() says so
            future = _failed(error)
        self._tasks.append(future)
        return future

    @staticmethod
    def _taken(result: object) -> object:
        """A task's result, read from its file when it left one (then deleted)."""
        if not isinstance(result, str):
            return result
        with open(result, "rb") as file:
            made = pickle.load(file)  # written by this import's own process, in its folder
        os.unlink(result)
        return made


def _failed(error: Exception) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(error)
    return future


# In the pool's process: each building's accounts, folded as they come (the one process runs
# the tasks in the order they were handed out).
_KEPT: dict[str, Folding] = {}


def fold_kept(token: str, accounts: Texts) -> int:
    """Fold accounts and keep them for build_kept (in the pool's process). Its collector
    paused, as the import's is."""
    with cycles_uncollected():
        _KEPT.setdefault(token, Folding()).add(
            (AccountRef(platform, handle), entity, written)
            for platform, handle, entity, written in accounts)
    return len(accounts)


def build_kept(token: str, count: int, folder: str | None) -> Arrays | str:
    """The arrays of the index of the count accounts fold_kept kept (in the pool's process);
    with a folder, left in a file there and the file's name returned. Raises LookupError when
    a chunk never came (its task failed)."""
    folding = _kept(token, count)
    with cycles_uncollected():  # the batch's chunks freed before the index's arrays are made
        arrays = LookalikeIndex.of_batch(folding.batch()).arrays()
    return _left(arrays, folder)


def batch_kept(token: str, count: int, folder: str | None) -> Batch | str:
    """The batch of the count accounts fold_kept kept (in the pool's process), as build_kept
    leaves its arrays."""
    with cycles_uncollected():
        batch = _kept(token, count).batch()
    return _left(batch, folder)


def _kept(token: str, count: int) -> Folding:
    folding = _KEPT.pop(token, Folding())
    if len(folding) != count:  # the accounts after a lost chunk are numbered wrong too
        raise LookupError(f"{count} accounts sent, {len(folding)} folded")
    return folding


def _left(made: T, folder: str | None) -> T | str:
    """made, or with a folder the name of the file it was left in (hundreds of MB would wait
    in the pool's pipe for the importing process's GIL)."""
    if folder is None:
        return made
    path = os.path.join(folder, _RESULT)
    with open(path, "wb") as file:
        pickle.dump(made, file, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def building_process_started() -> None:
    """The pool's process, at its start: Ctrl-C reaches every process of the terminal's group,
    and an interrupt is the importing process's to handle (it shuts the pool down); here it
    would only print a traceback.

    It runs at the lowest priority: the import wants its work only once every row is written,
    and the import's checks and SQLite's writer are the path to that (1M rows on two cores:
    the import took 27.6 s instead of 30.1, the median of three runs each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):  # not on Windows
        os.nice(LOWEST_PRIORITY - os.nice(0))
