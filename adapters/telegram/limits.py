"""The gate every update passes first: which questions count against the limits, and what
happens over them (answered later, or told how long to wait; never silence)."""

from __future__ import annotations

import asyncio
import math

from telegram import InlineQueryResultsButton, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from adapters.telegram.handlers import SLOW_DOWN, SLOW_DOWN_INLINE, Context, is_private, services
from bot.i18n import _


def asks_this_bot(update: Update, username: str, commands: frozenset[str]) -> bool:
    """What the throttle counts: inline queries, DMs, and this bot's commands in a new message
    (`/check`, `/check@thisbot`; never `/warn@OtherBot`, `/notes` or ordinary chatter)."""
    if update.inline_query:
        return True
    message = update.message
    if message is None or not (message.text or message.caption):
        return False
    first = message.entities[0] if message.entities else None
    if first is None or first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return is_private(message)
    name, _at, target = (message.text or "")[1 : first.length].partition("@")
    return name.lower() in commands and target.lower() in ("", username.lower())


async def throttle_gate(update: object, context: Context) -> None:
    """Runs before every handler: over the limit, a question is answered later (queued) or its
    asker is told how long to wait, every time; never dropped without a word."""
    if not isinstance(update, Update) or not update.effective_user:
        return
    shared = services(context)
    if update.update_id in shared.released:  # its queued slot has come
        shared.released.discard(update.update_id)
        return
    if not asks_this_bot(update, context.bot.username, shared.commands):
        return
    chat = update.effective_chat
    is_group = chat is not None and chat.type != ChatType.PRIVATE
    admission = shared.throttle.admit(update.effective_user.id, chat.id if chat else None,
                                      is_group)
    if admission.now:
        return
    if admission.queued:
        task = asyncio.create_task(_answer_later(context, update, admission.delay))
        shared.queued.add(task)
        task.add_done_callback(shared.queued.discard)
    else:
        await _tell_to_wait(update, math.ceil(admission.delay))
    raise ApplicationHandlerStop


async def _answer_later(context: Context, update: Update, delay: float) -> None:
    await asyncio.sleep(delay)
    services(context).released.add(update.update_id)
    await context.application.process_update(update)


async def _tell_to_wait(update: Update, seconds: int) -> None:
    if update.inline_query:
        button = InlineQueryResultsButton(_(SLOW_DOWN_INLINE).format(seconds=seconds),
                                          start_parameter="help")
        await update.inline_query.answer([], cache_time=0, button=button)
    elif update.message:
        await update.message.reply_text(_(SLOW_DOWN).format(seconds=seconds),
                                        do_quote=not is_private(update.message))
