"""Columns for a million rows without a million Python objects: strings as one UTF-8 blob and
int64 offsets (decoded one at a time, for candidates only), numbers in growing numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Arrays = dict[str, npt.NDArray[np.generic]]
_TAIL_MIN = 4096  # strings appended since the last fold kept as str, at most this or 1/8
_NUL = "\0"  # between the strings many() decodes at once (a key never holds one)


class Strings:
    """An append-only list of strings: a blob of UTF-8 plus offsets, and a short tail of str."""

    def __init__(
        self,
        blob: npt.NDArray[np.uint8] | None = None,
        offsets: npt.NDArray[np.int64] | None = None,
    ) -> None:
        self._blob = np.empty(0, dtype=np.uint8) if blob is None else blob
        self._offsets = np.zeros(1, dtype=np.int64) if offsets is None else offsets
        self._tail: list[str] = []

    @classmethod
    def of(cls, strings: Sequence[str]) -> Strings:
        encoded = [text.encode("utf-8", "surrogatepass") for text in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    @classmethod
    def joined(cls, parts: Sequence[Strings]) -> Strings:
        """The strings of parts, end to end (one copy of their blobs)."""
        for part in parts:
            part._fold()
        if not parts:
            return cls()
        sizes = np.array([len(part._blob) for part in parts], dtype=np.int64)
        shifts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        offsets = [part._offsets[1:] + shift for part, shift in zip(parts, shifts, strict=True)]
        return cls(np.concatenate([part._blob for part in parts]),
                   np.concatenate([np.zeros(1, dtype=np.int64), *offsets]))

    def __len__(self) -> int:
        return len(self._offsets) - 1 + len(self._tail)

    def __getitem__(self, row: int) -> str:
        folded = len(self._offsets) - 1
        if row >= folded:
            return self._tail[row - folded]
        start, end = self._offsets[row : row + 2].tolist()
        return self._blob[start:end].tobytes().decode("utf-8", "surrogatepass")

    def many(self, rows: Sequence[int]) -> list[str]:
        """The strings of rows, in order: their offsets read at once."""
        folded = len(self._offsets) - 1
        if rows and max(rows) >= folded:
            return [self[row] for row in rows]
        at = np.asarray(rows, dtype=np.int64)
        blob = memoryview(self._blob)  # type: ignore[arg-type]
        ranges = list(zip(self._offsets[at].tolist(), self._offsets[at + 1].tolist(), strict=True))
        # Joined by NULs, decoded and split at once: a third of the cost of one decode each.
        texts = _NUL.encode().join([blob[start:end] for start, end in ranges])
        found = texts.decode("utf-8", "surrogatepass").split(_NUL)
        if len(found) == len(rows):
            return found
        return [bytes(blob[start:end]).decode("utf-8", "surrogatepass")  # a string had a NUL
                for start, end in ranges]

    def append(self, text: str) -> int:
        """Add text; returns its row."""
        self._tail.append(text)
        if len(self._tail) > max(_TAIL_MIN, len(self._offsets) >> 3):
            self._fold()
        return len(self) - 1

    def extend(self, texts: Sequence[str] | Strings) -> int:
        """Add texts at once (one copy of the blob); returns the first one's row."""
        if isinstance(texts, Strings):
            joined = Strings.joined([self, texts])
            self._blob, self._offsets = joined._blob, joined._offsets
        else:
            self._tail.extend(texts)
            self._fold()
        return len(self) - len(texts)

    def arrays(self) -> Arrays:
        self._fold()
        return {"blob": self._blob, "offsets": self._offsets}

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> Strings:
        return cls(arrays["blob"].view(np.uint8), arrays["offsets"].astype(np.int64, copy=False))

    def nbytes(self) -> int:
        return int(self._blob.nbytes + self._offsets.nbytes)

    def _fold(self) -> None:
        if self._tail:
            tail = Strings.of(self._tail)
            self._blob = np.concatenate([self._blob, tail._blob])
            self._offsets = np.concatenate([self._offsets, tail._offsets[1:] + self._offsets[-1]])
            self._tail = []


class Column:
    """A growing numpy array (doubling its capacity), mutable in place through writable().

    Values given (a read-only map of a kept file, say) are read as they are, and copied only
    when the column is first written to: a million rows loaded cost no copy and no page read."""

    def __init__(self, dtype: type[np.generic], values: npt.NDArray[np.generic] | None = None):
        self._dtype = dtype
        self._values = np.zeros(1024, dtype=dtype) if values is None else np.asarray(values, dtype)
        self._size = 0 if values is None else len(values)
        self._owned = values is None

    def __len__(self) -> int:
        return self._size

    @property
    def values(self) -> npt.NDArray[np.generic]:
        """Every slot (read only: write through writable()); past len(), zeros or nothing."""
        return self._values

    def writable(self) -> npt.NDArray[np.generic]:
        """values, copied first if they are not this column's own."""
        if not self._owned:
            self._values = np.array(self._values[: self._size], dtype=self._dtype)
            self._owned = True
        return self._values

    def append(self, value: int | bool) -> int:
        return self.extend(np.array([value], dtype=self._dtype))

    def extend(self, values: npt.NDArray[np.generic]) -> int:
        """Append values at once (capacity doubled as needed); returns the first one's row."""
        first, size = self._size, self._size + len(values)
        if size > len(self._values) or not self._owned:
            grown = np.zeros(max(size, 2 * len(self._values), 1024), dtype=self._dtype)
            grown[:first] = self._values[:first]
            self._values, self._owned = grown, True
        self._values[first:size] = values
        self._size = size
        return first

    def array(self) -> npt.NDArray[np.generic]:
        return self._values[: self._size]
