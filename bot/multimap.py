"""A compact hash -> ids multimap: two sorted numpy arrays plus a small unsorted tail."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

_MERGE_WHILE_ADDING = 1 << 21  # bounds the unsorted tail (and the memory of a merge) in bulk adds
_PENDING_LIMIT = 4096  # hashes added since the last merge, looked up through a dict


class HashMultimap:
    """64-bit hash -> account ids, in two sorted numpy arrays plus a small unsorted tail."""

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.int64)
        self._ids = np.empty(0, dtype=np.int32)
        self._new_hashes = array("q")
        self._new_ids = array("i")
        self._new_map: dict[int, list[int]] | None = None  # the tail as a dict, built on lookup

    def add(self, hashes: Iterable[int], account: int) -> None:
        for value in hashes:
            self._new_hashes.append(value)
            self._new_ids.append(account)
        self._new_map = None

    def tail_is_large(self) -> bool:
        return len(self._new_hashes) > _MERGE_WHILE_ADDING

    def nbytes(self) -> int:
        return int(self._hashes.nbytes + self._ids.nbytes) + 12 * len(self._new_hashes)

    def lookup(self, hashes: list[int], alive: npt.NDArray[np.bool_]) -> set[int]:
        if len(self._new_hashes) > _PENDING_LIMIT:
            self.merge(alive)
        wanted = np.array(hashes, dtype=np.int64)
        lows = np.searchsorted(self._hashes, wanted, side="left")
        counts = np.searchsorted(self._hashes, wanted, side="right") - lows
        total = int(counts.sum())
        found: set[int] = set()
        if total:  # every position of every matching run, without a Python loop over them
            starts = np.repeat(lows - np.cumsum(counts) + counts, counts)
            found.update(self._ids[starts + np.arange(total)].tolist())
        if self._new_hashes:
            if self._new_map is None:
                self._new_map = {}
                for value, account in zip(self._new_hashes, self._new_ids, strict=True):
                    self._new_map.setdefault(value, []).append(account)
            for value in hashes:
                found.update(self._new_map.get(value, ()))
        return found

    def merge(self, alive: npt.NDArray[np.bool_]) -> None:
        """Sort the tail into the arrays (a sorted merge, no full re-sort); drop removed ids."""
        hashes, ids = self._hashes, self._ids
        if not alive[ids].all():
            hashes, ids = hashes[alive[ids]], ids[alive[ids]]
        new_hashes = np.array(self._new_hashes, dtype=np.int64)
        new_ids = np.array(self._new_ids, dtype=np.int32)
        self._new_hashes, self._new_ids, self._new_map = array("q"), array("i"), None
        order = np.argsort(new_hashes, kind="stable")
        order = order[alive[new_ids[order]]]
        places = np.searchsorted(hashes, new_hashes[order])
        self._hashes = np.insert(hashes, places, new_hashes[order])
        self._ids = np.insert(ids, places, new_ids[order])
