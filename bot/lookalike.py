"""Which protected (official or affiliated) accounts an unregistered account imitates, on any
platform: the impostor rarely stands where the official does.

Every candidate comes from an index over all platforms, never from a scan of the registry:
- an exact map from loose keys (bot.lookalike_keys) to accounts: the same name elsewhere,
  homoglyphs, leetspeak, tld swaps, the official minus its digits or a short suffix, and brands
  found inside longer names (affixes);
- a symmetric-deletion map (each key, with and without glyph-pair folding, and its one-character
  deletions): typos within one edit, and many within two, then checked by OSA distance;
- a map from the halves of long keys: two substitutions in a long name leave one half intact.
Matches are graded: a two-edit typo between two plausible names is `weak` (shown, never an alarm).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from bot.columns import Arrays
from bot.folding import MIN_HALVES, Batch, Folding, pairs_of, unpaired_letters
from bot.letter_counts import gaps, signature
from bot.lookalike_keys import (
    AFFIX_WORDS,
    MIN_TYPO_LENGTH,
    Name,
    brand_pieces,
    deletions,
    half_text,
    half_texts_with_one_substitution,
    halves_of_near_lengths,
    leet,
    name_of,
    stems,
    typo_bound,
    unpaired_key,
)
from bot.model import PROTECTED, AccountRecord, AccountRef, Lookalike, Reason, Strength
from bot.multimap import HashMultimap, shifted
from bot.protected_accounts import ProtectedAccounts
from bot.stable_hash import stable_hashes, typo_hashes

WEBSITE = "website"
MAX_DOUBLE_DELETION = 32  # longer keys: one-deletion candidates only (bounded query cost)
MIN_STRONG_TYPO = 10  # shorter names: one letter off is a weak resemblance on its own
_FEW_CANDIDATES = 8  # fewer are measured at once: filtering them first costs more than it saves

HOMOGLYPH_SCORE = 0.95
TLD_SWAP_SCORE = 0.9
CROSS_PLATFORM_SCORE = 0.5  # the same name on another platform: the floor of any other-platform hit
OTHER_PLATFORM_PENALTY = 0.05  # same-platform matches rank first
NO_ACCOUNT_HERE_BONUS = 0.03  # the entity is official on the query's platform, and not as this
_MAP_NAMES = ("exact", "deletions", "halves")
_MOST_EDITS = typo_bound(1 << 30)  # the bound of the longest names: no typo is farther
_signature = lru_cache(maxsize=1024)(signature)  # a query's keys, measured in two passes


@dataclass(frozen=True, slots=True)
class _Match:
    account: int
    reason: Reason
    score: float
    strength: Strength = Strength.STRONG
    detail: str = ""


class LookalikeIndex:
    """Protected accounts of every platform, indexed so that find() never scans them all.

    Everything is numpy arrays (bot.protected_accounts, bot.multimap): arrays() hands them out
    by name and from_arrays() takes them back, so an index can be kept in a file and mapped."""

    def __init__(self, accounts: ProtectedAccounts | None = None,
                 maps: tuple[HashMultimap, HashMultimap, HashMultimap] | None = None) -> None:
        self._accounts = accounts or ProtectedAccounts()
        self._exact, self._deletions, self._halves = maps or (
            HashMultimap(), HashMultimap(), HashMultimap())

    @classmethod
    def built(cls, accounts: Iterable[tuple[AccountRef, str, str | None]]) -> LookalikeIndex:
        """An index of distinct accounts (ref, entity, handle as written or None), its hash
        arrays each sorted once."""
        folding = Folding()
        folding.add(accounts)
        return cls.of_batch(folding.batch())

    @classmethod
    def of_batch(cls, batch: Batch) -> LookalikeIndex:
        """The index of folded accounts (bot.folding), its hash arrays each sorted once: in
        threads while the accounts' columns are built (numpy sorts without the GIL)."""
        entries = batch.folded.entries
        with ThreadPoolExecutor(len(entries)) as sorting:
            maps = [sorting.submit(HashMultimap.of_runs, runs) for runs in entries]
            accounts = ProtectedAccounts.built(batch)
            exact, deletions, halves = (built.result() for built in maps)
        return cls(accounts, (exact, deletions, halves))

    def update_all(self, records: Sequence[tuple[AccountRef, AccountRecord | None]]) -> None:
        """update() of distinct refs at once: the protected ones folded as a batch (as built()
        folds them) and merged into the sorted arrays, the others removed; each array merged
        once: the change's cost plus a linear merge."""
        folding = Folding()
        folding.add(protected_rows(records))
        self.merge_batch([ref for ref, _ in records], folding.batch())

    def merge_batch(self, refs: Sequence[AccountRef], batch: Batch) -> None:
        """refs no longer indexed as they were, and the accounts of batch indexed (merged in):
        the hash arrays merged in threads (numpy sorts without the GIL)."""
        if not refs and not len(batch):  # nothing to do: no merge of every array
            return
        first = self._accounts.replace(refs, batch)
        alive = self._accounts.alive
        maps = (self._exact, self._deletions, self._halves)
        with ThreadPoolExecutor(len(maps)) as merging:
            merged = [merging.submit(multimap.add_entries, shifted(entries, first), alive)
                      for multimap, entries in zip(maps, batch.folded.entries, strict=True)]
            for done in merged:
                done.result()

    def arrays(self) -> Arrays:
        """Every array of the index, by name (the tails merged in): from_arrays takes them."""
        found = {f"accounts.{k}": v for k, v in self._accounts.arrays().items()}
        alive = self._accounts.alive
        for prefix, multimap in self._maps():
            found.update({f"{prefix}.{k}": v for k, v in multimap.arrays(alive).items()})
        return found

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> LookalikeIndex:
        """The index arrays() gave (the arrays may be read-only maps of a file)."""
        def part(prefix: str) -> Arrays:
            return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}

        accounts = ProtectedAccounts(part("accounts."))
        exact, deletions, halves = (HashMultimap.from_arrays(part(f"{name}."))
                                    for name in _MAP_NAMES)
        return cls(accounts, (exact, deletions, halves))

    def __len__(self) -> int:
        return len(self._accounts)

    def rows(self) -> int:
        """Account rows held, removed accounts' included (the hash arrays drop theirs)."""
        return self._accounts.rows()

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, AccountRef) and self._accounts.row_of(ref) is not None

    def nbytes(self) -> int:
        """Memory of the index's arrays."""
        return self._accounts.nbytes() + sum(m.nbytes() for _, m in self._maps())

    def add(self, ref: AccountRef, entity: str, written: str | None = None) -> None:
        """Protect ref (an official or affiliated account); adding it again replaces it."""
        self.remove(ref)
        name = name_of(ref, written or ref.handle)
        unpaired = unpaired_letters(ref, written, name)
        account = self._accounts.add(ref, entity, name.key, unpaired, written or ref.handle)
        for multimap, (hashes, _) in zip((self._exact, self._deletions, self._halves),
                                         pairs_of([name], 0), strict=True):
            multimap.add(hashes.tolist(), account)

    def update(self, ref: AccountRef, record: AccountRecord | None) -> None:
        """Index ref as the registry has it: protected with an entity, or not at all."""
        row = next(protected_rows([(ref, record)]), None)
        if row is None:
            self.remove(ref)
        elif not self._accounts.holds(*row):  # a catch-up re-reads accounts it has: no copy
            self.add(*row)

    def remove(self, ref: AccountRef) -> None:
        """Stop protecting ref (its hashes go at the next merge; lookups skip it meanwhile)."""
        self._accounts.remove(ref)

    def _maps(self) -> list[tuple[str, HashMultimap]]:
        return list(zip(_MAP_NAMES, (self._exact, self._deletions, self._halves), strict=True))

    def find(
        self, ref: AccountRef, written: str | None = None, limit: int = 3
    ) -> tuple[Lookalike, ...]:
        """Protected accounts that ref imitates, strong first, then same platform first, then
        closest; never ref itself."""
        name = name_of(ref, written or ref.handle)
        best: dict[int, Lookalike] = {}
        for match in self._matches(name):
            target = self._accounts.ref(match.account)
            if target == ref:
                continue
            found = self._lookalike(ref, target, match)
            known = best.get(match.account)
            if known is None or _rank(found) < _rank(known):
                best[match.account] = found
        return tuple(sorted(best.values(), key=_rank)[:limit])

    def _lookalike(self, ref: AccountRef, target: AccountRef, match: _Match) -> Lookalike:
        entity = self._accounts.entity(match.account)
        score, cross = match.score, target.platform != ref.platform
        if cross and match.reason is not Reason.CROSS_PLATFORM:
            score = max(CROSS_PLATFORM_SCORE, score - OTHER_PLATFORM_PENALTY)
        here = cross and self._accounts.entity_is_on(match.account, ref.platform)
        if here:  # the entity's account on this platform is another one: more suspicious
            score = min(1.0, score + NO_ACCOUNT_HERE_BONUS)
        return Lookalike(
            target,
            entity,
            match.reason,
            score,
            match.strength,
            cross_platform=cross,
            entity_here=here,
            detail=match.detail,
        )

    def _matches(self, name: Name) -> Iterator[_Match]:
        if name.key:
            wanted, pieces = _same_key_wanted(name), brand_pieces(name)
            asked, found = self._exact.matches(_hashes([*wanted, *pieces]), self._accounts.alive)
            same_key = set(found[asked < len(wanted)].tolist())
            yield from self._same_key(name, same_key)
            yield from self._typos(name)
            yield from self._affixes(name, pieces, set(found[asked >= len(wanted)].tolist()))

    def _target(self, account: int) -> Name:
        ref = self._accounts.ref(account)
        return name_of(ref, ref.handle)

    def _same_key(self, name: Name, accounts: set[int]) -> Iterator[_Match]:
        """The same loose key: the same name elsewhere, a homoglyph, leetspeak, a tld swap; and
        the official with its digits or a short suffix left out."""
        for account in accounts:
            yield from _same_key_match(account, name, self._target(account))

    def _typos(self, name: Name) -> Iterator[_Match]:
        # Subdomain labels too: in steamcommunty.com.ru the misspelt brand is left of com.
        labels = (label.replace("-", "") for label in name.subdomain.split("."))
        keys = {k for k in (name.key, name.unpaired, *labels) if len(k) >= MIN_TYPO_LENGTH}
        alive = self._accounts.alive
        found = list(self._verified(keys, self._deletions.lookup(_typo_hashes(keys), alive)))
        yield from found
        if len(name.key) >= MIN_HALVES and all(m.detail != "1-edit" for m in found):
            # Two edits in a long name: one half survives, or the left half is one letter off.
            wanted = [*map(half_text, halves_of_near_lengths(name.key)),
                      *half_texts_with_one_substitution(name.key)]
            near = self._halves.lookup(_hashes(wanted), alive)
            near -= {m.account for m in found}
            yield from self._verified(keys, near)

    def _verified(self, keys: set[str], accounts: set[int]) -> Iterator[_Match]:
        """Candidates within the typo bound of a key, by OSA distance; the stored key first, the
        target's key without glyph pairs only when that one is too far. Candidates whose letter
        counts are too far from every key's (bot.letter_counts) are dropped unmeasured."""
        asked = list(keys)
        candidates = np.fromiter(accounts, np.int64, len(accounts))
        unpaired = self._accounts.unpaired_letters(candidates)
        measure_unpaired = unpaired != 0
        if len(candidates) > _FEW_CANDIDATES and asked:
            # Most of a stranger's candidates share only a half with it. Both letter counts are
            # measured at once (numpy's calls cost more than their work here).
            both = gaps(np.concatenate([self._accounts.letters(candidates), unpaired]),
                        [*map(_signature, asked)]) <= 2 * _MOST_EDITS
            near = both[: len(candidates)]
            measure_unpaired &= both[len(candidates) :]
            near |= measure_unpaired
            candidates, measure_unpaired = candidates[near], measure_unpaired[near]
        if not len(candidates):
            return
        rows = candidates.tolist()
        targets = self._accounts.keys(rows)
        # Every distance at once: one call, not one per pair.
        nearest = cdist(asked, targets, scorer=OSA.distance, dtype=np.int32).min(axis=0)
        shortest = min(map(len, asked))
        # Farther than any bound, and no unpaired key to measure: most candidates, skipped here.
        for at in ((nearest <= _MOST_EDITS) | measure_unpaired).nonzero()[0].tolist():
            account, target, distance = rows[at], targets[at], int(nearest[at])
            if distance > 1 and measure_unpaired[at]:
                ref = self._accounts.ref(account)
                unpaired_target = unpaired_key(ref, ref.handle)
                distance = min(distance, *(OSA.distance(k, unpaired_target) for k in keys))
            if 0 < distance <= typo_bound(min(len(target), shortest)):
                # One letter off a long name is strong; a short name is one letter from words.
                strong = distance == 1 and len(target) >= MIN_STRONG_TYPO
                strength = Strength.STRONG if strong else Strength.WEAK
                score = 0.9 - 0.6 * distance / max(len(target), 6)
                yield _Match(account, Reason.TYPO, score, strength, f"{distance}-edit")

    def _affixes(self, name: Name, pieces: set[str], accounts: set[int]) -> Iterator[_Match]:
        for account in accounts:
            target = self._accounts.key(account)
            if target in pieces:
                score = 0.6 + 0.3 * min(len(target) / len(name.key), 1)
                yield _Match(account, Reason.AFFIX, score, _affix_strength(name, target))


def protected_rows(records: Iterable[tuple[AccountRef, AccountRecord | None]]
                   ) -> Iterator[tuple[AccountRef, str, str]]:
    """The accounts the index holds among records (ref, entity, handle as written): protected,
    with an entity."""
    for ref, record in records:
        if record is not None and record.status in PROTECTED and record.entity:
            yield ref, record.entity, record.handle_as_written


def _same_key_wanted(name: Name) -> list[str]:
    wanted = {name.key, leet(name.key)}
    if len(name.key) == 5:  # a 4-letter brand with one letter inserted (nasaa)
        wanted.update(deletions(name.key))
    return list(wanted)


def _typo_hashes(keys: set[str]) -> npt.NDArray[np.int64]:
    """Each key, its deletions and (bounded in length) its double deletions, hashed."""
    return np.concatenate([
        typo_hashes(k, typo_bound(len(k) - 1) >= 2 and len(k) <= MAX_DOUBLE_DELETION)
        for k in keys] or [np.empty(0, np.int64)])


def _hashes(texts: Iterable[str]) -> npt.NDArray[np.int64]:
    return stable_hashes(texts)


def _same_key_match(account: int, name: Name, target: Name) -> Iterator[_Match]:
    if target.key == name.key:
        if target.plain != name.plain and _unseparated(target.plain) == _unseparated(name.plain):
            yield _Match(account, Reason.HOMOGLYPH, HOMOGLYPH_SCORE, detail="separator")
        elif target.plain != name.plain:
            yield _Match(account, Reason.HOMOGLYPH, HOMOGLYPH_SCORE)
        elif target.suffix and name.suffix and target.suffix != name.suffix:
            # Namesakes under other endings are common: a second signal makes it strong.
            yield _Match(account, Reason.AFFIX, TLD_SWAP_SCORE, Strength.WEAK, "tld-swap")
        else:  # the same name (ref not being target): on another platform
            yield _Match(account, Reason.CROSS_PLATFORM, CROSS_PLATFORM_SCORE)
    elif leet(target.key) == leet(name.key):
        yield _Match(account, Reason.HOMOGLYPH, HOMOGLYPH_SCORE - 0.05, detail="leet")
    elif name.key in stems(target):
        yield _Match(account, Reason.AFFIX, 0.85, detail="part-dropped")
    elif len(target.key) == 4 and target.key in deletions(name.key):
        doubled = any(a == b for a, b in zip(name.key, name.key[1:], strict=False))
        strength = Strength.STRONG if doubled else Strength.WEAK
        yield _Match(account, Reason.TYPO, 0.75, strength, "insertion")


def _unseparated(plain: str) -> str:
    return plain.replace("_", "").replace(".", "").replace("-", "")


def _affix_strength(name: Name, brand: str) -> Strength:
    """A brand glued to one or two letters (openseas, ledgerx) is often another name, and so
    is a short one beside other words in a handle (ilhan.kyuchyuk.eu)."""
    if len(brand) >= MIN_STRONG_TYPO:
        return Strength.STRONG
    glued = 0 < len(name.key) - len(brand) <= 2 and not name.subdomain
    words = [w for w in name.folded.replace("-", "_").replace(".", "_").split("_") if w]
    beside_words = (
        not name.suffix
        and any(w != brand and w not in AFFIX_WORDS and not w.isdigit() for w in words)
        and brand in words
    )
    return Strength.WEAK if glued or beside_words else Strength.STRONG


def _rank(lookalike: Lookalike) -> tuple[bool, bool, float, str]:
    return (
        lookalike.strength is Strength.WEAK,
        lookalike.cross_platform,
        -lookalike.score,
        str(lookalike.target),
    )
