"""`isofficial verify REF [--entity NAME] [--json]`, and the re-verification `run` schedules."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from bot.core import Core
from bot.model import Asker
from bot.verify_text import outcome_text, suggested_json, verification_json

log = logging.getLogger(__name__)

ROUND_LIMIT = 200  # accounts re-verified per round; the rest wait for the next one


async def verify_command(core: Core, args: argparse.Namespace, by: Asker) -> int:
    """Print the outcome; exit 0 when an official site links to the account, 1 otherwise."""
    text = f"{args.ref} {args.entity}" if args.entity else args.ref
    outcome = await core.verify(text, by)
    if args.json:
        row = {
            "platform": outcome.verification.ref.platform,
            "handle": outcome.verification.ref.handle,
            "verification": verification_json(outcome.verification),
            "suggested": suggested_json(outcome.suggested),
            "lost": outcome.lost,
        }
        print(json.dumps(row, ensure_ascii=False), flush=True)
    else:
        print(outcome_text(outcome), flush=True)
    return 0 if outcome.verification.verified else 1


async def run_reverification(core: Core, hours: float, stop: asyncio.Event) -> None:
    """Every round, verify again each account last verified more than `hours` ago; a lost link
    becomes a report for moderators (the verdict stays). hours 0: never."""
    if hours <= 0:
        await stop.wait()
        return
    pause = min(hours * 3600 / 4, 3600.0)  # rounds often enough that nothing waits long
    while not stop.is_set():
        try:
            due = datetime.now(UTC) - timedelta(hours=hours)
            outcomes = await core.reverify(due, ROUND_LIMIT)
            lost = sum(outcome.lost for outcome in outcomes)
            if outcomes:
                log.info("re-verified %d accounts, %d lost their link", len(outcomes), lost)
        except Exception:  # one bad round is logged; the next one tries again
            log.exception("re-verification round failed")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
