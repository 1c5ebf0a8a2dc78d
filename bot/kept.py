"""The lookalike index kept between runs: loaded from the index store and brought up to date
from the change log, or built from the whole registry when no kept one can be trusted.

What is kept is listed once, in kept_arrays() and from_kept(): each structure the core builds
from the whole registry, its arrays under its name ("lookalikes/...").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import icu
import numpy as np
import numpy.typing as npt
import xxhash

from bot.columns import Arrays
from bot.lookalike import LookalikeIndex
from bot.model import AccountRef
from bot.ports import IndexStore, KeptArrays, Registry

log = logging.getLogger(__name__)

# Changes are re-read from a little before the kept change id: on PostgreSQL a change with a
# lower id can commit after one with a higher id (reloading an account twice is harmless).
OVERLAP = 100
# More accounts changed than this share of the index: a full build is cheaper than reloading
# them one by one (benchmarks/bench_index.py measures both).
REBUILD_SHARE = 0.25
SAVE_AFTER = 2_000  # a catch-up this large (a few tenths of a second) is kept for the next start
# The code whose output the kept arrays are: any change to it makes older files untrusted.
_INDEX_CODE = ("lookalike.py", "lookalike_keys.py", "skeleton.py", "protected_accounts.py",
               "multimap.py", "columns.py", "domains.py", "platforms.py", "stable_hash.py")


@dataclass
class Started:
    """The index a core starts with, the newest change it includes, and whether to keep it."""

    index: LookalikeIndex
    change_id: int
    fresh: bool  # built or caught up so much that the store should get it


def kept_arrays(index: LookalikeIndex) -> Arrays:
    """What the index store keeps: every structure built from the whole registry, by name."""
    return {f"lookalikes/{name}": array for name, array in index.arrays().items()}


def from_kept(arrays: Mapping[str, npt.NDArray[np.generic]]) -> LookalikeIndex:
    prefix = "lookalikes/"
    return LookalikeIndex.from_arrays(
        {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
    )


@cache
def code_digest() -> str:
    """A digest of the indexing code and the data it folds with (ICU, the suffix list)."""
    digest = xxhash.xxh3_64()
    here = Path(__file__).parent
    for name in _INDEX_CODE:
        digest.update((here / name).read_bytes())
    for package in ("tldextract", "idna"):
        digest.update(metadata.version(package).encode())
    digest.update(icu.ICU_VERSION.encode())
    return digest.hexdigest()


async def start_index(registry: Registry, store: IndexStore | None) -> Started:
    """The kept index caught up with the change log, or else a full build."""
    kept = await asyncio.to_thread(store.load) if store is not None else None
    if kept is not None:
        started = await _caught_up(registry, kept)
        if started is not None:
            return started
    return await build_index(registry)


async def build_index(registry: Registry) -> Started:
    began = time.perf_counter()
    change_id = await registry.newest_change()  # before reading: later changes are re-read
    rows = [row async for batch in registry.protected() for row in batch if row[1]]
    index = LookalikeIndex.built(rows)
    log.info("lookalike index built: %d accounts in %.1f s", len(index),
             time.perf_counter() - began)
    return Started(index, change_id, fresh=True)


async def keep(registry: Registry, store: IndexStore, started: Started) -> None:
    """Give the store the index as of started.change_id (in a thread: hundreds of MB)."""
    mark = await registry.change_mark(started.change_id)
    if mark is None:
        return
    kept = KeptArrays(kept_arrays(started.index), started.change_id, mark, code_digest())
    await asyncio.to_thread(store.save, kept)


async def _caught_up(registry: Registry, kept: KeptArrays) -> Started | None:
    if kept.code != code_digest():
        log.warning("kept lookalike index built by other code: rebuilding it")
        return None
    if await registry.change_mark(kept.change_id) != kept.mark:
        log.warning("kept lookalike index is of another history (change %d): rebuilding it",
                    kept.change_id)
        return None
    index = from_kept(kept.arrays)
    newest, refs = await registry.changed_since(max(0, kept.change_id - OVERLAP))
    if len(refs) > max(SAVE_AFTER, REBUILD_SHARE * len(index)):
        log.info("%d accounts changed since the kept lookalike index: rebuilding it", len(refs))
        return None
    await reindex(registry, index, refs)
    log.info("kept lookalike index loaded: %d accounts, %d reloaded from the change log",
             len(index), len(refs))
    return Started(index, newest, fresh=len(refs) >= SAVE_AFTER)


async def reindex(registry: Registry, index: LookalikeIndex, refs: list[AccountRef]) -> None:
    """Each of refs indexed as the registry has it now."""
    for start in range(0, len(refs), 5_000):
        chunk = refs[start : start + 5_000]
        records = await registry.find(chunk)
        for ref in chunk:
            index.update(ref, records.get(ref))
