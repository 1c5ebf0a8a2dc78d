"""Whether Registry.search can find anything for a text, known in memory: "registered nearby"
costs a read only when something can be there.

Registry.search matches handle keys starting with the text and entity names or aliases
containing it (both lower-cased). Kept here: a hash of every handle key's first k characters
for each k of PREFIX_LENGTHS, and of every 4 characters in a row of every entity name and alias.
A text can be found only if its first k characters are a kept prefix, k the longest of
PREFIX_LENGTHS within its length, or each of its 4-grams is a kept gram. Lengths past 8 keep
a stranger made like registered names (senatorsmithjr beside senatorsmith_) from a read: a
long shared start is common, a shared start of all but a letter or two is not. Hashes
collide now and then: that costs a read, never a missed answer. Keys are only added (a
removed account's prefixes stay): a superset is safe. The hash is a polynomial over code
points, the same in every process, computed over numpy arrays at load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from bot import limits
from bot.registered import Keys, KeySet

GRAM = 4  # Core._nearby searches names of 4 characters or more
# Every length up to 8, then sparser: 8 kept hashes for a 15-letter handle, not 12.
PREFIX_LENGTHS = (4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 32, 48, 64)
_P = 0x100000001B3  # the FNV prime: odd, large, spreads code points over 64 bits
_MASK = (1 << 64) - 1
_SIGN = 1 << 63


def search_text(text: str) -> str:
    """The text as Registry.search compares it."""
    return limits.printable(text).strip().lower()[: limits.MAX_HANDLE]


class SearchKeys:
    """The handle prefixes and name grams of the registry, as two key sets."""

    def __init__(self, prefixes: KeySet | None = None, grams: KeySet | None = None) -> None:
        self.prefixes = prefixes or KeySet()
        self.grams = grams or KeySet()

    @classmethod
    def of(cls, handles: Sequence[str], names: Sequence[str]) -> SearchKeys:
        """handles: handle keys; names: entity names and aliases (any case)."""
        return cls(KeySet(_prefix_hashes(handles)), KeySet(_gram_hashes(names)))

    def may_find(self, text: str) -> bool:
        """False only when Registry.search(text) finds nothing (for texts of GRAM characters
        or more; a shorter one is always worth a read)."""
        return self.may_find_handle(text) or self.may_find_name(text)

    def may_find_handle(self, text: str) -> bool:
        """False only when no handle key starts with text."""
        key = search_text(text)
        if len(key) < GRAM:
            return True
        kept = max(k for k in PREFIX_LENGTHS if k <= len(key))
        return _signed(_poly(key[:kept])) in self.prefixes

    def may_find_name(self, text: str) -> bool:
        """False only when no entity name or alias contains text."""
        key = search_text(text)
        return len(key) < GRAM or all(_signed(_poly(key[at : at + GRAM])) in self.grams
                                      for at in range(len(key) - GRAM + 1))

    def add(self, handle: str, names: Iterable[str]) -> None:
        """A registered account's handle key and its entity's names."""
        for value in _prefix_hashes([handle]).tolist():
            self.prefixes.add(value)
        for value in _gram_hashes(list(names)).tolist():
            self.grams.add(value)


def _poly(text: str) -> int:
    value = 0
    for char in text:
        value = (value * _P + ord(char)) & _MASK
    return value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= _SIGN else value


def _codes(texts: Sequence[str]) -> np.ndarray:
    """The lower-cased texts' code points end to end, each text followed by a 0."""
    joined = ("\0".join(texts) + "\0").lower().encode("utf-32-le", "surrogatepass")
    return np.frombuffer(joined, dtype=np.uint32).astype(np.uint64)


def _prefix_hashes(handles: Sequence[str]) -> Keys:
    """The hash of the first k characters of each handle, for each k of PREFIX_LENGTHS."""
    if not handles:
        return np.empty(0, np.int64)
    codes = _codes(handles)
    at = np.concatenate([[0], np.flatnonzero(codes == 0)[:-1] + 1])  # each one's next code
    found = []
    running = np.zeros(len(at), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(PREFIX_LENGTHS[-1]):
            step = codes[at]
            longer = step != 0  # the handle is at least k + 1 characters long
            if not longer.all():  # the others dropped: the arrays shrink as handles end
                at, running, step = at[longer], running[longer], step[longer]
                if not len(at):
                    break
            running *= np.uint64(_P)  # in place: no new array each step
            running += step
            at += 1
            if k + 1 in PREFIX_LENGTHS:
                found.append(running.copy())
    return np.concatenate(found or [np.empty(0, np.uint64)]).view(np.int64)


def _gram_hashes(names: Sequence[str]) -> Keys:
    """The hash of every GRAM characters in a row of every name (none across two names)."""
    codes = _codes(names) if names else np.empty(0, np.uint64)
    if len(codes) < GRAM:
        return np.empty(0, np.int64)
    count = len(codes) - GRAM + 1
    value = np.zeros(count, dtype=np.uint64)
    across = np.zeros(count, dtype=bool)  # the gram holds a name's end
    with np.errstate(over="ignore"):
        for at in range(GRAM):
            window = codes[at : at + count]
            value *= np.uint64(_P)  # in place: tens of millions of grams at 1M names
            value += window
            across |= window == 0
    return value[~across].view(np.int64)
