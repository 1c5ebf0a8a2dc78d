"""The guard on Telegram: `/guard` (chat admins), joins (chat_member updates and join messages),
renames seen in messages, promotions, the Approve button, and the member question (`/check
@someone` or a reply in a guarded group; "Admins of <chat> never write first" in a DM)."""

from __future__ import annotations

from dataclasses import replace

from telegram import Chat, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from adapters.telegram import handlers as h
from adapters.telegram.group import is_chat_admin
from adapters.telegram.handlers import (
    Context,
    asker_of,
    command_args,
    is_private,
    message_of,
    reply,
    services,
)
from adapters.telegram.render import escape, text_html
from adapters.telegram.watch import Watch, member_of
from bot import guard_text
from bot.guard import GuardOptions, Member
from bot.handles import find_accounts
from bot.i18n import N_, _

USAGE = N_("Usage: /guard on|off, /guard allow @user (or as a reply), /guard restrict on|off, "
           "/guard delete on|off, /guard mods <chat id>|off")
ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
INSIDE = (*ADMIN_STATUSES, ChatMemberStatus.MEMBER, ChatMemberStatus.RESTRICTED)
SWITCHES = ("restrict", "delete")  # restrict until approved; delete the join message


def watch_of(context: Context) -> Watch:
    return services(context).watch


# --- /guard -----------------------------------------------------------------------------------


async def guard(update: Update, context: Context) -> None:
    """`/guard on|off|allow|restrict|delete|mods`: chat admins choose; anyone sees the state."""
    message = message_of(update)
    if is_private(message):
        await reply(message, _("The guard is for groups: add me to one and send /guard on there."))
        return
    core, chat = services(context).core, message.chat
    action, _space, rest = command_args(message).partition(" ")
    action, rest = action.lower(), rest.strip()
    if action not in ("on", "off", "allow", *SWITCHES, "mods"):
        settings = await core.guard.settings("telegram", str(chat.id))
        lines = [_(USAGE), *guard_text.settings_lines(settings)]
        await reply(message, text_html("\n".join(lines)))
        return
    admin = await is_chat_admin(context.bot, message)
    if action in ("on", "off"):
        await core.guard.set_on("telegram", str(chat.id), action == "on", asker_of(update),
                                chat_admin=admin)
        await _switched(message, context, action == "on")
    elif action == "allow":
        await _allow(update, context, rest, admin)
    elif action == "mods":
        await _moderators(update, context, rest, admin)
    else:
        await _option(update, context, action, rest.lower(), admin)


async def _switched(message: Message, context: Context, on: bool) -> None:
    if not on:
        await reply(message, _("The guard is off: I no longer look at who joins here."))
        return
    watch = watch_of(context)
    await watch.admins(message.chat, force=True, wait=True)
    count = len(services(context).core.guard.admins("telegram", str(message.chat.id)))
    await reply(message, escape(_(  # Telegram tells no renames: they show in the next message
        "The guard is on: I'll warn here when someone joins, or writes under a new name, as "
        "one of this chat's admins ({count}) or as a registered official account.").format(
        count=count)))
    if not await _bot_is_admin(context, message.chat):
        await reply(message, _("⚠️ Telegram tells only administrators who joins: make me an "
                               "administrator here, or I'll see newcomers only when they write."))


async def _bot_is_admin(context: Context, chat: Chat) -> bool:
    me = await context.bot.get_chat_member(chat.id, context.bot.id)
    return me.status in ADMIN_STATUSES


async def _allow(update: Update, context: Context, named: str, admin: bool) -> None:
    message = message_of(update)
    target = _target(message, context, named)
    if target is None:
        await reply(message, _("Usage: /guard allow @user, or reply /guard allow to one of "
                               "their messages (I know only members I have seen here)."))
        return
    core, chat = services(context).core, message.chat
    await core.guard.allow("telegram", str(chat.id), target.user_id, asker_of(update),
                           chat_admin=admin)
    if (chat.id, int(target.user_id)) in watch_of(context).flagged:
        await watch_of(context).lift(chat.id, int(target.user_id))
    await reply(message, escape(_("{name} will not be warned about here again.").format(
        name=target.display_name)))


def _target(message: Message, context: Context, named: str) -> Member | None:
    """The member a command names: the replied message's sender, else a known @username."""
    replied = message.reply_to_message
    if not named and replied is not None and replied.from_user is not None:
        return member_of(replied.from_user)
    if not named.startswith("@") or " " in named:
        return None
    watch = watch_of(context)
    user_id = watch.known_user(message.chat.id, named)
    if user_id is None:
        return None
    names = watch.seen.get((message.chat.id, user_id))
    display, username = names if isinstance(names, tuple) else (named[1:], named[1:])
    return Member("telegram", str(user_id), username, display)


async def _option(update: Update, context: Context, action: str, wanted: str,
                  admin: bool) -> None:
    message = message_of(update)
    if wanted not in ("on", "off"):
        await reply(message, _("Usage: /guard {option} on|off").format(option=action))
        return
    core, chat_id = services(context).core, str(message.chat.id)
    options = await core.guard.options("telegram", chat_id)
    on = wanted == "on"
    changed = (replace(options, restrict_until_approved=on) if action == "restrict"
               else replace(options, delete_join=on))
    await core.guard.set_options("telegram", chat_id, changed, asker_of(update),
                                 chat_admin=admin)
    await reply(message, _options_text(changed))
    if wanted == "on" and not await _bot_is_admin(context, message.chat):
        await reply(message, _("⚠️ I'm not an administrator here: I can't do that until you "
                               "make me one."))


def _options_text(options: GuardOptions) -> str:
    restrict = (_("impostors may not write until an admin approves them") if
                options.restrict_until_approved else _("impostors are not restricted"))
    delete = (_("their join messages are deleted") if options.delete_join
              else _("their join messages stay"))
    return escape(_("Done: {restrict}; {delete}.").format(restrict=restrict, delete=delete))


async def _moderators(update: Update, context: Context, wanted: str, admin: bool) -> None:
    """`/guard mods <chat id>|off`: warnings copied to a chat the asker administers too."""
    message = message_of(update)
    core, chat_id = services(context).core, str(message.chat.id)
    if wanted != "off" and not wanted.lstrip("-").isdigit():
        await reply(message, escape(_("Usage: /guard mods <chat id>|off")))
        return
    chosen = None if wanted == "off" else wanted
    user = message.from_user
    if chosen is not None and admin and user is not None:
        try:
            there = await context.bot.get_chat_member(int(chosen), user.id)
        except TelegramError:
            there = None
        if there is None or there.status not in ADMIN_STATUSES:
            await reply(message, _("I can copy warnings only to a chat where you are an "
                                   "administrator and I am a member."))
            return
    options = await core.guard.options("telegram", chat_id)
    await core.guard.set_options("telegram", chat_id, replace(options, moderators_chat=chosen),
                                 asker_of(update), chat_admin=admin)
    if chosen is None:
        await reply(message, _("Warnings are no longer copied to another chat."))
    else:
        await reply(message, _("Warnings are copied to chat {chat} too.").format(chat=chosen))


# --- updates ----------------------------------------------------------------------------------


async def member_changed(update: Update, context: Context) -> None:
    """chat_member: a join is looked at; a promotion or demotion re-reads the admins."""
    change = update.chat_member
    assert change is not None
    old, new = change.old_chat_member, change.new_chat_member
    watch = watch_of(context)
    promoted = (old.status in ADMIN_STATUSES) != (new.status in ADMIN_STATUSES)
    if promoted and await services(context).core.guard.is_on("telegram", str(change.chat.id)):
        await watch.admins(change.chat, force=True)
    if old.status not in INSIDE and new.status in INSIDE:
        await watch.look_at(change.chat, new.user)


async def joined(update: Update, context: Context) -> None:
    """A join message (new_chat_members): each newcomer looked at; the message deleted when the
    chat's admins chose so and one of them is an impostor."""
    message = message_of(update)
    watch = watch_of(context)
    options = await services(context).core.guard.options("telegram", str(message.chat.id))
    for user in message.new_chat_members:
        watch.joins.put((message.chat.id, user.id), message.message_id)
        await watch.look_at(message.chat, user)
        if options.delete_join:
            await watch.delete_join(message.chat.id, user.id)


async def sender(update: Update, context: Context) -> None:
    """Every group message: a sender seen for the first time or under a new name is looked at."""
    message = update.effective_message
    user = message.from_user if message else None
    if message is None or user is None or user.is_bot:
        return
    if not await services(context).core.guard.is_on("telegram", str(message.chat.id)):
        return
    watch = watch_of(context)
    if watch.seen_name(message.chat, user):
        if watch.is_admin(message.chat, user):  # an admin's new name is the one to protect
            await watch.admins(message.chat, force=True)
        await watch.look_at(message.chat, user)


async def approve(update: Update, context: Context) -> None:
    """The Approve button under a warning: a chat admin lets the member write again."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _kind, _ok, chat_text, user_text = query.data.split(":")
    chat_id, user_id = int(chat_text), int(user_text)
    member = await context.bot.get_chat_member(chat_id, query.from_user.id)
    if member.status not in ADMIN_STATUSES:
        await query.answer(_("Only that chat's administrators can approve members."),
                           show_alert=True)
        return
    await watch_of(context).lift(chat_id, user_id)
    await services(context).core.guard.allow("telegram", str(chat_id), user_text,
                                             asker_of(update), chat_admin=True)
    await query.answer(_("Approved: they may write again and will not be warned about again."))


# --- the member question ----------------------------------------------------------------------


async def check(update: Update, context: Context) -> None:
    """In a guarded group, `/check @someone` alone, or `/check` replying to a message that
    names no account, answers about that member; everything else is the usual /check."""
    message = message_of(update)
    member = await _asked_about(message, context)
    answer = None
    if member is not None:
        answer = services(context).core.guard.who_is("telegram", str(message.chat.id), member)
    unknown = member is not None and not member.user_id  # a @name never seen in this chat
    if answer is None or (unknown and not answer.admin and answer.looks_like is None):
        await h.check(update, context)  # the registry's answer about the @name or the text
        return
    await reply(message, text_html("\n".join(guard_text.member_answer_lines(answer))))


async def _asked_about(message: Message, context: Context) -> Member | None:
    if is_private(message):
        return None
    if not await services(context).core.guard.is_on("telegram", str(message.chat.id)):
        return None
    typed = command_args(message)
    replied = message.reply_to_message
    if not typed and replied is not None and replied.from_user is not None:
        if find_accounts(h.linked_text(replied)):
            return None
        photo = watch_of(context).photos.get((replied.from_user.id,))
        return member_of(replied.from_user, photo if isinstance(photo, int) else None)
    if typed.startswith("@") and len(typed.split()) == 1:
        return _target(message, context, typed) or Member(
            "telegram", "", typed[1:], typed[1:])
    return None


async def private_text(update: Update, context: Context) -> None:
    """A DM naming a guarded chat hears that its admins never write first; a link or @handle is
    answered as before."""
    message = message_of(update)
    text = h.linked_text(message)
    chats = await services(context).core.guard.named_chats("telegram", text)
    for chat in chats:
        await reply(message, text_html(guard_text.never_write_first(chat)))
    if not chats or find_accounts(text):
        await h.private_text(update, context)
