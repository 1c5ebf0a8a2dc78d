"""The lookalike index kept between runs: loaded from the index store and brought up to date
from the change log, or built from the whole registry when no kept one can be trusted.

What is kept is listed once, in kept_arrays() and from_kept(): each structure the core builds
from the whole registry, its arrays under its name ("lookalikes/...", "presence/..."). Of the
presence sets, the registered keys and the search keys follow the change log; the mentioned and
verified keys do not (feed items and verifications write no change rows): they are read anew at
every start, one narrow query each over tables far smaller than the registry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import cast

import icu
import numpy as np
import numpy.typing as npt
import xxhash

from bot.building import IndexBuilding
from bot.collector import cycles_uncollected
from bot.columns import Arrays
from bot.folding import Batch, Folding
from bot.lookalike import LookalikeIndex, protected_rows
from bot.model import AccountRecord, AccountRef
from bot.ports import IndexStore, KeptArrays, Registry, VerificationStore
from bot.presence import Additions, Presence
from bot.registered import Keys

log = logging.getLogger(__name__)

# Changes are re-read from a little before the kept change id: on PostgreSQL a change with a
# lower id can commit after one with a higher id (reloading an account twice is harmless).
OVERLAP = 100
# More accounts changed than this share of the index: a full build is cheaper than reading
# them and merging them in as a batch (benchmarks/bench_index.py --imports measures both).
REBUILD_SHARE = 0.5
BULK = 2_000  # more changed accounts than this are indexed as a batch, merged in at once
READ_BATCH = 5_000  # refs read from the registry at a time
SAVE_AFTER = 2_000  # a catch-up this large (a few tenths of a second) is kept for the next start
# Removed accounts keep their rows (ids are row numbers); when they outnumber the live ones the
# kept file is mostly dead weight, and a build compacts it.
MOST_DEAD_ROWS = 1.0
# The code whose output the kept arrays are: any change to it makes older files untrusted.
_INDEX_CODE = ("lookalike.py", "folding.py", "lookalike_keys.py", "letter_counts.py",
               "skeleton.py", "protected_accounts.py", "multimap.py", "columns.py", "domains.py",
               "platforms.py", "stable_hash.py", "presence.py", "registered.py", "search_keys.py")


@dataclass
class Imported:
    """The index's accounts indexed by an import as it wrote them, so that the keep after it
    reads none back, and the newest change once it committed (None: nothing committed, the
    keep reads the registry).

    Without added (no kept index yet): every protected account of the registry the import
    committed, in id order, for a build. With added: the import's own new ones only, to merge
    into the kept index caught up to since (the newest change before the import wrote), and
    what its new accounts add to the presence sets."""

    building: IndexBuilding = field(default_factory=IndexBuilding)
    change_id: int | None = None
    added: Additions | None = None
    since: int | None = None

    def into_kept(self, kept_at: int) -> bool:
        """Whether the import's accounts are to be merged into the index kept at change
        kept_at: one from before the import, and enough of them that reading them back would
        cost more."""
        return (self.added is not None and self.since is not None and kept_at <= self.since
                and self.change_id is not None and len(self.added) >= BULK)


@dataclass
class Started:
    """The index a core starts with, the newest change it includes, and whether to keep it."""

    index: LookalikeIndex
    change_id: int
    fresh: bool  # built or caught up so much that the store should get it
    presence: Presence | None = None


def kept_arrays(index: LookalikeIndex, presence: Presence | None) -> Arrays:
    """What the index store keeps: every structure built from the whole registry, by name."""
    kept = {f"lookalikes/{name}": array for name, array in index.arrays().items()}
    if presence is not None:
        kept.update({f"presence/{name}": array for name, array in presence.arrays().items()})
    return kept


def from_kept(
    arrays: Mapping[str, npt.NDArray[np.generic]],
) -> tuple[LookalikeIndex, Presence | None]:
    """The index and the presence sets (None: the file has none, so it cannot be trusted)."""
    presence = _named(arrays, "presence/")
    return (LookalikeIndex.from_arrays(_named(arrays, "lookalikes/")),
            Presence.from_arrays(cast(dict[str, Keys], presence)) if presence else None)


def _named(arrays: Mapping[str, npt.NDArray[np.generic]], prefix: str) -> Arrays:
    return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}


@cache
def code_digest() -> str:
    """A digest of the indexing code and the data it folds with (ICU, the suffix list)."""
    digest = xxhash.xxh3_64()
    here = Path(__file__).parent
    for name in _INDEX_CODE:
        digest.update((here / name).read_bytes())
    for package in ("publicsuffixlist", "idna"):
        digest.update(metadata.version(package).encode())
    digest.update(icu.ICU_VERSION.encode())
    return digest.hexdigest()


async def start_index(
    registry: Registry,
    store: IndexStore | None,
    verifications: VerificationStore | None = None,
    imported: Imported | None = None,
) -> Started:
    """The kept index caught up with the change log, or else a full build (of the imported
    accounts, when an import folded them)."""
    kept = await asyncio.to_thread(store.load) if store is not None else None
    if kept is not None:
        started = await _caught_up(registry, kept, verifications, imported)
        if started is not None:
            return started
    return await build_index(registry, verifications, imported)


async def build_index(
    registry: Registry,
    verifications: VerificationStore | None = None,
    imported: Imported | None = None,
) -> Started:
    began = time.perf_counter()
    with cycles_uncollected():  # at 1M accounts the collector's passes cost about 2 s
        started = None
        if imported is not None and imported.change_id is not None and imported.added is None:
            started = await _built(registry, verifications, imported.building,
                                   imported.change_id)
        if started is None:  # no import folded them, or its building process failed
            change_id = await registry.newest_change()  # before reading: later ones re-read
            building = IndexBuilding()  # the rows folded as they are read
            async for batch in registry.protected():
                building.add(row for row in batch if row[1])
            started = await _built(registry, verifications, building, change_id)
    assert started is not None  # a building without a pool always builds
    log.info("lookalike index built: %d accounts in %.1f s", len(started.index),
             time.perf_counter() - began)
    return started


async def _built(registry: Registry, verifications: VerificationStore | None,
                 building: IndexBuilding, change_id: int) -> Started | None:
    """The index built (an import's: by its building process) while the presence sets are
    read: the index in a thread, its sorts and the reads' waits releasing the GIL, the two
    sharing two cores. None: the building process failed."""
    indexing = asyncio.create_task(asyncio.to_thread(building.index))
    try:
        presence = await Presence.load(registry, verifications)
    finally:
        index = await indexing
    return Started(index, change_id, True, presence) if index is not None else None


async def keep(registry: Registry, store: IndexStore, started: Started) -> None:
    """Give the store the index as of started.change_id (in a thread: hundreds of MB)."""
    mark = await registry.change_mark(started.change_id)
    if mark is None:
        return
    arrays = kept_arrays(started.index, started.presence)
    kept = KeptArrays(arrays, started.change_id, mark, code_digest())
    await asyncio.to_thread(store.save, kept)


async def _caught_up(
    registry: Registry, kept: KeptArrays, verifications: VerificationStore | None,
    imported: Imported | None = None,
) -> Started | None:
    """The kept index brought up to date from the change log (up to an import, when its own
    accounts are merged in: _merged); None when it cannot be trusted or a build costs less."""
    if kept.code != code_digest():
        log.warning("kept lookalike index built by other code: rebuilding it")
        return None
    if await registry.change_mark(kept.change_id) != kept.mark:
        log.warning("kept lookalike index is of another history (change %d): rebuilding it",
                    kept.change_id)
        return None
    index, presence = from_kept(kept.arrays)
    if presence is None:
        log.warning("kept lookalike index has no presence sets: rebuilding it")
        return None
    dead = index.rows() - len(index)
    if dead > max(SAVE_AFTER, MOST_DEAD_ROWS * len(index)):
        log.info("kept lookalike index holds %d removed accounts' rows: rebuilding it", dead)
        return None
    # A kept index saved since the import began (by a running core) may hold its accounts:
    # it is caught up from the change log instead.
    into = imported if imported is not None and imported.into_kept(kept.change_id) else None
    until = into.since if into is not None else None
    newest, refs = await registry.changed_since(max(0, kept.change_id - OVERLAP), until)
    if len(refs) > max(SAVE_AFTER, REBUILD_SHARE * len(index)):
        log.info("%d accounts changed since the kept lookalike index: rebuilding it", len(refs))
        return None
    batching = asyncio.create_task(asyncio.to_thread(into.building.batch)) if into else None
    await presence.read_unlogged(registry, verifications)
    await reindex(registry, index, refs, presence)
    log.info("kept lookalike index loaded: %d accounts, %d reloaded from the change log",
             len(index), len(refs))
    if into is not None and batching is not None:
        if not await _merged(index, presence, into, await batching):
            return await _caught_up(registry, kept, verifications)  # the import's read back
        return Started(index, cast(int, into.change_id), True, presence)
    return Started(index, newest, len(refs) >= SAVE_AFTER, presence)


async def _merged(index: LookalikeIndex, presence: Presence, imported: Imported,
                  batch: Batch | None) -> bool:
    """The import's accounts merged in, as its building folded them (none of them was
    registered before it: none is in the index caught up to its start); False when its
    building process failed."""
    if batch is None or imported.added is None:
        return False
    merging = asyncio.create_task(asyncio.to_thread(index.merge_batch, [], batch))
    try:
        presence.added(imported.added)
    finally:
        await merging
    log.info("merged into it: %d accounts the import indexed", len(batch))
    return True


async def reindex(
    registry: Registry,
    index: LookalikeIndex,
    refs: list[AccountRef],
    presence: Presence | None = None,
) -> None:
    """Each of refs indexed (and known registered or not) as the registry has it now: one by
    one when few, else as a batch merged in (LookalikeIndex.update_all)."""
    if len(refs) < BULK:
        for start in range(0, len(refs), READ_BATCH):
            chunk = refs[start : start + READ_BATCH]
            records = await registry.find(chunk)
            for ref in chunk:
                index.update(ref, records.get(ref))
                if presence is not None:
                    presence.registered_as(ref, records.get(ref))
        return
    found: list[tuple[AccountRef, AccountRecord | None]] = []
    distinct = list(dict.fromkeys(refs))
    folding = Folding()
    for start in range(0, len(distinct), READ_BATCH):
        chunk = distinct[start : start + READ_BATCH]
        records = await registry.find(chunk)
        read = [(ref, _slim(records.get(ref))) for ref in chunk]
        folding.add(protected_rows(read))
        found += read
    index.merge_batch(distinct, folding.batch())
    if presence is not None:
        presence.registered_all(found)


def _slim(record: AccountRecord | None) -> AccountRecord | None:
    """What the index and the presence sets read of a record (a bulk catch-up holds many)."""
    if record is None:
        return None
    return AccountRecord(record.ref, record.status, record.entity, record.handle_as_written,
                         aliases=record.aliases)
