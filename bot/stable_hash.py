"""A 64-bit hash that is the same in every process and on every machine.

Python's hash() of a str is salted per process, so nothing hashed with it may be kept on disk or
compared across replicas. XXH3 is fast (a few hundred nanoseconds a call from Python) and its
64 bits keep collisions negligible at tens of millions of keys; values are signed, to sit in
numpy int64 arrays.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from functools import cache

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
    """stable_hash of each text, as an int64 array: C loops (map) and the sign applied to the
    array at once, three times faster than a call per text; a text with a lone surrogate (not
    UTF-8 as it stands) sends the whole batch the slow way."""
    sized = texts if isinstance(texts, Collection) else list(texts)
    try:
        digests = map(xxhash.xxh3_64_intdigest, map(str.encode, sized))
        unsigned = np.fromiter(digests, np.uint64, len(sized))
    except UnicodeEncodeError:
        unsigned = np.fromiter(map(stable_hash, sized), np.int64, len(sized)).view(np.uint64)
    return unsigned.view(np.int64)


# Hashes of a key and of its deletions, computed from code points with numpy, without making
# the strings: a polynomial (mod 2**64) over the code points, the length mixed in, and the
# SplitMix64 finaliser (uniform top bits, as bot.multimap's directory needs). A string has one
# value however it is reached: whole (text_hashes) or as a key with characters left out.
_BASE = 0x9E3779B97F4A7C15
_INVERSE = pow(_BASE, -1, _WRAP)
_LENGTH_KEY = np.uint64(0xD6E8FEB86659FD93)
_MIX = (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9), np.uint64(27),
        np.uint64(0x94D049BB133111EB), np.uint64(31))
_powers_cache: list[npt.NDArray[np.uint64]] = []


def text_hashes(texts: Sequence[str]) -> npt.NDArray[np.int64]:
    """The polynomial hash of each text."""
    codes, starts, ends = _codes(texts)
    sums, powers = _sums(codes)
    return _finished(powers[ends] * (sums[ends] - sums[starts]), ends - starts)


def deletion_hashes(texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """For each text, the hash of the text and of each string one character shorter; and the
    position in texts each hash belongs to (deletions(text) hashed, without the strings)."""
    codes, starts, ends = _codes(texts)
    sums, powers = _sums(codes)
    whole = powers[ends] * (sums[ends] - sums[starts])
    owner = np.repeat(np.arange(len(texts)), ends - starts)
    at = np.arange(len(codes))
    start, end = starts[owner], ends[owner]
    left = powers[end - 1] * (sums[at] - sums[start])  # powers are shifted: [i] is B**(i - 1)
    cut = left + powers[end] * (sums[end] - sums[at + 1])
    hashes = np.concatenate([_finished(whole, ends - starts), _finished(cut, end - start - 1)])
    return hashes, np.concatenate([np.arange(len(texts)), owner])


def typo_hashes(text: str, doubles: bool) -> npt.NDArray[np.int64]:
    """The hash of text, of each string one character shorter and (doubles) of each string two
    characters shorter: deletions(text) and double_deletions(text), in one pass for a query."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    sums = np.zeros(len(codes) + 1, np.uint64)
    (codes * _power_tables(len(codes) + 2)[1][: len(codes)]).cumsum(out=sums[1:])
    places, factors, mixed_lengths = _typo_terms(len(text), doubles)
    return _mixed((sums[places] * factors).sum(axis=1, dtype=np.uint64) + mixed_lengths)


@cache
def _typo_terms(size: int, doubles: bool) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint64],
                                                    npt.NDArray[np.uint64]]:
    """Each string typo_hashes hashes, as the sums it adds up (five places and their factors,
    unused ones times 0) and its length's term: the same for every text of this size."""
    powers = [int(p) for p in _power_tables(size + 2)[0][: size + 2]]
    base, square = _BASE, _BASE * _BASE % _WRAP
    rows: list[tuple[tuple[int, int], ...]] = [((size, powers[size]),)]  # the text itself
    rows += [((p, powers[size - 1]), (size, powers[size]), (p + 1, -powers[size]))
             for p in range(size)]  # a deletion: text[:p] + text[p + 1 :]
    lengths = [size] + [size - 1] * size
    if doubles:
        for i, j in zip(*(part.tolist() for part in _pairs(size)), strict=True):
            scale = powers[size - 2]
            rows.append(((i, scale), (j, scale * base), (i + 1, -scale * base),
                         (size, scale * square), (j + 1, -scale * square)))
            lengths.append(size - 2)
    places = np.zeros((len(rows), 5), np.intp)
    factors = np.zeros((len(rows), 5), np.uint64)
    for at, row in enumerate(rows):
        for term, (place, factor) in enumerate(row):
            places[at, term], factors[at, term] = place, factor % _WRAP
    return places, factors, np.array(lengths, np.uint64) * _LENGTH_KEY


def _codes(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.intp],
                                          npt.NDArray[np.intp]]:
    """The texts' code points end to end, and where each text starts and ends."""
    joined = "".join(texts).encode("utf-32-le", "surrogatepass")
    lengths = np.fromiter(map(len, texts), np.intp, len(texts))
    ends = np.cumsum(lengths)
    return np.frombuffer(joined, np.uint32).astype(np.uint64), ends - lengths, ends


def _sums(codes: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """sums[j]: the first j codes, code k times B**-k; powers[i]: B**(i - 1), so that
    codes[x:y] hashes to powers[y] * (sums[y] - sums[x]) wherever it stands."""
    powers, inverse = _power_tables(len(codes) + 2)
    sums = np.zeros(len(codes) + 1, np.uint64)
    np.cumsum(codes * inverse[: len(codes)], out=sums[1:])
    return sums, powers


def _power_tables(size: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """B**(i - 1) and B**-i for i below size (at least), grown by doubling and kept."""
    if not _powers_cache or len(_powers_cache[0]) < size:
        grown = max(size, 2 * len(_powers_cache[0]) if _powers_cache else 4096)
        powers = np.full(grown, _BASE, np.uint64)
        powers[:2] = _INVERSE, 1
        inverse = np.full(grown, _INVERSE, np.uint64)
        inverse[0] = 1
        _powers_cache[:] = [np.cumprod(powers), np.cumprod(inverse)]
    return _powers_cache[0], _powers_cache[1]


@cache
def _pairs(size: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Each (i, j), i < j < size, in double_deletions' order."""
    first, second = np.triu_indices(size, 1)
    return first.astype(np.intp), second.astype(np.intp)


def _finished(values: npt.NDArray[np.uint64], lengths: npt.NDArray[np.intp]
              ) -> npt.NDArray[np.int64]:
    return _mixed(values + lengths.astype(np.uint64) * _LENGTH_KEY)


def _mixed(mixed: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """SplitMix64's finaliser, in place."""
    first, times, second, again, third = _MIX
    mixed ^= mixed >> first
    mixed *= times
    mixed ^= mixed >> second
    mixed *= again
    mixed ^= mixed >> third
    return mixed.view(np.int64)
