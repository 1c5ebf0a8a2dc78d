"""The moderation loop on Discord: the moderators' channel hears each new report (with Accept and
Dismiss buttons that keep working after a restart) and each verdict change; a reporter is told
the outcome by DM unless their DMs are closed."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord.utils import escape_markdown

from adapters.discord import render as out
from adapters.discord.commands import asker_of, context_of, respond
from bot import render
from bot.i18n import _
from bot.model import Answer, Report

log = logging.getLogger(__name__)


class ReportButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"isofficial:report:(?P<action>accept|dismiss):(?P<id>\d{1,12})"):
    """Accept (set the suggested verdict) or Dismiss a report; moderators only (the core)."""

    def __init__(self, action: str, report_id: int) -> None:
        accept = action == "accept"
        super().__init__(discord.ui.Button(
            label=_("Accept") if accept else _("Dismiss"),
            style=discord.ButtonStyle.success if accept else discord.ButtonStyle.secondary,
            custom_id=f"isofficial:report:{action}:{report_id}",
        ))
        self.action, self.report_id = action, report_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str]) -> ReportButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await respond(interaction, self._decide(interaction), ephemeral=True)

    async def _decide(self, interaction: discord.Interaction[Any]) -> out.Reply:
        core, asker = context_of(interaction).core, asker_of(interaction)
        if self.action == "accept":
            answer = await core.accept_report(self.report_id, asker)
            done = _("Accepted: {answer}").format(answer=render.headline(answer))
        else:
            await core.dismiss_report(self.report_id, asker, _("dismissed in the moderators' chat"))
            done = _("Dismissed report #{number}").format(number=self.report_id)
        return out.Reply(out.fit(escape_markdown(done), out.TEXT_LIMIT), ephemeral=True)


def report_view(report: Report) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    assert report.id is not None
    view.add_item(ReportButton("accept", report.id))
    view.add_item(ReportButton("dismiss", report.id))
    return view


class DiscordNotices:
    """bot.ports.ModerationNotices for Discord; channel_id None: no moderators' channel."""

    def __init__(self, client: discord.Client, channel_id: int | None) -> None:
        self.client, self.channel_id = client, channel_id

    async def report_filed(self, report: Report) -> None:
        await self._to_moderators(render.report_notice(report), report_view(report))

    async def report_closed(self, report: Report, verdict: Answer | None) -> None:
        if report.outcome is not None and verdict is None:  # a verdict announced itself
            await self._to_moderators(render.closed_notice(report))
        outcome = render.report_outcome(report, verdict)
        for key in report.reporter_keys:
            platform, _colon, user_id = key.partition(":")
            if platform == "discord" and user_id.isdigit():
                try:
                    dm = await self.client.create_dm(discord.Object(int(user_id)))
                    await dm.send(out.fit(escape_markdown(outcome), out.TEXT_LIMIT))
                except discord.HTTPException as error:  # DMs closed, or the user is gone
                    log.info("could not tell discord:%s: %s", user_id, error)

    async def verdict_changed(self, answer: Answer, by: str) -> None:
        await self._to_moderators(render.verdict_notice(answer, by))

    async def _to_moderators(self, text: str, view: discord.ui.View | None = None) -> None:
        if self.channel_id is None:
            return
        channel = self.client.get_partial_messageable(self.channel_id)
        try:
            await channel.send(out.fit(escape_markdown(text), out.TEXT_LIMIT),
                               view=view or discord.utils.MISSING)
        except discord.HTTPException as error:
            log.warning("could not post to the moderators' channel: %s", error)
