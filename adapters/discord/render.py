"""Core answers as Discord messages: embeds coloured by status, a Sources button, text chunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown

from bot import render
from bot.i18n import _
from bot.model import AccountRef, Answer, Change, Report, Status
from bot.ports import FeedState
from bot.render import feed_line
from bot.verification import Verification

MAX_EMBEDS = 10  # per message
EMBEDS_TOTAL = 5900  # Discord allows 6000 characters across a message's embeds
TITLE_LIMIT = 256
TEXT_LIMIT = 2000  # message content
SOURCES_BUTTON_ID = "isofficial:sources"

COLOUR: dict[Status, discord.Colour] = {
    Status.OFFICIAL: discord.Colour.green(),
    Status.AFFILIATED: discord.Colour.teal(),
    Status.UNOFFICIAL: discord.Colour.orange(),
    Status.PARODY: discord.Colour.purple(),
    Status.IMPERSONATOR: discord.Colour.red(),
    Status.COMPROMISED: discord.Colour.dark_red(),
    Status.DEFUNCT: discord.Colour.dark_grey(),
    Status.UNKNOWN: discord.Colour.light_grey(),
}
LOOKALIKE_COLOUR = discord.Colour.red()


@dataclass(frozen=True)
class Reply:
    """One answer to an interaction: a first message and, when it is long, further text pieces."""

    content: str | None = None
    embeds: Sequence[discord.Embed] = ()
    with_sources_button: bool = False
    ephemeral: bool = False
    more: Sequence[str] = field(default_factory=tuple)


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def colour(answer: Answer) -> discord.Colour:
    flagged = answer.strong_lookalikes or answer.flags  # a weak resemblance alone: no red
    return LOOKALIKE_COLOUR if flagged else COLOUR[answer.status]


def answer_embed(answer: Answer, budget: int) -> discord.Embed:
    """What a group sees (verdict, why, warnings, how sure); the footer names the account
    exactly, so the Sources button can find it again from the message alone."""
    footer = str(answer.ref)
    title = fit(escape_markdown(render.headline(answer)), TITLE_LIMIT)
    lines = map(escape_markdown, render.details(answer))
    description = fit("\n".join(lines), max(budget - len(title) - len(footer), 20))
    embed = discord.Embed(title=title, description=description, colour=colour(answer))
    return embed.set_footer(text=footer)


def check_reply(answers: Sequence[Answer]) -> Reply:
    shown = answers[:MAX_EMBEDS]
    budget = EMBEDS_TOTAL // max(len(shown), 1)
    notes = []
    if len(answers) > len(shown):
        notes.append(_("showing {shown} of {count} accounts").format(shown=len(shown),
                                                                    count=len(answers)))
    if more := render.unanswered_line(answers):
        notes.append(more)
    content = escape_markdown("; ".join(notes)) if notes else None
    return Reply(content, [answer_embed(a, budget) for a in shown], with_sources_button=True)


def refs_in(message: discord.Message) -> list[str]:
    """The accounts a bot answer was about, read back from its embed footers."""
    return [embed.footer.text for embed in message.embeds if embed.footer.text]


def chunks(text: str) -> list[str]:
    return render.split_message(escape_markdown(text), TEXT_LIMIT)


def text_reply(text: str, *, ephemeral: bool) -> Reply:
    first, *rest = chunks(text)
    return Reply(first, ephemeral=ephemeral, more=rest)


def sources_reply(answers: Sequence[Answer]) -> Reply:
    return text_reply(render.full_text(answers), ephemeral=True)


def history_reply(
    ref: AccountRef, changes: Sequence[Change], verifications: Sequence[Verification] = ()
) -> Reply:
    return text_reply(render.history_text(ref, changes, verifications), ephemeral=False)


def report_reply(report: Report) -> Reply:
    return Reply(fit(escape_markdown(render.report_queued(report)), TEXT_LIMIT), ephemeral=True)


def reports_reply(reports: Sequence[Report]) -> Reply:
    text = "\n".join(map(render.report_text, reports)) or _("No open reports.")
    return text_reply(text, ephemeral=True)


def refusal(message: str) -> Reply:
    """A one-line error or refusal: only the asker sees it."""
    return Reply(fit(escape_markdown(message), TEXT_LIMIT), ephemeral=True)


def feeds_reply(feeds: Sequence[FeedState]) -> Reply:
    if not feeds:
        return Reply(_("No feeds yet: add one with /feeds add"), ephemeral=True)
    return text_reply("\n".join(feed_line(feed) for feed in feeds), ephemeral=True)


def feed_added_reply(feed: FeedState) -> Reply:
    text = _("Added {feed}").format(feed=feed_line(feed)) + "; " + _(
        "Its items are read at the next refresh.")
    return Reply(fit(escape_markdown(text), TEXT_LIMIT), ephemeral=True)
