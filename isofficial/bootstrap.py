"""The one place that wires the core to real or in-memory parts."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.building import IndexBuilding, building_process_started
from bot.core import Core
from bot.guard import Guard
from bot.kept import Imported, keep, start_index
from bot.lookalike import LookalikeIndex
from bot.model import STARTER_DATA, Correction
from bot.ports import GuardStore, Registry, VerificationStore
from bot.presence import Additions
from bot.verifying import Verifier
from isofficial.settings import Settings
from knowledge.database import default_database_url, one_process_at_a_time
from knowledge.feeds.store import SqlFeedCatalog
from knowledge.guard import MemoryGuardStore, SqlGuardStore
from knowledge.importer import import_rows, read_rows
from knowledge.index_file import IndexFile, default_index_path
from knowledge.memory import MemoryChatPreferences, MemoryRegistry
from knowledge.registry import SqlChatPreferences, SqlRegistry, open_registry
from knowledge.starter_update import update_starter
from knowledge.verify.live import LiveOnFirstUse
from knowledge.verify.store import MemoryVerificationStore, SqlVerificationStore

if TYPE_CHECKING:
    from knowledge.fetcher import SafeFetcher
    from knowledge.verify.accounts import TxtLookup

log = logging.getLogger(__name__)
T = TypeVar("T")

FOLD_FOLDER = "isofficial-fold-"  # + the importing process's id: its building process's index

STARTER_BY = STARTER_DATA
OFF = "off"  # ISOFFICIAL_INDEX_FILE=off: no kept lookalike index


async def open_sql_registry(settings: Settings) -> SqlRegistry:
    """The configured registry, schema upgraded, seeded with the starter data when empty."""
    registry = await open_registry(settings.database_url or default_database_url())
    async with one_process_at_a_time(registry.engine):  # replicas must not seed it twice
        if await registry.is_empty():
            await load_starter_data(registry)
        else:
            await update_starter_data(registry)
    return registry


def _starter_files() -> list[Traversable]:
    found = files("knowledge.starter").iterdir()
    return sorted((r for r in found if r.name.endswith(".yaml")), key=lambda r: r.name)


async def load_starter_data(registry: SqlRegistry) -> None:
    for resource in _starter_files():
        text = resource.read_text(encoding="utf-8")
        result = await import_rows(registry, read_rows(io.StringIO(text), "yaml"), by=STARTER_BY)
        if result.problems:  # shipped data must be valid: fail loudly in tests, not silently
            raise RuntimeError(f"starter data {resource.name}: {result.problems[0]}")


async def update_starter_data(registry: SqlRegistry) -> int:
    """The shipped starter data's improvements, on the accounts no moderator changed."""
    changed = 0
    for resource in _starter_files():
        text = resource.read_text(encoding="utf-8")
        changed += await update_starter(registry, read_rows(io.StringIO(text), "yaml"), STARTER_BY)
    return changed


async def build_core(settings: Settings, lookalikes: bool = True) -> Core:
    """lookalikes False: skip reading every official account into the lookalike index, for
    commands that never match lookalikes (verdict, history, undo: seconds on a huge registry)."""
    return await core_on(await open_sql_registry(settings), settings, lookalikes)


async def core_on(registry: SqlRegistry, settings: Settings, lookalikes: bool = True) -> Core:
    """A core on an opened registry, its feed list and chat preferences on the same database."""
    feeds, preferences = SqlFeedCatalog(registry.engine), SqlChatPreferences(registry.engine)
    verifier = live_verifier(registry, SqlVerificationStore(registry))
    if not lookalikes:
        core = Core(registry, LookalikeIndex(), settings.moderators, feeds, preferences, verifier)
    else:
        kept = index_store(settings)
        core = await Core.start(registry, settings.moderators, feeds, preferences, verifier, kept)
    return with_guard(core, SqlGuardStore(registry.engine))


async def keep_index(
    registry: SqlRegistry, settings: Settings, imported: Imported | None = None
) -> None:
    """After a bulk change (an import, a sync, a restore): the kept lookalike index brought up
    to date now, so that the next check starts at once (built of imported, when it must be
    built whole and the import folded its accounts)."""
    store = index_store(settings)
    if store is not None:
        await keep(registry, store, await start_index(registry, store, imported=imported))


@contextmanager
def index_to_build(settings: Settings) -> Iterator[Imported | None]:
    """What an import indexes its accounts in, folded by a process of its own while the
    import goes on (None: no index is kept). With no kept index yet, the keep after it builds
    the index whole from them; with one, it merges the import's accounts into it. The process
    starts with the first chunk handed to it: an import of fewer accounts starts none."""
    store = index_store(settings)
    if store is None:
        yield None
        return
    into_kept = store.path.exists()
    # The process's index comes back as a file in a folder of this process's own: through the
    # pool's pipe, hundreds of MB would wait at every 64 KB for this process's GIL.
    _remove_stale_fold_folders()
    folder = tempfile.TemporaryDirectory(prefix=f"{FOLD_FOLDER}{os.getpid()}-",
                                         ignore_cleanup_errors=True)
    pool = _PoolOnFirstTask()
    building = IndexBuilding(pool, Path(folder.name))
    try:
        yield Imported(building, added=Additions() if into_kept else None)
    finally:  # the index is in hand by then; on a failure, nothing more is folded
        # No file lands after the folder goes: the pool's tasks over, its process may exit
        # while this one closes the registry (0.3 s at 1M rows), else it is waited for.
        pool.shutdown(wait=not building.idle(), cancel_futures=True)
        folder.cleanup()


class _PoolOnFirstTask(Executor):
    """The import's one-process pool, started at its first task; where no process can start
    (no process semaphores: some sandboxes), its tasks run here, as they come."""

    def __init__(self) -> None:
        self._pool: Executor | None = None
        self._here = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self._pool is None and not self._here:
            try:  # spawn: the import's threads (aiosqlite's) must not be forked mid-statement
                self._pool = ProcessPoolExecutor(1, multiprocessing.get_context("spawn"),
                                                 initializer=building_process_started)
            except (OSError, NotImplementedError) as error:
                log.warning("folding the lookalike index in this process: %s", error)
                self._here = True
        if self._pool is not None:
            return self._pool.submit(fn, *args, **kwargs)
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as error:  # the task's failure, as a pool would hand it back
            done.set_exception(error)
        return done

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait, cancel_futures=cancel_futures)


def _remove_stale_fold_folders() -> None:
    """The folders of imports killed before they could remove theirs (kill -9, out of memory):
    hundreds of megabytes of index arrays at a million rows. A folder names its process; one
    whose process is gone is removed (a process id reused since only keeps it for later)."""
    if os.name != "posix":  # os.kill(pid, 0) asks only on POSIX (on Windows it signals)
        return
    for stale in Path(tempfile.gettempdir()).glob(f"{FOLD_FOLDER}*-*"):
        pid = stale.name.removeprefix(FOLD_FOLDER).partition("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # another user's, or not ours to ask about: left alone
        pass
    return True


def index_store(settings: Settings) -> IndexFile | None:
    """The file the lookalike index is kept in (None: turned off, or an in-memory database)."""
    url = settings.database_url or default_database_url()
    if settings.index_file == OFF or url.endswith(":memory:"):
        return None
    path = Path(settings.index_file).expanduser() if settings.index_file else None
    return IndexFile(path or default_index_path(url), url)


async def memory_core(
    moderators: frozenset[str] = frozenset(), seed: Iterable[Correction] = ()
) -> Core:
    """A core on an in-memory registry, for tests and demos."""
    registry = MemoryRegistry()
    for correction in seed:
        await registry.apply(correction, by="seed")
    verifier = live_verifier(registry, MemoryVerificationStore(registry))
    core = await Core.start(
        registry, moderators, preferences=MemoryChatPreferences(), verifier=verifier
    )
    return with_guard(core, MemoryGuardStore())


def with_guard(core: Core, store: GuardStore) -> Core:
    """The core's guard over its index of protected accounts, kept in store."""
    core.guard = Guard(core.index, store)
    return core


def live_verifier(
    registry: Registry,
    store: VerificationStore,
    fetcher: SafeFetcher | None = None,
    txt: TxtLookup | None = None,
    plc_directory: str | None = None,
) -> Verifier:
    """Verification reading the web live through fetcher (None: a fresh safe fetcher for each
    check) and DNS TXT through txt (None: the system's resolver)."""
    return Verifier(registry, store, LiveOnFirstUse(fetcher, txt, plc_directory))
