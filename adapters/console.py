"""`isofficial chat`: talk to the bot in a terminal, as the operator or as a chat user."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot import render
from bot.core import Core
from bot.model import Asker, IsOfficialError
from bot.verify_text import outcome_text

HELP = """commands:
  /check <query>      status, entity, lookalike warning, how sure (plain text works too)
  /sources <query>    every source link with its date
  /verdict <account> <status> [entity] [| note] [source url]   (moderators)
  /history <account>  who changed what, when, why
  /undo <account>     revert the latest change (moderators)
  /report <account> <status> [note]   suggest a verdict for moderators
  /reports            open suggestions (moderators)
  /verify <account> [entity]   live check that the entity's official site links to it
  /dismiss <report id> [reason]   close a report without a verdict (moderators)
  /help, /quit"""

log = logging.getLogger(__name__)
Handler = Callable[[Core, str, Asker], Awaitable[str]]


async def _check(core: Core, args: str, asker: Asker) -> str:
    return render.full_text(await core.check(args, asker))


async def _sources(core: Core, args: str, asker: Asker) -> str:
    return render.full_text(await core.sources(args, asker))


async def _verdict(core: Core, args: str, asker: Asker) -> str:
    return "saved:\n" + render.full_text([await core.verdict(args, asker)])


async def _history(core: Core, args: str, asker: Asker) -> str:
    ref, changes = await core.history(args)
    return render.history_text(ref, changes, await core.verifications(ref))


async def _verify(core: Core, args: str, asker: Asker) -> str:
    return outcome_text(await core.verify(args, asker))


async def _undo(core: Core, args: str, asker: Asker) -> str:
    return "undone:\n" + render.full_text([await core.undo(args, asker)])


async def _report(core: Core, args: str, asker: Asker) -> str:
    return render.report_queued(await core.report(args, asker))


async def _reports(core: Core, args: str, asker: Asker) -> str:
    reports = await core.open_reports(asker)
    return "\n".join(map(render.report_text, reports)) or "no open reports"


async def _dismiss(core: Core, args: str, asker: Asker) -> str:
    return "dismissed " + render.report_text(await core.dismiss(args, asker))


async def _help(core: Core, args: str, asker: Asker) -> str:
    return HELP


# Every console command, in one visible place.
COMMANDS: dict[str, Handler] = {
    "check": _check,
    "sources": _sources,
    "verdict": _verdict,
    "history": _history,
    "undo": _undo,
    "report": _report,
    "reports": _reports,
    "verify": _verify,
    "dismiss": _dismiss,
    "help": _help,
}


async def reply(core: Core, line: str, asker: Asker) -> str:
    """The bot's reply to one line typed in the console."""
    line = line.strip()
    name, args = "check", line
    if line.startswith("/"):
        word, _, args = line[1:].partition(" ")
        name = word.lower()
    handler = COMMANDS.get(name)
    if handler is None:
        return f"unknown command /{name[:30]}: try /help"
    try:
        return await handler(core, args.strip(), asker)
    except IsOfficialError as error:
        return f"sorry: {error}"
    except Exception:  # a bug or a broken database: keep the session, log the details
        log.exception("console command failed: %s", line[:80])
        return "sorry, something went wrong on my side (details in the log)"


async def chat(
    core: Core, asker: Asker, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    interactive = stdin.isatty()
    if interactive:
        print(f"isofficial chat as {asker.key} — /help for commands, /quit to leave", file=out)
    while True:
        if interactive:
            print("> ", end="", file=out, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip() in {"/quit", "/exit"}:
            return
        if line.strip():
            print(await reply(core, line, asker), file=out, flush=True)
