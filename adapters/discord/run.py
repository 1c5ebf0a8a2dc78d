"""`run_discord`: what `isofficial run` starts when ISOFFICIAL_DISCORD_TOKEN is set."""

from __future__ import annotations

import asyncio
import contextlib

from adapters.discord.client import IsOfficialClient, discord_endpoints
from adapters.discord.commands import BotContext
from adapters.discord.suggestions import AccountSuggestions
from bot.core import Core
from isofficial.settings import Settings


async def run_discord(core: Core, settings: Settings, stop: asyncio.Event, *,
                      defer_after: float = 1.5, guild_ready_timeout: float = 2.0) -> None:
    """Serve Discord until stop is set; a failure to log in or connect is raised."""
    if not settings.discord_token:
        raise ValueError("ISOFFICIAL_DISCORD_TOKEN is not set")
    context = BotContext(core, await AccountSuggestions.load(core.registry), defer_after)
    client = IsOfficialClient(context, autocheck=settings.discord_autocheck,
                              gateway=settings.discord_gateway,
                              guild_ready_timeout=guild_ready_timeout)
    with discord_endpoints(settings.discord_api_base, settings.discord_gateway):
        async with client:
            running = asyncio.create_task(client.start(settings.discord_token))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            await client.close()
            if not running.done():
                running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running  # raises a login or connection failure
