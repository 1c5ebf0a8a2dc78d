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

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import OSA

from bot.lookalike_keys import (
    AFFIX_WORDS,
    MIN_TYPO_LENGTH,
    Name,
    brand_pieces,
    deletions,
    double_deletions,
    halves,
    halves_of_near_lengths,
    halves_with_one_substitution,
    leet,
    name_of,
    stems,
    typo_bound,
)
from bot.model import AccountRef, Lookalike, Reason, Strength
from bot.multimap import HashMultimap
from bot.platforms import PLATFORMS

WEBSITE = "website"
MAX_DOUBLE_DELETION = 32  # longer keys: one-deletion candidates only (bounded query cost)
MIN_HALVES = 10  # keys this long are long enough for two substitutions
MIN_STRONG_TYPO = 10  # shorter names: one letter off is a weak resemblance on its own

HOMOGLYPH_SCORE = 0.95
TLD_SWAP_SCORE = 0.9
CROSS_PLATFORM_SCORE = 0.5  # the same name on another platform: the floor of any other-platform hit
OTHER_PLATFORM_PENALTY = 0.05  # same-platform matches rank first
NO_ACCOUNT_HERE_BONUS = 0.03  # the entity is official on the query's platform, and not as this


@dataclass(frozen=True, slots=True)
class _Match:
    account: int
    reason: Reason
    score: float
    strength: Strength = Strength.STRONG
    detail: str = ""


class LookalikeIndex:
    """Protected accounts of every platform, indexed so that find() never scans them all."""

    def __init__(self) -> None:
        self._refs: list[AccountRef | None] = []
        self._entities: list[str] = []
        self._keys: list[str] = []  # loose key per account; the rest is re-derived on a hit
        self._ids: dict[AccountRef, int] = {}
        self._alive = np.zeros(1024, dtype=bool)
        self._exact = HashMultimap()
        self._deletions = HashMultimap()
        self._halves = HashMultimap()
        # entity -> bit mask of its platforms (compact: one int per entity); the rare second
        # account of an entity on one platform is counted apart, so removal stays exact.
        self._platforms_of: dict[str, int] = {}
        self._second_accounts: Counter[tuple[str, str]] = Counter()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, ref: object) -> bool:
        return ref in self._ids

    def nbytes(self) -> int:
        """Memory of the hash arrays (the lists of refs and keys aside)."""
        return sum(m.nbytes() for m in (self._exact, self._deletions, self._halves))

    def add(self, ref: AccountRef, entity: str, written: str | None = None) -> None:
        """Protect ref (an official or affiliated account); adding it again replaces it."""
        self.remove(ref)
        account, name = len(self._refs), name_of(ref, written or ref.handle)
        self._refs.append(ref)
        self._entities.append(entity)
        self._keys.append(name.key)
        self._ids[ref] = account
        self._note_platform(entity, ref.platform)
        if account >= len(self._alive):
            self._alive = np.concatenate([self._alive, np.zeros(len(self._alive), dtype=bool)])
        self._alive[account] = True
        exact = {name.key, leet(name.key), *stems(name)} - {""}
        self._exact.add(map(hash, exact), account)
        typo_keys = {k for k in (name.key, name.unpaired) if len(k) >= MIN_TYPO_LENGTH}
        self._deletions.add({hash(d) for k in typo_keys for d in deletions(k)}, account)
        if len(name.key) >= MIN_HALVES:
            self._halves.add(map(hash, halves(name.key)), account)
        for multimap in (self._exact, self._deletions, self._halves):
            if multimap.tail_is_large():
                multimap.merge(self._alive)

    def remove(self, ref: AccountRef) -> None:
        """Stop protecting ref (its hashes go at the next merge; lookups skip it meanwhile)."""
        account = self._ids.pop(ref, None)
        if account is not None:
            self._refs[account] = None
            self._alive[account] = False
            self._forget_platform(self._entities[account], ref.platform)

    def _note_platform(self, entity: str, platform: str) -> None:
        bit, mask = _bit(platform), self._platforms_of.get(entity, 0)
        if mask & bit:
            self._second_accounts[entity, platform] += 1
        self._platforms_of[entity] = mask | bit

    def _forget_platform(self, entity: str, platform: str) -> None:
        if self._second_accounts[entity, platform] > 0:
            self._second_accounts[entity, platform] -= 1
        else:
            self._platforms_of[entity] = self._platforms_of.get(entity, 0) & ~_bit(platform)

    def find(
        self, ref: AccountRef, written: str | None = None, limit: int = 3
    ) -> tuple[Lookalike, ...]:
        """Protected accounts that ref imitates, strong first, then same platform first, then
        closest; never ref itself."""
        name = name_of(ref, written or ref.handle)
        best: dict[int, Lookalike] = {}
        for match in self._matches(name):
            target = self._refs[match.account]
            if target is None or target == ref:
                continue
            found = self._lookalike(ref, target, match)
            known = best.get(match.account)
            if known is None or _rank(found) < _rank(known):
                best[match.account] = found
        return tuple(sorted(best.values(), key=_rank)[:limit])

    def _lookalike(self, ref: AccountRef, target: AccountRef, match: _Match) -> Lookalike:
        entity = self._entities[match.account]
        score, cross = match.score, target.platform != ref.platform
        if cross and match.reason is not Reason.CROSS_PLATFORM:
            score = max(CROSS_PLATFORM_SCORE, score - OTHER_PLATFORM_PENALTY)
        here = cross and bool(self._platforms_of.get(entity, 0) & _bit(ref.platform))
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
            yield from self._same_key(name)
            yield from self._typos(name)
            yield from self._affixes(name)

    def _target(self, account: int) -> Name | None:
        ref = self._refs[account]
        return name_of(ref, ref.handle) if ref is not None else None

    def _same_key(self, name: Name) -> Iterator[_Match]:
        """The same loose key: the same name elsewhere, a homoglyph, leetspeak, a tld swap; and
        the official with its digits or a short suffix left out."""
        wanted = {name.key, leet(name.key)}
        if len(name.key) == 5:  # a 4-letter brand with one letter inserted (nasaa)
            wanted.update(deletions(name.key))
        for account in self._exact.lookup([hash(k) for k in wanted], self._alive):
            target = self._target(account)
            if target is not None:
                yield from _same_key_match(account, name, target)

    def _typos(self, name: Name) -> Iterator[_Match]:
        # Subdomain labels too: in steamcommunty.com.ru the misspelt brand is left of com.
        labels = (label.replace("-", "") for label in name.subdomain.split("."))
        keys = {k for k in (name.key, name.unpaired, *labels) if len(k) >= MIN_TYPO_LENGTH}
        hashes: set[int] = set()
        for key in keys:
            hashes.update(map(hash, deletions(key)))
            if typo_bound(len(key) - 1) >= 2 and len(key) <= MAX_DOUBLE_DELETION:
                hashes.update(map(hash, double_deletions(key)))
        found = list(self._verified(keys, self._deletions.lookup(list(hashes), self._alive)))
        yield from found
        if len(name.key) >= MIN_HALVES and all(m.detail != "1-edit" for m in found):
            # Two edits in a long name: one half survives, or the left half is one letter off.
            wanted = [hash(h) for h in halves_of_near_lengths(name.key)]
            wanted += map(hash, halves_with_one_substitution(name.key))
            near = self._halves.lookup(wanted, self._alive) - {m.account for m in found}
            yield from self._verified(keys, near)

    def _verified(self, keys: set[str], accounts: set[int]) -> Iterator[_Match]:
        """Candidates within the typo bound of a key, by OSA distance; the stored key first, the
        target's key without glyph pairs only when that one is too far."""
        for account in accounts:
            target = self._keys[account]
            distance = min(OSA.distance(k, target) for k in keys)
            if distance > 1 and any(letter in target for letter in "mwd"):
                unpaired = self._target(account)
                if unpaired is not None:
                    distance = min(distance, *(OSA.distance(k, unpaired.unpaired) for k in keys))
            if 0 < distance <= typo_bound(min(len(target), *map(len, keys))):
                # One letter off a long name is strong; a short name is one letter from words.
                strong = distance == 1 and len(target) >= MIN_STRONG_TYPO
                strength = Strength.STRONG if strong else Strength.WEAK
                score = 0.9 - 0.6 * distance / max(len(target), 6)
                yield _Match(account, Reason.TYPO, score, strength, f"{distance}-edit")

    def _affixes(self, name: Name) -> Iterator[_Match]:
        pieces = brand_pieces(name)
        for account in self._exact.lookup([hash(piece) for piece in pieces], self._alive):
            target = self._keys[account]
            if target in pieces:
                score = 0.6 + 0.3 * min(len(target) / len(name.key), 1)
                yield _Match(account, Reason.AFFIX, score, _affix_strength(name, target))


def _bit(platform: str) -> int:
    return 1 << PLATFORMS.index(platform) if platform in PLATFORMS else 1 << len(PLATFORMS)


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
