"""Discord: who sees which command, user installs, and the moderation loop end to end through the
fake Discord (the moderators' channel, its buttons, /dismiss, reporters told by DM)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_discord import FakeDiscord
from test_discord import World, buttons, fake, is_ephemeral, start_bot, until, world

__all__ = ["fake", "world"]  # fixtures used by name
MANAGE_MESSAGES, MANAGE_GUILD = 1 << 13, 1 << 5
GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2


@pytest.fixture
async def mods_world(fake: FakeDiscord, world: World) -> AsyncIterator[World]:
    mods = fake.add_guild("moderators")
    running = await start_bot(world, moderator_chat=frozenset({f"discord:{mods.channel_id}"}))
    world.fake.mods_channel = mods.channel_id  # type: ignore[attr-defined]
    yield world
    await running.close()


async def test_moderator_commands_are_hidden_and_everything_installs_anywhere(
    world: World,
) -> None:
    running = await start_bot(world)
    try:
        commands = {c["name"]: c for c in world.fake.commands}
        for name in ("verdict", "undo", "reports", "dismiss", "feeds"):
            assert int(commands[name]["default_member_permissions"]) == MANAGE_MESSAGES
        for name in ("check", "Check accounts", "sources", "history", "report"):
            assert commands[name]["default_member_permissions"] is None
        server_setting = commands.pop("language")  # a server's own choice: servers only
        assert server_setting["contexts"] == [GUILD]
        assert int(server_setting["default_member_permissions"]) == MANAGE_GUILD
        for name, command in commands.items():
            assert sorted(command["integration_types"]) == [GUILD_INSTALL, USER_INSTALL], name
            assert sorted(command["contexts"]) == [GUILD, BOT_DM, PRIVATE_CHANNEL], name
    finally:
        await running.close()


def posted_to(world: World, channel_id: int) -> list[dict[str, object]]:
    return [m for m in world.fake.messages.values() if int(str(m["channel_id"])) == channel_id]


async def test_a_report_reaches_the_moderators_channel_and_its_buttons_work(
    mods_world: World,
) -> None:
    world, fake = mods_world, mods_world.fake
    channel = fake.mods_channel  # type: ignore[attr-defined]
    await (await fake.slash("report", world.alice, world.guild, account="x:nasa_help",
                            status="impersonator", note="asks for keys")).reply()
    await until(lambda: bool(posted_to(world, channel)))
    [notice] = posted_to(world, channel)
    assert "New report #1: x:nasa\\_help impersonator" in str(notice["content"])
    accept, dismiss = buttons(notice)
    assert accept == "isofficial:report:accept:1" and dismiss == "isofficial:report:dismiss:1"

    refused = await (await fake.click(notice, accept, world.alice, world.guild)).reply()
    assert is_ephemeral(refused) and "only moderators" in refused["content"]
    done = await (await fake.click(notice, accept, world.mod, world.guild)).reply()
    assert is_ephemeral(done) and done["content"].startswith("Accepted: ⛔ x:nasa\\_help")
    await until(lambda: bool(fake.dms_to(world.alice)))
    [told] = fake.dms_to(world.alice)
    assert "report #1 (x:nasa\\_help impersonator) was accepted" in str(told["content"])
    await until(lambda: len(posted_to(world, channel)) == 2)
    assert "Verdict changed by discord:" in str(posted_to(world, channel)[1]["content"])
    assert await world.core.registry.open_reports() == []


async def test_repeats_merge_and_dismiss_tells_the_reporters(mods_world: World) -> None:
    world, fake = mods_world, mods_world.fake
    for who in (world.alice, world.alice, world.closed):
        await (await fake.slash("report", who, world.guild, account="x:nasa",
                                status="parody")).reply()
    [report] = await world.core.registry.open_reports()
    assert report.count == 3 and len(report.reporters) == 2
    refused = await (await fake.slash("dismiss", world.alice, world.guild, report=1)).reply()
    assert "only moderators" in refused["content"]
    done = await (await fake.slash("dismiss", world.mod, world.guild, report=1,
                                   reason="NASA runs it")).reply()
    assert is_ephemeral(done) and "Dismissed report #1" in done["content"]
    await until(lambda: bool(fake.dms_to(world.alice)))
    [told] = fake.dms_to(world.alice)
    assert "dismissed by the moderators: NASA runs it" in str(told["content"])
    assert fake.dms_to(world.closed) == []  # DMs closed: nothing sent, nothing broken
    again = await (await fake.slash("dismiss", world.mod, world.guild, report=1)).reply()
    assert "no open report #1" in again["content"]
