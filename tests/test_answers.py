"""Answers that say what they know and what to do: who set a verdict and when (never a review that
did not happen), a next step for unknown accounts, and a word about accounts beyond the cap."""

from __future__ import annotations

from pathlib import Path

from fake_telegram import FakeTelegram
from test_telegram import Harness, bot, config_for, dm_of, fake, start_bot

from bot import render
from bot.core import MAX_ACCOUNTS_PER_QUERY, Core
from bot.model import OPERATOR, AccountRef, Asker, Correction, Status
from isofficial.bootstrap import load_starter_data, memory_core
from knowledge.registry import open_registry

__all__ = ["bot", "fake"]  # fixtures used by name
MONA = Asker("telegram", "42", name="@mona")


async def test_a_verdict_names_who_set_it_and_when() -> None:
    core = await memory_core(frozenset({"telegram:42"}))
    answer = await core.set_verdict("x:nasa", Status.OFFICIAL, MONA, "NASA")
    line = render.certainty_line(answer)
    assert answer.reviewed is not None
    assert line == f"how sure: registered without a source; verdict by @mona, " \
                   f"{answer.reviewed:%Y-%m-%d}"
    assert render.answer_json(answer)["set_by"] == "telegram:42 (@mona)"


async def test_starter_data_says_so_and_an_undo_restores_the_earlier_setter(
    tmp_path: Path,
) -> None:
    registry = await open_registry(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    try:
        await load_starter_data(registry)
        ref = AccountRef("x", "uriminzok")
        [record] = (await registry.find([ref])).values()
        assert record.set_by == "starter data"
        core = await Core.start(registry)
        [answer] = await core.check("https://twitter.com/uriminzok", OPERATOR)
        line = render.certainty_line(answer)
        assert "set from the starter data, " in line and "reviewed" not in line
        await registry.apply(Correction(ref, Status.PARODY, "DPRK"), by="telegram:42 (@mona)")
        assert (await registry.find([ref]))[ref].set_by == "telegram:42 (@mona)"
        await registry.undo(ref, by="telegram:1 (@mod)")
        assert (await registry.find([ref]))[ref].set_by == "starter data"
    finally:
        await registry.close()


async def test_an_unknown_account_gets_a_next_step_and_what_is_registered_near_it() -> None:
    core = await memory_core(seed=[Correction(AccountRef("tiktok", "acmebank_news"),
                                              Status.UNOFFICIAL, "Acme Bank")])
    [answer] = await core.check("tiktok:acmebank", OPERATOR)
    lines = render.details(answer)
    assert "registered nearby: tiktok:acmebank_news — unofficial, not run by Acme Bank" in lines
    assert lines[-1] == "know whose it is? /report tiktok:acmebank <status> [note] tells the " \
                        "moderators"
    [known] = await core.check("tiktok:acmebank_news", OPERATOR)
    assert not any("/report" in line for line in render.details(known))


async def test_accounts_beyond_the_cap_are_counted_in_the_answer(bot: Harness) -> None:
    names = " ".join(f"x:someone{n}" for n in range(MAX_ACCOUNTS_PER_QUERY + 2))
    reply = await bot.fake.ask(dm_of(bot, bot.ann), bot.ann, f"/check {names}")
    assert reply.text.count("❔ x:someone") == MAX_ACCOUNTS_PER_QUERY
    assert reply.text.rstrip().endswith("and 2 more accounts: ask /check with fewer")


async def test_the_telegram_answer_says_who_set_the_verdict(fake: FakeTelegram) -> None:
    async with start_bot(fake, config_for(fake)) as harness:
        await fake.ask(harness.group, harness.mod, "/verdict x:acme_help impersonator Acme | fake")
        reply = await fake.ask(harness.group, harness.ann, "/check x:acme_help")
        assert "verdict by @mod, " in reply.text and "reviewed" not in reply.text
