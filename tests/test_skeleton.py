"""UTS #39 skeletons against the real confusables table."""

from __future__ import annotations

import unicodedata

from bot.skeleton import _prototypes, skeleton


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


def test_table_is_parsed_once() -> None:
    assert _prototypes() is _prototypes()
    assert len(_prototypes()) > 6000
