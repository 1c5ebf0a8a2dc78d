"""Hypothesis strategies for every text path, and the promises each path keeps on any input.

Shared by tests/test_fuzz.py (a CI-sized run) and benchmarks/fuzz.py (a long run). The promises:
no exception but the one-line IsOfficialError (BadImportFile for a whole file), no internal
error in a reply, every query and every import row answered.
"""

from __future__ import annotations

import csv
import io
import json

import yaml
from hypothesis import strategies as st

from adapters.console import reply
from bot.core import Core
from bot.model import Asker, IsOfficialError, Status
from knowledge.formats import BadImportFile
from knowledge.importer import COLUMNS, import_rows, read_rows
from knowledge.registry import SqlRegistry

BROKEN = "something went wrong"
MODERATOR = Asker("local", "fuzzer", name="fuzzer")  # the console's operator
STRANGER = Asker("telegram", "666", "-100", is_private=False, name="Mallory\x00")

# Pieces attackers and unlucky users paste: link syntax, platform words, odd characters.
ATOMS = [
    "https://", "http://", "tg://resolve?domain=", "x.com/", "twitter.com/", "t.me/",
    "youtube.com/@", "instagram.com/", "facebook.com/profile.php?id=", "bsky.app/profile/",
    "mastodon.social/@", "reddit.com/r/", "discord.gg/", "website:", "x:", "telegram:", "any:",
    "mastodon:", "@", "@@", "[", "]", "[::1]", ":", "\\", "/", "?", "#", "%", "%00", "%zz",
    "xn--", "xn--80ak6aa92e.com", "。", "．", "\u200b", "\u202e", "\x00", "\x01", "\r", "\n",
    "\t", " ", "|", "=", "+", "-", "'", '"', "<", ">", "&", "uriminzok", "nasa", "NASA",
    "аррӏе", "a" * 300, "b" * 2100, "official", "impersonator", "parody", "unknown",
    "https://evil.com\\@x.com/nasa", "https://x。com/nasa", "website:]:", "website:[x]/",
    "\ud800", "\udcff", "\ufffe", "\U0010ffff",
]
_chars = st.characters(codec=None, exclude_categories=())  # every code point, surrogates too
pieces = st.one_of(st.sampled_from(ATOMS), st.text(_chars, max_size=12))
soup = st.lists(pieces, max_size=12).map("".join)
COMMANDS = ["check", "sources", "verdict", "history", "undo", "report", "reports", "help", "x"]
STATUSES = [s.value for s in Status] + ["OFFICIAL", "nope", ""]


@st.composite
def command_lines(draw: st.DrawFn) -> str:
    """A console line: a command, an account, a status, then anything."""
    command = draw(st.sampled_from(COMMANDS))
    account, rest = draw(soup), draw(soup)
    status = draw(st.sampled_from(STATUSES))
    return f"/{command} {account} {status} {rest}"


@st.composite
def import_files(draw: st.DrawFn) -> tuple[str, str]:
    """(format, file text): rows of hostile cells in each format, or a file of junk."""
    fmt = draw(st.sampled_from(["csv", "json", "yaml"]))
    if draw(st.integers(0, 9)) == 0:
        return fmt, draw(soup)
    cell = st.one_of(soup, st.sampled_from(STATUSES), st.sampled_from(["x", "telegram", "web"]))
    row = st.fixed_dictionaries(
        {"platform": st.sampled_from(["x", "website", "telegram", "zz", ""]), "verdict": cell},
        optional={column: cell for column in COLUMNS if column not in ('platform', 'verdict')},
    )
    rows = draw(st.lists(row, max_size=8))
    if fmt == "json":
        return fmt, json.dumps(rows, ensure_ascii=draw(st.booleans()))
    if fmt == "yaml":
        try:
            return fmt, yaml.safe_dump(rows, allow_unicode=draw(st.booleans()))
        except yaml.YAMLError:
            return fmt, "- [junk"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return fmt, _storable(out.getvalue())


def _storable(text: str) -> str:
    """Text a file could hold (a lone surrogate cannot be written as UTF-8)."""
    return text.encode("utf-8", "replace").decode("utf-8")


# --- the promises ---------------------------------------------------------------------------------


async def check_answers(core: Core, text: str, asker: Asker = STRANGER) -> int:
    """A check answers or refuses in one line; returns the answers given."""
    try:
        answers = await core.check(text, asker)
    except IsOfficialError as error:
        assert "\n" not in str(error), error
        return 0
    assert answers, text
    return len(answers)


async def console_replies(core: Core, line: str, asker: Asker) -> None:
    """Every chat command, as the console (and each chat adapter) runs it: never an internal
    error, always some words."""
    answer = await reply(core, line, asker)
    assert answer.strip() and BROKEN not in answer, (line, answer)


async def import_accounts_for_every_row(registry: SqlRegistry, fmt: str, text: str) -> int:
    """Importing any file: refused whole in one line, or every row written, unchanged or a
    problem with its line. Returns the rows read."""
    try:
        rows = list(read_rows(io.StringIO(text), fmt))
    except BadImportFile as error:
        assert "\n" not in str(error), error
        return 0
    result = await import_rows(registry, rows, by="fuzz", skip_invalid=True)
    assert result.written + result.unchanged + result.skipped == len(rows), (result, rows)
    assert all("\n" not in problem.reason for problem in result.problems)
    return len(rows)
