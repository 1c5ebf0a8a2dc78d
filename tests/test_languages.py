"""Answers in the asker's language, end to end: Telegram's language_code and a chat's /language,
Discord's locale, a server's /language, and Discord command payloads with localizations."""

from __future__ import annotations

import asyncio

from fake_discord import FakeDiscord
from fake_telegram import running_fake
from test_discord import World, fake, start_bot, world
from test_telegram import config_for, dm_of
from test_telegram import start_bot as start_telegram
from test_verify_chat import verifying_core

from adapters.telegram.app import build_application
from adapters.telegram.run import serve
from bot import i18n
from knowledge.memory import MemoryChatPreferences

__all__ = ["fake", "world"]  # fixtures used by name


async def test_a_korean_speaking_telegram_user_is_answered_in_korean() -> None:
    async with running_fake() as telegram, start_telegram(telegram, config_for(telegram)) as bot:
        min_ji = telegram.user(7, "Min-ji", "minji", language_code="ko")
        telegram.private(min_ji)
        telegram.join(bot.group, min_ji)
        reply = await telegram.ask(dm_of(bot, min_ji), min_ji, "/check https://twitter.com/uriminzok")
        assert "비공식: Government of North Korea (DPRK)이(가) 운영하지 않음" in reply.text
        assert "fan-run" in reply.text  # the registry's note stays as written
        assert "확실성: 출처 있음(출처 1개, 최신 2010-08-24)" in reply.text
        group = await telegram.ask(bot.group, min_ji, "/check x:nasa")
        assert "NASA의 공식 계정" in group.text
        assert group.buttons[0]["text"] == "DM으로 출처 보기"
        english = await telegram.ask(bot.group, bot.ann, "/check x:nasa")
        assert "official account of NASA" in english.text
        scoped = [c for c in telegram.calls if c.method == "setMyCommands"
                  and c.params.get("language_code") == "ko"]
        assert len(scoped) == 4 and any(
            "이 계정은 공식 계정인가요?" in str(c.params["commands"]) for c in scoped)


async def test_a_chat_chooses_its_language() -> None:
    async with running_fake() as telegram, start_telegram(
        telegram, config_for(telegram), preferences=MemoryChatPreferences()
    ) as bot:
        refused = await telegram.ask(bot.group, bot.bob, "/language es")
        assert "Only this chat's administrators" in refused.text
        telegram.join(bot.group, bot.ann, "administrator")
        chosen = await telegram.ask(bot.group, bot.ann, "/language es")
        assert chosen.text == "Aquí responderé en Español."
        reply = await telegram.ask(bot.group, bot.bob, "/check x:nasa")
        assert "cuenta oficial de NASA" in reply.text
        usage = await telegram.ask(bot.group, bot.ann, "/language klingon")
        assert "Uso: /language" in usage.text and "ko (한국어)" in usage.text
        back = await telegram.ask(bot.group, bot.ann, "/language auto")
        assert "their own language" in back.text


async def test_discord_answers_in_the_users_locale_and_commands_carry_localizations(
    fake: FakeDiscord, world: World,
) -> None:
    running = await start_bot(world)
    try:
        check = next(c for c in fake.commands if c["name"] == "check")
        assert check["name_localizations"]["ko"] == "확인"
        assert check["description_localizations"]["ru"] == "Это официальный аккаунт?"
        assert check["description_localizations"]["zh-CN"] == "这个账号是官方的吗？"
        assert "zh-TW" not in check["description_localizations"]
        menu = next(c for c in fake.commands if c["type"] == 3)
        assert menu["name_localizations"]["uk"] == "Перевірити акаунти"
        verdict = next(c for c in fake.commands if c["name"] == "verdict")
        status = next(o for o in verdict["options"] if o["name"] == "status")
        impersonator = next(c for c in status["choices"] if c["value"] == "impersonator")
        assert impersonator["name_localizations"]["es-ES"] == "suplantación"

        world.alice.locale = "ko"
        reply = await (await fake.slash("check", world.alice, world.guild, query="x:nasa")).reply()
        assert reply["embeds"][0]["title"] == "✅ x:nasa — NASA의 공식 계정"
        assert reply["components"][0]["components"][0]["label"] == "출처"
        world.alice.locale = "en-US"
        reply = await (await fake.slash("check", world.alice, world.guild, query="x:nasa")).reply()
        assert reply["embeds"][0]["title"] == "✅ x:nasa — official account of NASA"

        refused = await (await fake.slash("language", world.alice, world.guild,
                                          language="uk")).reply()
        assert "Manage Server" in refused["content"]
        chosen = await (await fake.slash("language", world.manager, world.guild,
                                         language="uk")).reply()
        assert chosen["content"] == "Тут я відповідатиму мовою: Українська."
        reply = await (await fake.slash("check", world.alice, world.guild, query="x:nasa")).reply()
        assert reply["embeds"][0]["title"] == "✅ x:nasa — офіційний акаунт: NASA"
        assert i18n.current() == i18n.SOURCE  # the test's own task never changed language
    finally:
        await running.close()


async def test_a_korean_speaking_user_hears_lookalikes_and_verify_in_korean() -> None:
    """A Cyrillic-letter lookalike of an official site and a /verify answer, asked in Korean:
    the reasons, the odd letter's script and the verification read in Korean; account names,
    the entity and the checker's `how` (stored data) stay as written."""
    async with running_fake() as telegram, verifying_core(frozenset()) as core:
        config = config_for(telegram)
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(build_application(core, config), config, stop, ready))
        await asyncio.wait_for(ready.wait(), 10)
        min_ji = telegram.user(7, "Min-ji", "minji", language_code="ko")
        dm = telegram.private(min_ji)
        try:
            lookalike = await telegram.ask(dm, min_ji, "/check https://nаsa.gov")  # Cyrillic а
            verified = await telegram.ask(dm, min_ji, "/verify x:nasa")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        assert "⚠️ 표기: nаsa.gov — `а`은(는) 키릴 문자" in lookalike.text
        assert "라틴 문자와 키릴 또는 그리스 문자가 섞여 있습니다" in lookalike.text
        assert "🚩 website:nasa.gov(NASA)와(과) 비슷함: 호모글리프 — 비슷하게 생긴 문자; " \
            "진짜 계정: https://nasa.gov/" in lookalike.text
        assert "NASA의 website 계정은 다른 계정입니다" in lookalike.text
        assert "🔗 nasa.gov (link)에서 링크함(" in verified.text
        assert "nasa.gov 사이트 → 계정: 찾음 (link)" in verified.text
        for english in ("looks like", "written", "is Cyrillic", "linked from", "found"):
            assert english not in lookalike.text + verified.text, english
        assert not telegram.problems, telegram.problems
