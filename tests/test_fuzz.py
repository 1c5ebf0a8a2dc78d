"""A CI-sized fuzz run of every text path on SQLite and PostgreSQL (benchmarks/fuzz.py runs long).

Check, every console/chat command as a moderator and as a stranger, every import format, the
command line's batch (arguments and raw stdin bytes), and the backup round trip: whatever the bot
accepted, export then import gives back exactly.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from fuzzing import (
    MODERATOR,
    STRANGER,
    check_answers,
    command_lines,
    console_replies,
    import_accounts_for_every_row,
    import_files,
    soup,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import Core
from bot.model import OPERATOR, AccountRef, IsOfficialError, Status
from isofficial import cli
from knowledge.exporter import export_rows, write_csv, write_json
from knowledge.importer import import_rows, read_rows
from knowledge.registry import SqlRegistry, open_registry

CI = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def core(registry: SqlRegistry) -> Core:
    return await Core.start(registry)


@CI
@given(text=soup)
async def test_check_answers_or_refuses_in_one_line(core: Core, text: str) -> None:
    await check_answers(core, text)


@CI
@given(line=command_lines(), moderator=st.booleans())
async def test_every_command_replies_in_words(core: Core, line: str, moderator: bool) -> None:
    await console_replies(core, line, MODERATOR if moderator else STRANGER)


@CI
@given(file=import_files())
async def test_every_import_row_is_accounted_for(
    registry: SqlRegistry, file: tuple[str, str]
) -> None:
    await import_accounts_for_every_row(registry, *file)


@settings(CI, max_examples=25)
@given(
    handle=st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True),
    entity=soup,
    note=soup,
    url=st.one_of(st.none(), soup.map(lambda tail: "https://example.org/" + tail)),
    fmt=st.sampled_from(["csv", "json"]),
)
async def test_export_then_import_gives_back_whatever_the_bot_accepted(
    core: Core, tmp_path_factory: pytest.TempPathFactory, handle: str, entity: str,
    note: str, url: str | None, fmt: str,
) -> None:
    try:
        await core.set_verdict(f"x:{handle}", Status.IMPERSONATOR, OPERATOR, entity, note, url)
    except IsOfficialError:
        return  # refused at the edge: nothing to restore
    out = io.StringIO()
    await (write_csv if fmt == "csv" else write_json)(export_rows(core.registry), out)
    path = tmp_path_factory.mktemp("copy") / "copy.db"
    copy = await open_registry(f"sqlite+aiosqlite:///{path}")
    try:
        result = await import_rows(copy, read_rows(io.StringIO(out.getvalue()), fmt), by="copy")
        assert result.problems == []
        assert [r async for r in export_rows(copy)] == [r async for r in export_rows(core.registry)]
        ref = AccountRef("x", handle.casefold())
        mine, theirs = (await core.registry.find([ref]))[ref], (await copy.find([ref]))[ref]
        assert (mine.entity, mine.note, mine.evidence) == (theirs.entity, theirs.note,
                                                           theirs.evidence)
    finally:
        await copy.close()


@settings(CI, max_examples=4)
@given(queries=st.lists(soup, min_size=1, max_size=25), raw=st.binary(max_size=300))
def test_the_command_line_batch_answers_every_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str], queries: list[str], raw: bytes,
) -> None:
    home = tmp_path_factory.mktemp("cli")
    monkeypatch.setenv("ISOFFICIAL_DATABASE_URL", f"sqlite+aiosqlite:///{home / 'r.db'}")
    lines = [q for q in (q.strip() for q in queries) if q and "\n" not in q and "\r" not in q]
    stdin = b"\n".join([*(q.encode("utf-8", "surrogatepass") for q in lines), raw])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    capsys.readouterr()
    assert cli.main(["check", "--json"]) in (0, 1)
    out = capsys.readouterr().out
    answered = [json.loads(line) for line in out.split("\n") if line]  # each valid JSON
    out.encode("utf-8")  # and valid UTF-8
    expected = sum(1 for line in stdin.split(b"\n") if line.strip())
    assert len({(a["query"], id(a)) for a in answered}) >= expected
    for entry in answered:
        assert "error" not in entry or "internal error" not in str(entry["error"])


def test_the_fuzz_script_runs(tmp_path: Path) -> None:
    """benchmarks/fuzz.py, a few inputs per path: it keeps working for the long runs."""
    from benchmarks import fuzz

    table = fuzz.main(["--inputs", "5", "--sqlite-only", "--dir", str(tmp_path)])
    assert "0 crashes, 0 internal errors or unanswered" in table
