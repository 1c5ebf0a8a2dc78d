"""`run_discord`: what `isofficial run` starts when ISOFFICIAL_DISCORD_TOKEN is set."""

from __future__ import annotations

import asyncio
import contextlib

from adapters.discord.client import IsOfficialClient, discord_endpoints
from adapters.discord.commands import BotContext
from bot.core import Core
from bot.health import Health
from isofficial.settings import Settings


def shards_of(settings: Settings) -> tuple[list[int] | None, int | None]:
    """(shard_ids, shard_count): this process's one shard, or (None, None) for all of them."""
    shard, count = settings.discord_shard_id, settings.discord_shard_count
    if shard is None and count is None:
        return None, None
    if shard is None or count is None:
        raise ValueError("set both ISOFFICIAL_DISCORD_SHARD_ID and ISOFFICIAL_DISCORD_SHARD_COUNT")
    if not 0 <= shard < count:
        raise ValueError(f"ISOFFICIAL_DISCORD_SHARD_ID must be 0 to {count - 1}, not {shard}")
    return [shard], count


async def run_discord(core: Core, settings: Settings, stop: asyncio.Event, *,
                      defer_after: float = 1.5, guild_ready_timeout: float = 2.0,
                      health: Health | None = None) -> None:
    """Serve Discord until stop is set; a failure to log in or connect is raised."""
    if not settings.discord_token:
        raise ValueError("ISOFFICIAL_DISCORD_TOKEN is not set")
    shard_ids, shard_count = shards_of(settings)
    channel = settings.moderator_chats.get("discord")
    context = BotContext(core, defer_after, int(channel) if channel else None)
    client = IsOfficialClient(context, autocheck=settings.discord_autocheck,
                              guard=settings.discord_guard,
                              gateway=settings.discord_gateway,
                              guild_ready_timeout=guild_ready_timeout,
                              shard_ids=shard_ids, shard_count=shard_count, health=health)
    with discord_endpoints(settings.discord_api_base, settings.discord_gateway,
                           settings.discord_cdn):
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
