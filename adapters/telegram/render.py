"""Telegram markup for the core's answers: HTML, the "Sources in DM" button, deep-link payloads.

Deep-link payloads (`t.me/<bot>?start=<payload>`, Telegram allows `[A-Za-z0-9_-]{1,64}`):
- `r` + base64url (unpadded) of the answered refs joined by spaces, e.g. `r` + b64("x:uriminzok"),
  whenever that fits in 64 characters. Stateless: survives restarts and works on every instance.
- otherwise `k` + a random 16-character key for the refs, kept in a bounded in-memory map
  (`Payloads`, the oldest forgotten first). Such links expire on restart; the DM then says so.
Either way the payload only names accounts: decoding it and asking the core again is safe even
when someone crafts a payload by hand.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
from collections import OrderedDict
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from bot.i18n import _
from bot.model import Answer, Report

MESSAGE_LIMIT = 4096  # characters after entity parsing; HTML is never shorter: splitting it is safe
LINE_LIMIT = 600  # visible characters per line: escaped (x6 at worst) it still fits one message
PAYLOAD_LIMIT = 64


def escape(text: str) -> str:
    """User-controlled text (a handle may contain `<`), clipped so one line fits one message."""
    clipped = text if len(text) <= LINE_LIMIT else text[: LINE_LIMIT - 1] + "…"
    return html.escape(clipped, quote=False)


def answers_html(answers: Sequence[Answer], full: bool) -> str:
    """Short (group) or full (DM, with every source and date) answers; headlines in bold."""
    blocks = []
    for answer in answers:
        first, *rest = render.full_lines(answer) if full else render.short_lines(answer)
        blocks.append("\n".join([f"<b>{escape(first)}</b>", *map(escape, rest)]))
    if more := render.unanswered_line(answers):
        blocks.append(escape(more))
    return ("\n\n" if full else "\n").join(blocks)


def text_html(text: str) -> str:
    """Plain text as HTML, line by line (each line clipped to fit one message)."""
    return "\n".join(map(escape, text.split("\n")))


def report_html(report: Report) -> str:
    return text_html(render.report_queued(report))


def reports_html(reports: Sequence[Report]) -> str:
    if not reports:
        return _("No open reports.")
    return "\n".join(escape(render.report_text(report)) for report in reports)


def pieces(html_text: str) -> list[str]:
    """Messages under Telegram's limit, split at line breaks (lines never straddle tags)."""
    return [piece for piece in render.split_message(html_text, MESSAGE_LIMIT) if piece.strip()]


def sources_button(bot_username: str, payload: str) -> InlineKeyboardMarkup:
    url = f"https://t.me/{bot_username}?start={payload}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(_("Sources in DM"), url=url)]])


class Payloads:
    """Deep-link payloads for queries; long ones behind short keys in a bounded map."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._queries: OrderedDict[str, str] = OrderedDict()

    def encode(self, answers: Sequence[Answer]) -> str:
        query = " ".join(dict.fromkeys(str(answer.ref) for answer in answers))
        packed = base64.urlsafe_b64encode(query.encode()).rstrip(b"=").decode()
        if 1 + len(packed) <= PAYLOAD_LIMIT:
            return "r" + packed
        key = "k" + secrets.token_urlsafe(12)
        self._queries[key] = query
        while len(self._queries) > self.capacity:
            self._queries.popitem(last=False)
        return key

    def decode(self, payload: str) -> str | None:
        """The query a payload stands for; None when it is expired, foreign or malformed."""
        if payload.startswith("k"):
            return self._queries.get(payload)
        if not payload.startswith("r") or len(payload) > PAYLOAD_LIMIT:
            return None
        packed = payload[1:]
        try:
            query = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return query or None
