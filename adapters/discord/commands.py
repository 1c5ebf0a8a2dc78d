"""Every command the Discord bot offers, registered in one place: `register(tree, ...)`.

Handlers turn an interaction into a core call and the core's answer into a Reply; `respond`
acknowledges within Discord's 3 seconds (deferring when the core is slow) and keeps errors private.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import discord
from discord import app_commands
from discord.utils import MISSING, escape_markdown

from adapters.discord import render as out
from bot import render
from bot.core import Core
from bot.model import Asker, IsOfficialError, Status

log = logging.getLogger(__name__)

STATUS_CHOICES = [app_commands.Choice(name=s.value, value=s.value) for s in Status
                  if s is not Status.UNKNOWN]
DMS_CLOSED = 50007  # Discord: "Cannot send messages to this user"
BUG_MESSAGE = "something went wrong on our side; it has been logged, please try again later"
AUTOCHECK_CHOICES = [app_commands.Choice(name="on", value="on"),
                     app_commands.Choice(name="off", value="off")]
FEED_ACTIONS = [app_commands.Choice(name=a, value=a) for a in ("list", "add", "remove")]
CHOICE_LIMIT = 25  # Discord shows at most 25 choices
ENTITY_SCAN = 100  # accounts read to find up to 25 distinct entities


@dataclass
class BotContext:
    """What handlers need, reached through `interaction.client.context`."""

    core: Core
    defer_after: float = 1.5  # seconds before deferring; Discord's deadline is 3
    moderator_channel: int | None = None  # ISOFFICIAL_MODERATOR_CHAT's discord:<channel id>


class HasContext(Protocol):
    context: BotContext


def context_of(interaction: discord.Interaction[Any]) -> BotContext:
    return cast(HasContext, interaction.client).context


def asker_of(interaction: discord.Interaction[Any]) -> Asker:
    user = interaction.user
    return Asker(platform="discord", user_id=str(user.id), chat_id=str(interaction.channel_id),
                 is_private=interaction.guild_id is None, name=user.name)


# ---- answering in time -------------------------------------------------------------------------


async def respond(interaction: discord.Interaction[Any], work: Awaitable[out.Reply], *,
                  ephemeral: bool) -> None:
    """Answer with work's Reply; defer first if it is not ready in time. A user's error is
    answered privately (a public "thinking…" placeholder is removed first)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=context_of(interaction).defer_after)
    if not done:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    try:
        reply = await task
    except IsOfficialError as error:
        reply = out.refusal(str(error))
    except Exception:
        log.exception("bug while answering /%s", interaction.command and interaction.command.name)
        reply = out.refusal(BUG_MESSAGE)
    if interaction.response.is_done() and reply.ephemeral and not ephemeral:
        await interaction.delete_original_response()
    await send(interaction, reply)


async def send(interaction: discord.Interaction[Any], reply: out.Reply) -> None:
    options: dict[str, Any] = {
        "ephemeral": reply.ephemeral,
        "embeds": list(reply.embeds),
        "suppress_embeds": not reply.embeds,  # no link previews under a list of sources
    }
    if reply.with_sources_button:
        options["view"] = SourcesView()
    if interaction.response.is_done():
        await interaction.followup.send(reply.content or MISSING, **options)
    else:
        await interaction.response.send_message(reply.content, **options)
    for piece in reply.more:
        await interaction.followup.send(piece, ephemeral=reply.ephemeral, suppress_embeds=True)


# ---- the Sources button (persistent: works on answers sent before a restart) ---------------------


class SourcesView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Sources", style=discord.ButtonStyle.secondary, emoji="📚",
                       custom_id=out.SOURCES_BUTTON_ID)
    async def sources(self, interaction: discord.Interaction[Any],
                      _: discord.ui.Button[Any]) -> None:
        refs = out.refs_in(interaction.message) if interaction.message else []
        await respond(interaction, _sources(interaction, " ".join(refs)), ephemeral=True)


async def _sources(interaction: discord.Interaction[Any], text: str) -> out.Reply:
    if not text.strip():
        return out.refusal("this message names no account")
    answers = await context_of(interaction).core.sources(text, asker_of(interaction))
    return out.sources_reply(answers)


# ---- autocomplete ------------------------------------------------------------------------------


def _choices(labelled: dict[str, str], typed: str) -> list[app_commands.Choice[str]]:
    """Matches (value -> label) after what the user typed, which stays available; Discord caps
    values at 100 characters and labels are cut to fit."""
    typed = typed.strip()
    ordered = ({typed: typed} if typed and typed not in labelled else {}) | labelled
    return [app_commands.Choice(name=out.fit(label, 100), value=value)
            for value, label in ordered.items() if len(value) <= 100][:CHOICE_LIMIT]


async def account_autocomplete(interaction: discord.Interaction[Any],
                               typed: str) -> list[app_commands.Choice[str]]:
    found = await context_of(interaction).core.suggest(typed, CHOICE_LIMIT)
    labelled = {str(ref): f"{ref} · {entity}" if entity else str(ref) for ref, entity in found}
    return _choices(labelled, typed)


async def entity_autocomplete(interaction: discord.Interaction[Any],
                              typed: str) -> list[app_commands.Choice[str]]:
    found = await context_of(interaction).core.suggest(typed, ENTITY_SCAN)
    return _choices({entity: entity for _, entity in found if entity}, typed)


# ---- the commands ------------------------------------------------------------------------------


# Everyone's commands work wherever the app is: added to a server, or installed by a user (then
# in DMs and in any server). Moderator commands are hidden from members who cannot manage
# messages (server admins may change that; the core checks ISOFFICIAL_MODERATORS regardless).
ANYWHERE = app_commands.allowed_installs(guilds=True, users=True)
IN_ANY_CONTEXT = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
FOR_MODERATORS = app_commands.default_permissions(manage_messages=True)


@app_commands.command(name="check", description="Is this account official?")
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(query="profile links, @handles, platform:handle, or a sentence")
@app_commands.autocomplete(query=account_autocomplete)
async def check(interaction: discord.Interaction[Any], query: str) -> None:
    await respond(interaction, _check(interaction, query), ephemeral=False)


async def _check(interaction: discord.Interaction[Any], text: str) -> out.Reply:
    answers = await context_of(interaction).core.check(text, asker_of(interaction))
    return out.check_reply(answers)


@app_commands.context_menu(name="Check accounts")
@ANYWHERE
@IN_ANY_CONTEXT
async def check_message(interaction: discord.Interaction[Any], message: discord.Message) -> None:
    text = " ".join([message.content, *out.refs_in(message),
                     *(e.url for e in message.embeds if e.url)])
    await respond(interaction, _check(interaction, text), ephemeral=False)


@app_commands.command(name="sources", description="Every source behind an answer, with dates")
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(query="the account(s) to show sources for",
                       dm="send the list to your DMs instead of showing it here")
@app_commands.autocomplete(query=account_autocomplete)
async def sources(interaction: discord.Interaction[Any], query: str, dm: bool = False) -> None:
    work = _sources_by_dm(interaction, query) if dm else _sources(interaction, query)
    await respond(interaction, work, ephemeral=True)


async def _sources_by_dm(interaction: discord.Interaction[Any], text: str) -> out.Reply:
    """The list in the asker's DMs; a member who does not accept DMs gets it privately here."""
    listing = await _sources(interaction, text)
    pieces = [listing.content or "", *listing.more]
    try:
        channel = await interaction.user.create_dm()
        for piece in pieces:
            await channel.send(piece, suppress_embeds=True)
    except discord.Forbidden as error:
        if error.code != DMS_CLOSED:
            raise
        return out.Reply("your DMs are closed, so here they are, visible only to you:",
                         ephemeral=True, more=pieces)
    return out.Reply(f"sent the sources to your DMs ({len(pieces)} message(s))", ephemeral=True)


@app_commands.command(name="verdict", description="Moderators: set or correct an account's verdict")
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account="platform:handle, @handle or profile link", status="the verdict",
                       entity="whose account it is (or whom it imitates)",
                       note="why, in a few words", source="a link to the evidence")
@app_commands.choices(status=STATUS_CHOICES)
@app_commands.autocomplete(account=account_autocomplete, entity=entity_autocomplete)
async def verdict(interaction: discord.Interaction[Any], account: str, status: str,
                  entity: str | None = None, note: str | None = None,
                  source: str | None = None) -> None:
    await respond(interaction, _verdict(interaction, account, status, entity, note, source),
                  ephemeral=False)


async def _verdict(interaction: discord.Interaction[Any], account: str, status: str,
                   entity: str | None, note: str | None, source: str | None) -> out.Reply:
    answer = await context_of(interaction).core.set_verdict(
        account, Status.parse(status), asker_of(interaction), entity, note, source)
    return out.check_reply([answer])


@app_commands.command(name="history", description="Who changed an account's verdict, when and why")
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account="platform:handle, @handle or profile link")
@app_commands.autocomplete(account=account_autocomplete)
async def history(interaction: discord.Interaction[Any], account: str) -> None:
    await respond(interaction, _history(interaction, account), ephemeral=False)


async def _history(interaction: discord.Interaction[Any], account: str) -> out.Reply:
    ref, changes = await context_of(interaction).core.history(account)
    return out.history_reply(ref, changes)


@app_commands.command(name="report", description="Suggest a verdict for moderators to review")
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account="platform:handle, @handle or profile link",
                       status="what you think it is", note="why, in a few words")
@app_commands.choices(status=STATUS_CHOICES)
@app_commands.autocomplete(account=account_autocomplete)
async def report(interaction: discord.Interaction[Any], account: str, status: str,
                 note: str | None = None) -> None:
    await respond(interaction, _report(interaction, account, status, note), ephemeral=True)


async def _report(interaction: discord.Interaction[Any], account: str, status: str,
                  note: str | None) -> out.Reply:
    queued = await context_of(interaction).core.file_report(
        account, Status.parse(status), asker_of(interaction), note)
    return out.report_reply(queued)


@app_commands.command(name="undo", description="Moderators: revert an account's latest change")
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account="platform:handle, @handle or profile link")
@app_commands.autocomplete(account=account_autocomplete)
async def undo(interaction: discord.Interaction[Any], account: str) -> None:
    await respond(interaction, _undo(interaction, account), ephemeral=False)


async def _undo(interaction: discord.Interaction[Any], account: str) -> out.Reply:
    answer = await context_of(interaction).core.undo(account, asker_of(interaction))
    return out.check_reply([answer])


@app_commands.command(name="reports", description="Moderators: open suggestions to review")
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
async def reports(interaction: discord.Interaction[Any]) -> None:
    await respond(interaction, _reports(interaction), ephemeral=True)


async def _reports(interaction: discord.Interaction[Any]) -> out.Reply:
    queued = await context_of(interaction).core.open_reports(asker_of(interaction))
    return out.reports_reply(queued)


@app_commands.command(name="dismiss", description="Moderators: close a report without a verdict")
@app_commands.describe(report="the report's number (see /reports)",
                       reason="why, told to the reporters")
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
async def dismiss(interaction: discord.Interaction[Any], report: int,
                  reason: str | None = None) -> None:
    await respond(interaction, _dismiss(interaction, report, reason), ephemeral=True)


async def _dismiss(interaction: discord.Interaction[Any], report: int,
                   reason: str | None) -> out.Reply:
    closed = await context_of(interaction).core.dismiss_report(report, asker_of(interaction),
                                                               reason)
    return out.Reply(out.fit(escape_markdown(f"dismissed {render.report_text(closed)}"),
                             out.TEXT_LIMIT), ephemeral=True)


@app_commands.command(name="autocheck",
                      description="Answer unasked when a message names a suspicious account")
@app_commands.describe(mode="on: reply to impersonators, unofficial, compromised, lookalikes")
@app_commands.choices(mode=AUTOCHECK_CHOICES)
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def autocheck(interaction: discord.Interaction[Any], mode: str) -> None:
    await respond(interaction, _autocheck(interaction, mode), ephemeral=True)


async def _autocheck(interaction: discord.Interaction[Any], mode: str) -> out.Reply:
    # Discord hides the command from others, but server admins can override that: check here too.
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return out.refusal("only members with Manage Server can change auto-check")
    if mode not in ("on", "off"):
        return out.refusal(f"unknown mode {mode[:40]!r}: use on or off")
    await context_of(interaction).core.set_autocheck(str(interaction.guild_id), mode == "on",
                                                     asker_of(interaction))
    return out.Reply(f"auto-check is {mode} for this server", ephemeral=True)


@app_commands.command(name="feeds", description="Moderators: the news feeds searched for mentions")
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(action="list the feeds, add one or remove one",
                       url="the feed's http(s) address (for add and remove)")
@app_commands.choices(action=FEED_ACTIONS)
async def feeds(interaction: discord.Interaction[Any], action: str, url: str | None = None) -> None:
    await respond(interaction, _feeds(interaction, action, url), ephemeral=True)


async def _feeds(interaction: discord.Interaction[Any], action: str,
                 url: str | None) -> out.Reply:
    core, asker = context_of(interaction).core, asker_of(interaction)
    if action == "list":
        return out.feeds_reply(await core.list_feeds(asker))
    if action not in ("add", "remove"):
        return out.refusal(f"unknown action {action[:40]!r}: use list, add or remove")
    if not url or not url.strip():
        return out.refusal(f"/feeds {action} needs the feed's URL")
    if action == "add":
        return out.feed_added_reply(await core.add_feed(url, asker))
    await core.remove_feed(url, asker)
    return out.Reply(out.fit(f"removed {url.strip()} from the feeds", out.TEXT_LIMIT),
                     ephemeral=True)


def register(tree: app_commands.CommandTree[Any], *, autocheck_enabled: bool) -> None:
    """Every command, in one place. /autocheck exists only when the operator enabled it (it needs
    the privileged message-content intent)."""
    commands: list[app_commands.Command[Any, Any, None] | app_commands.ContextMenu] = [
        check, check_message, sources, verdict, undo, history, report, reports, dismiss, feeds]
    if autocheck_enabled:
        commands.append(autocheck)
    for command in commands:
        tree.add_command(command)
    tree.error(on_tree_error)


async def on_tree_error(interaction: discord.Interaction[Any],
                        error: app_commands.AppCommandError) -> None:
    """Errors raised before a handler runs (e.g. an option that does not convert)."""
    log.error("command failed outside its handler", exc_info=error)
    if not interaction.response.is_done():
        await send(interaction, out.refusal(BUG_MESSAGE))


async def autocheck_message(context: BotContext, message: discord.Message) -> None:
    """Reply, unasked, only when a message names an alarming account."""
    guild = message.guild
    if message.author.bot or guild is None:
        return
    asker = Asker(platform="discord", user_id=str(message.author.id),
                  chat_id=str(message.channel.id), is_private=False, name=message.author.name)
    alarming = await context.core.alarms(str(guild.id), message.content, asker)
    if alarming:
        reply = out.check_reply(alarming)
        await message.reply(reply.content, embeds=list(reply.embeds), view=SourcesView(),
                            mention_author=False)
