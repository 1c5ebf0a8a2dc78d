"""Lookalikes through the core: across platforms, bare @handles read on every platform,
invisible and mixed-script names reported, graded strength, what to do next; and the words."""

from __future__ import annotations

import json

import pytest

from bot import render
from bot.core import Core
from bot.model import (
    INVISIBLE,
    MIXED_SCRIPT,
    OPERATOR,
    AccountRef,
    Answer,
    Asker,
    Correction,
    Reason,
    Status,
    Strength,
)
from isofficial.bootstrap import memory_core

DPRK = "Government of North Korea (DPRK)"
TELEGRAM_USER = Asker("telegram", "7", chat_id="-100", is_private=False)


@pytest.fixture
async def core() -> Core:
    seed = [
        Correction(AccountRef("x", "nasa"), Status.OFFICIAL, "NASA", handle_as_written="NASA"),
        Correction(AccountRef("instagram", "nasa"), Status.OFFICIAL, "NASA"),
        Correction(AccountRef("website", "uriminzokkiri.com"), Status.AFFILIATED, DPRK),
        Correction(AccountRef("youtube", "uriminzokkiri"), Status.UNOFFICIAL, DPRK),
        Correction(AccountRef("x", "repweinberg"), Status.OFFICIAL, "Rep. Weinberg"),
    ]
    return await memory_core(frozenset(), seed)


async def one(core: Core, text: str, asker: Asker = OPERATOR) -> Answer:
    [answer] = await core.check(text, asker)
    return answer


async def test_an_affix_lookalike_on_another_platform_names_the_target_and_its_platform(
    core: Core,
) -> None:
    answer = await one(core, "t.me/uriminzokkiri_official")
    [lookalike] = answer.lookalike_of
    assert lookalike.target == AccountRef("website", "uriminzokkiri.com")
    assert lookalike.reason is Reason.AFFIX and lookalike.cross_platform
    assert answer.alarming
    line = render.lookalike_line(lookalike, "telegram")
    assert "Government of North Korea (DPRK) has no registered telegram account" in line
    assert "https://uriminzokkiri.com/" in line and "score" not in line


async def test_an_official_on_the_asked_platform_makes_a_cross_platform_match_stronger(
    core: Core,
) -> None:
    on_telegram = (await one(core, "telegram:nasa_support")).lookalike_of[0]
    on_instagram = (await one(core, "instagram:nasa_support")).lookalike_of[0]
    assert on_instagram.target.platform == "instagram"  # same platform ranks first
    on_tiktok = (await one(core, "tiktok:nasa_support")).lookalike_of[0]
    assert on_tiktok.cross_platform and not on_tiktok.entity_here
    assert on_telegram.score >= 0.5  # never weaker than the same name on another platform


async def test_a_bare_handle_is_answered_by_its_best_supported_reading(core: Core) -> None:
    answer = await one(core, "is @nasaa real?")
    assert answer.lookalike_of and answer.lookalike_of[0].target.handle == "nasa"
    cyrillic = await one(core, "@NАSA")  # Cyrillic А: no valid X handle, still NASA's homoglyph
    assert cyrillic.lookalike_of[0].target in (
        AccountRef("x", "nasa"),
        AccountRef("instagram", "nasa"),
    )
    assert cyrillic.lookalike_of[0].reason is Reason.HOMOGLYPH
    assert MIXED_SCRIPT in cyrillic.flags and cyrillic.alarming
    assert "`А` is Cyrillic" in render.short_text([cyrillic])


async def test_the_chat_platform_reading_comes_first_on_a_tie(core: Core) -> None:
    answer = await one(core, "@uriminzokkiri_help", TELEGRAM_USER)
    assert answer.ref.platform == "telegram"


async def test_an_invisible_character_is_reported_not_answered_as_the_official(
    core: Core,
) -> None:
    answer = await one(core, "x.com/NA\u200bSA")
    assert answer.status is Status.UNKNOWN and INVISIBLE in answer.flags
    assert answer.lookalike_of[0].target == AccountRef("x", "nasa") and answer.alarming
    assert "invisible character" in render.short_text([answer])
    row = render.answer_json(answer)
    assert row["flags"] == ["invisible-characters"] and row["status"] == "unknown"


async def test_a_two_letter_difference_between_plausible_names_is_weak_and_no_alarm(
    core: Core,
) -> None:
    answer = await one(core, "x:RepWeimberk")  # two letters off a real name
    assert [lk.strength for lk in answer.lookalike_of] == [Strength.WEAK]
    assert not answer.alarming
    assert render.headline(answer).startswith(render.BADGE[Status.UNKNOWN])
    assert "weak: looks like x:repweinberg" in render.short_text([answer])


async def test_an_unknown_account_says_what_is_registered_nearby_and_how_to_report(
    core: Core,
) -> None:
    answer = await one(core, "youtube.com/user/uriminzok")
    assert answer.lookalike_of == ()
    assert AccountRef("youtube", "uriminzokkiri") in [n.ref for n in answer.nearby]
    text = render.full_text([answer])
    assert "registered nearby: youtube:uriminzokkiri — unofficial" in text
    assert "/report youtube:uriminzok" in text


async def test_json_grows_with_strength_platform_and_flags(core: Core) -> None:
    row = json.loads(json.dumps(render.answer_json(await one(core, "uriminzokkiri.net"))))
    [lookalike] = row["lookalike_of"]
    assert lookalike["reason"] == "affix" and lookalike["detail"] == "tld-swap"
    assert lookalike["strength"] == "weak" and lookalike["cross_platform"] is False
    assert {"platform", "handle", "entity", "score", "url"} <= set(lookalike)
    assert row["flags"] == [] and "nearby" in row


async def test_a_tld_swap_and_a_decoded_idn_in_words(core: Core) -> None:
    swap = await one(core, "uriminzokkiri.net")
    assert "another domain ending" in render.short_text([swap])
    idn = await one(core, "xn--urminzokkiri-2ok.com")  # urіminzokkiri.com, Cyrillic і
    text = render.short_text([idn])
    assert "written urіminzokkiri.com — `і` is Cyrillic" in text
    assert "look-alike characters" in text
