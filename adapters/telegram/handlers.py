"""Handlers: a Telegram update -> a core call -> the core's answer -> a Telegram reply."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

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
from adapters.telegram.throttle import Admission, Throttle
from bot import render
from bot.commands import REPORT_USAGE, VERDICT_USAGE
from bot.core import Core, IdLookup
from bot.model import AccountRef, Answer, Asker, IsOfficialError
from bot.ports import FeedState
from bot.render import feed_line

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

COMMANDS = [
    BotCommand("check", "Is this account official? /check <link or @handle>"),
    BotCommand("sources", "Every source, with links and dates"),
    BotCommand("history", "Who changed an account's verdict, when and why"),
    BotCommand("report", "Suggest a verdict: /report <account> <status> [note]"),
    BotCommand("verdict", "Moderators: /verdict <account> <status> [entity] [| note] [url]"),
    BotCommand("autocheck", "Admins: /autocheck on|off, warn about bad accounts posted here"),
    BotCommand("feeds", "Moderators: /feeds list | add <url> | remove <url>"),
    BotCommand("help", "What I can do"),
]
HELP = """I answer one question: <b>is this account official?</b>

/check &lt;link, @handle or platform:handle&gt; (or reply /check to a message)
/sources &lt;account&gt; every source with its date
/history &lt;account&gt; who changed what, when, why
/report &lt;account&gt; &lt;status&gt; [note] suggest a verdict to the moderators
/autocheck on|off (chat admins) I reply when someone posts an impersonator, unofficial,
compromised or lookalike account, and stay silent otherwise
Moderators: /verdict &lt;account&gt; &lt;status&gt; [entity] [| note] [url],
/undo &lt;account&gt;, /reports, /feeds list | add &lt;url&gt; | remove &lt;url&gt;
Inline: type @{username} &lt;account&gt; in any chat."""
USAGE = "Usage: /{command} &lt;link, @handle or platform:handle&gt;"
FEEDS_USAGE = "Usage: /feeds list | add &lt;feed url&gt; | remove &lt;feed url&gt;"
SLOW_DOWN = "You're asking faster than I can answer. Please wait a minute, then try again."
EXPIRED = "That link has expired. Send /sources followed by the account here instead."
CANT_DM = "I can't write to you first: tap the button, press Start, and I'll send the sources."
BROKEN = "Sorry, something went wrong on my side. Please try again later."
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class Services:
    """What handlers share, kept in bot_data["services"]."""

    core: Core
    throttle: Throttle
    payloads: Payloads = field(default_factory=Payloads)


def services(context: Context) -> Services:
    found = context.bot_data["services"]
    assert isinstance(found, Services)
    return found


# --- reading updates ----------------------------------------------------------------------------


def asker_of(update: Update) -> Asker:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None
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
    await reply(message_of(update), HELP.format(username=escape(context.bot.username)))


async def start(update: Update, context: Context) -> None:
    """`/start` greets; `/start <payload>` (the group's DM button) shows those sources."""
    message = message_of(update)
    if not context.args:
        await help_command(update, context)
        return
    query = services(context).payloads.decode(context.args[0])
    if query is None:
        await reply(message, EXPIRED)
        return
    answers = await services(context).core.sources(query, asker_of(update))
    await reply(message, answers_html(answers, full=True))


async def check(update: Update, context: Context) -> None:
    message = message_of(update)
    query = query_of(message)
    if not query:
        await reply(message, USAGE.format(command="check") + ", or reply /check to a message")
        return
    core = services(context).core
    answers = await core.check(query, asker_of(update), current_id_lookup(context.bot))
    await send_answers(message, context, answers)


async def sources(update: Update, context: Context) -> None:
    """Sources go to the asker's DM; a bot can't open one, so a group may get the button."""
    message = message_of(update)
    query = query_of(message)
    if not query:
        await reply(message, USAGE.format(command="sources"))
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
        await reply(message, CANT_DM, sources_button(context.bot.username, payload))
        return
    await reply(message, "📬 Sent you the sources privately.")


async def verdict(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, escape(VERDICT_USAGE))
        return
    answer = await services(context).core.verdict(args, asker_of(update))
    await reply(message, "Recorded:\n" + answers_html([answer], full=True))


async def undo(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, USAGE.format(command="undo"))
        return
    answer = await services(context).core.undo(args, asker_of(update))
    await reply(message, "Undone. Now:\n" + answers_html([answer], full=True))


async def history(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, USAGE.format(command="history"))
        return
    ref, changes = await services(context).core.history(args)
    await reply(message, text_html(render.history_text(ref, changes)))


async def report(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, escape(REPORT_USAGE))
        return
    queued = await services(context).core.report(args, asker_of(update))
    await reply(message, report_html(queued))


async def reports(update: Update, context: Context) -> None:
    open_reports = await services(context).core.open_reports(asker_of(update))
    await reply(message_of(update), reports_html(open_reports))


async def autocheck(update: Update, context: Context) -> None:
    """`/autocheck on|off`: chat administrators opt their group in or out."""
    message = message_of(update)
    core, chat_id = services(context).core, str(message.chat.id)
    if is_private(message):
        await reply(message, "Auto-check is for groups: add me to one, send /autocheck on there.")
        return
    wanted = command_args(message).lower()
    if wanted not in ("on", "off"):
        now = "on" if await core.autocheck_enabled("telegram", chat_id) else "off"
        await reply(message, f"Usage: /autocheck on|off (it is {now} here)")
        return
    if not await is_chat_admin(context.bot, message):
        await reply(message, "Only this chat's administrators can turn auto-check on or off.")
        return
    await core.set_autocheck(chat_id, wanted == "on", asker_of(update))
    if wanted == "on":
        await reply(message, "Auto-check is on: I'll reply when someone posts an impersonator, "
                             "unofficial, compromised or lookalike account, and stay silent "
                             "otherwise.")
    else:
        await reply(message, "Auto-check is off.")


async def is_chat_admin(bot: Bot, message: Message) -> bool:
    if message.sender_chat:  # the group itself is an anonymous admin; a channel is no member
        return message.sender_chat.id == message.chat.id
    if message.from_user is None:
        return False
    member = await bot.get_chat_member(message.chat.id, message.from_user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def feeds(update: Update, context: Context) -> None:
    """Moderators: `/feeds list | add <url> | remove <url>` (the core refuses anyone else)."""
    message = message_of(update)
    core, asker = services(context).core, asker_of(update)
    action, _, url = command_args(message).partition(" ")
    action, url = action.lower(), url.strip()
    if action in ("", "list"):
        await reply(message, feeds_html(await core.list_feeds(asker)))
    elif action == "add" and url:
        feed = await core.add_feed(url, asker)
        await reply(message, f"Added {escape(feed_line(feed))}\nIts items are read at the next "
                             "refresh.")
    elif action == "remove" and url:
        await core.remove_feed(url, asker)
        await reply(message, f"Removed {escape(url)} from the feeds.")
    else:
        await reply(message, FEEDS_USAGE)


def feeds_html(feeds: Sequence[FeedState]) -> str:
    if not feeds:
        return "No feeds yet: add one with /feeds add &lt;feed url&gt;"
    return "\n".join(escape(feed_line(feed)) for feed in feeds)


# --- the rest -----------------------------------------------------------------------------------


async def autocheck_message(update: Update, context: Context) -> None:
    """In opted-in groups: reply to alarming accounts only; everything else stays silent."""
    message = message_of(update)
    alarming = await services(context).core.alarms(
        str(message.chat.id), linked_text(message), asker_of(update),
        current_id_lookup(context.bot),
    )
    if alarming:
        await send_answers(message, context, alarming)


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


def asks_something(update: Update) -> bool:
    """A command or an inline query: what the throttle counts (not ordinary chatter)."""
    if update.inline_query:
        return True
    message = update.message
    return bool(message and message.text and message.text.startswith("/"))


async def throttle_gate(update: object, context: Context) -> None:
    """Runs before every handler: over the per-user limit, one polite notice, then silence."""
    if not isinstance(update, Update) or not update.effective_user or not asks_something(update):
        return
    admission = services(context).throttle.admit(update.effective_user.id)
    if admission is Admission.ANSWER:
        return
    if admission is Admission.NOTIFY and update.message:
        await update.message.reply_text(SLOW_DOWN, do_quote=not is_private(update.message))
    raise ApplicationHandlerStop


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
        text = BROKEN
    if message is not None:
        with suppress(TelegramError):
            await message.reply_html(text, do_quote=not is_private(message))
