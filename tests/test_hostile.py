"""Hostile input, one test per finding of issue 10 (the health findings are in test_health.py).

Real parts throughout: the installed command line in subprocesses, SQLite and PostgreSQL, the
real python-telegram-bot stack against the fake Bot API server.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram, running_fake
from test_cli import EXE, run
from test_cli import env as env  # the fixture
from test_telegram import config_for, start_bot

from bot.core import Core
from bot.handles import find_accounts, parse_ref
from bot.limits import RefusedInput
from bot.model import OPERATOR, AccountRef, Asker, Correction, Evidence, IsOfficialError, Status
from knowledge.exporter import export_rows, write_csv
from knowledge.formats import BadImportFile, escape_formula, unescape_formula
from knowledge.importer import COLUMNS, import_rows, read_rows
from knowledge.registry import SqlRegistry, open_registry

DPRK = "Government of North Korea (DPRK)"
USER = Asker("telegram", "77", "-100", is_private=False, name="Eve")


def lines_of(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
async def core(registry: SqlRegistry) -> AsyncIterator[Core]:
    yield await Core.start(registry)


# 1. One query crashes a whole batch ------------------------------------------------------------


def test_1_a_malformed_link_costs_its_own_line_only(env: dict[str, str]) -> None:
    done = run(env, "check", "--json", "website:]:", "x:uriminzok")
    bad, good = lines_of(done.stdout)
    assert bad["query"] == "website:]:" and "no valid link" in str(bad["error"])
    assert (good["handle"], good["status"]) == ("uriminzok", "unofficial")
    assert done.returncode == 1 and done.stderr == ""

    queries = ["x:uriminzok", "website:]:", "https://[x]/", "x:" + "a" * 400, "@uriminzok"]
    done = run(env, "check", "--json", stdin="\n".join(queries * 5) + "\n")
    answered = lines_of(done.stdout)
    assert [line["query"] for line in answered if "error" in line] == queries[1:4] * 5
    assert sum(line.get("handle") == "uriminzok" for line in answered) >= 10

    history = run(env, "history", "website:[x]/")
    assert history.returncode == 1
    assert history.stderr.strip() == "isofficial: '[x]/' is no valid link"


# 3. CSV export runs formulas in spreadsheets ----------------------------------------------------


FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "'=already"]


def test_3_formula_escapes_are_exact_and_only_where_needed() -> None:
    for cell in [*FORMULAS, "\tx", "\rx", "''-x", "plain", "", "'quoted", "a=b"]:
        escaped = escape_formula(cell)
        assert unescape_formula(escaped) == cell
        assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert escape_formula("plain") == "plain" and escape_formula("'quoted") == "'quoted"


async def test_3_export_cells_never_start_a_formula_and_import_restores_them(
    registry: SqlRegistry, tmp_path: Path
) -> None:
    for number, text in enumerate(FORMULAS):
        ref = AccountRef("x", f"formula{number}")
        await registry.apply(Correction(ref, Status.IMPERSONATOR, text, note=text), by="m")
    out = io.StringIO()
    await write_csv(export_rows(registry), out)
    cells = [cell for row in csv.reader(io.StringIO(out.getvalue())) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    copy = await open_registry(f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}")
    result = await import_rows(copy, read_rows(io.StringIO(out.getvalue()), "csv"), by="copy")
    assert result.problems == []
    assert [r async for r in export_rows(copy)] == [r async for r in export_rows(registry)]
    assert {r["entity"] async for r in export_rows(copy)} == set(FORMULAS)
    await copy.close()


# 4. Backup does not restore what the bot accepted -----------------------------------------------


async def test_4_line_breaks_round_trip_and_a_bare_cr_is_quoted(
    core: Core, registry: SqlRegistry, tmp_path: Path
) -> None:
    await core.set_verdict("x:crnote", Status.PARODY, OPERATOR, "A B", "one\rtwo\r\nthree")
    [record] = (await registry.find([AccountRef("x", "crnote")])).values()
    assert record.note == "one\ntwo\nthree"  # every line break is one, as a backup keeps it
    rows = [{"entity": "e", "note": "bare\rcr"}, {"entity": "f", "note": "x"}]

    async def two() -> AsyncIterator[dict[str, str]]:
        for row in rows:
            yield {column: row.get(column, "") for column in COLUMNS}

    out = io.StringIO()
    await write_csv(two(), out)  # data stored before the limits existed is still exported whole
    assert '"bare\rcr"' in out.getvalue()
    note = COLUMNS.index("note")
    assert [row[note] for row in csv.reader(io.StringIO(out.getvalue()))][1:] == ["bare\rcr", "x"]


@pytest.mark.parametrize(
    ("entity", "url", "message"),
    [
        ("E" * 301, None, "the entity is longer than 300 characters"),
        ("E", "https://example.org/" + "a" * 2000, "the source link is longer than 2,000"),
        ("E\x00vil", None, "the entity holds a control character (U+0000)"),
    ],
)
async def test_4_7_verdict_refuses_what_import_refuses_on_both_databases(
    core: Core, registry: SqlRegistry, entity: str, url: str | None, message: str
) -> None:
    with pytest.raises(RefusedInput, match=re.escape(message)):
        await core.set_verdict("x:toolong", Status.IMPERSONATOR, OPERATOR, entity, None, url)
    row = {"entity": entity, "platform": "x", "handle": "toolong", "verdict": "impersonator",
           "source_url": url or ""}
    result = await import_rows(registry, [(2, row)], by="t")
    assert result.written == 0 and len(result.problems) == 1
    assert await registry.count() == 0


# 5. YAML and JSON import change values silently -------------------------------------------------


def rows(text: str, fmt: str) -> list[tuple[int, dict[str, str]]]:
    return list(read_rows(io.StringIO(text), fmt))


def test_5_yaml_scalars_stay_as_written() -> None:
    text = (
        "- {platform: x, handle: no, verdict: parody, entity: on}\n"
        "- {platform: telegram, handle: '0123', verdict: parody, note: 0123}\n"
        "- {platform: x, handle: yes, verdict: parody, note: ~, source_published: 2010-08-24}\n"
    )
    [(_, first), (_, second), (_, third)] = rows(text, "yaml")
    assert (first["handle"], first["entity"]) == ("no", "on")
    assert second["note"] == "0123"
    assert (third["note"], third["source_published"]) == ("", "2010-08-24")


def test_5_duplicate_and_nested_values_are_refused_with_their_line() -> None:
    text = (
        "- platform: x\n  handle: a\n  handle: b\n  verdict: parody\n"
        "- platform: x\n  handle: c\n  verdict: parody\n  note: [1, 2]\n"
        "- platform: x\n  handle: d\n  verdict: parody\n"
    )
    [(_, dup), (_, nested), (_, fine)] = rows(text, "yaml")
    assert dup["__error__"] == "line 3: 'handle' is given twice in this row"
    assert nested["__error__"] == "line 8: 'note' holds a list: give text"
    assert fine["handle"] == "d"
    json_text = json.dumps([{"platform": "x"}, {"note": {"a": 1}}, {"note": True}])
    json_text = json_text[:-1] + ', {"handle": "a", "handle": "b"}, {"note": 1e3}]'
    read = [row for _, row in rows(json_text, "json")]
    assert [row.get("__error__", "")[:40] for row in read[1:4]] == [
        "'note' holds an object: give text",
        "'note' holds true (write it in quotes if",
        "'handle' is given twice in this row",
    ]
    assert read[4]["note"] == "1e3"


async def test_5_a_10_mb_note_is_refused(registry: SqlRegistry) -> None:
    row = {"platform": "x", "handle": "big", "verdict": "parody", "note": "n" * 10_000_000}
    result = await import_rows(registry, [(1, row)], by="t")
    assert [p.reason for p in result.problems] == [
        "the note is longer than 4,000 characters (10,000,000)"
    ]


# 6. A 416-byte YAML "billion laughs" ------------------------------------------------------------

BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{name}: &{name} [{','.join(['*' + before] * 9)}]"
        for before, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)


def test_6_the_yaml_bomb_is_refused_at_once_in_little_memory() -> None:
    assert len(BOMB) < 450  # and 10**9 strings if expanded
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(BadImportFile, match="line 1: YAML anchors and aliases"):
        rows(BOMB, "yaml")
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 1.0 and peak < 100 * 2**20


# 7. PostgreSQL only: NUL bytes and over-long values ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        "x:uriminzok impersonator fake\x00note",
        "x:" + "a" * 400 + " parody",
        "x:ok parody " + "n" * 5000,
    ],
)
async def test_7_reports_give_one_line_on_both_databases(core: Core, args: str) -> None:
    with pytest.raises(IsOfficialError) as refused:
        await core.report(args, USER)
    assert "\n" not in str(refused.value) and "INSERT" not in str(refused.value)
    assert await core.registry.open_reports() == []


@pytest.mark.postgres
def test_7_the_command_line_on_postgres_names_the_field_not_the_sql(
    env: dict[str, str], postgres_url: str
) -> None:
    env = env | {"ISOFFICIAL_DATABASE_URL": postgres_url}
    done = run(env, "verdict", "x:nul", "parody", "--note", "a\x01b", "--entity", "E")
    assert done.returncode == 1
    assert done.stderr == "isofficial: the note holds a control character (U+0001): remove it\n"


# 8. /autocheck sent by a channel -----------------------------------------------------------------


async def test_8_autocheck_sent_by_a_channel_is_refused_in_words() -> None:
    async with running_fake(FakeTelegram()) as fake, start_bot(fake, config_for(fake)) as bot:
        channel = {"id": -100777, "type": "channel", "title": "A channel"}
        channel_bot = {"id": 136817688, "is_bot": True, "first_name": "Channel",
                       "username": "Channel_Bot"}
        await fake.send(bot.group, channel_bot, "/autocheck on", sender_chat=channel)
        reply = await fake.expect("sendMessage", chat_id=bot.group["id"])
        assert "Only this chat's administrators" in reply.text
        assert not await bot.core.autocheck_enabled("telegram", str(bot.group["id"]))


# 9. URLs read differently from a browser --------------------------------------------------------


async def test_9_every_command_reads_a_link_as_a_browser_does(core: Core) -> None:
    link = "https://evil.com\\@x.com/nasa"
    [checked] = await core.check(link, USER)
    assert parse_ref(link).ref == checked.ref
    assert checked.ref.handle.endswith("@evil.com")  # a page on evil.com, what a browser opens
    assert checked.ref.platform != "x"
    report = await core.report(f"{link} impersonator", USER)
    answer = await core.set_verdict(link, Status.IMPERSONATOR, OPERATOR, "Evil")
    ref, history = await core.history(link)
    assert report.ref == answer.ref == ref == checked.ref and len(history) == 1
    assert [a.ref for a in find_accounts("see https://x。com/nasa")] == [AccountRef("x", "nasa")]


# 10. Non-UTF-8 bytes on stdin --------------------------------------------------------------------


def test_10_bytes_that_are_not_utf8_are_answered_as_an_error_line(env: dict[str, str]) -> None:
    import subprocess

    batch = b"x:uriminzok\n\xff\xfe\x80 nasa\nfoo \xc3\x28\n@uriminzok\n"
    done = subprocess.run([EXE, "check", "--json"], input=batch, capture_output=True, env=env,
                          timeout=120, check=False)
    text = done.stdout.decode("utf-8")  # strict: the output is valid UTF-8
    answered = lines_of(text)
    assert [line.get("error") for line in answered if "error" in line] == [
        "line 2 is not UTF-8 text",
        "line 3 is not UTF-8 text",
    ]
    assert answered[0]["handle"] == "uriminzok" and answered[-1]["handle"] == "uriminzok"
    assert b"Traceback" not in done.stderr


async def test_limits_hold_on_a_direct_registry_write(registry: SqlRegistry) -> None:
    """The databases apply the limits themselves: a caller skipping the core is refused too."""
    proof = Evidence("https://example.org/\x00", "t")
    with pytest.raises(RefusedInput, match="source url holds a control character"):
        await registry.apply(Correction(AccountRef("x", "a"), Status.PARODY, evidence=proof), "m")
    await asyncio.sleep(0)
    assert await registry.count() == 0


async def test_feed_urls_with_control_characters_are_refused_on_both_databases(
    registry: SqlRegistry,
) -> None:
    from knowledge.feeds.store import SqlFeedCatalog

    feeds = SqlFeedCatalog(registry.engine)
    for url in ("https://example.org/\x00feed", "https://exa\x01mple.org/"):
        with pytest.raises(IsOfficialError, match="control characters"):
            await feeds.add_feed(url)
        with pytest.raises(IsOfficialError, match="no feed"):
            await feeds.remove_feed(url)
    assert await feeds.list_feeds() == []


@pytest.mark.parametrize("header", ['"a"b,platform,verdict\n', "\rplat\x18form:\r"])
def test_a_malformed_csv_header_is_refused_in_one_line(header: str) -> None:
    with pytest.raises(BadImportFile, match="line 1: not a valid CSV header"):
        rows(header + "x,parody\n", "csv")
