"""The moderation loop on Telegram: the moderators' chat hears each new report (with Accept and
Dismiss buttons) and each verdict change; a reporter is told the outcome by DM when they have
started the bot (Telegram lets a bot write only to users who did)."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError

from adapters.telegram.render import pieces, text_html
from bot import render
from bot.i18n import _
from bot.model import Answer, Report

log = logging.getLogger(__name__)

BUTTON_PATTERN = r"^report:(accept|dismiss):\d{1,12}$"


def report_buttons(report: Report) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("✅ " + _("Accept"), callback_data=f"report:accept:{report.id}"),
        InlineKeyboardButton("✖️ " + _("Dismiss"), callback_data=f"report:dismiss:{report.id}"),
    ]])


class TelegramNotices:
    """bot.ports.ModerationNotices for Telegram; chat_id None: no moderators' chat."""

    def __init__(self, bot: Bot, chat_id: int | None) -> None:
        self.bot, self.chat_id = bot, chat_id

    async def report_filed(self, report: Report) -> None:
        await self._to_moderators(render.report_notice(report), report_buttons(report))

    async def report_closed(self, report: Report, verdict: Answer | None) -> None:
        outcome = render.report_outcome(report, verdict)
        if report.outcome is not None and verdict is None:  # a verdict already announced itself
            await self._to_moderators(render.closed_notice(report))
        for key in report.reporter_keys:
            platform, _colon, user_id = key.partition(":")
            if platform == "telegram" and user_id.lstrip("-").isdigit():
                await self._send(int(user_id), outcome)

    async def verdict_changed(self, answer: Answer, by: str) -> None:
        await self._to_moderators(render.verdict_notice(answer, by))

    async def _to_moderators(self, text: str, buttons: InlineKeyboardMarkup | None = None) -> None:
        if self.chat_id is not None:
            await self._send(self.chat_id, text, buttons)

    async def _send(self, chat_id: int, text: str,
                    buttons: InlineKeyboardMarkup | None = None) -> None:
        parts = pieces(text_html(text))
        try:
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                await self.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                            reply_markup=buttons if last else None)
        except TelegramError as error:  # blocked, never started, or the chat is gone
            log.info("could not tell chat %s: %s", chat_id, error)
