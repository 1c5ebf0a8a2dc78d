"""`isofficial run`: every configured part in one process, stopped cleanly by SIGINT/SIGTERM.

Besides the adapters: the ops server (/healthz, /metrics), the feeds' and sources' schedules
(each source synced when its `--every` period has passed) and, on PostgreSQL, the listener
that keeps this replica's lookalike index in step with changes made through other replicas.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.core import Core
from bot.health import Health
from bot.model import IsOfficialError
from isofficial import version
from isofficial.bootstrap import STARTER_BY
from isofficial.logs import configure_logging
from isofficial.ops import MeteredCore, adapter_failed, count_adapter_errors, run_ops
from isofficial.settings import Settings
from isofficial.verifying import run_reverification
from knowledge.database import default_database_url
from knowledge.feeds.service import run_feed_scheduler
from knowledge.notify import listen_for_changes
from knowledge.registry import SqlRegistry
from knowledge.sources.catalog import run_source_scheduler

log = logging.getLogger(__name__)


def _parts(
    core: Core, settings: Settings, stop: asyncio.Event, health: Health
) -> dict[str, Coroutine[Any, Any, None]]:
    """The coroutines to run, by name: adapters whose token is set (imported only then)."""
    parts: dict[str, Coroutine[Any, Any, None]] = {}
    if settings.telegram_token:
        from adapters.telegram.run import run_telegram

        parts["telegram"] = run_telegram(core, settings, stop, health)
    if settings.discord_token:
        from adapters.discord.run import run_discord

        parts["discord"] = run_discord(core, settings, stop, health=health)
    return parts


def _operations(
    core: Core, registry: SqlRegistry, settings: Settings, stop: asyncio.Event, health: Health
) -> dict[str, Coroutine[Any, Any, None]]:
    """The parts every replica runs next to its adapters."""
    parts = {
        "ops": run_ops(core, settings, stop, health=health),
        "feeds": run_feed_scheduler(
            registry.engine,
            interval=settings.feeds_interval_minutes * 60,
            keep_days=settings.feeds_retention_days,
            stop=stop,
        ),
    }
    parts["reverify"] = run_reverification(core, settings.reverify_hours, stop)
    parts["sources"] = run_source_scheduler(registry.engine, stop, STARTER_BY)
    # other processes' changes: PostgreSQL's NOTIFY, SQLite's polled marks
    url = settings.database_url or default_database_url()
    parts["changes"] = listen_for_changes(url, core.reload, stop, since=core.index_change)
    return parts


async def serve(core: Core, registry: SqlRegistry, settings: Settings,
                env_files: Sequence[Path] = ()) -> int:
    configure_logging(settings)
    where = ", ".join(str(path) for path in env_files) or "the environment only (no .env file)"
    log.info("isofficial %s: settings from %s", version(), where)
    count_adapter_errors()
    core = MeteredCore.around(core)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    health = Health(settings.health_grace_seconds)
    parts = _parts(core, settings, stop, health)
    if not parts:
        raise IsOfficialError(
            "nothing to run: set ISOFFICIAL_TELEGRAM_TOKEN and/or ISOFFICIAL_DISCORD_TOKEN"
        )
    parts.update(_operations(core, registry, settings, stop, health))
    tasks = [asyncio.create_task(coro, name=name) for name, coro in parts.items()]
    log.info("running: %s", ", ".join(parts))
    await asyncio.wait(
        [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    stop.set()  # one part ending (or failing) stops the others
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = {name: r for name, r in zip(parts, results, strict=True)
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)}
    for name, failure in failures.items():
        adapter_failed(name)
        log.error("a part stopped with an error: %r", failure, extra={"part": name})
    return 1 if failures else 0
