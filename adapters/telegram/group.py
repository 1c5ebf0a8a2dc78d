"""What a group's administrators and the bot's membership decide: auto-check, the chat's
language, the welcome, migration to a supergroup."""

from __future__ import annotations

from telegram import Bot, Message, Update
from telegram.constants import ChatMemberStatus, ParseMode

from adapters.telegram import manners
from adapters.telegram.handlers import (
    NO_PREVIEW,
    Context,
    asker_of,
    command_args,
    current_id_lookup,
    is_private,
    linked_text,
    message_of,
    reply,
    send_answers,
    services,
)
from adapters.telegram.render import escape
from bot import i18n
from bot.i18n import _


async def autocheck(update: Update, context: Context) -> None:
    """`/autocheck on|off`: chat administrators opt their group in or out."""
    message = message_of(update)
    core, chat_id = services(context).core, str(message.chat.id)
    if is_private(message):
        await reply(message, _("Auto-check is for groups: add me to one, send /autocheck on "
                               "there."))
        return
    wanted = command_args(message).lower()
    if wanted not in ("on", "off"):
        on = await core.autocheck_enabled("telegram", chat_id)
        now = _("on") if on else _("off")
        await reply(message, _("Usage: /autocheck on|off (it is {state} here)").format(state=now))
        return
    if not await is_chat_admin(context.bot, message):
        await reply(message, _("Only this chat's administrators can turn auto-check on or off."))
        return
    await core.set_autocheck(chat_id, wanted == "on", asker_of(update))
    if wanted == "off":
        await reply(message, _("Auto-check is off."))
        return
    await reply(message, _("Auto-check is on: I'll reply when someone posts an impersonator, "
                           "unofficial, compromised or lookalike account, and stay silent "
                           "otherwise."))
    if not await manners.sees_every_message(context.bot, message):
        await reply(message, _(manners.PRIVACY_WARNING))


async def is_chat_admin(bot: Bot, message: Message) -> bool:
    if message.sender_chat:  # the group itself (an anonymous admin) or a channel's own post;
        return message.sender_chat.id == message.chat.id  # another channel is no member
    if message.from_user is None:
        return False
    member = await bot.get_chat_member(message.chat.id, message.from_user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def language(update: Update, context: Context) -> None:
    """`/language <code>` (chat admins in groups, anyone in a DM); `/language auto`: each
    asker's own again."""
    message = message_of(update)
    core, chat_id = services(context).core, str(message.chat.id)
    wanted = command_args(message).strip()
    choices = ", ".join(f"{code} ({name})" for code, name in i18n.NAMES.items())
    chosen = i18n.language_of(wanted.replace("zh_Hans", "zh"))
    if not wanted or (chosen is None and wanted.lower() != "auto"):
        now = await core.chat_language("telegram", chat_id)
        state = i18n.NAMES[now] if now else _("each asker's own")
        await reply(message, escape(_("Usage: /language <code> or auto (now: {state}); "
                                      "codes: {choices}").format(state=state, choices=choices)))
        return
    if not is_private(message) and not await is_chat_admin(context.bot, message):
        await reply(message, _("Only this chat's administrators can choose its language."))
        return
    await core.set_chat_language(chat_id, chosen, asker_of(update))
    i18n.use(chosen or i18n.language_of(update.effective_user.language_code
                                        if update.effective_user else None))
    if chosen is None:
        await reply(message, _("I'll answer everyone here in their own language."))
    else:
        await reply(message, _("I'll answer in {language} here.").format(
            language=i18n.NAMES[chosen]))


async def autocheck_message(update: Update, context: Context) -> None:
    """In opted-in groups and channels: reply to alarming accounts only, once per message (an
    edit that adds one is answered; further edits are not); everything else stays silent."""
    message = message_of(update)
    alarming = await services(context).core.alarms(
        str(message.chat.id), linked_text(message), asker_of(update),
        current_id_lookup(context.bot),
    )
    if alarming and services(context).alarmed.add((message.chat.id, message.message_id)):
        await send_answers(message, context, alarming)


async def added_to_chat(update: Update, context: Context) -> None:
    """Say hello when added to a group (my_chat_member), with how to use the bot."""
    if not manners.was_added(update):
        return
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, _(manners.WELCOME), parse_mode=ParseMode.HTML,
                                   link_preview_options=NO_PREVIEW)


async def migrated(update: Update, context: Context) -> None:
    """A group became a supergroup: its settings move to the new chat id."""
    moved = manners.migration(message_of(update))
    if moved is not None:
        await services(context).core.move_chat("telegram", str(moved[0]), str(moved[1]))


async def choose_language(update: object, context: Context) -> None:
    """Runs first for every update: the chat's chosen language, else the asker's own."""
    if not isinstance(update, Update):
        return
    chat, user = update.effective_chat, update.effective_user
    chosen = await services(context).core.chat_language("telegram", str(chat.id)) if chat else None
    i18n.use(chosen or i18n.language_of(user.language_code if user else None))
