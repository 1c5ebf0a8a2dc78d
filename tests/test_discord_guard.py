"""The guard on Discord, end to end: discord.py with the members intent against the fake Discord
(GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE, member chunks, avatars from its CDN as real PNG bytes,
timeouts, a per-channel rate limit), with the core's guard deciding."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from avatars import avatar, copy_of, encoded
from fake_discord import EPHEMERAL, FakeDiscord, FakeGuild, FakeUser
from test_discord import Running, World, fake, make_world, start_bot

__all__ = ["fake"]  # fixtures used by name
ADMIN_PHOTO = avatar(11)


async def until(done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for something the bot does in the background (a guard against hanging, no timing)."""
    async def poll() -> None:
        while not done():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def said(fake: FakeDiscord, guild: FakeGuild) -> list[str]:
    """What the bot posted in the guild's channel for everyone (not its private replies)."""
    return [m["content"] for m in fake.channel_messages(guild)
            if int(m["author"]["id"]) == fake.bot.id and not m["flags"] & EPHEMERAL]


class Guarded:
    def __init__(self, world: World, bot: Running, admin: FakeUser) -> None:
        self.world, self.bot, self.admin = world, bot, admin
        self.fake, self.guild = world.fake, world.guild

    def newcomer(self, name: str, photo: bytes | None = None) -> FakeUser:
        user = self.fake.add_user(name.lower().replace(" ", "_")[:20] + str(len(self.fake.users)))
        user.global_name, user.avatar = name, photo
        return user

    def paragraphs(self) -> list[str]:
        """Each warning is one paragraph; several may share a message."""
        return [p for message in said(self.fake, self.guild) for p in message.split("\n\n")]

    async def warnings(self, count: int) -> list[str]:
        await until(lambda: len(self.paragraphs()) >= count)
        return self.paragraphs()

    async def silent(self) -> None:
        """Nothing more was said: a later impostor's warning is the next one."""
        before = len(self.paragraphs())
        await self.fake.member_joins(self.guild, self.newcomer("Аnna Petrova"))
        warnings = await self.warnings(before + 1)
        assert len(warnings) == before + 1, warnings[before:]


async def guarded_world(fake: FakeDiscord, **settings: Any) -> tuple[World, Running, FakeUser]:
    world = await make_world(fake)
    admin = fake.add_user("annap", manages_guild=True)
    admin.global_name, admin.avatar = "Anna Petrova", encoded(ADMIN_PHOTO, kind="PNG")
    fake.add_member(world.guild, admin)
    bot = await start_bot(world, discord_guard=True, discord_cdn=fake.cdn_base, **settings)
    reply = await (await fake.subcommand("guard", "mode", admin, world.guild, mode="on")).reply()
    assert "The guard is on" in reply["content"] and "admins (1)" in reply["content"]
    return world, bot, admin


@pytest.fixture
async def guarded(fake: FakeDiscord) -> AsyncIterator[Guarded]:
    world, bot, admin = await guarded_world(fake)
    yield Guarded(world, bot, admin)
    await bot.close()


async def test_a_newcomer_with_a_cyrillic_letter_is_warned_in_the_system_channel(
    guarded: Guarded,
) -> None:
    await guarded.fake.member_joins(guarded.guild, guarded.newcomer("Аnna Petrova"))
    [warning] = await guarded.warnings(1)
    assert "Anna Petrova" in warning


async def test_affix_and_zero_width_newcomers_are_warned(guarded: Guarded) -> None:
    await guarded.fake.member_joins(guarded.guild, guarded.newcomer("Anna Petrova Support"))
    await guarded.fake.member_joins(guarded.guild, guarded.newcomer("Anna\u200bPetrova"))
    warnings = await guarded.warnings(2)
    assert all("Anna Petrova" in w for w in warnings)


async def test_a_nickname_change_into_the_admins_name_is_warned(guarded: Guarded) -> None:
    member = guarded.newcomer("Jane Doe")
    await guarded.fake.member_joins(guarded.guild, member)
    await guarded.fake.member_changes(guarded.guild, member, nick="Anna Petrоva")
    [warning] = await guarded.warnings(1)
    assert "Anna Petrova" in warning


async def test_a_global_name_or_username_change_is_warned(guarded: Guarded) -> None:
    first, second = guarded.newcomer("John Smith"), guarded.newcomer("Mary Major")
    for member in (first, second):
        await guarded.fake.member_joins(guarded.guild, member)
    await guarded.fake.member_changes(guarded.guild, first, global_name="Anna Petrova Support")
    await guarded.fake.member_changes(guarded.guild, second, username="annapetrova_help")
    warnings = await guarded.warnings(2)
    assert "Anna Petrova Support" in warnings[0]
    assert "@annapetrova\\_help" in warnings[1]  # markdown-escaped: shown as written


async def test_the_admins_avatar_resized_is_recognised(guarded: Guarded) -> None:
    copy = encoded(copy_of(ADMIN_PHOTO, 256, crop=0.02), kind="PNG")
    await guarded.fake.member_joins(guarded.guild, guarded.newcomer("Totally Different", copy))
    [warning] = await guarded.warnings(1)
    assert "Anna Petrova" in warning and "Totally Different" in warning
    stranger = guarded.newcomer("Someone Else", encoded(avatar(12), kind="PNG"))
    await guarded.fake.member_joins(guarded.guild, stranger)
    await guarded.silent()


async def test_the_real_admin_is_never_warned_and_guard_off_is_silence(guarded: Guarded) -> None:
    fake, guild = guarded.fake, guarded.guild
    await fake.member_changes(guild, guarded.admin, nick="Anna Petrova")  # looked at, an admin
    refused = await (await fake.subcommand("guard", "mode", guarded.world.alice, guild,
                                           mode="off")).reply()
    assert "only this chat's admins" in refused["content"]
    await (await fake.subcommand("guard", "mode", guarded.admin, guild, mode="off")).reply()
    await fake.member_joins(guild, guarded.newcomer("Аnna Petrova"))
    await (await fake.subcommand("guard", "mode", guarded.admin, guild, mode="on")).reply()
    await guarded.silent()  # only the impostor after "on" was warned about


async def test_timed_out_until_an_admin_approves(guarded: Guarded) -> None:
    fake, guild = guarded.fake, guarded.guild
    done = await (await fake.subcommand("guard", "timeout", guarded.admin, guild,
                                        mode="on")).reply()
    assert "may not write until an admin approves" in done["content"]
    impostor = guarded.newcomer("Anna Petrova Help Desk")
    await fake.member_joins(guild, impostor)
    await guarded.warnings(1)
    [message] = [m for m in fake.channel_messages(guild) if m["components"]]
    assert fake.timeouts[(guild.id, impostor.id)] is not None
    [button] = message["components"][0]["components"]
    refused = await (await fake.click(message, button["custom_id"], guarded.world.alice,
                                      guild)).reply()
    assert "Only that chat's administrators" in refused["content"]
    approved = await (await fake.click(message, button["custom_id"], guarded.admin,
                                       guild)).reply()
    assert "Approved" in approved["content"] and fake.timeouts[(guild.id, impostor.id)] is None
    await fake.member_changes(guild, impostor, nick="Anna Petrova Support")
    await guarded.silent()


async def test_a_join_wave_of_500_within_discords_limits_and_no_warning_dropped(
    fake: FakeDiscord,
) -> None:
    fake.channel_limit = (5, 0.5)  # Discord's 5 messages per 5 s per channel, 10x faster
    world, bot, _admin = await guarded_world(fake)
    try:
        rng = random.Random(9)
        impostors = set(rng.sample(range(500), 60))
        for number in range(500):
            name = "Аnna Petrova" if number in impostors else f"Member {number:03}"
            user = fake.add_user(f"m{number}")
            user.global_name = name
            if number % 2:
                user.avatar = encoded(avatar(1000 + number, 64), kind="PNG")
            await fake.member_joins(world.guild, user)
        await until(lambda: sum(len(m.split("\n\n")) for m in said(fake, world.guild))
                    >= len(impostors), 30)
        await asyncio.sleep(0.2)  # no late extra warning either
        messages = said(fake, world.guild)
        assert sum(len(m.split("\n\n")) for m in messages) == len(impostors)
        assert len(messages) <= 30 and fake.floods <= 1  # discord.py learns the bucket once
        assert fake.avatar_downloads < 250  # the photo queue refused most of the wave
    finally:
        await bot.close()


async def test_an_admins_new_avatar_is_the_one_protected(guarded: Guarded) -> None:
    fake, guild = guarded.fake, guarded.guild
    new_photo = avatar(31)
    downloads = fake.avatar_downloads
    await fake.member_changes(guild, guarded.admin, avatar=encoded(new_photo, kind="PNG"))
    await until(lambda: fake.avatar_downloads > downloads)  # hashed in the background
    copy = encoded(copy_of(new_photo, 300), kind="PNG")
    await fake.member_joins(guild, guarded.newcomer("Quite Unrelated", copy))
    [warning] = await guarded.warnings(1)
    assert "Quite Unrelated" in warning and "Anna Petrova" in warning


async def test_the_guards_status_says_what_the_admins_chose(guarded: Guarded) -> None:
    fake, guild = guarded.fake, guarded.guild
    await (await fake.subcommand("guard", "timeout", guarded.admin, guild, mode="on")).reply()
    status = await (await fake.subcommand("guard", "status", guarded.admin, guild)).reply()
    assert "The guard is on here." in status["content"]
    assert "restrict impostors until an admin allows them: on" in status["content"]


async def test_an_allowed_member_is_never_warned_about(guarded: Guarded) -> None:
    fake, guild = guarded.fake, guarded.guild
    twin = guarded.newcomer("Jane Doe")
    await fake.member_joins(guild, twin)
    refused = await (await fake.subcommand("guard", "allow", guarded.world.alice, guild,
                                           member=twin)).reply()
    assert "only this chat's admins" in refused["content"]
    allowed = await (await fake.subcommand("guard", "allow", guarded.admin, guild,
                                           member=twin)).reply()
    assert "Jane Doe will not be warned about here again." in allowed["content"]
    await fake.member_changes(guild, twin, nick="Anna Petrova Support")
    await guarded.silent()
