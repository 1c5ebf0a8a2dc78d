"""The lookalike index: reasons, bounds, removal, and never the account itself."""

from __future__ import annotations

import pytest

from bot.columns import Strings
from bot.domains import split_domain
from bot.lookalike import LookalikeIndex
from bot.lookalike_keys import (
    _ALPHABET,
    _SEPARATORS,
    _unseparated,
    half_text,
    half_texts_with_one_substitution,
    halves,
    halves_texts,
    name_of,
    unpaired_key,
)
from bot.model import AccountRecord, AccountRef, Reason, Status


def x(handle: str) -> AccountRef:
    return AccountRef("x", handle.lower())


def site(domain: str) -> AccountRef:
    return AccountRef("website", domain)


@pytest.fixture
def index() -> LookalikeIndex:
    protected = LookalikeIndex()
    protected.add(x("vitalik"), "Vitalik Buterin", "Vitalik")
    protected.add(x("nasa"), "NASA", "NASA")
    protected.add(x("durov"), "Pavel Durov")
    protected.add(x("MrBeast"), "MrBeast", "MrBeast")
    protected.add(AccountRef("youtube", "uriminzok"), "Uriminzokkiri")
    protected.add(site("apple.com"), "Apple")
    protected.add(site("metamask.io"), "MetaMask")
    return protected


def reasons(index: LookalikeIndex, ref: AccountRef, written: str | None = None) -> dict[str, str]:
    return {str(lk.target): lk.reason.value for lk in index.find(ref, written)}


def test_capital_i_for_small_l_is_a_homoglyph(index: LookalikeIndex) -> None:
    assert reasons(index, x("vitaiik"), "VitaIik") == {"x:vitalik": "homoglyph"}


def test_cyrillic_idn_is_a_homoglyph_of_the_latin_domain(index: LookalikeIndex) -> None:
    found = index.find(site("xn--80ak6aa92e.com"))  # аррӏе.com
    assert [(str(lk.target), lk.reason) for lk in found] == [
        ("website:apple.com", Reason.HOMOGLYPH)
    ]
    assert 0 < found[0].score <= 1


def test_short_names_are_not_typos_of_longer_ones(index: LookalikeIndex) -> None:
    assert index.find(x("duo")) == ()
    assert index.find(x("mrbean"), "MrBean") == ()


def test_one_edit_of_a_long_name_is_a_typo(index: LookalikeIndex) -> None:
    assert reasons(index, x("mrbaest")) == {"x:mrbeast": "typo"}  # a transposition: one edit
    assert reasons(index, x("durow")) == {"x:durov": "typo"}


@pytest.mark.parametrize("handle", ["nasa_official", "realnasa", "nasa-support", "NASAhq2024"])
def test_brand_with_affix_words_separators_and_digits(index: LookalikeIndex, handle: str) -> None:
    assert reasons(index, x(handle), handle) == {"x:nasa": "affix"}


@pytest.mark.parametrize(
    "host", ["metamask.io.evil.com", "login-metamask.com", "metamask.app", "walletmetamaskfix.net"]
)
def test_brand_inside_a_domain_or_another_suffix(index: LookalikeIndex, host: str) -> None:
    parts = split_domain(host)
    assert parts is not None
    assert reasons(index, site(parts.registrable), host) == {"website:metamask.io": "affix"}


@pytest.mark.parametrize(
    ("host", "parts"),
    [
        ("login.secure.example.co.uk", ("login.secure", "example", "co.uk")),
        ("metamask-app.surge.sh", ("", "metamask-app", "surge.sh")),  # a private suffix
        ("xn--myeterwallet-jl6c.com", ("", "myet\u13c2erwallet", "com")),  # as decoded, not lowered
        ("NASA.GOV.", ("", "nasa", "gov")),
    ],
)
def test_a_host_splits_at_its_public_suffix(host: str, parts: tuple[str, str, str]) -> None:
    assert split_domain(host) == parts


@pytest.mark.parametrize("host", ["co.uk", "github.io", "example.notatld", "localhost", "a..com"])
def test_a_suffix_alone_or_an_unlisted_top_level_has_no_registrable_domain(host: str) -> None:
    assert split_domain(host) is None


def test_unrelated_names_are_not_reported(index: LookalikeIndex) -> None:
    for ref in (x("nasdaq"), x("jupiter_fan"), site("example.com"), site("groasis.com")):
        assert index.find(ref) == ()


def test_same_handle_on_another_platform_is_cross_platform(index: LookalikeIndex) -> None:
    found = index.find(AccountRef("instagram", "nasa"))
    assert [(str(lk.target), lk.reason) for lk in found] == [("x:nasa", Reason.CROSS_PLATFORM)]
    assert found[0].score < index.find(x("realnasa"))[0].score


@pytest.mark.parametrize(
    "ref",
    [
        AccountRef("mastodon", "nasa@mastodon.social"),
        AccountRef("bluesky", "nasa.bsky.social"),
        AccountRef("website", "nasa.com"),
    ],
)
def test_the_same_name_in_another_platform_shape_is_cross_platform(
    index: LookalikeIndex, ref: AccountRef
) -> None:
    found = index.find(ref)
    assert ("x:nasa", Reason.CROSS_PLATFORM) in [(str(lk.target), lk.reason) for lk in found]


def test_an_official_website_protects_its_name_on_social_platforms(index: LookalikeIndex) -> None:
    found = index.find(x("metamask"))
    assert [(str(lk.target), lk.reason) for lk in found] == [
        ("website:metamask.io", Reason.CROSS_PLATFORM)
    ]


def test_a_registered_target_is_never_returned_for_its_own_ref(index: LookalikeIndex) -> None:
    assert index.find(x("nasa"), "NASA") == ()
    assert index.find(site("apple.com")) == ()


def test_remove_stops_protecting_and_add_again_restores(index: LookalikeIndex) -> None:
    assert x("nasa") in index
    index.remove(x("nasa"))
    assert x("nasa") not in index
    assert index.find(x("nasa_official")) == ()
    index.add(x("nasa"), "NASA")
    assert reasons(index, x("nasa_official")) == {"x:nasa": "affix"}
    assert len(index) == 7


def test_removed_accounts_are_dropped_when_the_arrays_are_merged() -> None:
    index = LookalikeIndex()
    for i in range(3000):  # enough one-deletion hashes to force a merge into sorted arrays
        index.add(x(f"official{i:05d}"), f"E{i}")
    index.remove(x("official00042"))
    index.add(x("official00043"), "E43 again")
    found = index.find(x("official0004z"))
    assert {lk.target.handle for lk in found} >= {"official00043"}
    assert all(lk.target.handle != "official00042" for lk in found)
    assert len(index) == 2999


def test_an_update_to_what_the_index_holds_adds_no_row() -> None:
    index = LookalikeIndex()
    index.add(x("vitalik"), "Vitalik Buterin", "Vitalik")
    index.update(x("vitalik"), AccountRecord(x("vitalik"), Status.OFFICIAL, "Vitalik Buterin",
                                             "Vitalik"))
    assert index.rows() == 1
    # Written otherwise, or another entity: indexed anew (the old row left dead).
    index.update(x("vitalik"), AccountRecord(x("vitalik"), Status.AFFILIATED, "Vitalik Buterin",
                                             "VITALIK"))
    index.update(x("vitalik"), AccountRecord(x("vitalik"), Status.OFFICIAL, "Ethereum",
                                             "VITALIK"))
    assert (index.rows(), len(index)) == (3, 1)
    assert [lk.entity for lk in index.find(x("vitalikk"))] == ["Ethereum"]


def test_results_are_best_first_and_limited() -> None:
    index = LookalikeIndex()
    for handle in ("johnsmith", "johnsmyth", "johnsmlth", "johnsmiths"):
        index.add(x(handle), handle)
    found = index.find(x("johnsmith1"), limit=2)
    assert len(found) == 2
    assert found[0].score >= found[1].score


def test_entity_here_follows_the_entitys_accounts_on_the_asked_platform() -> None:
    index = LookalikeIndex()
    index.add(x("nasa"), "NASA")
    for handle in ("nasa", "nasahq"):
        index.add(AccountRef("instagram", handle), "NASA")

    def here() -> bool:
        found = index.find(AccountRef("instagram", "nasa_support"), limit=10)
        return next(lk.entity_here for lk in found if lk.target == x("nasa"))

    assert here()
    index.remove(AccountRef("instagram", "nasa"))
    assert here()  # nasahq is still NASA's Instagram account
    index.remove(AccountRef("instagram", "nasahq"))
    assert not here()


def test_strings_many_reads_folded_rows_and_the_tail_alike() -> None:
    strings = Strings.of(["nasa", "", "ñandú", "bbc\udcff"])  # a lone surrogate survives too
    for text in ("esa", "日本"):
        strings.append(text)
    rows = [5, 0, 2, 3, 1, 4, 2]
    assert strings.many(rows) == [strings[row] for row in rows]
    assert strings.many([3, 2, 0]) == ["bbc\udcff", "ñandú", "nasa"]
    assert strings.many([]) == []


def test_strings_many_reads_a_string_holding_a_nul_as_it_is() -> None:
    # many() decodes its rows joined by NULs: a string with one is read one by one instead.
    strings = Strings.of(["nasa", "a\0b", "", "esa"])
    assert strings.many([1, 0, 2, 3]) == ["a\0b", "nasa", "", "esa"]
    assert strings.many([2, 2]) == ["", ""]


def test_strings_joined_and_extended_by_strings_hold_every_string_in_order() -> None:
    # The folding process's blobs are joined chunk by chunk, and a catch-up extends by them.
    first, empty, second = Strings.of(["nasa", "ñandú"]), Strings(), Strings.of(["", "bbc"])
    second.append("日本")  # a tail not yet folded
    joined = Strings.joined([first, empty, second])
    assert [joined[row] for row in range(len(joined))] == ["nasa", "ñandú", "", "bbc", "日本"]
    assert len(Strings.joined([])) == 0
    grown = Strings.of(["esa"])
    grown.append("isro")
    assert grown.extend(joined) == 2
    assert grown.many([0, 1, 2, 6]) == ["esa", "isro", "nasa", "日本"]


def test_left_half_substitutions_are_half_texts_of_each_letter_replaced() -> None:
    key = "gustavofulvio37"  # 15 letters: the left half is gustavo
    expected = [f"15:0:{key[:at]}{letter}{key[at + 1 : 7]}"
                for at in range(7) for letter in _ALPHABET if letter != key[at]]
    assert half_texts_with_one_substitution(key) == expected
    assert half_text((15, 0, "gustavo")) == "15:0:gustavo"  # what the index's halves hash


def test_halves_texts_are_the_half_texts_of_each_keys_halves() -> None:
    keys = ["gustavofulvio37", "abcdefghijklmnopq", "ab", ""]
    assert halves_texts(keys) == [half_text(h) for key in keys for h in halves(key)]


def test_separators_go_as_the_pattern_removes_them_ascii_or_not() -> None:
    texts = ["".join(map(chr, range(128))), "a b\tc_d.e-f\x1cg\x1fh\u3000i", "\0x_\0 y",
             "nasa_gov", "é-x", ""]
    for text in texts:
        assert _unseparated(text) == _SEPARATORS.sub("", text), repr(text)


@pytest.mark.parametrize(("ref", "written"), [
    (x("clarkmorrow"), "ClarkMorrow"),
    (x("vvalter_rn"), "VValter_RN"),
    (AccountRef("mastodon", "cladia@mastodon.social"), "cladia@mastodon.social"),
    (AccountRef("bluesky", "rnaria.bsky.social"), "rnaria.bsky.social"),
    (site("login.clarkbank.com"), "login.clarkbank.com"),
    (site("xn--e1afmkfd.com"), "пример.com"),
])
def test_unpaired_key_is_the_names_unpaired_key(ref: AccountRef, written: str) -> None:
    assert unpaired_key(ref, written) == name_of(ref, written).unpaired
    assert unpaired_key(ref, ref.handle) == name_of(ref, ref.handle).unpaired
