"""/verify on Telegram and Discord, end to end: the real python-telegram-bot and discord.py
stacks against their local fakes, the core reading a local web (real TLS, injected DNS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from fake_discord import FakeDiscord
from fake_sites import FakeWeb
from fake_telegram import running_fake
from test_discord import make_world, start_bot
from test_telegram import MODERATOR_ID, config_for

from adapters.telegram.app import build_application
from adapters.telegram.run import serve
from bot.core import Core
from bot.model import AccountRef, Correction, Status
from isofficial.bootstrap import live_verifier
from knowledge.memory import MemoryRegistry
from knowledge.verify.store import MemoryVerificationStore


def nasa_web() -> FakeWeb:
    web = FakeWeb()
    web.page("nasa.gov", "/", '<a href="https://x.com/NASA">X</a>')
    return web


@asynccontextmanager
async def verifying_core(moderators: frozenset[str]) -> AsyncIterator[Core]:
    registry = MemoryRegistry()
    for ref in (AccountRef("website", "nasa.gov"), AccountRef("x", "nasa")):
        await registry.apply(Correction(ref, Status.OFFICIAL, "NASA"), "seed")
    async with nasa_web() as web, web.fetcher() as fetcher:
        verifier = live_verifier(registry, MemoryVerificationStore(registry), fetcher)
        yield await Core.start(registry, moderators, verifier=verifier)


async def test_verify_on_telegram() -> None:
    async with running_fake() as fake, verifying_core(
        frozenset({f"telegram:{MODERATOR_ID}"})
    ) as core:
        config = config_for(fake)
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(build_application(core, config), config, stop, ready))
        await asyncio.wait_for(ready.wait(), 10)
        mod, ann = fake.user(MODERATOR_ID, "Mo", "mod"), fake.user(2, "Ann", "ann")
        for user in (mod, ann):
            fake.private(user)
        try:
            linked = await fake.ask(fake.chats[ann["id"]], ann, "/verify x:nasa")
            assert "🔗 linked from nasa.gov (link) (checked " in linked.text
            sources = await fake.ask(fake.chats[ann["id"]], ann, "/sources x:nasa")
            assert "🔗 linked from nasa.gov (link) (checked " in sources.text
            history = await fake.ask(fake.chats[ann["id"]], ann, "/history x:nasa")
            assert "verifications, newest first:" in history.text
            assert "nasa.gov" in history.text.split("verifications, newest first:")[1]
            refused = await fake.ask(fake.chats[ann["id"]], ann, "/verify x:nasa_fan NASA")
            assert "only moderators" in refused.text
            unlinked = await fake.ask(fake.chats[mod["id"]], mod, "/verify x:nasa_fan NASA")
            assert "🔗 not linked from nasa.gov" in unlinked.text
            usage = await fake.ask(fake.chats[ann["id"]], ann, "/verify")
            assert "Usage: /verify" in usage.text
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        assert not fake.problems, fake.problems


async def test_verify_on_discord() -> None:
    fake = FakeDiscord(heartbeat_ms=200)
    await fake.start()
    async with AsyncExitStack() as stack:

        async def core_factory(moderators: frozenset[str], seed: Sequence[Correction]) -> Core:
            return await stack.enter_async_context(verifying_core(moderators))

        world = await make_world(fake, core_factory)
        bot = await start_bot(world)
        try:
            reply = await (await fake.slash("verify", world.alice, world.guild,
                                            account="x:nasa")).reply()
            assert "linked from nasa.gov (link) (checked " in reply["content"]
            sources = await (await fake.slash("sources", world.alice, world.guild,
                                              query="x:nasa")).reply()
            assert "linked from nasa.gov (link) (checked " in sources["content"]
            history = await (await fake.slash("history", world.alice, world.guild,
                                              account="x:nasa")).reply()
            assert "verifications, newest first:" in history["content"]
            refused = await (await fake.slash("verify", world.alice, world.guild,
                                              account="x:nasa_fan", entity="NASA")).reply()
            assert "only moderators" in refused["content"]
        finally:
            await bot.close()
            await fake.close()
    assert fake.failures == []
