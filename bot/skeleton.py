"""UTS #39 skeletons and the Unicode tricks attackers use in names, from ICU's current data.

ICU (the icukit-pyicu wheel bundles ICU 78, Unicode 17) is the reference implementation of
UTS #39: its confusables table, its NFKC, its Default_Ignorable set and its restriction levels
are used as they are. Python's own unicodedata lags behind (Unicode 14 on Python 3.11).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import icu

UNICODE_VERSION: str = icu.UNICODE_VERSION  # the data every function here uses
ICU_VERSION: str = icu.ICU_VERSION

# Letters the confusables table leaves as themselves or maps to another non-Latin letter, that
# read as Latin letters in chat fonts: small capitals, IPA, Greek and Cyrillic (`ʀ ɴ ԍ κ χ`).
# Applied to the skeleton's output (ICU maps ԍ to ɢ, κ to ĸ, в to ʙ, т to ᴛ, н to ʜ, м to ʍ).
_MISSED = str.maketrans(
    {
        "ᴀ": "a",
        "ʙ": "b",
        "ᴅ": "d",
        "ᴇ": "e",
        "ꜰ": "f",
        "ɢ": "g",
        "ʜ": "h",
        "ᴊ": "j",
        "ĸ": "k",
        "ʟ": "l",
        "ʍ": "m",
        "ɴ": "n",
        "ᴘ": "p",
        "ꞯ": "q",
        "ʀ": "r",
        "ᴛ": "t",
        "χ": "x",
        "ω": "w",
        "ɯ": "w",
    }
)
# Shown to people but never seen: Default_Ignorable code points (zero-width, bidi controls,
# variation selectors, Hangul fillers, tags) and the blank Braille pattern used as a filler.
_INVISIBLE = icu.UnicodeSet("[[:Default_Ignorable_Code_Point:]\u2800]")
_INVISIBLE.freeze()


@cache
def _checker() -> Any:
    checker = icu.SpoofChecker()
    checker.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL)
    # Latin with one other script is fine, except with Cyrillic or Greek (ICU's definition).
    checker.setRestrictionLevel(icu.URestrictionLevel.MODERATELY_RESTRICTIVE)
    return checker


@cache
def _nfkc() -> Any:
    return icu.Normalizer2.getNFKCInstance()


@cache
def _nfd() -> Any:
    return icu.Normalizer2.getNFDInstance()


def nfkc(text: str) -> str:
    """Fullwidth letters, ligatures and math letters as the letters they are (`ＮＡＳＡ` NASA)."""
    return text if text.isascii() else str(_nfkc().normalize(text))


class Prototypes(dict[int, str]):
    """Code point -> its prototype in ICU's confusables data (with the missed letters folded),
    asked of ICU once per character: a skeleton maps one character at a time (UTS #39)."""

    def __missing__(self, code: int) -> str:
        prototype = str(_checker().getSkeleton(0, chr(code))).translate(_MISSED)
        self[code] = prototype
        return prototype


_PROTOTYPES = Prototypes()


def skeleton(text: str, prototypes: Prototypes = _PROTOTYPES) -> str:
    """UTS #39 skeleton (NFD, prototypes, NFD) of the NFKC text, with the letters the table
    misses folded too. Taken before any case folding: `I` reads as `l` only in capitals.
    prototypes: the table, or one with some characters set apart."""
    if text.isascii():
        return text.translate(prototypes)  # NFKC and NFD leave ASCII as it is
    mapped = str(_nfd().normalize(nfkc(text))).translate(prototypes)
    return mapped if mapped.isascii() else str(_nfd().normalize(mapped))


def is_invisible(char: str) -> bool:
    return not char.isascii() and bool(_INVISIBLE.contains(char))


def invisible_characters(text: str) -> list[str]:
    """The characters of text a reader cannot see, in order."""
    return [c for c in text if is_invisible(c)]


def without_invisible(text: str) -> str:
    if text.isascii():
        return text  # no ASCII character is Default_Ignorable
    return "".join(c for c in text if not _INVISIBLE.contains(c))


def mixed_script(text: str) -> bool:
    """Letters of scripts no one mixes in a name (Latin with Cyrillic or Greek): ICU's
    moderately restrictive level, invisible characters aside."""
    visible = without_invisible(text)
    return bool(visible) and bool(_checker().check(visible) & icu.USpoofChecks.RESTRICTION_LEVEL)


def script_of(char: str) -> str:
    """`Cyrillic`, `Latin`, `Common` for digits and punctuation."""
    return str(icu.Script.getScript(char).getName())


def odd_letters(text: str) -> list[tuple[str, str]]:
    """Letters not in the text's main script, each with its script: `[("і", "Cyrillic")]`."""
    letters = [(c, script_of(c)) for c in without_invisible(text) if c.isalpha()]
    scripts = [script for _, script in letters if script not in ("Common", "Inherited")]
    if not scripts:
        return []
    main = "Latin" if "Latin" in scripts else max(set(scripts), key=scripts.count)
    odd: dict[str, str] = {}
    for char, script in letters:
        if script not in (main, "Common", "Inherited") or (
            script == main and nfkc(char) != char  # fullwidth, math and other styled letters
        ):
            odd.setdefault(char, "styled " + script if script == main else script)
    return list(odd.items())


def describe_character(char: str) -> str:
    """A character as a reader can check it: `А U+0410 CYRILLIC CAPITAL LETTER A`; an invisible
    one without itself (`U+200B ZERO WIDTH SPACE`)."""
    code = f"U+{ord(char):04X} {icu.Char.charName(char) or 'UNNAMED'}"
    return code if is_invisible(char) or not char.isprintable() else f"{char} {code}"
