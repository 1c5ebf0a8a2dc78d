"""Lookalike test cases generated from the real registries in tests/data, one list per class of
the attacks in issue 9, deterministic for a seed. Used by tests/test_lookalike_classes.py (a
CI-sized sample, with the targets as assertions) and benchmarks/bench_lookalike_classes.py (the
full table, side by side with the code before the issue and a brute-force Levenshtein scan).

Only the stable API is used (LookalikeIndex.add/find, AccountRef, find_accounts), so the same
cases run against older code.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.core import Core
from bot.model import OPERATOR, AccountRecord, AccountRef, IsOfficialError, Status
from bot.platforms import normalize_handle
from knowledge.memory import MemoryRegistry

DATA = Path(__file__).resolve().parent / "data"
REGISTRIES = ("congress", "europarl", "openstates")
PLATFORM_WORDS = {"twitter": "x"}


@dataclass(frozen=True, slots=True)
class Official:
    ref: AccountRef
    written: str
    entity: str
    registry: str


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    query: AccountRef  # the impostor
    written: str  # as the impostor writes it
    target: AccountRef  # the official it imitates
    text: str = ""  # the message naming it; `platform:written` unless the class is about messages

    @property
    def message(self) -> str:
        return self.text or f"{self.query.platform}:{self.written}"


def officials(registries: tuple[str, ...] = REGISTRIES) -> list[Official]:
    """Every official with a handle name (not a numeric id) in the registry files."""
    found: dict[AccountRef, Official] = {}
    for registry in registries:
        with (DATA / f"registry_{registry}.csv").open(newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                platform = PLATFORM_WORDS.get(row["platform"], row["platform"])
                handle = row["handle"].strip().removeprefix("@")
                if platform not in ("x", "instagram", "youtube", "facebook") or not handle:
                    continue
                if handle.isdigit() or not re.fullmatch(r"[A-Za-z0-9_.]{3,30}", handle):
                    continue
                ref = AccountRef(platform, _key(platform, handle))
                found.setdefault(ref, Official(ref, handle, row["entity"], registry))
    return list(found.values())


def _valid_on(platform: str, variant: str) -> AccountRef | None:
    """The variant as an account on platform, or on Instagram (30 characters) if too long."""
    for where in (platform, "instagram"):
        try:
            return AccountRef(where, normalize_handle(where, variant))
        except IsOfficialError:
            continue
    return None


def _case(kind: str, o: Official, variant: str, platform: str = "") -> Case | None:
    query = _valid_on(platform or o.ref.platform, variant)
    return Case(kind, query, variant, o.ref) if query is not None else None


def _key(platform: str, handle: str) -> str:
    key = handle.casefold()
    return key.replace(".", "") if platform == "facebook" else key


CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
SMALL_CAPITALS = {
    "a": "ᴀ", "b": "ʙ", "d": "ᴅ", "e": "ᴇ", "g": "ɢ", "h": "ʜ", "j": "ᴊ", "k": "ᴋ",
    "l": "ʟ", "m": "ᴍ", "n": "ɴ", "p": "ᴘ", "r": "ʀ", "t": "ᴛ",
}  # fmt: skip
LEET = {"a": "4", "e": "3", "o": "0", "i": "1", "s": "5", "t": "7"}
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\u3164", "\ufe0f")
AFFIXES = ("_official", "official", "_support", "real", "_hq", "help")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _swap_some(text: str, table: dict[str, str], rng: random.Random, every: bool) -> str | None:
    places = [i for i, c in enumerate(text) if c.lower() in table]
    if not places:
        return None
    chosen = places if every else rng.sample(places, max(1, len(places) // 3))
    return "".join(table[c.lower()] if i in chosen else c for i, c in enumerate(text))


def _substitute(text: str, rng: random.Random, count: int) -> str:
    chars = list(text)
    for i in rng.sample([i for i, c in enumerate(chars) if c.isalpha()], count):
        chars[i] = rng.choice([c for c in LETTERS if c != chars[i].lower()])
    return "".join(chars)


def _cross_platform(o: Official, rng: random.Random) -> Case | None:
    """Official on X, variant on Instagram or Telegram: affix, one typo, or a separator."""
    if o.ref.platform != "x" or len(o.written) < 5:
        return None
    style = rng.choice(("affix", "typo", "separator"))
    if style == "affix":
        variant = o.written + rng.choice(AFFIXES)
    elif style == "typo" and len(o.written) >= 8:
        variant = _substitute(o.written, rng, 1)
    else:
        cut = rng.randrange(2, len(o.written) - 1)
        variant = o.written[:cut] + "_" + o.written[cut:]
    platform = rng.choice(("instagram", "telegram"))
    if platform == "telegram" and not variant[0].isalpha():
        platform = "instagram"
    return _case("cross-platform", o, variant, platform)


def _bare_at(o: Official, rng: random.Random) -> Case | None:
    """`@variant` in a chat message, the official on X: a typo, an affix or a homoglyph."""
    if o.ref.platform != "x" or len(o.written) < 5:
        return None
    style = rng.choice(("affix", "typo", "homoglyph"))
    affix = rng.choice(AFFIXES)
    if style == "affix":
        variant = o.written + affix
    elif style == "typo" and len(o.written) >= 8:
        variant = _substitute(o.written, rng, 1)
    else:
        variant = _swap_some(o.written, CYRILLIC, rng, every=False) or o.written + affix
    return Case(
        "bare @", AccountRef("any", variant.casefold()), variant, o.ref, f"is @{variant} real?"
    )


def _digits_affix(o: Official, rng: random.Random) -> Case | None:
    if not re.search(r"\d", o.written):
        return None
    variant = o.written + rng.choice(AFFIXES)
    return _case("affix, brand with digits", o, variant)


def _styled(
    kind: str, make: Callable[[str, random.Random], str | None]
) -> Callable[[Official, random.Random], Case | None]:
    def case(o: Official, rng: random.Random) -> Case | None:
        variant = make(o.written, rng)
        if variant is None or variant == o.written:
            return None
        return Case(kind, AccountRef("youtube", variant.casefold()), variant, o.ref)

    return case


def _fullwidth(text: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _math_bold(text: str, rng: random.Random) -> str:
    def bold(c: str) -> str:
        if "A" <= c <= "Z":
            return chr(0x1D400 + ord(c) - ord("A"))
        if "a" <= c <= "z":
            return chr(0x1D41A + ord(c) - ord("a"))
        return c

    return "".join(map(bold, text))


def _leet(o: Official, rng: random.Random) -> Case | None:
    variant = _swap_some(o.written, LEET, rng, every=True)
    if variant is None or variant == o.written:
        return None
    return _case("leetspeak, whole name", o, variant)


def _two_substitutions(o: Official, rng: random.Random) -> Case | None:
    if len(o.written) < 10:
        return None
    variant = _substitute(o.written, rng, 2)
    return _case("two substitutions, 10+ letters", o, variant)


def _minus_digits(o: Official, rng: random.Random) -> Case | None:
    variant = re.sub(r"_?\d+$", "", o.written)
    if variant == o.written or len(variant) < 5:
        return None
    return _case("official minus its digits", o, variant)


def _broken_pair(o: Official, rng: random.Random) -> Case | None:
    """A letter typed inside an rn / vv / cl pair (johncorfnyn for johncornyn)."""
    places = [m.start() + 1 for m in re.finditer(r"(?i)(?=rn|vv|cl)", o.written)]
    if not places:
        return None
    at = rng.choice(places)
    variant = o.written[:at] + rng.choice(LETTERS) + o.written[at:]
    return _case("typo breaking rn/vv/cl", o, variant)


def _mixed_script(o: Official, rng: random.Random) -> Case | None:
    variant = _swap_some(o.written, CYRILLIC, rng, every=False)
    if variant is None:
        return None
    return Case(
        "mixed script (Latin + Cyrillic)", AccountRef("youtube", variant.casefold()), variant, o.ref
    )


def _invisible(o: Official, rng: random.Random) -> Case | None:
    if o.ref.platform != "x":
        return None
    at = rng.randrange(1, len(o.written))
    variant = o.written[:at] + rng.choice(INVISIBLE) + o.written[at:]
    return Case("invisible character inside", o.ref, variant, o.ref, f"see x.com/{variant} now")


GENERATORS: dict[str, Callable[[Official, random.Random], Case | None]] = {
    "cross-platform": _cross_platform,
    "bare @": _bare_at,
    "affix, brand with digits": _digits_affix,
    "fullwidth letters": _styled("fullwidth letters", _fullwidth),
    "math letters": _styled("math letters", _math_bold),
    "small capitals / IPA": _styled(
        "small capitals / IPA", lambda t, rng: _swap_some(t, SMALL_CAPITALS, rng, every=False)
    ),
    "leetspeak, whole name": _leet,
    "two substitutions, 10+ letters": _two_substitutions,
    "official minus its digits": _minus_digits,
    "typo breaking rn/vv/cl": _broken_pair,
    "mixed script (Latin + Cyrillic)": _mixed_script,
    "invisible character inside": _invisible,
}


def cases(protected: list[Official], per_class: int, seed: int = 9) -> Iterator[Case]:
    """Up to per_class cases of every class, from officials drawn with the seed."""
    for kind, make in GENERATORS.items():
        rng = random.Random(f"{seed}:{kind}")
        pool = protected[:]
        rng.shuffle(pool)
        made = 0
        for official in pool:
            if made >= per_class:
                break
            case = make(official, rng)
            if case is not None:
                made += 1
                yield case


FLAGGED = {
    "mixed script (Latin + Cyrillic)": "mixed-script",
    "invisible character inside": "invisible-characters",
}


async def core_of(protected: list[Official]) -> Core:
    """The real core over an in-memory registry holding these officials."""
    registry = MemoryRegistry()
    for o in protected:
        registry.records[o.ref] = AccountRecord(o.ref, Status.OFFICIAL, o.entity, o.written)
    return await Core.start(registry)


async def hit(core: Core, case: Case) -> tuple[bool, bool]:
    """(found with its target, found as a strong lookalike); flagged classes must be flagged."""
    answers = await core.check(case.message, OPERATOR)
    found = [lk for a in answers for lk in a.lookalike_of if lk.target == case.target]
    flag = FLAGGED.get(case.kind)
    if flag is not None and not any(flag in getattr(a, "flags", ()) for a in answers):
        return False, False
    strong = any(str(getattr(lk, "strength", "strong")) == "strong" for lk in found)
    return bool(found), strong
