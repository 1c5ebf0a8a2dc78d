"""Handlers: a Telegram update -> a core call -> the core's answer -> a Telegram reply."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from adapters.telegram import manners
from adapters.telegram.render import (
    Payloads,
    answers_html,
    escape,
    pieces,
    report_html,
    reports_html,
    sources_button,
    text_html,
)
from adapters.telegram.throttle import Throttle
from adapters.telegram.watch import Watch
from bot import render
from bot.commands import REPORT_USAGE, VERDICT_USAGE
from bot.core import Core, IdLookup
from bot.i18n import N_, _
from bot.model import AccountRef, Answer, Asker, IsOfficialError
from bot.ports import FeedState
from bot.render import feed_line

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

HELP = N_("""I answer one question: <b>is this account official?</b>

/check &lt;link, @handle or platform:handle&gt; (or reply /check to a message)
/sources &lt;account&gt; every source with its date
/history &lt;account&gt; who changed what, when, why
/report &lt;account&gt; &lt;status&gt; [note] suggest a verdict to the moderators
/autocheck on|off (chat admins) I reply when someone posts an impersonator, unofficial,
compromised or lookalike account, and stay silent otherwise
Moderators: /verdict &lt;account&gt; &lt;status&gt; [entity] [| note] [url],
/undo &lt;account&gt;, /reports, /feeds list | add &lt;url&gt; | remove &lt;url&gt;
Inline: type @{username} &lt;account&gt; in any chat.
/language (chat admins) the language I answer in here""")
GUARD_HELP = N_("/guard on|off (chat admins) I warn when someone joins, or writes under a new "
                "name, as one of this chat's admins or as an official account; /guard shows the "
                "options")
USAGE = N_("Usage: /{command} &lt;link, @handle or platform:handle&gt;")
FEEDS_USAGE = N_("Usage: /feeds list | add &lt;feed url&gt; | remove &lt;feed url&gt;")
SLOW_DOWN = N_("Too many questions here just now: ask again in {seconds} s, and I'll answer.")
SLOW_DOWN_INLINE = N_("Too many questions: try again in {seconds} s")
EXPIRED = N_("That link has expired. Send /sources followed by the account here instead.")
CANT_DM = N_("I can't write to you first: tap the button, press Start, and I'll send the sources.")
BROKEN = N_("Sorry, something went wrong on my side. Please try again later.")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Seen:
    """A bounded set of keys, the oldest forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[object, None] = OrderedDict()

    def add(self, key: object) -> bool:
        """True if key is new."""
        if key in self._keys:
            return False
        self._keys[key] = None
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return True


@dataclass
class Services:
    """What handlers share, kept in bot_data["services"]."""

    core: Core
    throttle: Throttle
    watch: Watch  # the guard's caches and queues
    payloads: Payloads = field(default_factory=Payloads)
    commands: frozenset[str] = frozenset()  # the commands this bot answers
    alarmed: Seen = field(default_factory=Seen)  # (chat, message) auto-check already answered
    released: set[int] = field(default_factory=set)  # queued updates whose slot has come
    queued: set[asyncio.Task[None]] = field(default_factory=set)


def services(context: Context) -> Services:
    found = context.bot_data["services"]
    assert isinstance(found, Services)
    return found


# --- reading updates ----------------------------------------------------------------------------


def asker_of(update: Update) -> Asker:
    """The user asking; a channel post or an anonymous admin asks as its chat."""
    user, chat = update.effective_user, update.effective_chat
    sender = update.effective_message.sender_chat if update.effective_message else None
    if user is None:
        assert sender is not None or chat is not None
        as_chat = sender or chat
        assert as_chat is not None
        return Asker("telegram", str(as_chat.id), str(chat.id) if chat else None, False,
                     as_chat.title or str(as_chat.id))
    return Asker(
        platform="telegram",
        user_id=str(user.id),
        chat_id=str(chat.id) if chat else None,
        is_private=chat is None or chat.type == ChatType.PRIVATE,
        name=f"@{user.username}" if user.username else user.full_name,
    )


def command_args(message: Message) -> str:
    """The text after the command as typed (context.args would lose newlines and spacing)."""
    text = message.text or ""
    command = message.entities[0]  # CommandHandler saw a bot_command at offset 0
    return text[command.length :].strip()


def linked_text(message: Message) -> str:
    """A message's text plus the targets of its hidden links (text_link entities)."""
    entities = message.entities or message.caption_entities
    links = [e.url for e in entities if e.type == MessageEntity.TEXT_LINK and e.url]
    return " ".join([message.text or message.caption or "", *links]).strip()


def query_of(message: Message) -> str:
    """`/check <query>`, or `/check` sent as a reply: every account in the replied message."""
    typed = command_args(message)
    if typed or message.reply_to_message is None:
        return typed
    return linked_text(message.reply_to_message)


def message_of(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def current_id_lookup(bot: Bot) -> IdLookup:
    """The current numeric id of a Telegram handle (getChat), for the re-registration notice."""

    async def current_id(ref: AccountRef) -> str | None:
        if ref.platform != "telegram":
            return None
        try:
            chat = await bot.get_chat(f"@{ref.handle}")
        except TelegramError as error:  # gone, private or unreachable: nothing to compare
            log.info("getChat @%s: %s", ref.handle, error)
            return None
        return str(chat.id)

    return current_id


# --- replying -----------------------------------------------------------------------------------


async def reply(message: Message, html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in pieces under the limit; in groups quote the asker; buttons on the last piece."""
    parts = pieces(html)
    for index, part in enumerate(parts):
        await message.reply_html(
            part,
            do_quote=index == 0 and not is_private(message),
            reply_markup=markup if index == len(parts) - 1 else None,
            link_preview_options=NO_PREVIEW,
        )


async def send_answers(message: Message, context: Context, answers: list[Answer]) -> None:
    """A DM gets everything; a group the short answer and a button to the sources in DM."""
    if is_private(message):
        await reply(message, answers_html(answers, full=True))
        return
    payload = services(context).payloads.encode(answers)
    button = sources_button(context.bot.username, payload)
    await reply(message, answers_html(answers, full=False), button)


# --- commands -----------------------------------------------------------------------------------


async def help_command(update: Update, context: Context) -> None:
    text = _(HELP).format(username=escape(context.bot.username))
    await reply(message_of(update), text + "\n" + escape(_(GUARD_HELP)))


async def start(update: Update, context: Context) -> None:
    """`/start` greets; `/start <payload>` (the group's DM button) shows those sources."""
    message = message_of(update)
    if not context.args:
        if not is_private(message):
            await help_command(update, context)
            return
        button = manners.add_to_group_button(context.bot.username)
        await reply(message, _(manners.GREETING), button)
        return
    query = services(context).payloads.decode(context.args[0])
    if query is None:
        await reply(message, _(EXPIRED))
        return
    answers = await services(context).core.sources(query, asker_of(update))
    await reply(message, answers_html(answers, full=True))


async def check(update: Update, context: Context) -> None:
    message = message_of(update)
    query = query_of(message)
    if not query:
        usage = _(USAGE).format(command="check") + _(", or reply /check to a message")
        await reply(message, usage)
        return
    core = services(context).core
    answers = await core.check(query, asker_of(update), current_id_lookup(context.bot))
    await send_answers(message, context, answers)


async def sources(update: Update, context: Context) -> None:
    """Sources go to the asker's DM; a bot can't open one, so a group may get the button."""
    message = message_of(update)
    query = query_of(message)
    if not query:
        await reply(message, _(USAGE).format(command="sources"))
        return
    answers = await services(context).core.sources(query, asker_of(update))
    full = answers_html(answers, full=True)
    if is_private(message):
        await reply(message, full)
        return
    assert message.from_user is not None
    try:
        for part in pieces(full):
            await context.bot.send_message(
                message.from_user.id, part, parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            )
    except Forbidden:
        payload = services(context).payloads.encode(answers)
        await reply(message, _(CANT_DM), sources_button(context.bot.username, payload))
        return
    await reply(message, "📬 " + _("Sent you the sources privately."))


async def verdict(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, escape(_(VERDICT_USAGE)))
        return
    answer = await services(context).core.verdict(args, asker_of(update))
    await reply(message, _("Recorded:") + "\n" + answers_html([answer], full=True))


async def undo(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, _(USAGE).format(command="undo"))
        return
    answer = await services(context).core.undo(args, asker_of(update))
    await reply(message, _("Undone. Now:") + "\n" + answers_html([answer], full=True))


async def history(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, _(USAGE).format(command="history"))
        return
    core = services(context).core
    ref, changes = await core.history(args)
    verifications = await core.verifications(ref)
    await reply(message, text_html(render.history_text(ref, changes, verifications)))


async def report(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, escape(_(REPORT_USAGE)))
        return
    queued = await services(context).core.report(args, asker_of(update))
    await reply(message, report_html(queued))


async def dismiss(update: Update, context: Context) -> None:
    """Moderators: `/dismiss <report id> [reason]`; the reporters are told."""
    message = message_of(update)
    closed = await services(context).core.dismiss(command_args(message), asker_of(update))
    await reply(message, escape(_("Dismissed {report}").format(report=render.report_text(closed))))


async def moderation_button(update: Update, context: Context) -> None:
    """Accept or Dismiss under a report in the moderators' chat (moderators only)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _kind, action, number = query.data.split(":")
    core, asker = services(context).core, asker_of(update)
    try:
        if action == "accept":
            answer = await core.accept_report(int(number), asker)
            done = _("Accepted: {answer}").format(answer=render.headline(answer))
        else:
            await core.dismiss_report(int(number), asker, _("dismissed in the moderators' chat"))
            done = _("Dismissed report #{number}").format(number=number)
    except IsOfficialError as error:
        await query.answer(str(error)[:200], show_alert=True)
        return
    await query.answer(done[:200])


async def reports(update: Update, context: Context) -> None:
    open_reports = await services(context).core.open_reports(asker_of(update))
    await reply(message_of(update), reports_html(open_reports))


async def feeds(update: Update, context: Context) -> None:
    """Moderators: `/feeds list | add <url> | remove <url>` (the core refuses anyone else)."""
    message = message_of(update)
    core, asker = services(context).core, asker_of(update)
    action, _space, url = command_args(message).partition(" ")
    action, url = action.lower(), url.strip()
    if action in ("", "list"):
        await reply(message, feeds_html(await core.list_feeds(asker)))
    elif action == "add" and url:
        feed = await core.add_feed(url, asker)
        await reply(message, _("Added {feed}").format(feed=escape(feed_line(feed))) + "\n"
                     + _("Its items are read at the next refresh."))
    elif action == "remove" and url:
        await core.remove_feed(url, asker)
        await reply(message, _("Removed {url} from the feeds.").format(url=escape(url)))
    else:
        await reply(message, _(FEEDS_USAGE))


def feeds_html(feeds: Sequence[FeedState]) -> str:
    if not feeds:
        return _("No feeds yet: add one with /feeds add &lt;feed url&gt;")
    return "\n".join(escape(feed_line(feed)) for feed in feeds)


# --- the rest -----------------------------------------------------------------------------------


async def private_text(update: Update, context: Context) -> None:
    """A link or @handle sent alone in a DM is answered like /check."""
    message = message_of(update)
    answers = await services(context).core.check(
        linked_text(message), asker_of(update), current_id_lookup(context.bot)
    )
    await send_answers(message, context, answers)


async def inline_query(update: Update, context: Context) -> None:
    """`@bot <account>` in any chat: one result per account, ready to send."""
    query = update.inline_query
    assert query is not None
    if not query.query.strip():
        await query.answer([], cache_time=300)
        return
    try:
        answers = await services(context).core.check(query.query, asker_of(update))
    except IsOfficialError:
        await query.answer([], cache_time=10)
        return
    button = sources_button(context.bot.username, services(context).payloads.encode(answers))
    results = [
        InlineQueryResultArticle(
            id=str(number),
            title=render.headline(answer),
            description=render.certainty_line(answer),
            input_message_content=InputTextMessageContent(
                answers_html([answer], full=False), parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            ),
            reply_markup=button,
        )
        for number, answer in enumerate(answers)
    ]
    await query.answer(results, cache_time=60)


async def on_error(update: object, context: Context) -> None:
    """A user's mistake gets the core's one-line message; a bug is logged and answered briefly."""
    error = context.error
    message = update.effective_message if isinstance(update, Update) else None
    if isinstance(error, IsOfficialError):
        text = escape(str(error))
    elif isinstance(error, Forbidden):  # blocked by the user or removed from the chat
        log.info("may not answer: %s", error)
        return
    else:
        log.error("handling an update failed", exc_info=error)
        text = _(BROKEN)
    if message is not None:
        with suppress(TelegramError):
            await message.reply_html(text, do_quote=not is_private(message))
