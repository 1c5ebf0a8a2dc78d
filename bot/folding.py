"""Accounts folded for the lookalike index (bot.lookalike): their loose keys and the (hash,
account) pairs of each of its maps, a chunk at a time as they are read, the names dropped after
each. A build and a bulk catch-up fold alike, so a caught-up index is the one a build makes.

Folding is Python (ICU, key variants): one core's work, and the GIL's. A build has nothing
else to do meanwhile: two worker processes folding its chunks were measured slower on two
shared cores (200k accounts in 13 s against 6 s). An import has (bot.building).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from bot.columns import Strings
from bot.letter_counts import Signatures, signature, signatures
from bot.lookalike_keys import (
    MIN_STEM,
    MIN_TYPO_LENGTH,
    Name,
    cuts_of,
    half_text,
    halves,
    halves_texts,
    leet,
    leets,
    loose_keys,
    name_of,
    names_of,
    stems_of,
)
from bot.model import AccountRef
from bot.multimap import deduplicated, packed
from bot.stable_hash import deletion_hashes, stable_hashes

MIN_HALVES = 10  # keys this long are long enough for two substitutions
CHUNK = 1 << 14  # accounts folded at a time: their names are dropped after
Pairs = tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]  # hashes, account ids
Entries = npt.NDArray[np.int64]  # (hash, account) pairs packed (bot.multimap.packed)


@dataclass(frozen=True, slots=True)
class Folded:
    """Accounts folded, as columns: each one's handle and loose key, the letter counts of the
    key and of its unpaired key (unpaired_letters), its ref_key (bot.registered) and the stable
    hash of the handle as written (what the rest was folded from), and the entries of the exact,
    deletion and halves maps. Arrays and blobs, not a million objects: the index takes them as
    they are."""

    handles: Strings
    keys: Strings
    letters: Signatures
    unpaired: Signatures
    ids: npt.NDArray[np.int64]
    written: npt.NDArray[np.int64]
    entries: tuple[Entries, Entries, Entries]  # each sorted (a batch's: sorted runs)

    @classmethod
    def joined(cls, parts: Sequence[Folded]) -> Folded:
        """The parts end to end (each map's entries as the parts' sorted runs)."""
        def column(name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
            return np.concatenate([getattr(p, name) for p in parts] or [np.empty(0, dtype)])

        entries = tuple(np.concatenate([p.entries[at] for p in parts] or [np.empty(0, np.int64)])
                        for at in range(3))
        return cls(Strings.joined([p.handles for p in parts]),
                   Strings.joined([p.keys for p in parts]), column("letters", np.uint64),
                   column("unpaired", np.uint64), column("ids", np.int64),
                   column("written", np.int64), cast(tuple[Entries, Entries, Entries], entries))


@dataclass(frozen=True, slots=True)
class Batch:
    """Accounts folded, numbered from 0: each one's platform and entity, as given, and what
    they folded into."""

    platforms: list[str]
    entities: list[str]
    folded: Folded

    def __len__(self) -> int:
        return len(self.platforms)


Row = tuple[AccountRef, str, str | None]  # an account, its entity, its handle as written


class Folding:
    """Distinct accounts (ref, entity, handle as written or None) folded as they come, CHUNK
    at a time, their names dropped after each (bot.building folds them in a process of its own
    for an import)."""

    def __init__(self) -> None:
        self._waiting: list[Row] = []
        self._done: list[tuple[list[str], list[str], Folded]] = []  # platforms, entities
        self._count = 0

    def __len__(self) -> int:
        """The accounts added so far."""
        return self._count + len(self._waiting)

    def add(self, accounts: Iterable[Row]) -> None:
        self._waiting.extend(accounts)
        while len(self._waiting) >= CHUNK:
            self._fold(self._waiting[:CHUNK])
            del self._waiting[:CHUNK]

    def batch(self) -> Batch:
        """Every account added, folded."""
        if self._waiting:
            self._fold(self._waiting)
            self._waiting = []
        done, self._done = self._done, []
        return Batch([platform for platforms, _, _ in done for platform in platforms],
                     [entity for _, entities, _ in done for entity in entities],
                     Folded.joined([folded for _, _, folded in done]))

    def _fold(self, chunk: list[Row]) -> None:
        folded = fold([(ref, written) for ref, _, written in chunk], self._count)
        self._done.append(([ref.platform for ref, _, _ in chunk],
                           [entity for _, entity, _ in chunk], folded))
        self._count += len(chunk)


def fold(accounts: Sequence[tuple[AccountRef, str | None]], first: int) -> Folded:
    """Accounts first, first + 1, ... (ref, handle as written or None), folded."""
    written = [written or ref.handle for ref, written in accounts]
    names = names_of([(ref, handle) for (ref, _), handle in zip(accounts, written, strict=True)])
    keys = [name.key for name in names]
    unpaired = signatures([unpaired_of(ref, handle, name)
                           for (ref, handle), name in zip(accounts, names, strict=True)])
    entries = tuple(deduplicated(np.sort(packed(hashes, ids)))
                    for hashes, ids in bulk_pairs(names, first))
    return Folded(Strings.of([ref.handle for ref, _ in accounts]), Strings.of(keys),
                  signatures(keys), unpaired, stable_hashes([str(ref) for ref, _ in accounts]),
                  stable_hashes(written), cast(tuple[Entries, Entries, Entries], entries))


def bulk_pairs(names: Sequence[Name], first: int) -> tuple[Pairs, Pairs, Pairs]:
    """pairs_of, with each step run over all the names at once (joined strings, numpy): the
    same pairs, in another order and a few twice (HashMultimap keeps each pair once, sorted).
    A name's leet form, stems and unpaired key are mostly its key again: those are left out
    before they are hashed (half of a fold's pairs were such repeats)."""
    count = len(names)
    keys = [n.key for n in names]
    unpaired = [n.unpaired for n in names]
    mine = np.arange(first, first + count, dtype=np.int32)
    stems, stem_owners = _stems(names)
    leet_keys = leets(keys)
    exact = [*keys, *leet_keys, *stems]
    exact_owners = np.concatenate([mine, mine, mine[stem_owners]])
    lengths = np.concatenate([_lengths(keys)] * 2 + [_lengths(stems)])
    kept = (lengths > 0) & np.concatenate(
        [np.ones(count, np.bool_), _differ(leet_keys, keys),
         _differ(stems, [keys[at] for at in stem_owners.tolist()])])
    typo_texts = [*keys, *unpaired]
    typo_owners = np.concatenate([mine, mine])
    typo_kept = np.concatenate([lengths[:count], _lengths(unpaired)]) >= MIN_TYPO_LENGTH
    typo_kept[count:] &= _differ(unpaired, keys)
    typos, owners = deletion_hashes(list(compress(typo_texts, typo_kept)))
    long = [i for i, key in enumerate(keys) if len(key) >= MIN_HALVES]
    long_halves = halves_texts([keys[i] for i in long])
    return ((stable_hashes(list(compress(exact, kept))), exact_owners[kept]),
            (typos, typo_owners[typo_kept][owners]),
            (stable_hashes(long_halves), np.repeat(mine[long], 2)))


def _stems(names: Sequence[Name]) -> tuple[list[str], npt.NDArray[np.intp]]:
    """The loose keys of the names' stems (stems_of, unfiltered: the name's own key may be
    among them) and the position of each stem's name."""
    trailing, last = cuts_of([n.plain for n in names])
    cuts = [*trailing, *last]
    long = _lengths(cuts) >= MIN_STEM
    return loose_keys(list(compress(cuts, long))), np.tile(np.arange(len(names)), 2)[long]


def _differ(texts: Sequence[str], others: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Whether each text is another string than the other at its place."""
    return np.fromiter(map(str.__ne__, texts, others), np.bool_, len(texts))


def _lengths(texts: Sequence[str]) -> npt.NDArray[np.int64]:
    return np.fromiter(map(len, texts), np.int64, len(texts))


def pairs_of(names: Sequence[Name], first: int) -> tuple[Pairs, Pairs, Pairs]:
    """What accounts first, first + 1, ... are indexed under (HashMultimap.built sorts the
    pairs): their exact keys, the deletions of their typo keys (hashed from the keys) and the
    halves of long keys."""
    exact = [sorted({n.key, leet(n.key), *found} - {""})
             for n, found in zip(names, stems_of(names), strict=True)]
    typo_keys = [[k for k in {n.key, n.unpaired} if len(k) >= MIN_TYPO_LENGTH] for n in names]
    long_halves = [[half_text(h) for h in halves(n.key)] if len(n.key) >= MIN_HALVES else []
                   for n in names]
    typos, owners = deletion_hashes([k for keys in typo_keys for k in keys])
    return (_texts_pairs(exact, first), (typos, _owners(typo_keys, first)[owners]),
            _texts_pairs(long_halves, first))


def unpaired_of(ref: AccountRef, written: str | None, name: Name) -> str:
    """The key a typo is measured against besides the target's own: the handle's key without
    glyph pairs, when the key has an m, w or d and that is another string; else ""."""
    key = name.key
    if "m" not in key and "w" not in key and "d" not in key:  # no glyph pair folds to another
        return ""
    same = (written or ref.handle) == ref.handle
    unpaired = (name if same else name_of(ref, ref.handle)).unpaired
    return unpaired if unpaired != name.key else ""


def unpaired_letters(ref: AccountRef, written: str | None, name: Name) -> int:
    """The letter counts of unpaired_of (bot.letter_counts): 0 when there is none, as a key
    of no letters has; a typo is measured against the unpaired key only when it is not 0."""
    return signature(unpaired_of(ref, written, name))


def _owners(lists: Sequence[Sequence[object]], first: int) -> npt.NDArray[np.int32]:
    """The account of each item of the lists, end to end (list i is account first + i)."""
    sizes = np.fromiter(map(len, lists), np.int64, len(lists))
    return np.repeat(np.arange(first, first + len(lists), dtype=np.int32), sizes)


def _texts_pairs(texts: Sequence[Sequence[str]], first: int) -> Pairs:
    return stable_hashes([t for ts in texts for t in ts]), _owners(texts, first)
