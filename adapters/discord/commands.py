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
from bot import i18n, render
from bot.core import Core
from bot.i18n import N_, _
from bot.model import Asker, IsOfficialError, Status

log = logging.getLogger(__name__)

STATUS_CHOICES = [app_commands.Choice(name=s.value, value=s.value) for s in Status
                  if s is not Status.UNKNOWN]
DMS_CLOSED = 50007  # Discord: "Cannot send messages to this user"
UNKNOWN_INTERACTION = 10062  # Discord: the 3 seconds to answer have passed
BUG_MESSAGE = N_("something went wrong on our side; it has been logged, please try again later")
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


async def language_of(interaction: discord.Interaction[Any]) -> str | None:
    """The server's chosen language, else the user's Discord locale."""
    if interaction.guild_id is not None:
        chosen = await context_of(interaction).core.chat_language(
            "discord", str(interaction.guild_id))
        if chosen:
            return chosen
    return i18n.language_of(interaction.locale.value)


# ---- answering in time -------------------------------------------------------------------------


async def respond(interaction: discord.Interaction[Any], work: Awaitable[out.Reply], *,
                  ephemeral: bool) -> None:
    """Answer with work's Reply; defer first if it is not ready in time. A user's error is
    answered privately (a public "thinking…" placeholder is removed first)."""
    i18n.use(await language_of(interaction))
    task = asyncio.ensure_future(work)
    done, _pending = await asyncio.wait({task}, timeout=context_of(interaction).defer_after)
    if not done:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    try:
        reply = await task
    except IsOfficialError as error:
        reply = out.refusal(str(error))
    except Exception:
        log.exception("bug while answering /%s", interaction.command and interaction.command.name)
        reply = out.refusal(_(BUG_MESSAGE))
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
        self.sources.label = _("Sources")  # in the language of the answer it comes with

    @discord.ui.button(label=N_("Sources"), style=discord.ButtonStyle.secondary, emoji="📚",
                       custom_id=out.SOURCES_BUTTON_ID)
    async def sources(self, interaction: discord.Interaction[Any],
                      _: discord.ui.Button[Any]) -> None:
        refs = out.refs_in(interaction.message) if interaction.message else []
        await respond(interaction, _sources(interaction, " ".join(refs)), ephemeral=True)


async def _sources(interaction: discord.Interaction[Any], text: str) -> out.Reply:
    if not text.strip():
        return out.refusal(_("this message names no account"))
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
    return _choices({entity: entity for _ref, entity in found if entity}, typed)


# ---- the commands ------------------------------------------------------------------------------


# Everyone's commands work wherever the app is: added to a server, or installed by a user (then
# in DMs and in any server). Moderator commands are hidden from members who cannot manage
# messages (server admins may change that; the core checks ISOFFICIAL_MODERATORS regardless).
ANYWHERE = app_commands.allowed_installs(guilds=True, users=True)
IN_ANY_CONTEXT = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
FOR_MODERATORS = app_commands.default_permissions(manage_messages=True)


@app_commands.command(name="check", description=N_("Is this account official?"))
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(query=N_("profile links, @handles, platform:handle, or a sentence"))
@app_commands.autocomplete(query=account_autocomplete)
async def check(interaction: discord.Interaction[Any], query: str) -> None:
    await respond(interaction, _check(interaction, query), ephemeral=False)


async def _check(interaction: discord.Interaction[Any], text: str) -> out.Reply:
    answers = await context_of(interaction).core.check(text, asker_of(interaction))
    return out.check_reply(answers)


@app_commands.context_menu(name="Check accounts")  # translated by its command-name context
@ANYWHERE
@IN_ANY_CONTEXT
async def check_message(interaction: discord.Interaction[Any], message: discord.Message) -> None:
    text = " ".join([message.content, *out.refs_in(message),
                     *(e.url for e in message.embeds if e.url)])
    await respond(interaction, _check(interaction, text), ephemeral=False)


@app_commands.command(name="sources", description=N_("Every source behind an answer, with dates"))
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(query=N_("the account(s) to show sources for"),
                       dm=N_("send the list to your DMs instead of showing it here"))
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
        return out.Reply(_("your DMs are closed, so here they are, visible only to you:"),
                         ephemeral=True, more=pieces)
    return out.Reply(_("sent the sources to your DMs (messages: {count})").format(
        count=len(pieces)), ephemeral=True)


@app_commands.command(name="verdict",
                      description=N_("Moderators: set or correct an account's verdict"))
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account=N_("platform:handle, @handle or profile link"),
                       status=N_("the verdict"),
                       entity=N_("whose account it is (or whom it imitates)"),
                       note=N_("why, in a few words"), source=N_("a link to the evidence"))
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


@app_commands.command(name="history",
                      description=N_("Who changed an account's verdict, when and why"))
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account=N_("platform:handle, @handle or profile link"))
@app_commands.autocomplete(account=account_autocomplete)
async def history(interaction: discord.Interaction[Any], account: str) -> None:
    await respond(interaction, _history(interaction, account), ephemeral=False)


async def _history(interaction: discord.Interaction[Any], account: str) -> out.Reply:
    core = context_of(interaction).core
    ref, changes = await core.history(account)
    return out.history_reply(ref, changes, await core.verifications(ref))


@app_commands.command(name="report", description=N_("Suggest a verdict for moderators to review"))
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account=N_("platform:handle, @handle or profile link"),
                       status=N_("what you think it is"), note=N_("why, in a few words"))
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


@app_commands.command(name="undo", description=N_("Moderators: revert an account's latest change"))
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(account=N_("platform:handle, @handle or profile link"))
@app_commands.autocomplete(account=account_autocomplete)
async def undo(interaction: discord.Interaction[Any], account: str) -> None:
    await respond(interaction, _undo(interaction, account), ephemeral=False)


async def _undo(interaction: discord.Interaction[Any], account: str) -> out.Reply:
    answer = await context_of(interaction).core.undo(account, asker_of(interaction))
    return out.check_reply([answer])


@app_commands.command(name="reports", description=N_("Moderators: open suggestions to review"))
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
async def reports(interaction: discord.Interaction[Any]) -> None:
    await respond(interaction, _reports(interaction), ephemeral=True)


async def _reports(interaction: discord.Interaction[Any]) -> out.Reply:
    queued = await context_of(interaction).core.open_reports(asker_of(interaction))
    return out.reports_reply(queued)


@app_commands.command(name="dismiss",
                      description=N_("Moderators: close a report without a verdict"))
@app_commands.describe(report=N_("the report's number (see /reports)"),
                       reason=N_("why, told to the reporters"))
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
    done = _("Dismissed {report}").format(report=render.report_text(closed))
    return out.Reply(out.fit(escape_markdown(done),
                             out.TEXT_LIMIT), ephemeral=True)


@app_commands.command(name="autocheck",
                      description=N_("Answer unasked when a message names a suspicious account"))
@app_commands.describe(mode=N_("on: reply to impersonators, unofficial, compromised, lookalikes"))
@app_commands.choices(mode=AUTOCHECK_CHOICES)
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def autocheck(interaction: discord.Interaction[Any], mode: str) -> None:
    await respond(interaction, _autocheck(interaction, mode), ephemeral=True)


async def _autocheck(interaction: discord.Interaction[Any], mode: str) -> out.Reply:
    # Discord hides the command from others, but server admins can override that: check here too.
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return out.refusal(_("only members with Manage Server can change auto-check"))
    if mode not in ("on", "off"):
        return out.refusal(_("unknown mode {mode}: use on or off").format(mode=repr(mode[:40])))
    await context_of(interaction).core.set_autocheck(str(interaction.guild_id), mode == "on",
                                                     asker_of(interaction))
    done = _("Auto-check is on.") if mode == "on" else _("Auto-check is off.")
    return out.Reply(done, ephemeral=True)


LANGUAGE_CHOICES = [app_commands.Choice(name=name, value=code)
                    for code, name in i18n.NAMES.items()] + [
    app_commands.Choice(name="auto", value="auto")]


@app_commands.command(name="language", description=N_("The language I answer in on this server"))
@app_commands.describe(language=N_("auto: each member's own Discord language"))
@app_commands.choices(language=LANGUAGE_CHOICES)
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def language(interaction: discord.Interaction[Any], language: str) -> None:
    await respond(interaction, _language(interaction, language), ephemeral=True)


async def _language(interaction: discord.Interaction[Any], wanted: str) -> out.Reply:
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return out.refusal(_("only members with Manage Server can choose the language"))
    chosen = wanted if wanted in i18n.LANGUAGES else None
    if chosen is None and wanted != "auto":
        return out.refusal(_("unknown language {code}").format(code=repr(wanted[:20])))
    await context_of(interaction).core.set_chat_language(str(interaction.guild_id), chosen,
                                                         asker_of(interaction))
    i18n.use(chosen or i18n.language_of(interaction.locale.value))
    if chosen is None:
        return out.Reply(_("I'll answer everyone here in their own language."), ephemeral=True)
    return out.Reply(_("I'll answer in {language} here.").format(language=i18n.NAMES[chosen]),
                     ephemeral=True)


@app_commands.command(name="feeds",
                      description=N_("Moderators: the news feeds searched for mentions"))
@FOR_MODERATORS
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(action=N_("list the feeds, add one or remove one"),
                       url=N_("the feed's http(s) address (for add and remove)"))
@app_commands.choices(action=FEED_ACTIONS)
async def feeds(interaction: discord.Interaction[Any], action: str, url: str | None = None) -> None:
    await respond(interaction, _feeds(interaction, action, url), ephemeral=True)


async def _feeds(interaction: discord.Interaction[Any], action: str,
                 url: str | None) -> out.Reply:
    core, asker = context_of(interaction).core, asker_of(interaction)
    if action == "list":
        return out.feeds_reply(await core.list_feeds(asker))
    if action not in ("add", "remove"):
        return out.refusal(_("unknown action {action}: use list, add or remove").format(
            action=repr(action[:40])))
    if not url or not url.strip():
        return out.refusal(_("/feeds {action} needs the feed's URL").format(action=action))
    if action == "add":
        return out.feed_added_reply(await core.add_feed(url, asker))
    await core.remove_feed(url, asker)
    removed = _("Removed {url} from the feeds.").format(url=url.strip())
    return out.Reply(out.fit(escape_markdown(removed), out.TEXT_LIMIT),
                     ephemeral=True)


def register(tree: app_commands.CommandTree[Any], *, autocheck_enabled: bool,
             guard_enabled: bool = False) -> None:
    """Every command, in one place. /autocheck and /guard exist only when the operator enabled
    them (they need the privileged message-content and members intents)."""
    from adapters.discord.guard import GUARD  # their own modules, which import this one
    from adapters.discord.verify import verify

    commands: list[app_commands.Command[Any, Any, None] | app_commands.ContextMenu] = [
        check, check_message, sources, verdict, undo, history, report, reports, dismiss, language,
        feeds, verify]
    if autocheck_enabled:
        commands.append(autocheck)
    for command in commands:
        tree.add_command(command)
    if guard_enabled:
        tree.add_command(GUARD)
    tree.error(on_tree_error)


async def on_tree_error(interaction: discord.Interaction[Any],
                        error: app_commands.AppCommandError) -> None:
    """Errors raised before a handler runs (e.g. an option that does not convert)."""
    log.error("command failed outside its handler", exc_info=error)
    gone = getattr(error, "original", None)
    if isinstance(gone, discord.NotFound) and gone.code == UNKNOWN_INTERACTION:
        return  # answered too late: Discord refuses any further answer too
    if not interaction.response.is_done():
        await send(interaction, out.refusal(_(BUG_MESSAGE)))


async def autocheck_message(context: BotContext, message: discord.Message) -> None:
    """Reply, unasked, only when a message names an alarming account."""
    guild = message.guild
    if message.author.bot or guild is None:
        return
    asker = Asker(platform="discord", user_id=str(message.author.id),
                  chat_id=str(message.channel.id), is_private=False, name=message.author.name)
    chosen = await context.core.chat_language("discord", str(guild.id))
    i18n.use(chosen or i18n.language_of(guild.preferred_locale.value))
    alarming = await context.core.alarms(str(guild.id), message.content, asker)
    if alarming:
        reply = out.check_reply(alarming)
        await message.reply(reply.content, embeds=list(reply.embeds), view=SourcesView(),
                            mention_author=False)
