"""A compact hash -> ids multimap: one sorted numpy array of (hash, id) packed in 64 bits, with
a bucket directory, plus a small unsorted tail.

Each entry is the hash's top 32 bits over the id's 32: one array (8 bytes an entry, not 12),
sorted by np.sort (ten times faster than an argsort), a repeated pair adjacent. Two strings whose
hashes share the top 32 bits are one key here: a candidate too many, never one missing (every
candidate is verified against the text it stands for).

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
_PER_BUCKET = 4  # entries per directory bucket: between half of this and this, on average
_WINDOW = 16  # entries read from a bucket's start at once: all of nearly every bucket
_ID_BITS = 32
_HIGH = np.int64(-1 << _ID_BITS)  # the hash's part of an entry
_LOW = np.int64((1 << _ID_BITS) - 1)  # the id's
_FEW = 8  # hashes looked up one by one in Python, not with numpy
_WINDOW_STEPS = np.arange(_WINDOW)
_NO_POSITIONS = np.empty(0, dtype=np.intp)
_NO_IDS = np.empty(0, dtype=np.int32)

Alive = npt.NDArray[np.bool_] | None  # which ids still count (None: all of them)
Arrays = dict[str, npt.NDArray[np.generic]]


class HashMultimap:
    """64-bit hash -> ids: sorted packed entries and their bucket directory, plus a tail."""

    def __init__(
        self,
        entries: npt.NDArray[np.int64] | None = None,
        directory: npt.NDArray[np.generic] | None = None,
    ) -> None:
        """entries sorted (arrays() of another multimap, or built()); the directory is
        computed when not given."""
        self._entries = np.empty(0, dtype=np.int64) if entries is None else entries
        self._directory = _directory(self._entries) if directory is None else directory
        self._bits = len(self._directory).bit_length() - 1
        self._new_entries = array("q")
        self._new_map: dict[int, list[int]] = {}

    @classmethod
    def built(cls, hashes: npt.NDArray[np.int64], ids: npt.NDArray[np.int32]) -> HashMultimap:
        """A multimap of these pairs, sorted once, each pair kept once."""
        return cls(deduplicated(np.sort(packed(hashes, ids))))

    @classmethod
    def of_runs(cls, entries: npt.NDArray[np.int64]) -> HashMultimap:
        """A multimap of packed entries given as sorted runs end to end (each chunk's, sorted
        as it was folded): a stable sort merges the runs (timsort), in about half the time of
        a sort from scratch; each pair kept once."""
        return cls(deduplicated(np.sort(entries, kind="stable")))

    def arrays(self, alive: Alive = None) -> Arrays:
        """The sorted arrays, the tail merged in: what from_arrays (or the constructor) takes."""
        if self._new_entries or (alive is not None and not alive[self._ids()].all()):
            self.merge(alive)
        return {"entries": self._entries, "directory": self._directory}

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> HashMultimap:
        return cls(arrays["entries"].astype(np.int64, copy=False), arrays.get("directory"))

    def add(self, hashes: Iterable[int], account: int) -> None:
        for value in hashes:
            high = value & int(_HIGH)
            self._new_entries.append(high | account)
            self._new_map.setdefault(high, []).append(account)
        if self._tail_is_long():
            self.merge()  # removed ids stay until a merge that is told which are alive

    def nbytes(self) -> int:
        stored = self._entries.nbytes + self._directory.nbytes
        return int(stored) + 8 * len(self._new_entries)

    def lookup(
        self, hashes: Iterable[int] | npt.NDArray[np.int64], alive: Alive = None
    ) -> set[int]:
        """The ids stored under any of hashes (with alive: only those still alive)."""
        wanted = np.asarray(hashes if isinstance(hashes, np.ndarray) else list(hashes), np.int64)
        return set(self.matches(wanted, alive)[1].tolist())

    def matches(self, wanted: npt.NDArray[np.int64], alive: Alive = None
                ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
        """Each stored (hash, id) pair whose hash is wanted (with alive: whose id is alive), as
        the position of its hash in wanted and its id."""
        if self._tail_is_long():
            self.merge(alive)
        asked, ids = _NO_POSITIONS, _NO_IDS
        high = wanted & _HIGH
        if len(self._entries) and len(wanted) <= _FEW:
            asked, ids = self._few_matches(wanted.tolist())
        elif len(self._entries):
            asked, ids = self._sorted_matches(wanted, high)
        if self._new_map:
            asked, ids = self._tail_matches(high, asked, ids)
        if alive is not None and len(ids):
            kept = alive[ids]
            asked, ids = asked[kept], ids[kept]
        return asked, ids

    def _few_matches(self, wanted: list[int]) -> tuple[npt.NDArray[np.intp],
                                                       npt.NDArray[np.int32]]:
        """matches of a few hashes, bucket by bucket in Python (numpy's calls cost more)."""
        shift, middle, high = 64 - self._bits, 1 << (self._bits - 1), int(_HIGH)
        asked, ids = [], []
        for at, value in enumerate(wanted):
            bucket = (value >> shift) + middle
            start, end = self._directory[bucket : bucket + 2].tolist()
            for entry in self._entries[start:end].tolist():
                if entry & high == value & high:
                    asked.append(at)
                    ids.append(entry & int(_LOW))
        return np.array(asked, dtype=np.intp), np.array(ids, dtype=np.int32)

    def _sorted_matches(self, wanted: npt.NDArray[np.int64], high: npt.NDArray[np.int64]
                        ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
        buckets = (wanted >> (64 - self._bits)) + (1 << (self._bits - 1))
        starts = self._directory[buckets]
        sizes = self._directory[buckets + 1] - starts
        if len(self._entries) >= _WINDOW and sizes.max() <= _WINDOW:
            # A window over each bucket (from its start, or the last entries): an entry outside
            # the bucket has other top bits.
            starts = np.minimum(starts, len(self._entries) - _WINDOW)
            found = self._entries[starts[:, None] + _WINDOW_STEPS].reshape(-1)
            hit = ((found & _HIGH) == high.repeat(_WINDOW)).nonzero()[0]
            return hit // _WINDOW, (found[hit] & _LOW).astype(np.int32)
        # Every entry of every wanted bucket, however many.
        asked = np.arange(len(wanted)).repeat(sizes)
        positions = np.arange(len(asked)) + (starts - sizes.cumsum() + sizes).repeat(sizes)
        found = self._entries[positions]
        hit = (found & _HIGH) == high[asked]
        return asked[hit], (found[hit] & _LOW).astype(np.int32)

    def _tail_matches(self, high: npt.NDArray[np.int64], asked: npt.NDArray[np.intp],
                      ids: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.intp],
                                                           npt.NDArray[np.int32]]:
        highs = high.tolist()
        if self._new_map.keys().isdisjoint(highs):  # nearly always: one C pass, no Python loop
            return asked, ids
        more = [(at, i) for at, value in enumerate(highs) for i in self._new_map.get(value, ())]
        return (np.concatenate([asked, np.array([at for at, _ in more], dtype=np.intp)]),
                np.concatenate([ids, np.array([i for _, i in more], dtype=np.int32)]))

    def _ids(self) -> npt.NDArray[np.int64]:
        return self._entries & _LOW

    def _tail_is_long(self) -> bool:
        return len(self._new_entries) > max(_PENDING_LIMIT, len(self._entries) >> 6)

    def add_pairs(self, hashes: npt.NDArray[np.int64], ids: npt.NDArray[np.int32],
                  alive: Alive = None) -> None:
        """Many (hash, id) pairs at once (a bulk catch-up): sorted in with the tail, one merge."""
        self.add_entries(packed(hashes, ids), alive)

    def add_entries(self, entries: npt.NDArray[np.int64], alive: Alive = None) -> None:
        """Many packed entries at once, in any order: sorted in with the tail, one merge."""
        self.merge(alive, entries)

    def merge(self, alive: Alive = None, more: npt.NDArray[np.int64] | None = None) -> None:
        """Sort the tail (and more packed entries) into the arrays, dropping removed ids: one
        stable sort (timsort) of the sorted entries and the new ones, which merges what is
        sorted already (a batch's entries are its chunks' sorted runs): 15M entries and 14M
        new in 58 runs, 0.5 s, where a sort of the new and np.insert took 2.6-3.3 s."""
        entries = self._entries
        if alive is not None and alive.all():  # nothing removed: no look at every entry
            alive = None
        if alive is not None and not alive[self._ids()].all():
            entries = entries[alive[self._ids()]]
        new = np.array(self._new_entries, dtype=np.int64)
        if more is not None:
            new = np.concatenate([new, more]) if len(new) else more
        self._new_entries, self._new_map = array("q"), {}
        if alive is not None:
            new = new[alive[new & _LOW]]
        merged = np.concatenate([entries, new])
        merged.sort(kind="stable")  # in place: no third copy of the arrays (GBs at 10M)
        self._entries = deduplicated(merged)
        self._directory = _directory(self._entries)
        self._bits = len(self._directory).bit_length() - 1


def packed(hashes: npt.NDArray[np.int64], ids: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
    """The entry of each (hash, id) pair: the hash's top 32 bits over the id's 32."""
    return (hashes & _HIGH) | ids.astype(np.int64)


def shifted(entries: npt.NDArray[np.int64], by: int) -> npt.NDArray[np.int64]:
    """The entries with each id raised by `by` (ids stay below 2**31: the order is kept)."""
    return entries + np.int64(by)


def deduplicated(entries: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Sorted entries, each once (a pair indexed twice is adjacent)."""
    if len(entries) < 2:
        return entries
    repeated = entries[1:] == entries[:-1]
    if not repeated.any():
        return entries
    first = np.ones(len(entries), dtype=np.bool_)
    np.logical_not(repeated, out=first[1:])
    return entries[first]


def _directory(entries: npt.NDArray[np.int64]) -> npt.NDArray[np.generic]:
    """Where each bucket (the top bits of a hash) starts in the sorted entries, and the end:
    2**bits + 1 offsets (int32 while they fit: an eighth of the entries' size at most)."""
    bits = max(1, (len(entries) // _PER_BUCKET).bit_length())
    counts = np.bincount((entries >> (64 - bits)) + (1 << (bits - 1)), minlength=1 << bits)
    small = len(entries) < 1 << 31
    directory = np.zeros((1 << bits) + 1, dtype=np.int32 if small else np.int64)
    np.cumsum(counts, out=directory[1:])
    return directory
