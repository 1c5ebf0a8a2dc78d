"""A compact hash -> ids multimap: two sorted numpy arrays plus a small unsorted tail."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

# Hashes added since the last merge are looked up through a dict kept beside them; past this
# many a lookup sorts them in (one merge of the arrays, tens of milliseconds at a million keys).
_PENDING_LIMIT = 1 << 16

Alive = npt.NDArray[np.bool_] | None  # which ids still count (None: all of them)
Arrays = dict[str, npt.NDArray[np.generic]]


class HashMultimap:
    """64-bit hash -> ids, in two sorted numpy arrays plus a small unsorted tail."""

    def __init__(
        self,
        hashes: npt.NDArray[np.int64] | None = None,
        ids: npt.NDArray[np.int32] | None = None,
    ) -> None:
        """hashes sorted, ids in the same order (arrays() of another multimap, or built())."""
        self._hashes = np.empty(0, dtype=np.int64) if hashes is None else hashes
        self._ids = np.empty(0, dtype=np.int32) if ids is None else ids
        self._new_hashes = array("q")
        self._new_ids = array("i")
        self._new_map: dict[int, list[int]] = {}

    @classmethod
    def built(cls, hashes: npt.NDArray[np.int64], ids: npt.NDArray[np.int32]) -> HashMultimap:
        """A multimap of these pairs, sorted once."""
        order = np.argsort(hashes, kind="stable")
        return cls(hashes[order], ids[order].astype(np.int32, copy=False))

    def arrays(self, alive: Alive = None) -> Arrays:
        """The sorted arrays, the tail merged in: what from_arrays (or the constructor) takes."""
        if self._new_hashes or (alive is not None and not alive[self._ids].all()):
            self.merge(alive)
        return {"hashes": self._hashes, "ids": self._ids}

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> HashMultimap:
        return cls(arrays["hashes"].astype(np.int64, copy=False),
                   arrays["ids"].astype(np.int32, copy=False))

    def add(self, hashes: Iterable[int], account: int) -> None:
        for value in hashes:
            self._new_hashes.append(value)
            self._new_ids.append(account)
            self._new_map.setdefault(value, []).append(account)

    def nbytes(self) -> int:
        return int(self._hashes.nbytes + self._ids.nbytes) + 12 * len(self._new_hashes)

    def lookup(self, hashes: Iterable[int], alive: Alive = None) -> set[int]:
        """The ids stored under any of hashes (with alive: only those still alive)."""
        if len(self._new_hashes) > _PENDING_LIMIT:
            self.merge(alive)
        wanted = np.unique(np.fromiter(hashes, dtype=np.int64))  # sorted: a cache-kind search
        found: set[int] = set()
        if len(self._hashes) and len(wanted):
            lows = np.searchsorted(self._hashes, wanted)
            hit = self._hashes[np.minimum(lows, len(self._hashes) - 1)] == wanted
            if hit.any():  # most hashes miss: the end of a run is searched for the hits only
                lows = lows[hit]
                counts = np.searchsorted(self._hashes, wanted[hit], side="right") - lows
                starts = np.repeat(lows - np.cumsum(counts) + counts, counts)
                ids = self._ids[starts + np.arange(int(counts.sum()))]
                found.update((ids[alive[ids]] if alive is not None else ids).tolist())
        if self._new_map:
            for value in wanted.tolist():
                found.update(i for i in self._new_map.get(value, ()) if alive is None or alive[i])
        return found

    def merge(self, alive: Alive = None) -> None:
        """Sort the tail into the arrays (a sorted merge, no full re-sort); drop removed ids."""
        hashes, ids = self._hashes, self._ids
        if alive is not None and not alive[ids].all():
            hashes, ids = hashes[alive[ids]], ids[alive[ids]]
        new_hashes = np.array(self._new_hashes, dtype=np.int64)
        new_ids = np.array(self._new_ids, dtype=np.int32)
        self._new_hashes, self._new_ids, self._new_map = array("q"), array("i"), {}
        order = np.argsort(new_hashes, kind="stable")
        if alive is not None:
            order = order[alive[new_ids[order]]]
        places = np.searchsorted(hashes, new_hashes[order])
        self._hashes = np.insert(hashes, places, new_hashes[order])
        self._ids = np.insert(ids, places, new_ids[order])
