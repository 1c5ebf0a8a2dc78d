"""How many of each letter a key holds, in 64 bits: a bound on the edit distance between two
keys that costs two integer operations, not a decode and a distance.

Each code point falls in one of 32 buckets (a multiplicative hash); a key's signature holds the
count of its letters in each bucket, capped at 2, in two bits that count in unary (00, 01, 11),
so that the summed gap between two keys' counts is the number of bits their signatures differ
in. One insertion, deletion or substitution changes the counts by at most 2 in all (a
transposition by none), and capping never widens a gap: two keys d edits apart have signatures
at most 2d bits apart. A typo's candidate farther than that is no typo (bot.lookalike drops it
before decoding its key).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

BUCKETS = 32
CAP = 2
_UNARY = (0b00, 0b01, 0b11)  # a capped count's two bits
_MIX = 0x9E3779B1  # Knuth's multiplicative hash: neighbouring code points land apart
_SHIFT = 11
_CHUNK = 1 << 16  # keys counted at once: bounded temporary arrays at ten million keys

Signatures = npt.NDArray[np.uint64]


def signature(key: str) -> int:
    """The letter counts of one key (as signatures() gives them)."""
    counts = [0] * BUCKETS
    for char in key:
        counts[(ord(char) * _MIX >> _SHIFT) % BUCKETS] += 1
    return sum(_UNARY[min(count, CAP)] << (2 * bucket)
               for bucket, count in enumerate(counts) if count)


def signatures(keys: Sequence[str]) -> Signatures:
    """The letter counts of many keys at once (an empty key's are 0: most unpaired keys)."""
    found = np.zeros(len(keys), dtype=np.uint64)
    some = [at for at, key in enumerate(keys) if key]
    for start in range(0, len(some), _CHUNK):
        rows = some[start : start + _CHUNK]
        part = [keys[at] for at in rows]
        codes = np.frombuffer("".join(part).encode("utf-32-le", "surrogatepass"), np.uint32)
        owners = np.repeat(np.arange(len(part)), np.fromiter(map(len, part), np.int64, len(part)))
        # Bits 11 to 15 of the product, which its low 32 bits hold: uint32 arithmetic suffices.
        buckets = (codes * np.uint32(_MIX) >> np.uint32(_SHIFT)) % np.uint32(BUCKETS)
        counts = np.bincount(owners * BUCKETS + buckets,
                             minlength=len(part) * BUCKETS).reshape(len(part), BUCKETS)
        # Each bucket's two bits, low first: a count of 1 or more, of 2 or more (00, 01, 11).
        bits = np.stack([counts >= 1, counts >= CAP], axis=2).reshape(len(part), 2 * BUCKETS)
        found[rows] = np.packbits(bits, axis=1, bitorder="little").view("<u8").ravel()
    return found


def gaps(stored: Signatures, asked: Sequence[int]) -> npt.NDArray[np.uint8]:
    """For each stored signature, its least summed gap to any asked one: half of it (rounded
    up) is a lower bound on the edits between the keys."""
    theirs = np.array(asked, dtype=np.uint64)
    return np.bitwise_count(stored[None, :] ^ theirs[:, None]).min(axis=0)  # type: ignore[no-any-return]
