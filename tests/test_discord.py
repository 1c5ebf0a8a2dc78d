"""The Discord adapter end to end: discord.py against a local fake Discord (HTTP + websocket)."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fake_discord import EPHEMERAL, MESSAGE_CONTENT, FakeDiscord, FakeGuild, FakeUser

from adapters.discord.client import same_commands
from adapters.discord.render import COLOUR, LOOKALIKE_COLOUR, SOURCES_BUTTON_ID
from adapters.discord.run import run_discord
from bot.core import Core
from bot.model import AccountRecord, AccountRef, Correction, Evidence, Status
from bot.ports import Known
from isofficial.bootstrap import memory_core
from isofficial.settings import Settings
from knowledge.feeds.store import SqlFeedCatalog
from knowledge.memory import MemoryChatPreferences
from knowledge.registry import open_registry

ARTICLE = Evidence(
    url="https://www.nknews.org/2010/08/uriminzok-fans/", title="Fans ran the accounts",
    publisher="NK News", published=date(2010, 8, 24),
)
NASA_SOURCE = Evidence(url="https://www.nasa.gov/socialmedia/", title="NASA social media")
SEED = [
    Correction(AccountRef("x", "nasa"), Status.OFFICIAL, "NASA", NASA_SOURCE),
    Correction(AccountRef("x", "uriminzok"), Status.UNOFFICIAL, "Government of North Korea (DPRK)",
               ARTICLE, note="fan-run"),
]


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    alice: FakeUser  # a member
    mod: FakeUser  # a moderator
    closed: FakeUser  # DMs closed
    manager: FakeUser  # has Manage Server
    core: Core


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(heartbeat_ms=200)
    await fake.start()
    yield fake
    await fake.close()
    assert fake.failures == []


async def make_world(fake: FakeDiscord, core_factory: Callable[..., Any] = memory_core) -> World:
    guild = fake.add_guild("news")
    alice, mod = fake.add_user("alice"), fake.add_user("mod")
    shy, boss = fake.add_user("shy", dms_open=False), fake.add_user("boss", manages_guild=True)
    core = await core_factory(frozenset({f"discord:{mod.id}"}), SEED)
    return World(fake, guild, alice, mod, shy, boss, core)


def settings_for(fake: FakeDiscord, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"discord_token": fake.token, "discord_api_base": fake.api_base}
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@pytest.fixture
async def world(fake: FakeDiscord) -> World:
    return await make_world(fake)


class Running:
    def __init__(self, world: World, settings: Settings, defer_after: float) -> None:
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run_discord(
            world.core, settings, self.stop, defer_after=defer_after, guild_ready_timeout=0.1))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 20)


async def start_bot(world: World, defer_after: float = 1.5, **settings: Any) -> Running:
    bot = Running(world, settings_for(world.fake, **settings), defer_after)
    await world.fake.wait_ready()
    return bot


@pytest.fixture
async def bot(world: World) -> AsyncIterator[Running]:
    running = await start_bot(world)
    yield running
    await running.close()


def is_ephemeral(message: dict[str, Any]) -> bool:
    return bool(message["flags"] & EPHEMERAL)


def buttons(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


# ---- start-up: login, command sync, gateway --------------------------------------------------


async def test_start_syncs_commands_identifies_and_heartbeats(world: World, bot: Running) -> None:
    fake = world.fake
    assert fake.command_puts == 1
    names = {(c["type"], c["name"]) for c in fake.commands}
    assert names == {(1, "check"), (1, "sources"), (1, "verdict"), (1, "undo"), (1, "history"),
                     (1, "reports"), (1, "dismiss"), (1, "language"),
                     (1, "report"), (1, "feeds"), (1, "verify"), (3, "Check accounts")}
    status = next(o for o in fake.command("verdict")["options"] if o["name"] == "status")
    assert {c["value"] for c in status["choices"]} == {s.value for s in Status} - {"unknown"}
    assert all(o.get("description") for c in fake.commands if c["type"] == 1 for o in c["options"])
    assert not fake.identified[0]["intents"] & MESSAGE_CONTENT  # auto-check is off
    await until(lambda: fake.heartbeats >= 2)


async def test_commands_are_uploaded_only_when_they_change(world: World, bot: Running) -> None:
    await bot.close()
    again = await start_bot(world)
    await again.close()
    assert world.fake.command_puts == 1  # unchanged: no second upload
    world.fake.commands[0]["description"] = "an older description"
    third = await start_bot(world)
    await third.close()
    assert world.fake.command_puts == 2


def test_command_comparison_ignores_what_discord_adds() -> None:
    local = [{"name": "check", "type": 1, "description": "d", "nsfw": False,
              "options": [{"name": "q", "type": 3, "required": True, "autocomplete": False}]}]
    remote = [{"id": "9", "version": "3", "name": "check", "type": 1, "description": "d",
               "options": [{"name": "q", "type": 3, "required": True}]}]
    assert same_commands(local, remote)
    assert not same_commands(local, [{**remote[0], "description": "e"}])
    assert not same_commands(local, [])


async def test_reconnects_and_resumes_after_gateway_loss(world: World) -> None:
    # Configured: a reconnect that cannot resume goes to the default gateway (real Discord).
    bot = await start_bot(world, discord_gateway=world.fake.gateway_url)
    await world.fake.drop_gateway()
    await until(lambda: world.fake.resumes == 1)
    exchange = await world.fake.slash("check", world.alice, world.guild, query="x:nasa")
    assert (await exchange.reply())["embeds"][0]["footer"]["text"] == "x:nasa"
    await bot.close()


async def test_configured_gateway_wins_over_the_announced_one(fake: FakeDiscord) -> None:
    fake.announced_gateway = "ws://127.0.0.1:9/nowhere"  # a proxy deployment ignores this
    world = await make_world(fake)
    running = await start_bot(world, discord_gateway=fake.gateway_url)
    await running.close()


async def test_fake_fails_on_routes_it_does_not_implement(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with session.get(fake.api_base + "/guilds/1/bans", headers=headers) as response:
            assert response.status == 404
    assert fake.failures == ["GET /guilds/1/bans: route not implemented by the fake"]
    fake.failures.clear()


# ---- /check and the context menu --------------------------------------------------------------


async def test_check_answers_with_a_coloured_embed_and_sources_button(world: World,
                                                                      bot: Running) -> None:
    query = "is https://twitter.com/uriminzok official?"
    reply = await (await world.fake.slash("check", world.alice, world.guild, query=query)).reply()
    embed = reply["embeds"][0]
    assert not is_ephemeral(reply)
    assert embed["color"] == COLOUR[Status.UNOFFICIAL].value
    assert "unofficial" in embed["title"] and "North Korea" in embed["title"]
    assert embed["footer"]["text"] == "x:uriminzok"
    assert "fan-run" in embed["description"]  # why, as a group sees it on Telegram
    assert buttons(reply) == [SOURCES_BUTTON_ID]
    assert ARTICLE.url not in str(reply)  # links only on request


async def test_check_warns_about_a_lookalike(world: World, bot: Running) -> None:
    exchange = await world.fake.slash("check", world.alice, world.guild, query="x:nasa_official")
    embed = (await exchange.reply())["embeds"][0]
    assert embed["color"] == LOOKALIKE_COLOUR.value
    assert "looks like x:nasa (NASA)" in embed["description"]


async def test_sources_button_answers_privately_with_every_link(world: World, bot: Running) -> None:
    fake = world.fake
    answer = await (await fake.slash("check", world.alice, world.guild,
                                     query="x:uriminzok and x:nasa")).reply()
    sources = await (await fake.click(answer, SOURCES_BUTTON_ID, world.mod, world.guild)).reply()
    assert is_ephemeral(sources)
    assert ARTICLE.url in sources["content"] and NASA_SOURCE.url in sources["content"]
    assert "2010-08-24" in sources["content"]


async def test_context_menu_checks_every_account_in_a_message(world: World, bot: Running) -> None:
    fake = world.fake
    message = await fake.post_message(world.alice, world.guild,
                                      "is @uriminzok on twitter legit? and youtube.com/@nasa?")
    exchange = await fake.context_menu("Check accounts", message, world.mod, world.guild)
    reply = await exchange.reply()
    footers = [e["footer"]["text"] for e in reply["embeds"]]
    assert footers == ["x:uriminzok", "youtube:nasa"]
    assert reply["embeds"][1]["color"] == LOOKALIKE_COLOUR.value  # cross-platform lookalike


async def test_check_in_a_dm_works_too(world: World, bot: Running) -> None:
    reply = await (await world.fake.slash("check", world.alice, None, query="x:nasa")).reply()
    assert reply["embeds"][0]["color"] == COLOUR[Status.OFFICIAL].value


JUNK = "".join(random.Random(4).choices(string.printable, k=5000))


@pytest.mark.parametrize("command, values", [
    ("check", {"query": JUNK}),
    ("sources", {"query": JUNK}),
    ("history", {"account": JUNK}),
    ("report", {"account": JUNK, "status": "impersonator"}),
    ("verdict", {"account": JUNK, "status": "impersonator"}),
])
async def test_junk_gets_an_answer_within_discord_limits(world: World, bot: Running, command: str,
                                                         values: dict[str, str]) -> None:
    """Junk may name accounts by chance; either way the answer is no bug report and fits
    Discord's limits (the fake rejects and records any message over them)."""
    user = world.mod if command == "verdict" else world.alice
    reply = await (await world.fake.slash(command, user, world.guild, **values)).reply()
    assert "went wrong" not in str(reply)
    if is_ephemeral(reply) and not reply["embeds"]:
        assert "\n" not in reply["content"] or command == "sources"


@pytest.mark.parametrize("command, values, message", [
    ("check", {"query": "no account here, just words"}, "no account found"),
    ("sources", {"query": "nothing to see"}, "no account found"),
    ("history", {"account": "two words"}, ""),
    ("report", {"account": "@", "status": "impersonator"}, ""),
])
async def test_bad_input_gets_a_private_one_line_answer(world: World, bot: Running, command: str,
                                                        values: dict[str, str],
                                                        message: str) -> None:
    reply = await (await world.fake.slash(command, world.alice, world.guild, **values)).reply()
    assert is_ephemeral(reply) and not reply["embeds"]
    assert "\n" not in reply["content"] and message in reply["content"]
    assert "went wrong" not in reply["content"]  # a user's error, not a bug


# ---- /sources and DMs --------------------------------------------------------------------------


async def test_sources_are_ephemeral(world: World, bot: Running) -> None:
    reply = await (await world.fake.slash("sources", world.alice, world.guild,
                                          query="x:uriminzok")).reply()
    assert is_ephemeral(reply) and ARTICLE.url in reply["content"] and "fan-run" in reply["content"]


async def test_sources_by_dm(world: World, bot: Running) -> None:
    world.fake.rate_limit_next.add("/users/@me/channels")  # discord.py must wait and retry
    reply = await (await world.fake.slash("sources", world.alice, world.guild,
                                          query="x:uriminzok", dm=True)).reply()
    assert is_ephemeral(reply) and "DMs" in reply["content"]
    dms = world.fake.dms_to(world.alice)
    assert len(dms) == 1 and ARTICLE.url in dms[0]["content"]


async def test_sources_for_closed_dms_come_ephemerally(world: World, bot: Running) -> None:
    exchange = await world.fake.slash("sources", world.closed, world.guild, query="x:uriminzok",
                                      dm=True)
    await exchange.wait(lambda e: len(e.messages) == 2)
    note, listing = exchange.messages
    assert is_ephemeral(note) and is_ephemeral(listing)
    assert "DMs are closed" in note["content"] and ARTICLE.url in listing["content"]
    assert world.fake.dms_to(world.closed) == []


async def test_long_answers_are_split_within_discord_limits(world: World, bot: Running) -> None:
    ref = AccountRef("x", "nasa")
    for n in range(40):  # forty dated sources: far more than one message holds
        source = Evidence(url=f"https://example.org/nasa/{n}", title=f"NASA statement {n} " * 3)
        await world.core.registry.apply(Correction(ref, Status.OFFICIAL, "NASA", source), "seed")
    exchange = await world.fake.slash("sources", world.alice, world.guild, query="x:nasa")
    await exchange.wait(lambda e: "example.org/nasa/39" in str(e.messages))
    assert len(exchange.messages) > 1 and all(map(is_ephemeral, exchange.messages))
    many = " ".join(f"x:account{n}" for n in range(15))
    reply = await (await world.fake.slash("check", world.alice, world.guild, query=many)).reply()
    assert len(reply["embeds"]) == 10  # Discord's cap; the fake checks the 6000-character budget


# ---- moderators: /verdict, /history; anyone: /report -------------------------------------------


async def test_moderator_verdict_changes_the_registry(world: World, bot: Running) -> None:
    fake = world.fake
    reply = await (await fake.slash(
        "verdict", world.mod, world.guild, account="x:nasa_official", status="impersonator",
        entity="NASA", note="fake giveaway", source="https://example.org/report")).reply()
    assert not is_ephemeral(reply)
    assert reply["embeds"][0]["color"] == COLOUR[Status.IMPERSONATOR].value
    history = await (await fake.slash("history", world.alice, world.guild,
                                      account="x:nasa_official")).reply()
    assert "unknown -> impersonator" in history["content"]
    assert f"discord:{world.mod.id}" in history["content"] and "fake giveaway" in history["content"]


async def test_member_verdict_is_refused_privately_and_changes_nothing(world: World,
                                                                       bot: Running) -> None:
    reply = await (await world.fake.slash("verdict", world.alice, world.guild,
                                          account="x:nasa", status="impersonator")).reply()
    assert is_ephemeral(reply) and "only moderators" in reply["content"]
    found = await world.core.registry.find([AccountRef("x", "nasa")])
    assert found[AccountRef("x", "nasa")].status is Status.OFFICIAL


async def test_unknown_status_is_named(world: World, bot: Running) -> None:
    for command in ("verdict", "report"):
        reply = await (await world.fake.slash(command, world.mod, world.guild,
                                              account="x:nasa", status="banana")).reply()
        assert is_ephemeral(reply) and "unknown status 'banana'" in reply["content"]


async def test_report_is_queued_for_moderators(world: World, bot: Running) -> None:
    reply = await (await world.fake.slash("report", world.alice, world.guild, account="x:nasa_0",
                                          status="impersonator", note="giveaway scam")).reply()
    assert is_ephemeral(reply) and "moderators will review" in reply["content"]
    reports = await world.core.registry.open_reports()
    assert [(str(r.ref), r.status, r.note) for r in reports] == [
        ("x:nasa_0", Status.IMPERSONATOR, "giveaway scam")]


async def test_report_takes_an_account_written_in_words(world: World, bot: Running) -> None:
    reply = await (await world.fake.slash("report", world.alice, world.guild,
                                          account="@nasa_0 on instagram",
                                          status="impersonator")).reply()
    assert is_ephemeral(reply) and "instagram:nasa" in reply["content"]
    [queued] = await world.core.registry.open_reports()
    assert (str(queued.ref), queued.status) == ("instagram:nasa_0", Status.IMPERSONATOR)


async def test_moderators_undo_and_read_reports_members_are_refused(world: World,
                                                                   bot: Running) -> None:
    fake = world.fake
    await (await fake.slash("report", world.alice, world.guild, account="x:nasa_0",
                            status="impersonator", note="giveaway scam")).reply()
    refused = await (await fake.slash("reports", world.alice, world.guild)).reply()
    assert is_ephemeral(refused) and "only moderators" in refused["content"]
    listed = await (await fake.slash("reports", world.mod, world.guild)).reply()
    assert is_ephemeral(listed) and r"x:nasa\_0 impersonator" in listed["content"]  # markdown
    await (await fake.slash("verdict", world.mod, world.guild, account="x:nasa",
                            status="compromised", entity="NASA")).reply()
    denied = await (await fake.slash("undo", world.alice, world.guild, account="x:nasa")).reply()
    assert is_ephemeral(denied) and "only moderators" in denied["content"]
    undone = await (await fake.slash("undo", world.mod, world.guild, account="x:nasa")).reply()
    assert undone["embeds"][0]["color"] == COLOUR[Status.OFFICIAL].value
    found = await world.core.registry.find([AccountRef("x", "nasa")])
    assert found[AccountRef("x", "nasa")].status is Status.OFFICIAL


async def test_history_of_an_unchanged_account(world: World, bot: Running) -> None:
    reply = await (await world.fake.slash("history", world.alice, world.guild,
                                          account="x:nobody_here")).reply()
    assert "no changes recorded" in reply["content"]


# ---- autocomplete ------------------------------------------------------------------------------


async def test_autocomplete_suggests_registered_accounts_and_entities(world: World,
                                                                      bot: Running) -> None:
    fake = world.fake
    accounts = await fake.autocomplete("verdict", "account", world.mod, world.guild, account="na")
    assert [c["value"] for c in accounts] == ["na", "x:nasa"]
    entities = await fake.autocomplete("verdict", "entity", world.mod, world.guild,
                                       account="x:nasa", entity="nas")
    assert "NASA" in [c["value"] for c in entities]
    checks = await fake.autocomplete("check", "query", world.alice, world.guild, query="x:n")
    assert "x:nasa" in [c["value"] for c in checks]


async def test_autocomplete_searches_the_registry_as_it_is_now(world: World, bot: Running) -> None:
    fake = world.fake
    # Set after the bot started, by another process: a startup list would not know it.
    await world.core.registry.apply(
        Correction(AccountRef("telegram", "kcna_watch"), Status.UNOFFICIAL, "KCNA Watch"), "cli")
    accounts = await fake.autocomplete("check", "query", world.alice, world.guild, query="kcna")
    assert [(c["value"], c["name"]) for c in accounts] == [
        ("kcna", "kcna"), ("telegram:kcna_watch", "telegram:kcna_watch · KCNA Watch")]
    by_entity = await fake.autocomplete("history", "account", world.alice, world.guild,
                                        account="north korea")
    assert [c["value"] for c in by_entity] == ["north korea", "x:uriminzok"]
    entities = await fake.autocomplete("verdict", "entity", world.mod, world.guild,
                                       account="x:new", entity="korea")
    assert [c["value"] for c in entities] == ["korea", "Government of North Korea (DPRK)"]


# ---- feeds ---------------------------------------------------------------------------------------


async def test_feeds_are_refused_privately_to_members_and_unconfigured_said(world: World,
                                                                            bot: Running) -> None:
    refused = await (await world.fake.slash("feeds", world.alice, world.guild,
                                            action="list")).reply()
    assert is_ephemeral(refused) and "only moderators" in refused["content"]
    unset = await (await world.fake.slash("feeds", world.mod, world.guild, action="add",
                                          url="https://news.example/feed.xml")).reply()
    assert is_ephemeral(unset) and "not configured" in unset["content"]


async def test_moderators_manage_feeds(fake: FakeDiscord, tmp_path: Path) -> None:
    registry = await open_registry(f"sqlite+aiosqlite:///{tmp_path / 'registry.sqlite3'}")

    async def with_feeds(moderators: frozenset[str], seed: Sequence[Correction]) -> Core:
        core = await memory_core(moderators, seed)
        return Core(core.registry, core.index, moderators, SqlFeedCatalog(registry.engine))

    world = await make_world(fake, with_feeds)
    running = await start_bot(world)
    url = "https://news.example/feed_1.xml"

    async def feeds(**options: str) -> dict[str, Any]:
        reply = await (await fake.slash("feeds", world.mod, world.guild, **options)).reply()
        assert is_ephemeral(reply)
        return reply

    assert "No feeds yet" in (await feeds(action="list"))["content"]
    assert "Added" in (await feeds(action="add", url=url))["content"]
    assert "already in the feed list" in (await feeds(action="add", url=url))["content"]
    assert "not a feed URL" in (await feeds(action="add", url="file:///etc/passwd"))["content"]
    assert "needs the feed's URL" in (await feeds(action="remove"))["content"]
    assert "/feed_1.xml · last success never" in (await feeds(action="list"))["content"]
    assert "Removed" in (await feeds(action="remove", url=url))["content"]
    assert "unknown action" in (await feeds(action="banana"))["content"]
    await running.close()
    await registry.close()


# ---- deferral and the 3-second deadline ---------------------------------------------------------


class GatedRegistry:
    """The in-memory registry, but `find` and `read` wait until the test opens the gate (a slow
    database)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gate = asyncio.Event()

    async def find(self, refs: Sequence[AccountRef]) -> dict[AccountRef, AccountRecord]:
        await self.gate.wait()
        found: dict[AccountRef, AccountRecord] = await self.inner.find(refs)
        return found

    async def read(
        self, refs: Sequence[AccountRef], mentions: int = 5,
        mentioned: Collection[AccountRef] | None = None,
    ) -> dict[AccountRef, Known]:
        await self.gate.wait()
        known: dict[AccountRef, Known] = await self.inner.read(refs, mentions, mentioned)
        return known

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def gated_core(moderators: frozenset[str], seed: Sequence[Correction]) -> Core:
    core = await memory_core(moderators, seed)
    return Core(GatedRegistry(core.registry), core.index, moderators)


async def test_slow_answers_are_deferred_then_delivered(fake: FakeDiscord) -> None:
    world = await make_world(fake, gated_core)
    running = await start_bot(world, defer_after=0.0)
    exchange = await fake.slash("check", world.alice, world.guild, query="x:nasa")
    await exchange.wait(lambda e: e.deferred)
    assert not exchange.messages  # still "thinking"
    world.core.registry.gate.set()  # type: ignore[attr-defined]
    reply = await exchange.reply()
    assert reply["embeds"][0]["footer"]["text"] == "x:nasa" and not is_ephemeral(reply)
    await running.close()


async def test_an_error_after_a_public_deferral_stays_private(fake: FakeDiscord) -> None:
    world = await make_world(fake, gated_core)
    running = await start_bot(world, defer_after=0.0)
    # A bare @handle makes the core ask the (slow) registry before it finds what is missing.
    exchange = await fake.slash("verdict", world.mod, world.guild, account="@nasa",
                                status="official")
    await exchange.wait(lambda e: e.deferred)
    world.core.registry.gate.set()  # type: ignore[attr-defined]
    reply = await exchange.reply()
    assert is_ephemeral(reply) and "needs the entity" in reply["content"]
    assert exchange.original is None  # the public "thinking…" placeholder was removed
    await running.close()


async def test_fake_flags_an_interaction_not_acknowledged_in_time(fake: FakeDiscord) -> None:
    world = await make_world(fake, gated_core)
    running = await start_bot(world, defer_after=30.0)  # a bot that never defers
    exchange = await fake.slash("check", world.alice, world.guild, query="x:nasa")
    await until(lambda: bool(fake.failures))
    assert fake.failures == [f"interaction {exchange.id} not acknowledged within 3.0 s"]
    fake.failures.clear()
    world.core.registry.gate.set()  # type: ignore[attr-defined]
    await until(lambda: bool(fake.failures))  # the late answer is refused as Discord would
    await running.close()  # the bot may try again (its error reply): let it finish first
    late = f"interaction {exchange.id} acknowledged after"
    assert fake.failures and all(failure.startswith(late) for failure in fake.failures)
    fake.failures.clear()


# ---- auto-check and sharding --------------------------------------------------------------------


async def test_autocheck_is_opt_in_and_speaks_only_when_alarming(fake: FakeDiscord) -> None:
    world = await make_world(fake)
    running = await start_bot(world, discord_autocheck=True)
    assert fake.identified[0]["intents"] & MESSAGE_CONTENT
    refused = await (await fake.slash("autocheck", world.alice, world.guild, mode="on")).reply()
    assert is_ephemeral(refused) and "Manage Server" in refused["content"]
    await fake.post_message(world.alice, world.guild, "follow x:nasa_official for prizes")
    accepted = await (await fake.slash("autocheck", world.manager, world.guild, mode="on")).reply()
    assert is_ephemeral(accepted) and "on" in accepted["content"]
    await fake.post_message(world.alice, world.guild, "the real one is x:nasa")
    alarm = await fake.post_message(world.alice, world.guild, "follow x:nasa_official for prizes")
    await until(lambda: any(m["embeds"] for m in fake.channel_messages(world.guild)))
    await asyncio.sleep(0)  # let a (wrong) reply to the harmless message land too, if any
    answers = [m for m in fake.channel_messages(world.guild)
               if m["author"]["bot"] and not is_ephemeral(m)]
    assert len(answers) == 1 and answers[0]["embeds"][0]["footer"]["text"] == "x:nasa_official"
    assert alarm["id"] != answers[0]["id"]
    await running.close()


async def test_autocheck_survives_a_restart(fake: FakeDiscord) -> None:
    world = await make_world(fake)
    running = await start_bot(world, discord_autocheck=True)
    accepted = await (await fake.slash("autocheck", world.manager, world.guild, mode="on")).reply()
    assert "on" in accepted["content"]
    await running.close()
    store = world.core.preferences
    assert isinstance(store, MemoryChatPreferences)
    who = f"discord:{world.manager.id} (boss)"
    assert store.autochecks == {("discord", str(world.guild.id)): (True, who)}

    fresh = await Core.start(world.core.registry, world.core.moderators, preferences=store)
    running = await start_bot(replace(world, core=fresh), discord_autocheck=True)
    await fake.post_message(world.alice, world.guild, "follow x:nasa_official for prizes")
    await until(lambda: any(m["embeds"] for m in fake.channel_messages(world.guild)))
    await running.close()


async def test_sharded_bot_answers_in_every_shard(fake: FakeDiscord) -> None:
    fake.shard_count = 2
    world = await make_world(fake)
    while fake.shard_of(second := fake.add_guild("other")) == fake.shard_of(world.guild):
        pass
    running = await start_bot(world)
    assert sorted(i["shard"][0] for i in fake.identified) == [0, 1]
    for guild in (world.guild, second):
        reply = await (await fake.slash("check", world.alice, guild, query="x:nasa")).reply()
        assert reply["embeds"][0]["footer"]["text"] == "x:nasa"
    await running.close()


async def test_one_process_per_shard(fake: FakeDiscord) -> None:
    fake.shard_count = 2
    world = await make_world(fake)
    while fake.shard_of(second := fake.add_guild("other")) == fake.shard_of(world.guild):
        pass
    first = await start_process(world, shard=1)
    assert [i["shard"] for i in fake.identified] == [[1, 2]]  # only its own shard
    other = await start_process(world, shard=0)
    await fake.wait_ready()
    assert sorted(i["shard"][0] for i in fake.identified) == [0, 1]
    for guild in (world.guild, second):
        reply = await (await fake.slash("check", world.alice, guild, query="x:nasa")).reply()
        assert reply["embeds"][0]["footer"]["text"] == "x:nasa"
    await other.close()  # the reverse order of start: each restores discord.py's endpoints
    await first.close()


async def start_process(world: World, shard: int) -> Running:
    # Given its shard count, discord.py skips GET /gateway/bot: it connects to the configured
    # gateway (else Discord's default), never to an announced one.
    settings = settings_for(world.fake, discord_shard_id=shard, discord_shard_count=2,
                            discord_gateway=world.fake.gateway_url)
    running = Running(world, settings, 1.5)
    await until(lambda: shard in world.fake.connections)
    return running


@pytest.mark.parametrize(("shard", "count", "error"), [
    (1, None, "set both"), (None, 2, "set both"), (2, 2, "must be 0 to 1")])
async def test_a_half_configured_shard_is_refused(world: World, shard: int | None,
                                                  count: int | None, error: str) -> None:
    settings = settings_for(world.fake, discord_shard_id=shard, discord_shard_count=count)
    with pytest.raises(ValueError, match=error):
        await run_discord(world.core, settings, asyncio.Event())
