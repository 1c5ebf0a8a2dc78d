"""A 64-bit hash that is the same in every process and on every machine.

Python's hash() of a str is salted per process, so nothing hashed with it may be kept on disk or
compared across replicas. XXH3 is fast (a few hundred nanoseconds a call from Python) and its
64 bits keep collisions negligible at tens of millions of keys; values are signed, to sit in
numpy int64 arrays.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import xxhash

_SIGN = 1 << 63
_WRAP = 1 << 64


def stable_hash(text: str) -> int:
    """The signed 64-bit XXH3 of text's UTF-8 bytes."""
    value = xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))
    return value - _WRAP if value >= _SIGN else value


def stable_hashes(texts: Iterable[str]) -> npt.NDArray[np.int64]:
    """stable_hash of each text, as an int64 array (the sign applied to the array at once)."""
    digest = xxhash.xxh3_64_intdigest
    unsigned = np.fromiter((digest(t.encode("utf-8", "surrogatepass")) for t in texts), np.uint64)
    return unsigned.view(np.int64)
