"""`/verify account [entity]`: the live two-way link check, on Discord."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from adapters.discord import render as out
from adapters.discord.commands import (
    ANYWHERE,
    IN_ANY_CONTEXT,
    account_autocomplete,
    asker_of,
    context_of,
    entity_autocomplete,
    respond,
)
from bot.i18n import N_
from bot.verify_text import outcome_text


@app_commands.command(
    name="verify", description=N_("Live check that the entity's official site links to an account")
)
@ANYWHERE
@IN_ANY_CONTEXT
@app_commands.describe(
    account=N_("platform:handle, @handle or profile link"),
    entity=N_("moderators: whose official sites to read (default: the registered entity)"),
)
@app_commands.autocomplete(account=account_autocomplete, entity=entity_autocomplete)
async def verify(
    interaction: discord.Interaction[Any], account: str, entity: str | None = None
) -> None:
    await respond(interaction, _verify(interaction, account, entity), ephemeral=False)


async def _verify(
    interaction: discord.Interaction[Any], account: str, entity: str | None
) -> out.Reply:
    text = f"{account} {entity}" if entity else account
    outcome = await context_of(interaction).core.verify(text, asker_of(interaction))
    return out.text_reply(outcome_text(outcome), ephemeral=False)
