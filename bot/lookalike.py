"""Which protected (official or affiliated) accounts an unregistered account imitates.

Every candidate comes from an index, never from a scan of the registry:
- an exact map from a loose key (UTS #39 skeleton, marks dropped, case folded, separators dropped)
  to accounts: homoglyphs, tld swaps, and brands found inside longer names (affixes);
- a symmetric-deletion map (each key and its one-character deletions, as 64-bit hashes in sorted
  numpy arrays): typos within one edit, and many within two, then checked by OSA distance;
- a map from the plain handle to accounts on every platform: cross-platform lookalikes.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA

from bot.domains import split_domain
from bot.model import AccountRef, Lookalike, Reason
from bot.skeleton import skeleton

WEBSITE = "website"

# Letters the confusables table maps to `i` that look like `l` in most fonts; `m` kept apart
# (the table spells it `rn`, which would make a typo next to an `m` two edits).
_BEFORE_SKELETON = str.maketrans({"ӏ": "l", "ɩ": "l", "ı": "l", "m": "\ue000"})
_AFTER_SKELETON = str.maketrans({"\ue000": "m", "i": "l"})
# Letter pairs that read as one letter (rn/m is in the table; vv/w and cl/d are in the phishing
# data). Folding them changes lengths, so typo lookups also try the query without them.
_GLYPH_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_SEPARATORS = re.compile(r"[\s_.\-]+")
_NOT_LETTERS = re.compile(r"[\W\d_]+")

# Words impostors put around a brand: nasa_official, realnasa, login-metamask, discord-gift.
_AFFIX_TEXT = """official officials real the its support help helpdesk desk team staff login signin
    logon verify verification secure security account accounts auth connect app apps web www
    online live wallet hq news tv giveaway giveaways gift gifts free claim airdrop drop bonus
    promo reward rewards event events update service services portal site page fan fans"""

MIN_TYPO_LENGTH = 5  # shorter names differ by one letter from too many others (duo, durov)
MIN_BRAND_IN_LABEL = 6  # a brand found anywhere inside a longer domain label (not oasis in groasis)
MIN_BRAND_TOKEN = 3  # a brand standing between separators or affix words (nasa-support)
MAX_DOUBLE_DELETION = 32  # longer keys: one-deletion candidates only (bounded query cost)
_MERGE_WHILE_ADDING = 1 << 21  # bounds the unsorted tail (and the memory of a merge) in bulk adds
_PENDING_LIMIT = 4096  # hashes added since the last merge, looked up by a linear numpy scan

HOMOGLYPH_SCORE = 0.95
TLD_SWAP_SCORE = 0.9
CROSS_PLATFORM_SCORE = 0.5

Match = tuple[int, Reason, float]  # account id, why, score


def fold(written: str, pairs: bool = True) -> str:
    """Skeleton, without combining marks, case folded, with the ASCII lookalikes merged."""
    text = skeleton(written.translate(_BEFORE_SKELETON))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").casefold()
    if pairs:
        for pair, letter in _GLYPH_PAIRS:
            text = text.replace(pair, letter)
    return text.translate(_AFTER_SKELETON)


AFFIX_WORDS = frozenset(fold(word) for word in _AFFIX_TEXT.split())
_AFFIXES_LONGEST_FIRST = sorted(AFFIX_WORDS, key=lambda word: (-len(word), word))


def loose_key(written: str, pairs: bool = True) -> str:
    """The key two lookalike names share: the fold without separators."""
    return _SEPARATORS.sub("", fold(written, pairs))


def typo_bound(length: int) -> int:
    """Edits allowed between names whose shorter key has this length."""
    if length < MIN_TYPO_LENGTH:
        return 0
    return 1 if length < 9 else 2


def deletions(key: str) -> Iterator[str]:
    """The key and each string one character shorter."""
    yield key
    for i in range(len(key)):
        yield key[:i] + key[i + 1 :]


def double_deletions(key: str) -> Iterator[str]:
    """Each string two characters shorter: against the index's deletions, finds the two-edit
    typos that add a letter (an insertion plus any other edit)."""
    for i in range(len(key)):
        for j in range(i + 1, len(key)):
            yield key[:i] + key[i + 1 : j] + key[j + 1 :]


class _HashMultimap:
    """64-bit hash -> account ids, in two sorted numpy arrays plus a small unsorted tail."""

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.int64)
        self._ids = np.empty(0, dtype=np.int32)
        self._new_hashes = array("q")
        self._new_ids = array("i")
        self._new_map: dict[int, list[int]] | None = None  # the tail as a dict, built on lookup

    def add(self, hashes: Iterable[int], account: int) -> None:
        for value in hashes:
            self._new_hashes.append(value)
            self._new_ids.append(account)
        self._new_map = None

    def tail_is_large(self) -> bool:
        return len(self._new_hashes) > _MERGE_WHILE_ADDING

    def lookup(self, hashes: list[int], alive: npt.NDArray[np.bool_]) -> set[int]:
        if len(self._new_hashes) > _PENDING_LIMIT:
            self.merge(alive)
        wanted = np.array(hashes, dtype=np.int64)
        lows = np.searchsorted(self._hashes, wanted, side="left")
        highs = np.searchsorted(self._hashes, wanted, side="right")
        found = {int(i) for lo, hi in zip(lows, highs, strict=True) for i in self._ids[lo:hi]}
        if self._new_hashes:
            if self._new_map is None:
                self._new_map = {}
                for value, account in zip(self._new_hashes, self._new_ids, strict=True):
                    self._new_map.setdefault(value, []).append(account)
            for value in hashes:
                found.update(self._new_map.get(value, ()))
        return found

    def merge(self, alive: npt.NDArray[np.bool_]) -> None:
        """Sort the tail into the arrays (a sorted merge, no full re-sort); drop removed ids."""
        hashes, ids = self._hashes, self._ids
        if not alive[ids].all():
            hashes, ids = hashes[alive[ids]], ids[alive[ids]]
        new_hashes = np.array(self._new_hashes, dtype=np.int64)
        new_ids = np.array(self._new_ids, dtype=np.int32)
        self._new_hashes, self._new_ids, self._new_map = array("q"), array("i"), None
        order = np.argsort(new_hashes, kind="stable")
        order = order[alive[new_ids[order]]]
        places = np.searchsorted(hashes, new_hashes[order])
        self._hashes = np.insert(hashes, places, new_hashes[order])
        self._ids = np.insert(ids, places, new_ids[order])


@dataclass(frozen=True, slots=True)
class _Name:
    """The part of a handle or domain that a brand lives in, folded for matching."""

    key: str  # loose key of the handle, or of the domain's label
    plain: str  # the handle or label, case folded only: tells a homoglyph from the same name
    suffix: str  # the public suffix for websites, "" otherwise
    subdomain: str  # folded subdomain of a website (a brand hidden in metamask.io.evil.com)
    folded: str  # fold of the handle or label, separators kept
    unpaired: str  # loose key without glyph pairs: frnnz is still one edit from franz


def _name(ref: AccountRef, written: str) -> _Name:
    text, suffix, subdomain = written, "", ""
    if ref.platform == WEBSITE:
        parts = split_domain(written) or split_domain(ref.handle)
        if parts is not None:
            text, suffix, subdomain = parts.label, parts.suffix, fold(parts.subdomain)
    folded = fold(text)
    return _Name(
        _SEPARATORS.sub("", folded),
        text.casefold(),
        suffix,
        subdomain,
        folded,
        loose_key(text, pairs=False),
    )


class _PlatformIndex:
    def __init__(self) -> None:
        self.exact = _HashMultimap()
        self.deletions = _HashMultimap()


class LookalikeIndex:
    """Protected accounts, indexed so that find() never scans them all."""

    def __init__(self) -> None:
        self._refs: list[AccountRef | None] = []
        self._entities: list[str] = []
        self._keys: list[str] = []  # loose key per account; the rest is re-derived on a hit
        self._ids: dict[AccountRef, int] = {}
        self._alive = np.zeros(1024, dtype=bool)
        self._platforms: dict[str, _PlatformIndex] = {}
        self._handles = _HashMultimap()  # plain handle on any platform: cross-platform

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, ref: object) -> bool:
        return ref in self._ids

    def add(self, ref: AccountRef, entity: str, written: str | None = None) -> None:
        """Protect ref (an official or affiliated account); adding it again replaces it."""
        self.remove(ref)
        account, name = len(self._refs), _name(ref, written or ref.handle)
        self._refs.append(ref)
        self._entities.append(entity)
        self._keys.append(name.key)
        self._ids[ref] = account
        if account >= len(self._alive):
            self._alive = np.concatenate([self._alive, np.zeros(len(self._alive), dtype=bool)])
        self._alive[account] = True
        index = self._platforms.setdefault(ref.platform, _PlatformIndex())
        index.exact.add([hash(name.key)], account)
        if len(name.key) >= MIN_TYPO_LENGTH:
            index.deletions.add(map(hash, deletions(name.key)), account)
        self._handles.add([hash(plain_name(ref))], account)
        for multimap in (index.exact, index.deletions, self._handles):
            if multimap.tail_is_large():
                multimap.merge(self._alive)

    def remove(self, ref: AccountRef) -> None:
        """Stop protecting ref (its hashes go at the next merge; lookups skip it meanwhile)."""
        account = self._ids.pop(ref, None)
        if account is not None:
            self._refs[account] = None
            self._alive[account] = False

    def find(
        self, ref: AccountRef, written: str | None = None, limit: int = 3
    ) -> tuple[Lookalike, ...]:
        """Protected accounts that ref imitates, best first; never ref itself."""
        name = _name(ref, written or ref.handle)
        best: dict[int, Lookalike] = {}
        for account, reason, score in self._matches(ref, name):
            target = self._refs[account]
            if target is None or target == ref:
                continue
            if account not in best or score > best[account].score:
                best[account] = Lookalike(target, self._entities[account], reason, score)
        ranked = sorted(best.values(), key=lambda lk: (-lk.score, str(lk.target)))
        return tuple(ranked[:limit])

    def _matches(self, ref: AccountRef, name: _Name) -> Iterator[Match]:
        index = self._platforms.get(ref.platform)
        if index is not None and name.key:
            yield from self._same_key(index, name)
            yield from self._typos(index, name)
            yield from self._affixes(index, name)
        yield from self._cross_platform(ref)

    def _same_key(self, index: _PlatformIndex, name: _Name) -> Iterator[Match]:
        for account in index.exact.lookup([hash(name.key)], self._alive):
            target_ref = self._refs[account]
            if self._keys[account] != name.key or target_ref is None:
                continue  # a hash collision, or removed
            target = _name(target_ref, target_ref.handle)
            if target.plain != name.plain:
                yield account, Reason.HOMOGLYPH, HOMOGLYPH_SCORE
            elif target.suffix != name.suffix:
                yield account, Reason.AFFIX, TLD_SWAP_SCORE  # same label, another public suffix

    def _typos(self, index: _PlatformIndex, name: _Name) -> Iterator[Match]:
        # Subdomain labels too: in steamcommunty.com.ru the misspelt brand is left of com.
        labels = (_SEPARATORS.sub("", label) for label in name.subdomain.split("."))
        keys = {k for k in (name.key, name.unpaired, *labels) if len(k) >= MIN_TYPO_LENGTH}
        hashes: set[int] = set()
        for key in keys:
            hashes.update(map(hash, deletions(key)))
            if typo_bound(len(key) - 1) >= 2 and len(key) <= MAX_DOUBLE_DELETION:
                hashes.update(map(hash, double_deletions(key)))
        for account in index.deletions.lookup(list(hashes), self._alive):
            target = self._keys[account]
            distance = min(OSA.distance(key, target) for key in keys)
            if 0 < distance <= typo_bound(min(len(target), *map(len, keys))):
                yield account, Reason.TYPO, 0.9 - 0.6 * distance / max(len(target), 6)

    def _affixes(self, index: _PlatformIndex, name: _Name) -> Iterator[Match]:
        pieces = _brand_pieces(name)
        for account in index.exact.lookup([hash(piece) for piece in pieces], self._alive):
            target = self._keys[account]
            if target in pieces:
                yield account, Reason.AFFIX, 0.6 + 0.3 * min(len(target) / len(name.key), 1)

    def _cross_platform(self, ref: AccountRef) -> Iterator[Match]:
        # ref itself is unregistered (the caller's rule), so its platform lacks this name.
        plain = plain_name(ref)
        for account in self._handles.lookup([hash(plain)], self._alive):
            target = self._refs[account]
            if (
                target is not None
                and target.platform != ref.platform
                and plain_name(target) == plain
            ):
                yield account, Reason.CROSS_PLATFORM, CROSS_PLATFORM_SCORE


def plain_name(ref: AccountRef) -> str:
    """The name an account goes by on every platform: the handle, a website's label
    (uriminzokkiri.com), a fediverse user (nasa@mastodon.social), a Bluesky name."""
    if ref.platform == WEBSITE:
        parts = split_domain(ref.handle)
        return parts.label if parts else ref.handle
    if ref.platform == "mastodon":
        return ref.handle.partition("@")[0]
    return ref.handle.removesuffix(".bsky.social")


def _brand_pieces(name: _Name) -> set[str]:
    """Strings that may be a whole brand hidden in name: tokens, affix-stripped and substrings."""
    pieces: set[str] = set()
    for text in (name.folded, *name.subdomain.split(".")):
        tokens = [t for t in _NOT_LETTERS.split(text) if t]
        pieces.update(tokens)
        pieces.update(_strip_affix_words(t) for t in tokens)
        pieces.add("".join(t for t in tokens if t not in AFFIX_WORDS))
    if name.suffix:  # websites: a long brand anywhere inside the label or a subdomain label
        for text in (name.key, *name.subdomain.split(".")):
            pieces.update(_substrings(_SEPARATORS.sub("", text), MIN_BRAND_IN_LABEL))
    pieces.discard(name.key)
    return {p for p in pieces if len(p) >= MIN_BRAND_TOKEN}


def _strip_affix_words(token: str) -> str:
    """realnasa -> nasa, metamaskteam -> metamask: affix words cut from either end."""
    changed = True
    while changed:
        changed = False
        for word in _AFFIXES_LONGEST_FIRST:
            if token.startswith(word) and len(token) - len(word) >= MIN_BRAND_TOKEN:
                token, changed = token[len(word) :], True
            if token.endswith(word) and len(token) - len(word) >= MIN_BRAND_TOKEN:
                token, changed = token[: -len(word)], True
    return token


def _substrings(text: str, shortest: int, longest: int = 40) -> Iterator[str]:
    for start in range(len(text)):
        for end in range(start + shortest, min(len(text), start + longest) + 1):
            yield text[start:end]
