"""The keys two lookalike names share, whatever platform each is on.

A name is the part of an account people read: a handle, a website's label (uriminzokkiri of
uriminzokkiri.com), a fediverse user (nasa of nasa@mastodon.social), a Bluesky name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from bot.domains import split_domain
from bot.model import AccountRef
from bot.skeleton import Prototypes, skeleton, without_invisible

WEBSITE = "website"

# Letters the confusables table maps to `i` that look like `l` in most fonts; `m` kept apart
# (the table spells it `rn`, which would make a typo next to an `m` two edits).
_PROTOTYPES = Prototypes({ord("ӏ"): "l", ord("ɩ"): "l", ord("ı"): "l", ord("m"): "m"})
_AFTER_SKELETON = str.maketrans({"i": "l"})
# Letter pairs that read as one letter (rn/m is in the table; vv/w and cl/d are in the phishing
# data). Folding them changes lengths, so keys are also kept without them (a typo breaks a pair).
_GLYPH_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
# Digits and signs read as letters, on top of the table's 0 -> o and 1 -> l: n4s4, 0ff1c1al.
_LEET = str.maketrans({"3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "$": "s"})
_SEPARATORS = re.compile(r"[\s_.\-]+")
# What _SEPARATORS matches among ASCII characters, deleted by one table (_unseparated).
_ASCII_SEPARATORS = str.maketrans("", "", "".join(
    char for char in map(chr, range(128)) if _SEPARATORS.fullmatch(char)))
_NOT_LETTERS = re.compile(r"[\W\d_]+")
_TRAILING_DIGITS = re.compile(r"[\W_]*\d+$")
_SHORT_LAST_WORD = re.compile(r"[_.\-][^_.\-]{1,4}$")  # nasa_gov, bbc-uk: a suffix of one word

# Words impostors put around a brand: nasa_official, realnasa, login-metamask, discord-gift.
_AFFIX_TEXT = """official officials real the its support help helpdesk desk team staff login signin
    logon verify verification secure security account accounts auth connect app apps web www
    online live wallet hq news tv giveaway giveaways gift gifts free claim airdrop drop bonus
    promo reward rewards event events update service services portal site page fan fans
    admin admins administrator administration moderator moderators"""

MIN_TYPO_LENGTH = 5  # shorter names differ by one letter from too many others (duo, durov)
MIN_BRAND_IN_LABEL = 6  # a brand found anywhere inside a longer domain label (not oasis in groasis)
MIN_BRAND_TOKEN = 3  # a brand standing between separators or affix words (nasa-support)
MIN_STEM = 5  # the official minus its digits or last word: long enough to be a name still


def fold(written: str, pairs: bool = True) -> str:
    """NFKC, skeleton, without combining marks, case folded, with the ASCII lookalikes merged;
    invisible characters dropped (the caller reports them)."""
    return _finish(_prefold(written), pairs)


def _prefold(written: str) -> str:
    """The costly part of fold (the skeleton), shared by a name's folds with and without pairs."""
    if written.isascii():
        return written.translate(_ASCII_PREFOLDS)
    return _prefold_each(written)


def _prefold_each(written: str) -> str:
    text = skeleton(without_invisible(written), _PROTOTYPES)
    if not text.isascii():
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.casefold()


def _unseparated(text: str) -> str:
    """text without its separators (_SEPARATORS): an ASCII text by a table, a tenth of the
    regular expression's time (a fold makes five such passes over every account's name)."""
    return text.translate(_ASCII_SEPARATORS) if text.isascii() else _SEPARATORS.sub("", text)


def _finish(text: str, pairs: bool) -> str:
    if pairs:
        for pair, letter in _GLYPH_PAIRS:
            text = text.replace(pair, letter)
    return text.translate(_AFTER_SKELETON)


# Each step of _prefold maps ASCII one character at a time: one table does them all (and a
# NUL, which no fold makes, can stand between texts folded together as one string).
_ASCII_PREFOLDS = {code: _prefold_each(chr(code)) for code in range(128)}
_JOINER = "\0"

AFFIX_WORDS = frozenset(fold(word) for word in _AFFIX_TEXT.split())
_AFFIXES_LONGEST_FIRST = sorted(AFFIX_WORDS, key=lambda word: (-len(word), word))
_AFFIX_RANK = {word: rank for rank, word in enumerate(_AFFIXES_LONGEST_FIRST)}
_AFFIX_LENGTHS = sorted({len(word) for word in AFFIX_WORDS})
_AFFIX_ALTERNATIVES = "|".join(map(re.escape, _AFFIXES_LONGEST_FIRST))
# Anchored at the start: the end is tried on the reversed token (a search for `(...)$` tries
# every position, ten times the cost). Tokens hold no line break, which `$` would pass over.
_AFFIX_AT_START = re.compile(_AFFIX_ALTERNATIVES)
_AFFIX_AT_END_REVERSED = re.compile("|".join(re.escape(word[::-1])
                                             for word in _AFFIXES_LONGEST_FIRST))


def loose_key(written: str, pairs: bool = True) -> str:
    """The key two lookalike names share: the fold without separators."""
    return _unseparated(fold(written, pairs))


def leet(key: str) -> str:
    """A key with digits read as letters: nasa for n4s4."""
    return key.translate(_LEET)


def leets(keys: Sequence[str]) -> list[str]:
    """leet of each key, translated joined as one string (a key with a NUL: one by one)."""
    joined = _JOINER.join(keys)
    if joined.count(_JOINER) != len(keys) - 1:
        return [leet(key) for key in keys]
    return leet(joined).split(_JOINER) if keys else []


def typo_bound(length: int) -> int:
    """Edits allowed between names whose shorter key has this length."""
    if length < MIN_TYPO_LENGTH:
        return 0
    return 1 if length < 9 else 2


def deletions(key: str) -> list[str]:
    """The key and each string one character shorter (a list: built at C speed, no generator)."""
    return [key, *(key[:i] + key[i + 1 :] for i in range(len(key)))]


def double_deletions(key: str) -> list[str]:
    """Each string two characters shorter: against the index's deletions, finds the two-edit
    typos that add a letter (an insertion plus any other edit)."""
    size = len(key)
    return [key[:i] + key[i + 1 : j] + key[j + 1 :]
            for i in range(size) for j in range(i + 1, size)]


def halves(key: str) -> tuple[tuple[int, int, str], tuple[int, int, str]]:
    """Two edits leave one half of a long key as it was: each half with the key's length."""
    middle = len(key) // 2
    return (len(key), 0, key[:middle]), (len(key), 1, key[middle:])


_ALPHABET = "abcdefghjklmnopqrstuvwxyz0123456789"  # a folded key's letters (i reads as l)


def half_text(half: tuple[int, int, str]) -> str:
    """A half of a key as text (what the index hashes): its key's length, its side, its letters."""
    length, side, text = half
    return f"{length}:{side}:{text}"


def halves_texts(keys: Sequence[str]) -> list[str]:
    """half_text of both halves of each key, left then right, key after key: what a fold of
    many accounts hashes (its texts made in one loop, not two calls and a tuple each)."""
    texts: list[str] = []
    for key in keys:
        length = len(key)
        middle = length // 2
        texts += (f"{length}:0:{key[:middle]}", f"{length}:1:{key[middle:]}")
    return texts


def half_texts_with_one_substitution(key: str) -> list[str]:
    """half_text of the left half with each letter replaced: a substitution in each half (the
    case the halves alone miss) leaves the left half one substitution away. Built as texts by
    one comprehension per letter (a query makes a couple of hundred: no tuple, no format each)."""
    left = key[: len(key) // 2]
    prefix = half_text((len(key), 0, ""))
    texts: list[str] = []
    for i, letter in enumerate(left):
        head, tail = prefix + left[:i], left[i + 1 :]
        texts += [head + other + tail for other in _ALPHABET if other != letter]
    return texts


def halves_of_near_lengths(key: str) -> Iterator[tuple[int, int, str]]:
    """The halves a key two edits (of which some insertions or deletions) away would have,
    when the edits all fall in the other half."""
    for length in range(len(key) - 2, len(key) + 3):
        left, right = length // 2, length - length // 2
        if 0 < left <= len(key) and 0 < right <= len(key):
            yield length, 0, key[:left]
            yield length, 1, key[len(key) - right :]


class Name(NamedTuple):
    """The part of a handle or domain that a brand lives in, folded for matching (a named
    tuple: a fold makes one per account, at a quarter of a frozen dataclass's cost)."""

    key: str  # loose key of the name
    plain: str  # the name, case folded only: tells a homoglyph from the same name
    suffix: str  # the public suffix for websites, "" otherwise
    subdomain: str  # folded subdomain of a website (a brand hidden in metamask.io.evil.com)
    folded: str  # fold of the name, separators kept
    unpaired: str  # loose key without glyph pairs: frnnz is still one edit from franz


def name_text(platform: str, written: str) -> tuple[str, str, str]:
    """The name an account goes by on every platform, its public suffix and its subdomain."""
    if platform == WEBSITE or (platform == "bluesky" and not written.endswith(".bsky.social")):
        parts = split_domain(written)
        if parts is not None:
            return parts.label, parts.suffix if platform == WEBSITE else "", parts.subdomain
    if platform == "mastodon":
        return written.partition("@")[0], "", ""
    return written.removesuffix(".bsky.social").rpartition("/")[2], "", ""


def name_of(ref: AccountRef, written: str) -> Name:
    text, suffix, subdomain = _name_text_of(ref, written)
    prefolded = _prefold(text)
    folded = _finish(prefolded, pairs=True)
    return Name(
        _unseparated(folded),
        without_invisible(text).casefold(),
        suffix,
        fold(subdomain) if subdomain else "",
        folded,
        _unpaired(prefolded),
    )


def unpaired_key(ref: AccountRef, written: str) -> str:
    """name_of(ref, written).unpaired alone (a typo's candidates need no more of the name)."""
    return _unpaired(_prefold(_name_text_of(ref, written)[0]))


def _name_text_of(ref: AccountRef, written: str) -> tuple[str, str, str]:
    text, suffix, subdomain = name_text(ref.platform, written)
    if ref.platform == WEBSITE and not text:
        return name_text(ref.platform, ref.handle)
    return text, suffix, subdomain


def _unpaired(prefolded: str) -> str:
    return _unseparated(_finish(prefolded, pairs=False))


def names_of(accounts: Sequence[tuple[AccountRef, str]]) -> list[Name]:
    """name_of of each (ref, written): the plain ASCII ones (no domain) folded together."""
    texts = [name_text(ref.platform, written) for ref, written in accounts]
    together = [i for i, ((ref, _), (text, _, subdomain))
                in enumerate(zip(accounts, texts, strict=True))
                if ref.platform != WEBSITE and not subdomain and _joinable(text)]
    joined = _JOINER.join(texts[i][0] for i in together)
    prefolded = joined.translate(_ASCII_PREFOLDS)
    folded = _finish(prefolded, pairs=True)
    parts = (_unseparated(folded), joined.casefold(), folded,
             _unseparated(_finish(prefolded, pairs=False)))
    key, plain, folds, unpaired = (part.split(_JOINER) for part in parts)
    found = {i: Name(key[at], plain[at], "", "", folds[at], unpaired[at])
             for at, i in enumerate(together)}
    return [found.get(i) or name_of(ref, written) for i, (ref, written) in enumerate(accounts)]


def stems(name: Name) -> set[str]:
    """The official minus its digits or a short last word (taylorswift of taylorswift13)."""
    return stems_of([name])[0]


def stems_of(names: Sequence[Name]) -> list[set[str]]:
    """stems of each name, the stems' loose keys taken together."""
    cuts = [[stem for stem in {trailing, last} if len(stem) >= MIN_STEM]  # often the same
            for trailing, last in zip(*cuts_of([name.plain for name in names]), strict=True)]
    keys = iter(loose_keys([stem for cut in cuts for stem in cut]))
    found = [{next(keys) for _ in cut} for cut in cuts]
    for stems_found, name in zip(found, names, strict=True):
        stems_found.discard(name.key)
    return found


# _TRAILING_DIGITS and _SHORT_LAST_WORD over texts joined by NULs: each pattern as it is,
# except that it neither matches a NUL nor crosses one, and its $ is a text's end (or a line
# break ending it, as $ is).
_TRAILING_DIGITS_EACH = re.compile(r"(?:[^\w\0]|_)*\d+(?=\n?(?:\0|\Z))")
_SHORT_LAST_WORD_EACH = re.compile(r"[_.\-][^_.\-\0]{1,4}(?=\n?(?:\0|\Z))")


def cuts_of(plains: Sequence[str]) -> tuple[list[str], list[str]]:
    """Each plain name without its trailing digits, and without its short last word (both
    without separators): the candidate stems, each pattern run once over all the names."""
    joined = _JOINER.join(plains)
    if not plains or joined.count(_JOINER) != len(plains) - 1:  # a name with a NUL
        return ([_unseparated(_TRAILING_DIGITS.sub("", p)) for p in plains],
                [_unseparated(_SHORT_LAST_WORD.sub("", p)) for p in plains])
    # The digits' pattern is slow to fail: it is run over the names ending with a digit only.
    digits = [at for at, plain in enumerate(plains)
              if plain[-1:].isdecimal() or plain.endswith("\n")]
    trailing = list(plains)
    cut = _TRAILING_DIGITS_EACH.sub("", _JOINER.join([plains[at] for at in digits]))
    for at, text in zip(digits, cut.split(_JOINER) if digits else [], strict=True):
        trailing[at] = text
    last = _SHORT_LAST_WORD_EACH.sub("", joined)
    return (_unseparated(_JOINER.join(trailing)).split(_JOINER),
            _unseparated(last).split(_JOINER))


def loose_keys(texts: Sequence[str]) -> list[str]:
    """loose_key of each text: the ASCII ones folded together, as one string (every step maps
    a character or a letter pair, and no pair spans the NUL between two texts)."""
    if not texts:
        return []
    joined = _JOINER.join(texts)
    if joined.isascii() and joined.count(_JOINER) == len(texts) - 1:  # all joinable (most)
        return _unseparated(_finish(joined.translate(_ASCII_PREFOLDS), True)).split(_JOINER)
    together = [text for text in texts if _joinable(text)]
    joined = _JOINER.join(together).translate(_ASCII_PREFOLDS)
    keys = iter(_unseparated(_finish(joined, pairs=True)).split(_JOINER))
    return [next(keys) if _joinable(text) else loose_key(text) for text in texts]


def _joinable(text: str) -> bool:
    return text.isascii() and _JOINER not in text


def brand_pieces(name: Name) -> set[str]:
    """Strings that may be a whole brand hidden in name: tokens, affix-stripped and substrings."""
    pieces: set[str] = set()
    for text in filter(None, (name.folded, *name.subdomain.split("."))):
        letters = [t for t in _NOT_LETTERS.split(text) if t]
        # Digits kept: austinscottga08_official. Most names split alike: their pieces once.
        separated = [t for t in _SEPARATORS.split(text) if t]
        for tokens in (letters, separated) if separated != letters else (letters,):
            stripped = [_strip_affix_words(t) for t in tokens]
            pieces.update(tokens)
            pieces.update(stripped)
            pieces.add("".join(t for t in tokens if t not in AFFIX_WORDS))
            pieces.add("".join(s for t, s in zip(tokens, stripped, strict=True)
                               if t not in AFFIX_WORDS))
    if name.subdomain:  # a brand split by a dot: adam.owiczmagdalena.pl
        pieces.add(name.subdomain.rpartition(".")[2].replace("-", "") + name.key)
    if name.suffix:  # websites: a long brand anywhere inside the label or a subdomain label
        for text in (name.key, *name.subdomain.split(".")):
            pieces.update(_substrings(_unseparated(text), MIN_BRAND_IN_LABEL))
    pieces |= {leet(piece) for piece in pieces}
    pieces.discard(name.key)
    return {p for p in pieces if len(p) >= MIN_BRAND_TOKEN}


def _strip_affix_words(token: str) -> str:
    """realnasa -> nasa, metamaskteam -> metamask: affix words cut from either end (in one pass,
    each word longest first tried at the start then at the end; passes until nothing changes)."""
    changed = bool(_AFFIX_AT_START.match(token) or _AFFIX_AT_END_REVERSED.match(token[::-1]))
    while changed:
        changed = False
        tried = -1  # the words are tried in order: only those at an end of the token matter
        while (rank := _next_affix_at_an_end(token, tried)) is not None:
            tried, word = rank, _AFFIXES_LONGEST_FIRST[rank]
            if token.startswith(word) and len(token) - len(word) >= MIN_BRAND_TOKEN:
                token, changed = token[len(word) :], True
            if token.endswith(word) and len(token) - len(word) >= MIN_BRAND_TOKEN:
                token, changed = token[: -len(word)], True
    return token


def _next_affix_at_an_end(token: str, after: int) -> int | None:
    """The rank of the first affix word after rank `after` that token starts or ends with."""
    ranks = [
        rank
        for length in _AFFIX_LENGTHS
        for end in (token[:length], token[-length:])
        if (rank := _AFFIX_RANK.get(end, -1)) > after
    ]
    return min(ranks) if ranks else None


def _substrings(text: str, shortest: int, longest: int = 40) -> Iterator[str]:
    for start in range(len(text)):
        for end in range(start + shortest, min(len(text), start + longest) + 1):
            yield text[start:end]
