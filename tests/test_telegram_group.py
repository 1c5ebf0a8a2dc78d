"""The Telegram adapter as a member of real groups, end to end through the fake Bot API: greetings,
DMs without commands, migration, edits, captions, channel posts, privacy mode, and the
moderation loop (merged reports, /dismiss, the moderators' chat and its buttons, reporters told).
"""

from __future__ import annotations

from fake_telegram import FakeTelegram
from test_telegram import (  # the harness and its fixtures
    Harness,
    assert_silent,
    bot,
    config_for,
    dm_of,
    fake,
    headline,
    start_bot,
)

from knowledge.memory import MemoryChatPreferences

__all__ = ["bot", "fake"]  # fixtures used by name
MODS_CHAT = -100900


# --- manners ---


async def test_start_in_a_dm_greets_with_an_add_to_group_link(bot: Harness) -> None:
    reply = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "/start")
    assert "is this account official?" in reply.text
    [button] = reply.buttons
    assert button["url"] == "https://t.me/isofficial_test_bot?startgroup=true"


async def test_a_link_sent_alone_in_a_dm_is_answered(bot: Harness) -> None:
    reply = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "https://twitter.com/uriminzok")
    assert await headline(bot, "x:uriminzok") in reply.text
    reply = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "@nasa")
    assert "official account of NASA" in reply.text
    reply = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "hello there")
    assert "no account found" in reply.text


async def test_being_added_to_a_group_says_hello(bot: Harness) -> None:
    club = bot.fake.group(-100777, "Club")
    await bot.fake.add_bot_to(club, bot.ann)
    welcome = await bot.fake.expect("sendMessage", chat_id=club["id"])
    assert "/check" in welcome.text and "/autocheck on" in welcome.text


async def autocheck_on(bot: Harness) -> None:
    bot.fake.join(bot.group, bot.ann, "administrator")
    assert "Auto-check is on" in (await bot.fake.ask(bot.group, bot.ann, "/autocheck on")).text


async def test_migration_to_a_supergroup_keeps_autocheck(fake: FakeTelegram) -> None:
    async with start_bot(fake, config_for(fake), preferences=MemoryChatPreferences()) as bot:
        await autocheck_on(bot)
        supergroup = await fake.migrate(bot.group, -1001234, bot.ann)
        warned = await fake.ask(supergroup, bot.bob, "see https://x.com/uriminzok")
        assert "unofficial" in warned.text
        assert not await bot.core.autocheck_enabled("telegram", str(bot.group["id"]))


async def test_an_edit_is_auto_checked_once(bot: Harness) -> None:
    await autocheck_on(bot)
    post = await bot.fake.send(bot.group, bot.bob, "nothing to see")
    await bot.fake.edit(post, "now see https://x.com/uriminzok")
    warned = await bot.fake.expect("sendMessage", chat_id=bot.group["id"])
    assert "unofficial" in warned.text
    await bot.fake.edit(post, "again https://x.com/uriminzok!")
    await assert_silent(bot, bot.group)


async def test_captions_and_channel_posts_are_auto_checked(bot: Harness) -> None:
    await autocheck_on(bot)
    await bot.fake.send_photo(bot.group, bot.bob, "giveaway at x.com/nasa_support")
    warned = await bot.fake.expect("sendMessage", chat_id=bot.group["id"])
    assert "looks like x:nasa" in warned.text
    channel = bot.fake.group(-100555, "News", kind="channel")
    await bot.fake.post_in_channel(channel, "/autocheck on")
    assert "Auto-check is on" in (await bot.fake.expect("sendMessage", chat_id=-100555)).text
    await bot.fake.post_in_channel(channel, "follow https://x.com/uriminzok")
    assert "unofficial" in (await bot.fake.expect("sendMessage", chat_id=-100555)).text


async def test_autocheck_warns_when_privacy_mode_hides_messages(fake: FakeTelegram) -> None:
    fake.me["can_read_all_group_messages"] = False
    async with start_bot(fake, config_for(fake)) as blind:
        blind.fake.join(blind.group, blind.ann, "administrator")
        await blind.fake.send(blind.group, blind.ann, "/autocheck on")
        on = await blind.fake.expect("sendMessage", chat_id=blind.group["id"])
        warning = await blind.fake.expect("sendMessage", chat_id=blind.group["id"])
        assert "Auto-check is on" in on.text and "privacy mode is on" in warning.text
        blind.fake.join(blind.group, blind.fake.me, "administrator")  # admins see everything
        await blind.fake.send(blind.group, blind.ann, "/autocheck on")
        await blind.fake.expect("sendMessage", chat_id=blind.group["id"])
        await assert_silent(blind, blind.group)


# --- the moderation loop ---


async def test_repeated_reports_merge_with_a_count_and_the_reporters(bot: Harness) -> None:
    for who in (bot.ann, bot.ann, bot.bob):
        await bot.fake.ask(bot.group, who, "/report x:nasa_help impersonator asks for keys")
    listed = await bot.fake.ask(dm_of(bot, bot.mod), bot.mod, "/reports")
    assert listed.text.count("report #") == 1
    assert "3 times, by telegram:2 (@ann), telegram:3 (Bob)" in listed.text


async def test_dismiss_needs_a_moderator_and_tells_the_reporter(bot: Harness) -> None:
    await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "/report x:nasa parody")  # DM opened
    [report] = await bot.registry.open_reports()
    refused = await bot.fake.ask(bot.group, bot.bob, f"/dismiss {report.id} no")
    assert "only moderators" in refused.text
    usage = await bot.fake.ask(bot.group, bot.mod, "/dismiss soon")
    assert "Usage: /dismiss" in usage.text
    await bot.fake.send(bot.group, bot.mod, f"/dismiss #{report.id} NASA runs it, see nasa.gov")
    told = await bot.fake.expect("sendMessage", chat_id=bot.ann["id"])
    assert "dismissed by the moderators: NASA runs it, see nasa.gov" in told.text
    done = await bot.fake.expect("sendMessage", chat_id=bot.group["id"])
    assert f"Dismissed report #{report.id}" in done.text
    assert await bot.registry.open_reports() == []


async def test_the_moderators_chat_gets_reports_with_working_buttons(fake: FakeTelegram) -> None:
    async with start_bot(fake, config_for(fake, moderator_chat=MODS_CHAT)) as bot:
        mods = fake.group(MODS_CHAT, "Moderators")
        await fake.ask(dm_of(bot, bot.ann), bot.ann, "/report x:nasa_help impersonator")
        notice = await fake.expect("sendMessage", chat_id=MODS_CHAT)
        assert "New report #1: x:nasa_help impersonator" in notice.text
        accept, dismiss = (b["callback_data"] for b in notice.buttons)
        assert (accept, dismiss) == ("report:accept:1", "report:dismiss:1")

        await fake.click(notice.result, bot.bob, accept)  # not a moderator
        refused = await fake.expect("answerCallbackQuery")
        assert "only moderators" in refused.params["text"] and refused.params["show_alert"]

        await fake.click(notice.result, bot.mod, accept)
        changed = await fake.expect("sendMessage", chat_id=MODS_CHAT)
        assert "Verdict changed by telegram:1 (@mod)" in changed.text
        told = await fake.expect("sendMessage", chat_id=bot.ann["id"])
        assert "report #1 (x:nasa_help impersonator) was accepted" in told.text
        clicked = await fake.expect("answerCallbackQuery")
        assert clicked.params["text"].startswith("Accepted: ⛔ x:nasa_help — impersonator")
        assert await bot.registry.open_reports() == []

        await fake.click(notice.result, bot.mod, dismiss)  # already closed: said so
        late = await fake.expect("answerCallbackQuery")
        assert "no open report #1" in late.params["text"]
        assert mods["id"] == MODS_CHAT


async def test_an_official_claim_is_decided_and_its_reporter_told(bot: Harness) -> None:
    """The appeal path: an owner reports "this is mine and official"; a verdict decides."""
    await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, "/report x:nasa_kids official it is ours")
    await bot.fake.send(bot.group, bot.mod, "/verdict x:nasa_kids parody NASA | a fan page")
    told = await bot.fake.expect("sendMessage", chat_id=bot.ann["id"])
    assert "decided your report #1 (x:nasa_kids official) otherwise" in told.text
    assert "parody of NASA" in told.text
