"""The discord.py client: where Discord is (API base, gateway), intents, command sync."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.app_commands import TranslationContextLocation
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.commands import BotContext, SourcesView, autocheck_message, register
from adapters.discord.guard import ApproveButton, DiscordWatch
from adapters.discord.moderation import DiscordNotices, ReportButton
from bot import i18n
from bot.health import Health
from bot.i18n import NP_

log = logging.getLogger(__name__)


@contextmanager
def discord_endpoints(api_base: str, gateway: str | None,
                      cdn: str | None = None) -> Iterator[None]:
    """Point discord.py at a REST base, gateway and CDN (a proxy, or a test's fake Discord).

    discord.py keeps them as class attributes (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY,
    Asset.BASE) and builds every request URL from them, interaction callbacks included; there is
    no per-client knob. So they are process-wide: set for the bot's lifetime, restored
    afterwards. One process runs one Discord bot.
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, discord.Asset.BASE
    Route.BASE = api_base.rstrip("/")
    if gateway:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    if cdn:
        discord.Asset.BASE = cdn.rstrip("/")
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, discord.Asset.BASE = saved


def intents(autocheck: bool, guard: bool = False) -> discord.Intents:
    """Only what the bot uses; message content (privileged) only when auto-check is enabled,
    members (privileged) only when the guard is."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    if autocheck:
        wanted.guild_messages = True
        wanted.message_content = True
    if guard:
        wanted.members = True
    return wanted


def _clean(value: Any) -> Any:
    """Drop empty values: Discord omits or nulls what was sent as false, empty or null."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v not in (None, False, [], {}, "")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _as_sent(local: Any, remote: Any) -> Any:
    """remote cut down to the keys local has (Discord adds ids, versions and defaults)."""
    if isinstance(local, dict) and isinstance(remote, dict):
        return {k: _as_sent(v, remote.get(k)) for k, v in local.items()}
    if isinstance(local, list) and isinstance(remote, list) and len(local) == len(remote):
        return [_as_sent(mine, theirs) for mine, theirs in zip(local, remote, strict=True)]
    return remote


def commands_digest(commands: list[dict[str, Any]]) -> str:
    ordered = sorted(commands, key=lambda c: (c.get("type", 1), c["name"]))
    return hashlib.sha256(json.dumps(_clean(ordered), sort_keys=True).encode()).hexdigest()


def same_commands(local: list[dict[str, Any]], remote: list[dict[str, Any]]) -> bool:
    by_key = {(c.get("type", 1), c["name"]): c for c in remote}
    if len(by_key) != len(local):
        return False
    paired = [_as_sent(c, by_key.get((c.get("type", 1), c["name"]))) for c in local]
    if any(p is None for p in paired):
        return False
    return commands_digest(local) == commands_digest(paired)


# Command names as Discord shows them in each language (translated in the catalogs).
COMMAND_NAMES = (
    NP_("command name", "check"), NP_("command name", "sources"),
    NP_("command name", "verdict"), NP_("command name", "undo"),
    NP_("command name", "history"), NP_("command name", "report"),
    NP_("command name", "reports"), NP_("command name", "dismiss"),
    NP_("command name", "language"), NP_("command name", "feeds"),
    NP_("command name", "autocheck"), NP_("command name", "Check accounts"),
    NP_("command name", "verify"),
)


class CatalogTranslator(app_commands.Translator):
    """Command names, descriptions and choices from the gettext catalogs, for every Discord
    locale we speak; option names stay as they are (they are typed, like the status words)."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        language = i18n.language_of(locale.value)
        where = context.location
        if language in (None, i18n.SOURCE) or where is TranslationContextLocation.parameter_name:
            return None
        if where is TranslationContextLocation.command_name:
            found = i18n.translate(language, string.message, "command name")
        else:
            found = i18n.translate(language, string.message)
        return found if found != string.message else None


GATEWAY = "discord"  # the part named in /healthz


class IsOfficialClient(discord.AutoShardedClient):
    """Sharded as Discord advises, or only `shard_ids` of `shard_count` when the bot is split
    over processes; commands registered and synced in setup_hook."""

    def __init__(self, context: BotContext, *, autocheck: bool, guard: bool = False,
                 gateway: str | None = None,
                 guild_ready_timeout: float = 2.0, shard_ids: list[int] | None = None,
                 shard_count: int | None = None, health: Health | None = None) -> None:
        only: dict[str, Any] = {}  # discord.py wants both or neither
        if shard_ids is not None:
            only = {"shard_ids": shard_ids, "shard_count": shard_count}
        super().__init__(intents=intents(autocheck, guard),
                         guild_ready_timeout=guild_ready_timeout,
                         chunk_guilds_at_startup=False,
                         allowed_mentions=discord.AllowedMentions.none(), **only)
        self.context = context
        self.autocheck = autocheck
        self.watch = DiscordWatch(self, context) if guard else None
        self.gateway = yarl.URL(gateway) if gateway else None
        self.tree: app_commands.CommandTree[IsOfficialClient] = app_commands.CommandTree(self)
        self.synced = False  # whether the last start had to upload the commands
        self.health = health or Health()
        self.health.down(GATEWAY, "connecting to the gateway")

    # The gateway's state for /healthz; discord.py reconnects by itself, with backoff.
    async def on_shard_connect(self, shard_id: int) -> None:
        self.health.up(GATEWAY)
        self.health.up(f"{GATEWAY} shard {shard_id}")

    async def on_shard_resumed(self, shard_id: int) -> None:
        await self.on_shard_connect(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.health.down(f"{GATEWAY} shard {shard_id}", "gateway connection lost")

    async def setup_hook(self) -> None:
        register(self.tree, autocheck_enabled=self.autocheck,
                 guard_enabled=self.watch is not None)
        await self.tree.set_translator(CatalogTranslator())
        self.add_view(SourcesView())
        self.add_dynamic_items(ReportButton, ApproveButton)
        self.context.core.listen(DiscordNotices(self, self.context.moderator_channel))
        await self.sync_if_changed()

    async def sync_if_changed(self) -> None:
        """Upload the commands only when Discord's copy differs (syncing is rate limited)."""
        assert self.application_id is not None
        translator = self.tree.translator
        assert translator is not None
        local = [await command.get_translated_payload(self.tree, translator)
                 for command in self.tree.get_commands()]
        remote = await self.http.get_global_commands(self.application_id)
        self.synced = not same_commands(local, list(remote))  # type: ignore[arg-type]
        if self.synced:
            await self.tree.sync()
            log.info("synced %d application commands", len(local))

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *,
                           initial: bool = False) -> None:
        """Connect through the configured gateway (a proxy) instead of the announced one."""
        await super().launch_shard(self.gateway or gateway, shard_id, initial=initial)

    async def on_message(self, message: discord.Message) -> None:
        if self.autocheck:
            await autocheck_message(self.context, message)

    # The guard (with the members intent only): joins and changes of name, avatar or roles.
    async def on_member_join(self, member: discord.Member) -> None:
        if self.watch is not None:
            await self.watch.joined(member)

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if self.watch is not None:
            await self.watch.updated(before, after)

    async def close(self) -> None:
        if self.watch is not None:
            await self.watch.close()
        await super().close()
