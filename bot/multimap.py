"""A compact hash -> ids multimap: sorted numpy arrays with a bucket directory, plus a small
unsorted tail.

The hashes are uniform, so their top bits split the sorted array into buckets of a few entries;
a directory of where each bucket starts finds a hash in two memory reads, where a binary search
over millions of entries costs some twenty cache misses (most of a lookup's time at 1M accounts).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

# Hashes added since the last merge are looked up through a dict kept beside them; past this
# many (or 1/64 of the arrays, so that bulk adds cost few merges) they are sorted in: one merge
# of the arrays, about a tenth of a second at twenty million hashes.
_PENDING_LIMIT = 1 << 16
_PER_BUCKET = 8  # entries per directory bucket: between half of this and this, on average

Alive = npt.NDArray[np.bool_] | None  # which ids still count (None: all of them)
Arrays = dict[str, npt.NDArray[np.generic]]


class HashMultimap:
    """64-bit hash -> ids: sorted arrays and their bucket directory, plus an unsorted tail."""

    def __init__(
        self,
        hashes: npt.NDArray[np.int64] | None = None,
        ids: npt.NDArray[np.int32] | None = None,
        directory: npt.NDArray[np.generic] | None = None,
    ) -> None:
        """hashes sorted, ids in the same order (arrays() of another multimap, or built());
        the directory is computed when not given."""
        self._hashes = np.empty(0, dtype=np.int64) if hashes is None else hashes
        self._ids = np.empty(0, dtype=np.int32) if ids is None else ids
        self._directory = _directory(self._hashes) if directory is None else directory
        self._bits = len(self._directory).bit_length() - 1
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
        return {"hashes": self._hashes, "ids": self._ids, "directory": self._directory}

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> HashMultimap:
        directory = arrays.get("directory")
        return cls(arrays["hashes"].astype(np.int64, copy=False),
                   arrays["ids"].astype(np.int32, copy=False),
                   directory)

    def add(self, hashes: Iterable[int], account: int) -> None:
        for value in hashes:
            self._new_hashes.append(value)
            self._new_ids.append(account)
            self._new_map.setdefault(value, []).append(account)
        if self._tail_is_long():
            self.merge()  # removed ids stay until a merge that is told which are alive

    def nbytes(self) -> int:
        stored = self._hashes.nbytes + self._ids.nbytes + self._directory.nbytes
        return int(stored) + 12 * len(self._new_hashes)

    def lookup(
        self, hashes: Iterable[int] | npt.NDArray[np.int64], alive: Alive = None
    ) -> set[int]:
        """The ids stored under any of hashes (with alive: only those still alive)."""
        if self._tail_is_long():
            self.merge(alive)
        wanted = np.asarray(hashes if isinstance(hashes, np.ndarray) else list(hashes), np.int64)
        found: set[int] = set()
        if len(self._hashes) and len(wanted):
            buckets = (wanted >> (64 - self._bits)) + (1 << (self._bits - 1))
            starts, ends = self._directory[buckets], self._directory[buckets + 1]
            sizes = ends - starts
            # Every entry of every wanted bucket, compared at once (a few per bucket).
            positions = np.arange(int(sizes.sum())) + np.repeat(starts - np.cumsum(sizes) + sizes,
                                                                sizes)
            matching = positions[self._hashes[positions] == np.repeat(wanted, sizes)]
            found.update(self._ids[matching].tolist())
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
        self._directory = _directory(self._hashes)
        self._bits = len(self._directory).bit_length() - 1


def _directory(hashes: npt.NDArray[np.int64]) -> npt.NDArray[np.generic]:
    """Where each bucket (the top bits of a hash) starts in the sorted hashes, and the end:
    2**bits + 1 offsets (int32 while they fit: a fifth of the arrays' size at most)."""
    bits = max(1, (len(hashes) // _PER_BUCKET).bit_length())
    counts = np.bincount((hashes >> (64 - bits)) + (1 << (bits - 1)), minlength=1 << bits)
    small = len(hashes) < 1 << 31
    directory = np.zeros((1 << bits) + 1, dtype=np.int32 if small else np.int64)
    np.cumsum(counts, out=directory[1:])
    return directory
