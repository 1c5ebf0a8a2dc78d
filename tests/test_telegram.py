"""The Telegram adapter end to end: the real python-telegram-bot Application against a local fake
Bot API server (tests/fake_telegram.py) and a core on an in-memory registry."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_telegram import JSON, TOKEN, FakeTelegram, running_fake

from adapters.telegram.app import build_application
from adapters.telegram.config import TelegramConfig
from adapters.telegram.handlers import CANT_DM, EXPIRED
from adapters.telegram.render import MESSAGE_LIMIT, Payloads, pieces
from adapters.telegram.run import serve
from bot import render
from bot.core import Core
from bot.model import AccountRef, Answer, Asker, Certainty, Correction, Evidence, Status
from bot.ports import ChatPreferences, FeedCatalog, Known
from knowledge.feeds.store import SqlFeedCatalog
from knowledge.memory import MemoryRegistry
from knowledge.registry import SqlChatPreferences, open_registry

MODERATOR_ID = 1
STATEMENT = Evidence(
    url="https://example.org/2010/08/24/dprk-statement",
    title="Twitter account run by fans, not the government",
    publisher="Example News",
    published=date(2010, 8, 24),
)
SEED = (
    Correction(AccountRef("x", "uriminzok"), Status.UNOFFICIAL, "Government of North Korea (DPRK)",
               STATEMENT, note="fan-run"),
    Correction(AccountRef("x", "nasa"), Status.OFFICIAL, "NASA"),
    Correction(AccountRef("telegram", "examplenews"), Status.OFFICIAL, "Example News",
               platform_id="-1001000000001"),
    Correction(AccountRef("telegram", "learnme"), Status.OFFICIAL, "Learned Org"),
)
PAYLOAD = re.compile(r"https://t\.me/isofficial_test_bot\?start=([A-Za-z0-9_-]{1,64})")


@dataclass
class Harness:
    fake: FakeTelegram
    core: Core
    registry: MemoryRegistry
    mod: JSON
    ann: JSON
    bob: JSON
    group: JSON
    app: Any = None  # the Application under test (its bot_data["services"])


async def seeded_core(seed: Sequence[Correction] = SEED, registry: MemoryRegistry | None = None,
                      feeds: FeedCatalog | None = None,
                      preferences: ChatPreferences | None = None) -> tuple[Core, MemoryRegistry]:
    registry = registry or MemoryRegistry()
    for correction in seed:
        await registry.apply(correction, by="seed")
    moderators = frozenset({f"telegram:{MODERATOR_ID}"})
    return await Core.start(registry, moderators, feeds, preferences), registry


def config_for(fake: FakeTelegram, **changes: object) -> TelegramConfig:
    config = TelegramConfig(token=TOKEN, base_url=f"{fake.url}/bot", rate_limit=False,
                            poll_timeout=5, request_timeout=5)
    return replace(config, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with running_fake() as fake:
        yield fake
    assert not fake.problems, fake.problems


@asynccontextmanager
async def start_bot(fake: FakeTelegram, config: TelegramConfig,
                    registry: MemoryRegistry | None = None, feeds: FeedCatalog | None = None,
                    preferences: ChatPreferences | None = None) -> AsyncIterator[Harness]:
    core, registry = await seeded_core(registry=registry, feeds=feeds, preferences=preferences)
    stop, ready = asyncio.Event(), asyncio.Event()
    app = build_application(core, config)
    task = asyncio.create_task(serve(app, config, stop, ready))
    await asyncio.wait_for(ready.wait(), 10)
    fake.group(-100500, "Readers")
    harness = Harness(fake, core, registry, fake.user(MODERATOR_ID, "Mo", "mod"),
                      fake.user(2, "Ann", "ann"), fake.user(3, "Bob"), fake.chats[-100500], app)
    for user in (harness.mod, harness.ann, harness.bob):
        fake.private(user)
        fake.join(harness.group, user)
    try:
        yield harness
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Harness]:
    async with start_bot(fake, config_for(fake)) as harness:
        yield harness


async def assert_silent(bot: Harness, chat: JSON) -> None:
    """Nothing was said in chat: a later /help there is the next and only reply (same chat,
    handled in order)."""
    reply = await bot.fake.ask(chat, bot.bob, "/help")
    assert "is this account official" in reply.text
    assert bot.fake.untaken() == []


async def headline(bot: Harness, query: str) -> str:
    """The core's own headline for query: the adapter must show it unchanged (escaping aside)."""
    [answer] = await bot.core.check(query, Asker("telegram", "99"))
    return render.headline(answer)


def dm_of(bot: Harness, user: JSON) -> JSON:
    return bot.fake.chats[user["id"]]


# --- start, commands, DM and group answers ---


async def test_start_registers_command_lists_per_scope(bot: Harness) -> None:
    assert bot.fake.calls[0].method == "getMe"
    lists = {scope: {c["command"] for c in commands}
             for scope, commands in bot.fake.scoped_commands.items()}
    everyone = {"check", "sources", "history", "report", "verify", "help"}
    moderators = {"verdict", "undo", "reports", "dismiss", "feeds", "autocheck", "language",
                  "guard"}
    for scope in ("default", "all_private_chats", "all_group_chats"):
        assert lists[scope] == everyone
    assert lists["all_chat_administrators"] == everyone | moderators


async def test_check_in_dm_answers_fully_with_sources_and_dates(bot: Harness) -> None:
    reply = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "/check https://twitter.com/uriminzok")
    assert await headline(bot, "x:uriminzok") in reply.text
    assert "Government of North Korea (DPRK)" in reply.text
    assert STATEMENT.url in reply.text and "2010-08-24" in reply.text
    assert reply.params["parse_mode"] == "HTML"
    assert "reply_parameters" not in reply.params  # no quoting in a private chat


async def test_check_in_group_is_short_quotes_the_asker_and_links_sources_in_dm(
    bot: Harness,
) -> None:
    asked = await bot.fake.send(bot.group, bot.ann, "/check https://twitter.com/uriminzok")
    reply = await bot.fake.expect("sendMessage", chat_id=bot.group["id"])
    assert "unofficial" in reply.text and "how sure" in reply.text
    assert STATEMENT.url not in reply.text
    assert reply.params["reply_parameters"]["message_id"] == asked["message_id"]
    [button] = reply.buttons
    assert button["text"] == "Sources in DM"
    payload = PAYLOAD.fullmatch(button["url"])
    assert payload is not None
    dm = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, f"/start {payload.group(1)}")
    assert STATEMENT.url in dm.text and "2010-08-24" in dm.text


async def test_group_answer_names_the_official_account_a_lookalike_imitates(bot: Harness) -> None:
    reply = await bot.fake.ask(bot.group, bot.ann, "/check x:nasa_support")
    assert "looks like x:nasa (NASA): affix" in reply.text


async def test_commands_for_another_bot_stay_silent(bot: Harness) -> None:
    await bot.fake.send(bot.group, bot.ann, "/check@SomeOtherBot x:nasa")
    await assert_silent(bot, bot.group)
    reply = await bot.fake.ask(bot.group, bot.ann, "/check@isofficial_test_bot x:nasa")
    assert await headline(bot, "x:nasa") in reply.text


async def test_check_sent_as_a_reply_checks_every_account_in_that_message(bot: Harness) -> None:
    post = await bot.fake.send(bot.group, bot.bob, "follow https://x.com/uriminzok and x:nasa")
    reply = await bot.fake.ask(bot.group, bot.ann, "/check", reply_to=post)
    assert await headline(bot, "x:uriminzok") in reply.text
    assert await headline(bot, "x:nasa") in reply.text


async def test_empty_check_gets_its_usage(bot: Harness) -> None:
    reply = await bot.fake.ask(bot.group, bot.ann, "/check")
    assert reply.text.startswith("Usage: /check <link")


async def test_junk_gets_an_answer_and_the_next_command_still_works(bot: Harness) -> None:
    junk = ("\u200b\u200f\u202e🙂\u2066a\u200d👩‍👩‍👧" * 500)[:5000]
    reply = await bot.fake.ask(bot.group, bot.ann, f"/check {junk}")
    assert "no account found" in reply.text
    assert len(reply.text) <= MESSAGE_LIMIT
    reply = await bot.fake.ask(bot.group, bot.ann, "/check x:nasa")
    assert "official account of NASA" in reply.text


async def test_user_text_is_html_escaped(bot: Harness) -> None:
    # The fake rejects malformed HTML as Telegram does, so an unescaped echo would get no reply.
    reply = await bot.fake.ask(bot.group, bot.ann, "/check <b>nothing & <i>here")
    assert "'<b>nothing & <i>here'" in reply.text


# --- sources by DM ---


async def test_sources_in_group_fall_back_to_the_button_when_the_bot_may_not_write_first(
    bot: Harness,
) -> None:
    stranger = bot.fake.user(9, "Sam")
    bot.fake.private(stranger)  # a chat exists, but Sam never started the bot
    reply = await bot.fake.ask(bot.group, stranger, "/sources x:uriminzok")
    refused = await bot.fake.expect("sendMessage", chat_id=stranger["id"])
    assert refused.error is not None and refused.error.code == 403
    assert reply.text == CANT_DM
    assert PAYLOAD.fullmatch(reply.buttons[0]["url"])


async def test_sources_in_group_go_to_a_dm_the_user_opened(bot: Harness) -> None:
    await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "/start")
    await bot.fake.send(bot.group, bot.ann, "/sources x:uriminzok")
    dm = await bot.fake.expect("sendMessage", chat_id=bot.ann["id"])
    assert STATEMENT.url in dm.text
    group_reply = await bot.fake.expect("sendMessage", chat_id=bot.group["id"])
    assert "privately" in group_reply.text


async def test_a_forged_or_expired_start_payload_says_so(bot: Harness) -> None:
    dm = dm_of(bot, bot.ann)
    assert (await bot.fake.ask(dm, bot.ann, "/start kNOTAKEY")).text == EXPIRED
    assert (await bot.fake.ask(dm, bot.ann, "/start r%%%")).text == EXPIRED


async def test_long_answers_are_split_under_the_limit(fake: FakeTelegram) -> None:
    registry = MemoryRegistry()
    for n in range(60):
        evidence = Evidence(f"https://example.org/{n}", f"Report <{n}> " + "lorem " * 40)
        await registry.apply(Correction(AccountRef("x", "busy"), Status.OFFICIAL, "Busy",
                                        evidence), by="seed")
    async with start_bot(fake, config_for(fake), registry) as bot:
        await bot.fake.send(dm_of(bot, bot.ann), bot.ann, "/sources x:busy")
        parts = [await bot.fake.expect("sendMessage", chat_id=bot.ann["id"])]
        while "<59>" not in parts[-1].text:
            parts.append(await bot.fake.expect("sendMessage", chat_id=bot.ann["id"]))
        assert len(parts) > 1 and all(len(part.text) <= MESSAGE_LIMIT for part in parts)
        assert "x:busy" in parts[0].text and "<0>" in parts[0].text


# --- moderation ---


async def test_a_moderator_sets_a_verdict_with_evidence_and_is_named_in_the_log(
    bot: Harness,
) -> None:
    url = "https://example.org/kcna-statement"
    reply = await bot.fake.ask(
        bot.group, bot.mod,
        f"/verdict x:fakedprk impersonator Government of North Korea (DPRK) {url}",
    )
    assert reply.text.startswith("Recorded:") and "impersonator" in reply.text
    checked = await bot.fake.ask(bot.group, bot.ann, "/check x:fakedprk")
    assert "x:fakedprk — impersonator" in checked.text  # the moderator's verdict holds
    history = await bot.fake.ask(bot.group, bot.ann, "/history x:fakedprk")
    assert "telegram:1 (@mod): unknown -> impersonator" in history.text and url in history.text


async def test_anyone_else_is_refused_and_nothing_changes(bot: Harness) -> None:
    reply = await bot.fake.ask(bot.group, bot.ann, "/verdict x:nasa impersonator Someone")
    assert "only moderators" in reply.text
    [answer] = await bot.core.check("x:nasa", Asker("telegram", "2"))
    assert answer.status is Status.OFFICIAL
    assert len(await bot.registry.history(AccountRef("x", "nasa"))) == 1


async def test_an_unknown_status_lists_the_valid_ones(bot: Harness) -> None:
    reply = await bot.fake.ask(bot.group, bot.mod, "/verdict x:nasa bogus NASA")
    assert "unknown status 'bogus'" in reply.text and "impersonator" in reply.text


async def test_reports_queue_for_moderators_and_undo_reverts(bot: Harness) -> None:
    queued = await bot.fake.ask(bot.group, bot.ann, "/report x:nasa_help impersonator wants keys")
    assert "queued" in queued.text and "x:nasa_help" in queued.text
    refused = await bot.fake.ask(bot.group, bot.ann, "/reports")
    assert "only moderators" in refused.text
    listed = await bot.fake.ask(dm_of(bot, bot.mod), bot.mod, "/reports")
    assert "x:nasa_help impersonator — wants keys" in listed.text
    await bot.fake.ask(bot.group, bot.mod, "/verdict x:nasa_help impersonator NASA")
    reviewed = await bot.fake.ask(dm_of(bot, bot.mod), bot.mod, "/reports")
    assert reviewed.text == "No open reports."  # the verdict answered it
    undone = await bot.fake.ask(bot.group, bot.mod, "/undo x:nasa_help")
    assert undone.text.startswith("Undone.") and await headline(bot, "x:nasa_help") in undone.text


# --- auto-check ---


async def test_autocheck_is_for_admins_and_speaks_only_about_alarming_accounts(
    bot: Harness,
) -> None:
    fake, group = bot.fake, bot.group
    refused = await fake.ask(group, bot.ann, "/autocheck on")
    assert "administrators" in refused.text
    member = await fake.expect("getChatMember", chat_id=group["id"])
    assert member.params["user_id"] == bot.ann["id"]
    await fake.send(group, bot.ann, "look at https://x.com/uriminzok")
    await assert_silent(bot, group)  # off by default

    fake.join(group, bot.ann, "administrator")
    assert "Auto-check is on" in (await fake.ask(group, bot.ann, "/autocheck on")).text
    for chatter in ("hello everyone", "the real one is https://x.com/nasa"):
        await fake.send(group, bot.bob, chatter)
    await assert_silent(bot, group)
    warned = await fake.ask(group, bot.bob, "is https://x.com/uriminzok legit?")
    assert "unofficial" in warned.text and warned.buttons
    lookalike = await fake.ask(group, bot.bob, "giveaway at x.com/nasa_support")
    assert "looks like x:nasa" in lookalike.text

    fake.join(group, bot.mod, "creator")
    assert "off" in (await fake.ask(group, bot.mod, "/autocheck off")).text
    await fake.send(group, bot.bob, "https://x.com/uriminzok")
    await assert_silent(bot, group)


async def test_an_anonymous_admin_may_switch_autocheck(bot: Harness) -> None:
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                 "username": "GroupAnonymousBot"}
    await bot.fake.send(bot.group, anonymous, "/autocheck on", sender_chat=bot.group)
    reply = await bot.fake.expect("sendMessage", chat_id=bot.group["id"])
    assert "Auto-check is on" in reply.text


async def test_autocheck_survives_a_restart(fake: FakeTelegram, tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'registry.sqlite3'}"
    registry = await open_registry(database)
    async with start_bot(fake, config_for(fake),
                         preferences=SqlChatPreferences(registry.engine)) as bot:
        fake.join(bot.group, bot.ann, "administrator")
        assert "Auto-check is on" in (await fake.ask(bot.group, bot.ann, "/autocheck on")).text
    await registry.close()

    registry = await open_registry(database)  # a new process: nothing kept but the database
    async with start_bot(fake, config_for(fake),
                         preferences=SqlChatPreferences(registry.engine)) as bot:
        warned = await fake.ask(bot.group, bot.bob, "is https://x.com/uriminzok legit?")
        assert "unofficial" in warned.text
        status = await fake.ask(bot.group, bot.bob, "/autocheck")
        assert "it is on here" in status.text
    await registry.close()


# --- feeds ---


async def test_moderators_manage_feeds_by_command(fake: FakeTelegram, tmp_path: Path) -> None:
    registry = await open_registry(f"sqlite+aiosqlite:///{tmp_path / 'registry.sqlite3'}")
    url = "https://news.example/feed.xml?a=1&b=<2>"
    async with start_bot(fake, config_for(fake), feeds=SqlFeedCatalog(registry.engine)) as bot:
        dm = dm_of(bot, bot.mod)
        refused = await fake.ask(bot.group, bot.ann, f"/feeds add {url}")
        assert "only moderators" in refused.text
        assert (await fake.ask(dm, bot.mod, "/feeds")).text.startswith("No feeds yet")
        added = await fake.ask(dm, bot.mod, f"/feeds add {url}")
        assert added.text.startswith("Added") and url in added.text  # escaped, then parsed
        again = await fake.ask(dm, bot.mod, f"/feeds add {url}")
        assert "already in the feed list" in again.text
        bad = await fake.ask(dm, bot.mod, "/feeds add ftp://news.example/feed")
        assert "not a feed URL" in bad.text
        listed = await fake.ask(dm, bot.mod, "/feeds list")
        assert url in listed.text and "last success never · 0 items" in listed.text
        assert "Usage: /feeds" in (await fake.ask(dm, bot.mod, "/feeds remove")).text
        assert "Removed" in (await fake.ask(dm, bot.mod, f"/feeds remove {url}")).text
        assert (await fake.ask(dm, bot.mod, "/feeds list")).text.startswith("No feeds yet")
    await registry.close()


async def test_feeds_not_configured_is_said_plainly(bot: Harness) -> None:
    reply = await bot.fake.ask(dm_of(bot, bot.mod), bot.mod, "/feeds list")
    assert "feeds are not configured" in reply.text


# --- inline mode ---


async def test_inline_query_offers_the_answer_ready_to_send(bot: Harness) -> None:
    await bot.fake.inline(bot.ann, "https://twitter.com/uriminzok")
    call = await bot.fake.expect("answerInlineQuery")
    [result] = call.params["results"]
    assert "unofficial" in result["title"]
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML" and "<b>" in content["message_text"]
    await bot.fake.inline(bot.ann, "no account here")
    assert (await bot.fake.expect("answerInlineQuery")).params["results"] == []


# --- re-registered handles ---


async def test_a_handle_now_owned_by_another_id_gets_a_notice(bot: Harness) -> None:
    bot.fake.group(-1009999999999, "Impostor", username="examplenews", kind="channel")
    reply = await bot.fake.ask(bot.group, bot.ann, "/check @examplenews")
    lookup = await bot.fake.expect("getChat")
    assert lookup.params["chat_id"] == "@examplenews"
    assert "now belongs to a different account (id -1009999999999" in reply.text


async def test_the_registry_learns_an_id_it_did_not_know(bot: Harness) -> None:
    bot.fake.group(-1007777, "Learned Org", username="learnme", kind="channel")
    reply = await bot.fake.ask(bot.group, bot.ann, "/check t.me/learnme")
    assert "different account" not in reply.text
    ref = AccountRef("telegram", "learnme")
    assert (await bot.registry.find([ref]))[ref].platform_id == "-1007777"


# --- manners and limits ---


async def test_a_throttled_question_is_answered_later_or_told_how_long_to_wait(
    fake: FakeTelegram,
) -> None:
    config = config_for(fake, throttle_count=2, throttle_seconds=1.0, max_queued=1, max_wait=5)
    async with start_bot(fake, config) as bot:
        for _ in range(5):
            await fake.send(bot.group, bot.ann, "/check x:nasa")
        replies = [await fake.expect("sendMessage", chat_id=bot.group["id"]) for _ in range(5)]
        answers = [r for r in replies if "NASA" in r.text]
        waits = [r for r in replies if r.text.startswith("Too many questions here")]
        # two now, one queued for its slot a second later; each of the two others told to wait
        assert len(answers) == 3 and len(waits) == 2
        assert all(re.search(r"ask again in \d+ s", r.text) for r in waits)
        assert answers[2].at - answers[0].at >= 0.9
        await assert_silent(bot, bot.group)


async def test_a_member_cannot_use_up_the_groups_budget(fake: FakeTelegram) -> None:
    config = config_for(fake, throttle_count=2, group_count=3, max_queued=0)
    async with start_bot(fake, config) as bot:
        for _ in range(3):
            await fake.send(bot.group, bot.ann, "/check x:nasa")
        texts = [(await fake.expect("sendMessage", chat_id=bot.group["id"])).text
                 for _ in range(3)]
        assert sum("NASA" in t for t in texts) == 2 and "ask again in" in texts[2]
        reply = await fake.ask(bot.group, bot.bob, "/check x:nasa")  # the group's third answer
        assert "NASA" in reply.text
        reply = await fake.ask(bot.group, bot.mod, "/check x:nasa")  # the budget is spent
        assert "ask again in" in reply.text
        # a DM follows its own chat's rate, not the group's
        reply = await fake.ask(dm_of(bot, bot.ann), bot.ann, "/check x:nasa")
        assert "NASA" in reply.text


async def test_commands_for_other_bots_and_chatter_never_count(fake: FakeTelegram) -> None:
    async with start_bot(fake, config_for(fake, throttle_count=2, max_queued=0)) as bot:
        for text in ["/warn@MissRose_bot @spammer", "/notes", "hello all", "/ban@OtherBot"] * 3:
            await fake.send(bot.group, bot.ann, text)
        for _ in range(2):
            reply = await fake.ask(bot.group, bot.ann, "/check x:nasa")
            assert "NASA" in reply.text


async def test_an_inline_query_over_the_limit_says_how_long_to_wait(fake: FakeTelegram) -> None:
    async with start_bot(fake, config_for(fake, private_count=1, max_queued=0)) as bot:
        await fake.inline(bot.ann, "x:nasa")
        first = await fake.expect("answerInlineQuery")
        await fake.inline(bot.ann, "x:nasa")
        second = await fake.expect("answerInlineQuery")
        assert first.params["results"]
        assert second.params["results"] == []
        assert "try again in" in second.params["button"]["text"]


async def test_429_retry_after_is_honoured_by_the_rate_limiter(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with start_bot(fake, config_for(fake, rate_limit=True)) as bot:
        fake.fail_next("sendMessage", 429, retry_after=1)
        limited = await fake.ask(bot.group, bot.ann, "/check x:nasa")
        assert limited.error is not None and limited.error.code == 429
        reply = await fake.expect("sendMessage", chat_id=bot.group["id"])
        assert "NASA" in reply.text and reply.at - limited.at >= 1.0
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def test_a_bug_is_logged_and_answered_briefly_and_the_bot_goes_on(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenRegistry(MemoryRegistry):
        async def read(self, refs: Sequence[AccountRef], mentions: int = 5,
                       mentioned: Collection[AccountRef] | None = None) -> dict[AccountRef, Known]:
            raise RuntimeError("registry down")

    caplog.set_level(logging.DEBUG)
    async with start_bot(fake, config_for(fake), BrokenRegistry()) as bot:
        reply = await fake.ask(bot.group, bot.ann, "/check x:nasa")
        assert reply.text == "Sorry, something went wrong on my side. Please try again later."
        assert "registry down" in caplog.text
        assert "is this account official" in (await fake.ask(bot.group, bot.ann, "/help")).text
    assert TOKEN.split(":")[1] not in caplog.text


# --- webhook mode ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret_header(fake: FakeTelegram) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/telegram"
    config = config_for(fake, webhook=True, webhook_url=url, webhook_listen="127.0.0.1",
                        webhook_port=port, webhook_secret="s3cret-token")
    async with start_bot(fake, config) as bot:
        registered = await fake.expect("setWebhook")
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == "s3cret-token"
        reply = await fake.ask(bot.group, bot.ann, "/check x:nasa")  # posted to the webhook
        assert "NASA" in reply.text and fake.webhook_statuses == [200]
        update = {"update_id": 999, "message": {
            "message_id": 99, "date": 0, "chat": bot.group, "from": bot.ann, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        async with aiohttp.ClientSession() as session, session.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        ) as response:
            assert response.status == 403
        await assert_silent(bot, bot.group)


# --- payloads and splitting, directly ---


def answer_for(*refs: AccountRef) -> list[Answer]:
    return [Answer("q", ref, Status.UNKNOWN, None, Certainty.NONE) for ref in refs]


def test_payloads_pack_short_queries_and_key_long_ones() -> None:
    payloads = Payloads(capacity=2)
    short = payloads.encode(answer_for(AccountRef("x", "uriminzok")))
    assert re.fullmatch(r"r[A-Za-z0-9_-]{1,63}", short)
    assert payloads.decode(short) == "x:uriminzok"
    many = answer_for(*(AccountRef("x", f"account{n}") for n in range(5)))
    keys = [payloads.encode(many) for _ in range(3)]
    assert all(re.fullmatch(r"k[A-Za-z0-9_-]{16}", key) for key in keys)
    assert payloads.decode(keys[-1]) == " ".join(f"x:account{n}" for n in range(5))
    assert payloads.decode(keys[0]) is None  # the oldest was forgotten
    assert payloads.decode("r!!!") is None and payloads.decode("zzz") is None


def test_pieces_never_exceed_the_limit_nor_split_a_line() -> None:
    lines = [f"<b>line {n}</b> " + "&lt;" * 500 for n in range(40)]
    parts = pieces("\n".join(lines))
    assert len(parts) > 1 and all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert "\n".join(parts).split("\n") == lines


def test_config_reads_the_settings_and_refuses_webhook_mode_without_a_url() -> None:
    from isofficial.settings import Settings

    settings = Settings(telegram_token=TOKEN, telegram_base_url="http://127.0.0.1:1/bot")
    config = TelegramConfig.from_settings(settings)
    assert config.base_file_url == "http://127.0.0.1:1/file/bot" and not config.webhook
    assert TOKEN not in repr(config)
    with pytest.raises(ValueError, match="TELEGRAM_TOKEN"):
        TelegramConfig.from_settings(Settings(telegram_token=None))
    with pytest.raises(ValueError, match="WEBHOOK_URL"):
        TelegramConfig.from_settings(settings.model_copy(update={"telegram_webhook": True}))
