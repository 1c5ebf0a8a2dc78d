"""The guard on Telegram, end to end: the real python-telegram-bot stack against the fake Bot API
(chat_member updates, join messages, getChatAdministrators, profile photos as real JPEG bytes,
restrictions, deletions, Telegram's flood limit), with the core's guard deciding."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields

import pytest
from avatars import avatar, copy_of, encoded
from fake_telegram import JSON, FakeTelegram
from test_telegram import Harness, assert_silent, config_for, fake, start_bot

from adapters.telegram.handlers import Services

__all__ = ["fake"]  # fixtures used by name
ADMIN_PHOTO = avatar(7)
MODS_CHAT = -100900


@dataclass
class Guarded(Harness):
    admin: JSON = field(default_factory=dict)  # the group's admin, "Anna Petrova"

    @property
    def services(self) -> Services:
        found = self.app.bot_data["services"]
        assert isinstance(found, Services)
        return found


async def guard_on(bot: Harness) -> Guarded:
    """The group's admin is "Anna Petrova" (@annapetrova, with a photo), the bot an
    administrator, the guard on."""
    admin = newcomer(bot, 10, "Anna", "Petrova", "annapetrova")
    bot.fake.private(admin)
    bot.fake.join(bot.group, admin, "administrator")
    bot.fake.set_photo(admin, encoded(ADMIN_PHOTO))
    bot.fake.bot_is_admin(bot.group)
    on = await bot.fake.ask(bot.group, admin, "/guard on")
    assert "The guard is on" in on.text and "admins (1)" in on.text
    return Guarded(**{f.name: getattr(bot, f.name) for f in fields(bot)}, admin=admin)


@pytest.fixture
async def guarded(fake: FakeTelegram) -> AsyncIterator[Guarded]:
    async with start_bot(fake, config_for(fake, photo_rate=500.0, guard_gather=0.01)) as bot:
        yield await guard_on(bot)


def admin_of(bot: Guarded) -> JSON:
    return bot.admin


async def warning(bot: Guarded, chat: int | None = None) -> str:
    call = await bot.fake.expect("sendMessage", chat_id=chat or bot.group["id"])
    return call.text


def newcomer(bot: Harness, user_id: int, first: str, last: str | None = None,
             username: str | None = None) -> JSON:
    user = bot.fake.user(user_id, first, username)
    if last:
        user["last_name"] = last
    return user


# --- who is warned ----------------------------------------------------------------------------


@pytest.mark.parametrize("first, last", [
    ("Аnna", "Petrova"),  # a Cyrillic А
    ("Anna", "Petrova Support"),  # an affix
    ("Anna\u200b", "Petrova"),  # a zero-width space
])
async def test_a_newcomer_posing_as_the_admin_is_warned_about(guarded: Guarded, first: str,
                                                              last: str) -> None:
    await guarded.fake.member_joins(guarded.group, newcomer(guarded, 50, first, last))
    said = await warning(guarded)
    assert "Anna Petrova" in said
    await assert_silent(guarded, guarded.group)  # one warning, even with the join message too


async def test_the_admins_photo_re_encoded_and_resized_is_recognised(guarded: Guarded) -> None:
    impostor = newcomer(guarded, 51, "Totally", "Different")
    guarded.fake.set_photo(impostor, encoded(copy_of(ADMIN_PHOTO, 320, crop=0.02), quality=70))
    await guarded.fake.member_joins(guarded.group, impostor, service_message=False)
    said = await warning(guarded)
    assert "Anna Petrova" in said and "Totally Different" in said
    stranger = newcomer(guarded, 52, "Someone", "Else")
    guarded.fake.set_photo(stranger, encoded(avatar(8)))
    await guarded.fake.member_joins(guarded.group, stranger, service_message=False)
    await assert_silent(guarded, guarded.group)


async def test_a_rename_into_the_admins_name_is_seen_in_the_next_message(guarded: Guarded) -> None:
    member = newcomer(guarded, 53, "Jane")
    await guarded.fake.member_joins(guarded.group, member)
    await guarded.fake.send(guarded.group, member, "hi all")
    member.update(first_name="Anna", last_name="Petrоva")  # a Cyrillic о
    await guarded.fake.send(guarded.group, member, "DM me for support")
    assert "Anna Petrova" in await warning(guarded)


async def test_the_real_admin_and_an_allowed_member_are_never_warned(guarded: Guarded) -> None:
    fake, admin = guarded.fake, admin_of(guarded)
    await fake.send(guarded.group, admin, "welcome everyone")
    twin = newcomer(guarded, 54, "Anna", "Petrova")  # really another Anna Petrova
    await fake.member_joins(guarded.group, twin, service_message=False)
    await warning(guarded)
    post = await fake.send(guarded.group, twin, "I'm a different Anna")
    allowed = await fake.ask(guarded.group, admin, "/guard allow", reply_to=post)
    assert "will not be warned about here again" in allowed.text
    twin["last_name"] = "Petrova Support"
    await fake.send(guarded.group, twin, "renamed")
    await assert_silent(guarded, guarded.group)


async def test_guard_off_means_silence(guarded: Guarded) -> None:
    off = await guarded.fake.ask(guarded.group, admin_of(guarded), "/guard off")
    assert "The guard is off" in off.text
    await guarded.fake.member_joins(guarded.group, newcomer(guarded, 55, "Аnna", "Petrova"))
    await assert_silent(guarded, guarded.group)


async def test_only_chat_admins_switch_the_guard(guarded: Guarded) -> None:
    refused = await guarded.fake.ask(guarded.group, guarded.bob, "/guard off")
    assert "only this chat's admins" in refused.text
    refused = await guarded.fake.ask(guarded.group, guarded.bob, "/guard restrict on")
    assert "only this chat's admins" in refused.text
    assert await guarded.core.guard.is_on("telegram", str(guarded.group["id"]))
    usage = await guarded.fake.ask(guarded.group, guarded.bob, "/guard")
    assert "Usage: /guard on|off" in usage.text and "The guard is on here." in usage.text
    assert "delete their join message: off" in usage.text


async def test_a_promotion_refreshes_the_admins(guarded: Guarded) -> None:
    robert = newcomer(guarded, 20, "Robert", "Miles")
    await guarded.fake.member_joins(guarded.group, robert, service_message=False)
    await guarded.fake.promote(guarded.group, robert)
    await guarded.fake.member_joins(guarded.group, newcomer(guarded, 56, "Rоbert", "Miles"),
                                    service_message=False)
    assert "Robert Miles" in await warning(guarded)


# --- what admins may choose -------------------------------------------------------------------


async def test_restricted_until_an_admin_approves(guarded: Guarded) -> None:
    fake, group = guarded.fake, guarded.group
    await fake.ask(group, admin_of(guarded), "/guard restrict on")
    impostor = newcomer(guarded, 57, "Anna", "Petrova Help Desk")
    await fake.member_joins(group, impostor, service_message=False)
    warned = await fake.expect("sendMessage", chat_id=group["id"])
    assert fake.members[(group["id"], 57)]["status"] == "restricted"
    [button] = warned.buttons
    assert button["callback_data"] == f"guard:ok:{group['id']}:57"
    await fake.click(warned.result, guarded.bob, button["callback_data"])
    refused = await fake.expect("answerCallbackQuery")
    assert "Only that chat's administrators" in refused.params["text"]
    assert fake.members[(group["id"], 57)]["status"] == "restricted"
    await fake.click(warned.result, admin_of(guarded), button["callback_data"])
    approved = await fake.expect("answerCallbackQuery")
    assert "Approved" in approved.params["text"]
    assert fake.members[(group["id"], 57)]["status"] == "member"
    impostor["last_name"] = "Petrova Support"
    await fake.send(group, impostor, "thanks")
    await assert_silent(guarded, group)


async def test_the_impostors_join_message_is_deleted_when_chosen(guarded: Guarded) -> None:
    fake, group = guarded.fake, guarded.group
    done = await fake.ask(group, admin_of(guarded), "/guard delete on")
    assert "their join messages are deleted" in done.text
    joined = await fake.member_joins(group, newcomer(guarded, 58, "Anna", "Petrova Help"))
    assert joined is not None
    await warning(guarded)
    deleted = await fake.expect("deleteMessage")
    assert deleted.params["message_id"] == joined["message_id"] and deleted.error is None
    await fake.member_joins(group, newcomer(guarded, 59, "Innocent", "Newcomer"))
    await assert_silent(guarded, group)
    assert fake.untaken("deleteMessage") == []


async def test_warnings_are_copied_to_the_moderators_chat(guarded: Guarded) -> None:
    fake, admin = guarded.fake, admin_of(guarded)
    mods = fake.group(MODS_CHAT, "Mods")
    usage = await fake.ask(guarded.group, admin, "/guard mods soon")
    assert usage.text == "Usage: /guard mods <chat id>|off"
    refused = await fake.ask(guarded.group, admin, f"/guard mods {MODS_CHAT}")
    assert "only to a chat where you are an administrator" in refused.text
    fake.join(mods, admin, "administrator")
    done = await fake.ask(guarded.group, admin, f"/guard mods {MODS_CHAT}")
    assert str(MODS_CHAT) in done.text
    await fake.member_joins(guarded.group, newcomer(guarded, 60, "Аnna", "Petrova"))
    await warning(guarded)
    copied = await warning(guarded, MODS_CHAT)
    assert "Readers" in copied and "Anna Petrova" in copied


# --- the member question ----------------------------------------------------------------------


async def test_check_a_member_in_a_guarded_group(guarded: Guarded) -> None:
    fake, group = guarded.fake, guarded.group
    real = await fake.ask(group, guarded.bob, "/check @annapetrova")
    assert real.text == "Anna Petrova (@annapetrova) is an admin of this chat."
    impostor = newcomer(guarded, 61, "Anna", "Petrova Support", "anna_support")
    post = await fake.send(group, impostor, "write me for help")
    await warning(guarded)
    asked = await fake.ask(group, guarded.bob, "/check", reply_to=post)
    assert "Anna Petrova" in asked.text and "Petrova Support" in asked.text
    account = await fake.ask(group, guarded.bob, "/check x:nasa")
    assert "NASA" in account.text


async def test_a_dm_naming_a_guarded_chat_hears_its_admins_never_write_first(
    guarded: Guarded,
) -> None:
    dm = guarded.fake.chats[guarded.bob["id"]]
    said = await guarded.fake.ask(dm, guarded.bob, "an admin of Readers wrote to me")
    assert "Admins of Readers never write first" in said.text
    await assert_silent(guarded, dm)


# --- a join wave ------------------------------------------------------------------------------


async def test_a_join_wave_of_500_within_telegrams_limits_and_no_warning_dropped(
    fake: FakeTelegram,
) -> None:
    fake.flood = (20, 1.0)  # Telegram's 20 a minute per group, on a 60x faster clock
    config = config_for(fake, group_count=20, group_seconds=1.0, photo_queue=25,
                        photo_rate=200.0, guard_gather=0.3)
    async with start_bot(fake, config) as started:
        bot = await guard_on(started)
        rng = random.Random(5)
        impostors = set(rng.sample(range(500), 60))
        for number in range(500):
            first = "Аnna" if number in impostors else f"Member{number:03}"
            user = newcomer(bot, 1000 + number, first, "Petrova" if number in impostors
                            else rng.choice(["Kim", "Lee", "Park", "Ito"]))
            await fake.member_joins(bot.group, user, service_message=False)
        warned, blocks = [], 0  # each warning is one paragraph of a message
        while blocks < len(impostors):
            warned.append(await fake.expect("sendMessage", chat_id=bot.group["id"]))
            blocks += len(warned[-1].text.split("\n\n"))
        await assert_silent(bot, bot.group)  # every join handled, nothing more to say
        assert blocks == len(impostors)
        assert bot.services.watch.warnings.sent == len(impostors)
        assert fake.floods == 0 and len(warned) <= len(impostors) / 2  # packed
        queue = bot.services.watch.queue
        assert queue.most_waiting <= 25 and queue.refused > 0
        members_asked = [c for c in fake.calls if c.method == "getUserProfilePhotos"
                         and c.params["user_id"] != 10]
        assert len(members_asked) <= 500 - len(impostors) - queue.refused


# --- bounded cost -----------------------------------------------------------------------------


async def test_a_warning_told_to_retry_after_is_sent_again(guarded: Guarded) -> None:
    guarded.fake.fail_next("sendMessage", 429, retry_after=1)
    await guarded.fake.member_joins(guarded.group, newcomer(guarded, 70, "Аnna", "Petrova"),
                                    service_message=False)
    limited = await guarded.fake.expect("sendMessage", chat_id=guarded.group["id"])
    assert limited.error is not None and limited.error.code == 429
    again = await warning(guarded)
    assert "Anna Petrova" in again


async def test_admins_photos_are_downloaded_again_only_when_they_change(
    fake: FakeTelegram,
) -> None:
    async with start_bot(fake, config_for(fake, guard_refresh=0.0, guard_gather=0.01)) as bot:
        guarded = await guard_on(bot)  # refresh 0: the admins are re-read on every event
        downloads = fake.downloads
        for number in range(3):
            await fake.send(bot.group, newcomer(bot, 80 + number, f"Reader{number}"), "hello")
        await assert_silent(bot, bot.group)
        assert fake.downloads == downloads  # the same photo (file_unique_id): not downloaded
        new_photo = avatar(21)
        fake.set_photo(guarded.admin, encoded(new_photo))
        await fake.send(bot.group, newcomer(bot, 89, "Reader9"), "hello")  # re-reads the admins
        await assert_silent(bot, bot.group)
        await guarded.services.watch.settled()
        impostor = newcomer(bot, 90, "Quite", "Unrelated")
        fake.set_photo(impostor, encoded(copy_of(new_photo, 200), quality=75))
        await fake.send(bot.group, impostor, "hello")
        said = await warning(guarded)
        assert "Quite Unrelated" in said and "Anna Petrova" in said
        assert fake.downloads == downloads + 2  # the admin's new photo, the impostor's
