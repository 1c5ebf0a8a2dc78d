"""A compact hash -> ids multimap: two sorted numpy arrays plus a small unsorted tail."""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

# Hashes added since the last merge are looked up through a dict kept beside them; past this
# many (or 1/64 of the arrays, so that bulk adds cost few merges) they are sorted in: one merge
# of the arrays, about a tenth of a second at twenty million hashes.
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
        if self._tail_is_long():
            self.merge()  # removed ids stay until a merge that is told which are alive

    def nbytes(self) -> int:
        return int(self._hashes.nbytes + self._ids.nbytes) + 12 * len(self._new_hashes)

    def lookup(
        self, hashes: Iterable[int] | npt.NDArray[np.int64], alive: Alive = None
    ) -> set[int]:
        """The ids stored under any of hashes (with alive: only those still alive)."""
        if self._tail_is_long():
            self.merge(alive)
        wanted = np.asarray(hashes if isinstance(hashes, np.ndarray) else list(hashes), np.int64)
        found: set[int] = set()
        stored, size = self._hashes, len(self._hashes)
        if size and len(wanted):
            lows = stored.searchsorted(wanted)
            hits = (stored[np.minimum(lows, size - 1)] == wanted).nonzero()[0]
            # Most hashes miss; each hit's run (one id, mostly) is read in Python: fewer numpy
            # calls, which cost more than the reading at these sizes.
            for position in lows[hits].tolist():
                value = stored[position]
                while position < size and stored[position] == value:
                    found.add(int(self._ids[position]))
                    position += 1
        if self._new_map:
            for value in wanted.tolist():
                found.update(self._new_map.get(value, ()))
        if alive is not None:
            found = {i for i in found if alive[i]}
        return found

    def _tail_is_long(self) -> bool:
        return len(self._new_hashes) > max(_PENDING_LIMIT, len(self._hashes) >> 6)

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
