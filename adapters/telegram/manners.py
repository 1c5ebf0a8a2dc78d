"""How the bot behaves as a member of Telegram chats: command lists per scope, greetings,
group migration, and saying so when privacy mode hides messages from auto-check."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot import i18n
from bot.i18n import N_, _

log = logging.getLogger(__name__)

EVERYONE = [
    BotCommand("check", N_("Is this account official? /check <link or @handle>")),
    BotCommand("sources", N_("Every source, with links and dates")),
    BotCommand("history", N_("Who changed an account's verdict, when and why")),
    BotCommand("report", N_("Suggest a verdict: /report <account> <status> [note]")),
    BotCommand("verify", N_("Does the official site link back? /verify <account>")),
    BotCommand("help", N_("What I can do")),
]
MODERATORS = [
    BotCommand("verdict", N_("Moderators: /verdict <account> <status> [entity] [| note] [url]")),
    BotCommand("undo", N_("Moderators: /undo <account>, revert its latest change")),
    BotCommand("reports", N_("Moderators: open reports to decide")),
    BotCommand("dismiss", N_("Moderators: /dismiss <report id> [reason]")),
    BotCommand("feeds", N_("Moderators: /feeds list | add <url> | remove <url>")),
]
ADMINS = [
    BotCommand("autocheck", N_("Admins: /autocheck on|off, warn about bad accounts posted here")),
    BotCommand("language", N_("Admins: /language <code>, the language I answer in here")),
    BotCommand("guard", N_("Admins: /guard on|off, warn about members posing as admins")),
]
# Members see what they may use; a group's administrators also see the moderator commands.
COMMAND_LISTS: list[tuple[BotCommandScope, list[BotCommand]]] = [
    (BotCommandScopeDefault(), EVERYONE),
    (BotCommandScopeAllPrivateChats(), EVERYONE),
    (BotCommandScopeAllGroupChats(), EVERYONE),
    (BotCommandScopeAllChatAdministrators(), EVERYONE + ADMINS + MODERATORS),
]
COMMANDS = EVERYONE + ADMINS + MODERATORS  # every command the bot answers

GREETING = N_(
    "I answer one question: <b>is this account official?</b> Send me a profile link or an "
    "@handle, or /check &lt;link&gt;. Add me to a group and anyone there can ask."
)
WELCOME = N_(
    "Hello! I answer <b>is this account official?</b> Ask /check &lt;link or @handle&gt;, "
    "or reply /check to a message. Administrators: /autocheck on makes me warn, unasked, about "
    "impersonators and lookalikes posted here."
)
PRIVACY_WARNING = N_(
    "⚠️ I can't see ordinary messages here: privacy mode is on, so auto-check will only hear "
    "commands. Make me an administrator of this chat, or have my owner turn privacy off "
    "(@BotFather, /setprivacy, Disable) and add me again."
)


# Telegram's language_code for each of our languages (the default lists are English).
TELEGRAM_CODES = {"ko": "ko", "ru": "ru", "uk": "uk", "es": "es", "zh_Hans": "zh"}


async def set_command_lists(bot: Bot) -> None:
    """Each scope's list, in English and in every language we speak."""
    for scope, commands in COMMAND_LISTS:
        await bot.set_my_commands(commands, scope=scope)
        for language, code in TELEGRAM_CODES.items():
            translated = [BotCommand(c.command, i18n.translate(language, c.description))
                          for c in commands]
            await bot.set_my_commands(translated, scope=scope, language_code=code)


def add_to_group_button(bot_username: str) -> InlineKeyboardMarkup:
    url = f"https://t.me/{bot_username}?startgroup=true"
    return InlineKeyboardMarkup([[InlineKeyboardButton("➕ " + _("Add me to a group"), url=url)]])


def was_added(update: Update) -> bool:
    """A my_chat_member update that makes the bot a member of a group it was not in."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type == "private":
        return False
    inside = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    return change.new_chat_member.status in inside and change.old_chat_member.status not in inside


async def sees_every_message(bot: Bot, message: Message) -> bool:
    """Privacy mode off (getMe), or an administrator of this chat (which sees everything)."""
    if bot.can_read_all_group_messages or message.chat.type == "channel":
        return True
    try:
        me = await bot.get_chat_member(message.chat.id, bot.id)
    except TelegramError as error:
        log.info("getChatMember of the bot: %s", error)
        return False
    return me.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def migration(message: Message) -> tuple[int, int] | None:
    """(old chat id, new chat id) when a group became a supergroup."""
    if message.migrate_to_chat_id:
        return message.chat.id, message.migrate_to_chat_id
    if message.migrate_from_chat_id:
        return message.migrate_from_chat_id, message.chat.id
    return None
