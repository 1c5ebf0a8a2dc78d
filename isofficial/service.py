"""`isofficial run`: every configured part in one process, stopped cleanly by SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from bot.core import Core
from bot.model import IsOfficialError
from isofficial.settings import Settings

log = logging.getLogger(__name__)


def _parts(core: Core, settings: Settings, stop: asyncio.Event) -> dict[str, Coroutine[Any, Any, None]]:
    """The coroutines to run, by name: adapters whose token is set (imported only then)."""
    parts: dict[str, Coroutine[Any, Any, None]] = {}
    if settings.telegram_token:
        from adapters.telegram.run import run_telegram

        parts["telegram"] = run_telegram(core, settings, stop)
    if settings.discord_token:
        from adapters.discord.run import run_discord

        parts["discord"] = run_discord(core, settings, stop)
    return parts


async def serve(core: Core, settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    parts = _parts(core, settings, stop)
    if not parts:
        raise IsOfficialError(
            "nothing to run: set ISOFFICIAL_TELEGRAM_TOKEN and/or ISOFFICIAL_DISCORD_TOKEN"
        )
    tasks = [asyncio.create_task(coro, name=name) for name, coro in parts.items()]
    log.warning("running: %s", ", ".join(parts))
    await asyncio.wait([*tasks, asyncio.create_task(stop.wait())],
                                 return_when=asyncio.FIRST_COMPLETED)
    stop.set()  # one part ending (or failing) stops the others
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)
                and not isinstance(r, asyncio.CancelledError)]
    for failure in failures:
        log.error("a part stopped with an error: %r", failure)
    return 1 if failures else 0
