"""Platform-neutral text: what every adapter builds its replies from."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot import render
from bot.model import AccountRef, Answer, Certainty, Evidence, Lookalike, Reason, Status

REF = AccountRef("x", "uriminzok")
DPRK = "Government of North Korea (DPRK)"
OLD = Evidence("https://a.example/1", "Old report", "A", date(2010, 8, 16))
NEW = Evidence("https://b.example/2", "", None, date(2010, 8, 24))


def answer(**changes: object) -> Answer:
    base = Answer("q", REF, Status.UNOFFICIAL, DPRK, Certainty.SOURCED, evidence=(OLD, NEW))
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_reads_as_a_sentence_with_its_badge(status: Status) -> None:
    line = render.headline(answer(status=status))
    assert line.startswith(render.BADGE[status]) and "x:uriminzok" in line
    assert (DPRK in line) is (status is not Status.UNKNOWN)


def test_a_lookalike_leads_with_the_red_flag_and_names_its_target() -> None:
    lookalike = Lookalike(AccountRef("x", "nasa"), "NASA", Reason.AFFIX, 0.9)
    lines = render.short_lines(answer(status=Status.UNKNOWN, lookalike_of=(lookalike,)))
    assert lines[0].startswith(render.LOOKALIKE_BADGE)
    assert "looks like x:nasa (NASA): affix — the name with something added" in lines[1]
    assert "https://x.com/nasa" in lines[1] and "score" not in lines[1]


def test_group_answer_gives_the_gist_and_dm_answer_the_rest_with_sources() -> None:
    note = "Fan-run, not the government (reported 2010-08-24). Blocked in South Korea."
    short = render.short_text([answer(note=note)])
    assert "Fan-run, not the government (reported 2010-08-24)." in short
    assert "Blocked" not in short and "https://" not in short
    assert "sourced (2 sources, newest 2010-08-24)" in short
    full = render.full_text([answer(note=note)])
    assert full.count("Fan-run") == 1 and "Blocked in South Korea." in full
    assert "2010-08-16 · Old report — A · https://a.example/1" in full
    assert "2010-08-24 · https://b.example/2\n" in full + "\n"  # no title: the url, once


def test_gist_cuts_a_long_first_sentence() -> None:
    assert render.gist("word " * 100).endswith("…")
    assert len(render.gist("word " * 100)) == 200


@pytest.mark.parametrize("limit", [10, 50, 4096])
def test_split_message_keeps_every_character_under_the_limit(limit: int) -> None:
    text = "\n".join(f"line {n} " + "x" * (n * 7 % 90) for n in range(300)) + "\n" + "y" * 9000
    pieces = render.split_message(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_answer_json_has_the_interface_fields() -> None:
    row = render.answer_json(answer())
    assert row["evidence"][1] == {"url": NEW.url, "title": "", "published": "2010-08-24"}
    assert {
        "query",
        "platform",
        "handle",
        "status",
        "entity",
        "lookalike_of",
        "evidence",
        "mentions",
        "reviewed_at",
    } <= set(row)
