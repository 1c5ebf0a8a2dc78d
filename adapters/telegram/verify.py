"""`/verify <account> [entity]`: the live two-way link check, on Telegram."""

from __future__ import annotations

from telegram import Update

from adapters.telegram.handlers import (
    Context,
    asker_of,
    command_args,
    message_of,
    reply,
    services,
)
from adapters.telegram.render import escape, text_html
from bot.i18n import N_, _
from bot.verify_text import outcome_text

VERIFY_USAGE = N_("Usage: /verify <account> [entity] (anyone, for a registered account)")


async def verify(update: Update, context: Context) -> None:
    message = message_of(update)
    args = command_args(message)
    if not args:
        await reply(message, escape(_(VERIFY_USAGE)))
        return
    outcome = await services(context).core.verify(args, asker_of(update))
    await reply(message, text_html(outcome_text(outcome)))
