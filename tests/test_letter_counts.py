"""Letter counts (bot.letter_counts): a lower bound on the edit distance, so that the typo
search may drop candidates unmeasured and still find every typo it found before."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

import bot.lookalike
from bot.letter_counts import CAP, gaps, signature, signatures
from bot.lookalike import LookalikeIndex
from bot.model import AccountRef

# Letters that fold (rn, vv, cl, 0, 1), repeats past the cap, other scripts, NUL, surrogates.
texts = st.text("aaaabcdlmnrvw01_.éЅа\0\ud800", max_size=24)


@settings(max_examples=500, deadline=None)
@given(texts, texts)
def test_half_the_gap_is_at_most_the_edit_distance(one: str, other: str) -> None:
    assert gaps(signatures([one]), [signature(other)])[0] <= 2 * OSA.distance(one, other)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=20))
def test_signatures_in_bulk_are_each_keys_signature(keys: list[str]) -> None:
    assert signatures(keys).tolist() == [signature(key) for key in keys]


def test_signatures_in_bulk_cross_their_chunks() -> None:
    keys = [f"k{i}" * (i % 5) for i in range(70_000)]  # more than one chunk of 65,536
    assert signatures(keys).tolist() == [signature(key) for key in keys]


def test_counts_stop_at_the_cap() -> None:
    assert signature("a" * CAP) == signature("a" * 50)
    assert gaps(signatures(["a" * 50]), [signature("")])[0] == CAP


def test_the_least_gap_over_the_asked_keys() -> None:
    stored = signatures(["abcdef", "uvwxyz"])
    assert gaps(stored, [signature("abcdef"), signature("uvwxyq")]).tolist() == [0, 2]


# Handles sharing the query's first half, so that its candidates are more than the few measured
# unfiltered; few letters, so that many are near it; rn and vv fold (their unpaired keys are
# measured too).
suffixes = st.text("abmnrvw", min_size=6, max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(suffixes, min_size=9, max_size=30, unique=True), suffixes)
def test_find_with_the_letter_filter_is_find_without_it(ends: list[str], end: str) -> None:
    index = LookalikeIndex()
    for at, ending in enumerate(ends):
        index.add(AccountRef("x", f"senator{ending}"), f"E{at}")
    asked = AccountRef("x", f"senator{end}")
    filtered = index.find(asked, limit=50)
    with patch.object(bot.lookalike, "_FEW_CANDIDATES", 1 << 30):  # every candidate measured
        assert index.find(asked, limit=50) == filtered


def namesakes(index: LookalikeIndex, start: str = "", end: str = "") -> None:
    """Forty accounts starting or ending as a query does, each far from it in letters."""
    for number in range(40):
        middle = "".join("bcdfgkp"[(number >> shift) % 7] for shift in range(0, 14, 2))
        index.add(AccountRef("x", f"{start}{middle}{end}"), f"Other {number}")


def test_a_two_edit_typo_among_many_namesakes_of_a_half_is_found() -> None:
    index = LookalikeIndex()
    namesakes(index, start="senator")
    index.add(AccountRef("x", "senatorsmithjr"), "Senator Smith")
    found = {str(lk.target): lk.detail for lk in index.find(AccountRef("x", "senatorsmitnjx"))}
    assert found == {"x:senatorsmithjr": "2-edit"}


def test_a_typo_of_a_glyph_pair_key_is_measured_unpaired_among_many() -> None:
    index = LookalikeIndex()
    namesakes(index, start="barnbarnb")  # keys starting bambamb, as the query's
    index.add(AccountRef("x", "barnbarnbarnbarn"), "Barn")  # key bambambambam
    # Key bambambarxbarx: four edits from the target's key, two from its unpaired one, and
    # far from it in letters.
    found = {str(lk.target): lk.detail for lk in index.find(AccountRef("x", "barnbarnbarxbarx"))}
    assert found == {"x:barnbarnbarnbarn": "2-edit"}
    index = LookalikeIndex()
    namesakes(index, end="jackets")
    index.add(AccountRef("x", "hornbyjackets"), "Hornby")  # key hombyjackets
    # Three edits from the key, two from the unpaired key with letters 4 apart (h, r; x, y).
    found = {str(lk.target): lk.detail for lk in index.find(AccountRef("x", "xoynbyjackets"))}
    assert found == {"x:hornbyjackets": "2-edit"}
