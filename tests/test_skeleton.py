"""UTS #39 skeletons, NFKC and script checks against ICU's current Unicode data."""

from __future__ import annotations

import unicodedata

from bot.skeleton import (
    UNICODE_VERSION,
    invisible_characters,
    mixed_script,
    odd_letters,
    skeleton,
)


def test_capital_i_reads_as_small_l_before_case_folding() -> None:
    assert skeleton("VitaIik").casefold() == skeleton("Vitalik").casefold()
    assert skeleton("VitaIik".casefold()) != skeleton("Vitalik")  # folding first would miss it


def test_cyrillic_letters_map_to_latin_prototypes() -> None:
    assert skeleton("раураl") == skeleton("paypal")  # р а у: Cyrillic
    assert skeleton("аррlе") == "apple"


def test_digits_and_letter_pairs_from_the_table() -> None:
    assert skeleton("0pensea").casefold() == "opensea"
    assert skeleton("metamask") == skeleton("rnetarnask")  # m reads as rn


def test_result_is_nfd_so_precomposed_and_combining_forms_agree() -> None:
    precomposed, combining = "caf\u00e9", "cafe\u0301"
    assert skeleton(precomposed) == skeleton(combining)
    assert unicodedata.is_normalized("NFD", skeleton(precomposed))


def test_distinct_letters_stay_distinct() -> None:
    assert skeleton("nasa") != skeleton("nash")


def test_fullwidth_math_and_small_capital_letters_read_as_latin() -> None:
    assert skeleton("ＺｏｖｋｏＥＵ").casefold() == "zovkoeu"
    assert skeleton("𝐍𝐀𝐒𝐀").casefold() == "nasa"
    assert skeleton("ʀɴԍκχ") == "rngkx"  # small capitals, IPA, Greek the table leaves apart


def test_invisible_characters_include_hangul_fillers_and_variation_selectors() -> None:
    assert invisible_characters("na\u200bsa\u3164\ufe0f") == ["\u200b", "\u3164", "\ufe0f"]
    assert invisible_characters("nasa official") == []


def test_latin_mixed_with_cyrillic_or_greek_is_mixed_script() -> None:
    assert mixed_script("NАSA")  # Cyrillic А
    assert mixed_script("ΝASA")  # Greek Ν
    assert not mixed_script("nasa_2024")
    assert not mixed_script("москва")  # one script is fine
    assert not mixed_script("東京abc")  # Latin with Han is allowed (ICU's moderate level)


def test_odd_letters_are_named_with_their_script() -> None:
    assert odd_letters("urіminzokkiri") == [("і", "Cyrillic")]
    assert odd_letters("ＺｏｖｋｏＥＵ")[0] == ("Ｚ", "styled Latin")
    assert odd_letters("nasa") == []


def test_the_data_is_current() -> None:
    assert tuple(map(int, UNICODE_VERSION.split("."))) >= (16, 0)
