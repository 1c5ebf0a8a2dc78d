"""The guard on Discord: members who join or change their nickname, global name, username or
avatar are compared with the server's admins (members with Manage Server, from the member
cache) and the registry's officials; impostors are announced in the channel the admins chose
(else the system channel), optionally timed out until an admin approves them. `/guard` is the
admins' switchboard."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any

import discord
from discord import app_commands
from discord.utils import escape_markdown

from adapters.discord import render as out
from adapters.discord.commands import BotContext, asker_of, context_of, respond
from adapters.guard_queues import Bounded, GuardWarning, PhotoQueue, WarningQueue, after
from adapters.photos import photo_hash
from bot import guard_text
from bot.guard import Guard, Impersonation, Member
from bot.i18n import N_, _

log = logging.getLogger(__name__)

TIMEOUT = timedelta(days=28)  # Discord's longest timeout: "until an admin approves"
MAX_BUTTONS = 25  # five rows of five
AVATAR_BYTES = 10 << 20
GATHER = 1.0  # seconds a warning waits for the rest of a join wave


def member_of(member: discord.Member, photo: int | None = None) -> Member:
    return Member("discord", str(member.id), member.name, member.display_name, photo)


def is_admin(member: discord.Member) -> bool:
    return not member.bot and member.guild_permissions.manage_guild


def avatar_of(member: discord.Member) -> discord.Asset | None:
    """The member's own avatar (server or account); None for Discord's shared defaults."""
    return member.guild_avatar or member.avatar


def looks(member: discord.Member) -> tuple[str, str, str | None]:
    """What others see of a member: display name, username, avatar."""
    avatar = avatar_of(member)
    return member.display_name, member.name, avatar.key if avatar else None


@dataclass
class DiscordWatch:
    """The guard's caches and queues for one client."""

    client: discord.Client
    context: BotContext
    refresh: float = 600.0  # admins re-read from the member cache at most this often
    photo_bound: int = 100
    photo_rate: float = 5.0
    avatars: Bounded = field(default_factory=lambda: Bounded(100_000))  # (key,) -> hash
    seen: Bounded = field(default_factory=lambda: Bounded(100_000))  # (guild, user) -> looks
    admins_read: dict[int, float] = field(default_factory=dict)
    queue: PhotoQueue = field(init=False)
    warnings: WarningQueue[discord.ui.Item[Any]] = field(init=False)
    _photo_tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)  # per chat

    def __post_init__(self) -> None:
        count = partial(self.context.core.guard.count_photo, "discord")
        self.queue = PhotoQueue(count, self.photo_bound, self.photo_rate)
        self.warnings = WarningQueue("discord", self._send, lambda _chat: 0.0,
                                     out.TEXT_LIMIT - 100, MAX_BUTTONS, GATHER)

    @property
    def guard(self) -> Guard:
        return self.context.core.guard

    async def admins(self, guild: discord.Guild, force: bool = False,
                     wait: bool = False) -> None:
        """Re-read the guild's admins from the member cache when asked to, or when the last
        read is `refresh` old; new avatars are hashed afterwards (in the background unless
        wait): a name warning never waits for admins' avatars."""
        read = self.admins_read.get(guild.id)
        if not force and read is not None and time.monotonic() - read < self.refresh:
            return
        self.admins_read[guild.id] = time.monotonic()
        if not guild.chunked:
            await guild.chunk()
        people = [m for m in guild.members if is_admin(m)]
        self._set_admins(guild, people)
        photos = self._admin_avatars(guild, people)
        if wait:
            await photos
            return
        # One check per chat at a time (the next after the running one: nothing twice).
        self._photo_tasks[guild.id] = asyncio.create_task(
            after(self._photo_tasks.get(guild.id), photos))

    def _set_admins(self, guild: discord.Guild, people: Sequence[discord.Member]) -> None:
        admins = [member_of(m, self._known(avatar_of(m))) for m in people]
        self.guard.set_admins("discord", str(guild.id), admins)
        self.guard.set_chat("discord", str(guild.id), guild.name)

    async def _admin_avatars(self, guild: discord.Guild, people: Sequence[discord.Member]) -> None:
        new = [m for m in people if (avatar := avatar_of(m)) and (avatar.key,) not in self.avatars]
        for member in new:
            try:
                await self._hash(avatar_of(member))
            except discord.HTTPException as error:  # the CDN failed: the name still counts
                log.info("the avatar of admin %s: %s", member.id, error)
        if new:
            self._set_admins(guild, people)

    def _known(self, avatar: discord.Asset | None) -> int | None:
        known = self.avatars.get((avatar.key,)) if avatar else None
        return known if isinstance(known, int) else None

    async def settled(self) -> None:
        """Until the admins' avatars being hashed are (for tests and shutdown)."""
        await asyncio.gather(*self._photo_tasks.values(), return_exceptions=True)

    async def _hash(self, avatar: discord.Asset | None) -> int | None:
        """The avatar's hash, downloaded once per avatar (a new avatar has a new key)."""
        if avatar is None:
            return None
        if (avatar.key,) in self.avatars:
            return self._known(avatar)
        data = await avatar.read()
        hashed = photo_hash(data) if len(data) <= AVATAR_BYTES else None
        self.avatars.put((avatar.key,), hashed)
        return hashed

    async def joined(self, member: discord.Member) -> None:
        self.seen.put((member.guild.id, member.id), looks(member))
        await self.look_at(member)

    async def updated(self, before: discord.Member, after: discord.Member) -> None:
        """Roles that change who is an admin re-read the admins; a new name or avatar (or a
        member seen for the first time) is looked at."""
        if not await self.guard.is_on("discord", str(after.guild.id)):
            return
        changed = self.seen.put((after.guild.id, after.id), looks(after)) != looks(after)
        if is_admin(before) != is_admin(after) or (changed and is_admin(after)):
            await self.admins(after.guild, force=True)  # who to protect, or how they look now
        if changed:
            await self.look_at(after)

    async def look_at(self, member: discord.Member) -> None:
        guild = member.guild
        if member.bot or not await self.guard.is_on("discord", str(guild.id)):
            return
        await self.admins(guild)
        avatar = avatar_of(member)
        found = await self.guard.inspect("discord", str(guild.id),
                                         member_of(member, self._known(avatar)))
        if found is not None:
            await self.act(guild, found)
        elif avatar and (avatar.key,) not in self.avatars and self.guard.needs_photo(
                "discord", str(guild.id), member_of(member)):
            self.queue.offer((guild.id, member.id), lambda: self._by_photo(member, avatar))

    async def _by_photo(self, member: discord.Member, avatar: discord.Asset) -> None:
        hashed = await self._hash(avatar)
        if hashed is None:
            return
        found = await self.guard.inspect("discord", str(member.guild.id),
                                         member_of(member, hashed))
        if found is not None:
            await self.act(member.guild, found)

    async def act(self, guild: discord.Guild, found: Impersonation) -> None:
        options = await self.guard.options("discord", str(guild.id))
        button: discord.ui.Item[Any] | None = None
        if options.restrict_until_approved and await self._time_out(guild, found.member):
            button = ApproveButton(guild.id, int(found.member.user_id), found.member.display_name)
        channel = options.moderators_chat or (
            str(guild.system_channel.id) if guild.system_channel else None)
        if channel is None:
            log.info("guild %s has no channel for guard warnings", guild.id)
            return
        self.warnings.add(channel, GuardWarning(guard_text.warning_text(found), button))

    async def _time_out(self, guild: discord.Guild, who: Member) -> bool:
        member = guild.get_member(int(who.user_id))
        if member is None:
            return False
        try:
            await member.timeout(TIMEOUT, reason="isofficial guard: poses as an admin")
        except discord.HTTPException as error:  # no Moderate Members, or above the bot's role
            log.info("could not time out %s in %s: %s", member.id, guild.id, error)
            return False
        return True

    async def _send(self, channel: str, warnings: Sequence[GuardWarning[discord.ui.Item[Any]]]
                    ) -> None:
        view = discord.ui.View(timeout=None)
        for warning in warnings:
            if warning.button is not None:
                view.add_item(warning.button)
        text = "\n\n".join(escape_markdown(w.text) for w in warnings)
        await self.client.get_partial_messageable(int(channel)).send(
            out.fit(text, out.TEXT_LIMIT), view=view if view.children else discord.utils.MISSING)

    async def close(self) -> None:
        for task in self._photo_tasks.values():
            task.cancel()
        await self.settled()
        await self.queue.close()
        await self.warnings.close()


class ApproveButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                    template=r"isofficial:guard:ok:(?P<guild>\d{1,20}):(?P<user>\d{1,20})"):
    """Lift an impostor's timeout and never warn about them again (Manage Server only)."""

    def __init__(self, guild_id: int, user_id: int, name: str = "") -> None:
        label = _("Approve {name}").format(name=name[:40]) if name else _("Approve")
        super().__init__(discord.ui.Button(label=label[:80], style=discord.ButtonStyle.success,
                                           custom_id=f"isofficial:guard:ok:{guild_id}:{user_id}"))
        self.guild_id, self.user_id = guild_id, user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: Any) -> ApproveButton:
        return cls(int(match["guild"]), int(match["user"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await respond(interaction, self._approve(interaction), ephemeral=True)

    async def _approve(self, interaction: discord.Interaction[Any]) -> out.Reply:
        guild = interaction.guild
        if guild is None or guild.id != self.guild_id or not interaction.permissions.manage_guild:
            return out.refusal(_("Only that chat's administrators can approve members."))
        member = guild.get_member(self.user_id) or await guild.fetch_member(self.user_id)
        await member.timeout(None, reason="isofficial guard: approved")
        await context_of(interaction).core.guard.allow(
            "discord", str(guild.id), str(self.user_id), asker_of(interaction), chat_admin=True)
        return out.Reply(_("Approved: they may write again and will not be warned about again."),
                         ephemeral=True)


# ---- /guard ------------------------------------------------------------------------------------


GUARD = app_commands.Group(
    name="guard", description=N_("Warn about members who pose as this server's admins"),
    guild_only=True, default_permissions=discord.Permissions(manage_guild=True),
)
SWITCH = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]


def _watch(interaction: discord.Interaction[Any]) -> DiscordWatch:
    found = getattr(interaction.client, "watch", None)
    assert isinstance(found, DiscordWatch)
    return found


@GUARD.command(name="mode", description=N_("on: warn about impostors who join or rename"))
@app_commands.choices(mode=SWITCH)
async def mode(interaction: discord.Interaction[Any], mode: str) -> None:
    await respond(interaction, _mode(interaction, mode == "on"), ephemeral=True)


async def _mode(interaction: discord.Interaction[Any], on: bool) -> out.Reply:
    guild = interaction.guild
    assert guild is not None
    guard = context_of(interaction).core.guard
    await guard.set_on("discord", str(guild.id), on, asker_of(interaction),
                       chat_admin=interaction.permissions.manage_guild)
    if not on:
        return out.Reply(_("The guard is off: I no longer look at who joins here."),
                         ephemeral=True)
    await _watch(interaction).admins(guild, force=True, wait=True)
    count = len(guard.admins("discord", str(guild.id)))
    done = _("The guard is on: I'll warn here when someone joins or renames as one of this "
             "chat's admins ({count}) or as a registered official account.").format(count=count)
    options = await guard.options("discord", str(guild.id))
    if options.moderators_chat is None and guild.system_channel is None:
        done += "\n" + _("⚠️ This server has no system channel: choose where warnings go with "
                         "/guard channel.")
    return out.Reply(escape_markdown(done), ephemeral=True)


@GUARD.command(name="status", description=N_("Whether the guard is on here, and its options"))
async def status(interaction: discord.Interaction[Any]) -> None:
    await respond(interaction, _status(interaction), ephemeral=True)


async def _status(interaction: discord.Interaction[Any]) -> out.Reply:
    assert interaction.guild is not None
    guard = context_of(interaction).core.guard
    settings = await guard.settings("discord", str(interaction.guild.id))
    text = "\n".join(guard_text.settings_lines(settings))
    return out.Reply(out.fit(escape_markdown(text), out.TEXT_LIMIT), ephemeral=True)


@GUARD.command(name="allow", description=N_("Never warn about this member again"))
async def allow(interaction: discord.Interaction[Any], member: discord.Member) -> None:
    await respond(interaction, _allow(interaction, member), ephemeral=True)


async def _allow(interaction: discord.Interaction[Any], member: discord.Member) -> out.Reply:
    assert interaction.guild is not None
    await context_of(interaction).core.guard.allow(
        "discord", str(interaction.guild.id), str(member.id), asker_of(interaction),
        chat_admin=interaction.permissions.manage_guild)
    return out.Reply(escape_markdown(_("{name} will not be warned about here again.").format(
        name=member.display_name)), ephemeral=True)


@GUARD.command(name="timeout", description=N_("on: time impostors out until an admin approves"))
@app_commands.choices(mode=SWITCH)
async def timeout(interaction: discord.Interaction[Any], mode: str) -> None:
    await respond(interaction, _timeout(interaction, mode == "on"), ephemeral=True)


async def _timeout(interaction: discord.Interaction[Any], on: bool) -> out.Reply:
    assert interaction.guild is not None
    guard, guild_id = context_of(interaction).core.guard, str(interaction.guild.id)
    options = replace(await guard.options("discord", guild_id), restrict_until_approved=on)
    await guard.set_options("discord", guild_id, options, asker_of(interaction),
                            chat_admin=interaction.permissions.manage_guild)
    restrict = (_("impostors may not write until an admin approves them") if on
                else _("impostors are not restricted"))
    return out.Reply(_("Done: {restrict}.").format(restrict=restrict), ephemeral=True)


@GUARD.command(name="channel", description=N_("Where warnings go (none: the system channel)"))
async def channel(interaction: discord.Interaction[Any],
                  channel: discord.TextChannel | None = None) -> None:
    await respond(interaction, _channel(interaction, channel), ephemeral=True)


async def _channel(interaction: discord.Interaction[Any],
                   channel: discord.TextChannel | None) -> out.Reply:
    assert interaction.guild is not None
    guard, guild_id = context_of(interaction).core.guard, str(interaction.guild.id)
    chosen = str(channel.id) if channel else None
    options = replace(await guard.options("discord", guild_id), moderators_chat=chosen)
    await guard.set_options("discord", guild_id, options, asker_of(interaction),
                            chat_admin=interaction.permissions.manage_guild)
    where = channel.mention if channel else _("the system channel")
    return out.Reply(_("Warnings go to {channel}.").format(channel=where), ephemeral=True)
