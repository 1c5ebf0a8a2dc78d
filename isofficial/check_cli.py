"""`isofficial check`: queries from the arguments or stdin, answers on stdout in their order.

Answers to queries read from stdin go out as soon as no more input is waiting (a script that
writes a query and waits reads its answer at once), and in batches of at most FLUSH_EVERY
lines while more are waiting: one write per batch, not a write and a wake-up of the reader per
line, however PYTHONUNBUFFERED is set.
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from bot import render
from bot.model import Asker, IsOfficialError

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger("isofficial")

# One query read: its text, why the line cannot be read (it is answered as an error), and
# whether no more input has arrived after it (the answers so far are flushed before waiting).
Query = tuple[str, str | None, bool]
_SURROGATE = re.compile("[\ud800-\udfff]")
FLUSH_EVERY = 64  # answers written at once, at most, while more queries are waiting
_JSON = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps makes one per call


def _lines(queries: Sequence[str], stdin: BinaryIO) -> Iterator[Query]:
    """Each query, or each non-blank line of stdin read as bytes: a line that is not UTF-8 is
    one error, and the lines after it are still read."""
    if queries:
        yield from ((_shown(query), None, False) for query in queries)
        return
    for number, (raw, drained) in enumerate(_stdin_lines(stdin), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            unreadable = f"line {number} is not UTF-8 text"
            yield raw.decode("utf-8", "replace").strip(), unreadable, drained
            continue
        if line or drained:
            yield line.removeprefix("\ufeff"), None, drained


def _stdin_lines(stdin: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """The lines of stdin as they arrive, each with whether nothing more has arrived yet: a
    script that writes a query and waits gets its answer at once, and one that pipes thousands
    is not answered with a write (and a wake-up of its reader) per line."""
    try:
        fd = stdin.fileno()
    except (OSError, ValueError):  # not a file (a test's buffer): every line read already
        yield from ((raw, False) for raw in stdin)
        return
    pending = b""
    while chunk := os.read(fd, 1 << 16):
        *lines, pending = (pending + chunk).split(b"\n")
        for at, raw in enumerate(lines):
            yield raw, at == len(lines) - 1 and not pending and not _readable(fd)
    if pending:
        yield pending, True


def _readable(fd: int) -> bool:
    """Whether reading fd would not wait (a file always; a pipe or terminal with data). False
    where select cannot tell (pipes on Windows): every answer is then written as it comes."""
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _shown(text: str) -> str:
    """text printable as UTF-8: an argument that was not UTF-8 arrives with lone surrogates."""
    return _SURROGATE.sub("\ufffd", text)


async def _check_one(core: Core, asker: Asker, query: str, unreadable: str | None,
                     as_json: bool, out: list[str]) -> int:
    """The answers to one query, appended to out; 1 if it named no account."""
    try:
        if unreadable:
            raise IsOfficialError(unreadable)
        answers = await core.check(query, asker)
    except Exception as error:  # one bad query costs its own answer, never the batch
        out.append(_check_error(query, error, as_json))
        return 1
    if as_json:
        out.extend(_JSON(render.answer_json(answer)) for answer in answers)
        if more := render.unanswered_line(answers):
            print(f"{query[:80]}: {more}", file=sys.stderr)
    else:
        out.append(render.full_text(answers) + "\n")
    return 0


def _write(lines: list[str]) -> None:
    """Write the lines to stdout at once (one write, however PYTHONUNBUFFERED is set), flushed."""
    if lines:
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
        lines.clear()


def _check_error(query: str, error: Exception, as_json: bool) -> str:
    if isinstance(error, IsOfficialError):
        reason = str(error)
    else:  # a bug: the query still gets its line, the details go to the log
        log.error("check failed on %r", query[:200], exc_info=error)
        reason = f"internal error ({type(error).__name__}): please report this query"
    if as_json:
        return _JSON(render.error_json(query, reason))
    return f"{query[:80]}: {reason}"


async def check_command(core: Core, asker: Asker, queries: Sequence[str], as_json: bool) -> int:
    """Answer each query (stdin's lines when none is given); 1 if any named no account."""
    status = 0
    waiting: list[str] = []  # answers not written yet
    try:
        for query, unreadable, drained in _lines(queries, sys.stdin.buffer):
            if query or unreadable:
                status |= await _check_one(core, asker, query, unreadable, as_json, waiting)
            if drained or len(waiting) >= FLUSH_EVERY:  # before waiting for more, now and then
                _write(waiting)
    finally:  # stdin failing (or an interrupt) loses no answer already made
        _write(waiting)
    return status

