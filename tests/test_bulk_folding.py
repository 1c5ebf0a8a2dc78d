"""Folding in bulk (bot.folding.bulk_pairs, bot.lookalike_keys.cuts_of and loose_keys): each
step run once over many names (joined strings, numpy) gives what the name-by-name definitions
give, whatever the names hold: digits, separators, other scripts, NULs and line breaks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.folding import bulk_pairs, pairs_of
from bot.lookalike_keys import (
    _SEPARATORS,
    _SHORT_LAST_WORD,
    _TRAILING_DIGITS,
    cuts_of,
    loose_key,
    loose_keys,
    names_of,
)
from bot.model import AccountRef

# Characters that each pattern and fold treats apart: digits (ASCII and others), separators,
# whitespace, letters that fold (rn, vv, cl, leet), other scripts, NUL and line breaks.
LETTERS = "abcdlmnrvw0123456789٣_.- \t\n\0$éЅаі"
texts = st.text(LETTERS, max_size=14)
PLATFORMS = ["x", "instagram", "website", "mastodon", "bluesky", "youtube"]


def as_set(pairs: tuple[object, object]) -> set[tuple[int, int]]:
    hashes, ids = pairs
    return set(zip(hashes.tolist(), ids.tolist(), strict=True))  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=12))
def test_cuts_in_bulk_are_the_cuts_name_by_name(plains: list[str]) -> None:
    trailing, last = cuts_of(plains)
    assert trailing == [_SEPARATORS.sub("", _TRAILING_DIGITS.sub("", p)) for p in plains]
    assert last == [_SEPARATORS.sub("", _SHORT_LAST_WORD.sub("", p)) for p in plains]


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=12))
def test_loose_keys_in_bulk_are_loose_key_of_each(names: list[str]) -> None:
    assert loose_keys(names) == [loose_key(name) for name in names]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PLATFORMS), texts), max_size=10),
       st.integers(0, 1000))
def test_pairs_in_bulk_are_each_names_pairs(accounts: list[tuple[str, str]], first: int) -> None:
    names = names_of([(AccountRef(platform, handle or "a"), handle or "a")
                      for platform, handle in accounts])
    bulk = bulk_pairs(names, first)
    one_by_one: list[set[tuple[int, int]]] = [set(), set(), set()]
    for at, name in enumerate(names):
        for found, pairs in zip(one_by_one, pairs_of([name], first + at), strict=True):
            found |= as_set(pairs)
    assert [as_set(pairs) for pairs in bulk] == one_by_one


def test_names_ending_in_digits_lose_them_in_bulk() -> None:
    plains = ["taylorswift13", "nasa_gov", "bbc-uk", "a1", "x_2024", "plain"]
    trailing, last = cuts_of(plains)
    assert trailing == ["taylorswift", "nasagov", "bbcuk", "a", "x", "plain"]
    assert last == ["taylorswift13", "nasa", "bbc", "a1", "x", "plain"]
