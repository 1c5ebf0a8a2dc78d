"""Operations endpoints: /healthz (does the registry answer, do the adapters hear?) and
Prometheus /metrics.

`python -m isofficial.ops` probes /healthz of the local server: the image's HEALTHCHECK.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.core import Core, IdLookup
from bot.guard_model import Impersonation, PhotoOutcome
from bot.health import Health
from bot.model import AccountRef, Answer, Asker, IsOfficialError
from bot.ports import Registry
from isofficial.settings import Settings
from knowledge.feeds.store import FeedStatus, list_feeds
from knowledge.registry import SqlRegistry

HEALTH_TIMEOUT = 3.0
PROBE_REF = AccountRef("x", "healthz")  # any ref: the point is a round trip to the database

log = logging.getLogger(__name__)

CHECKS = Counter(
    "isofficial_checks",
    "Checks, by platform asked on and outcome: answered, rejected (no account named), error",
    ["platform", "outcome"],
)
ANSWERS = Counter(
    "isofficial_answers", "Accounts answered, by platform asked on and status",
    ["platform", "status"],
)
CHECK_SECONDS = Histogram(
    "isofficial_check_seconds", "Time to answer one check",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REGISTRY_ACCOUNTS = Gauge("isofficial_registry_accounts", "Accounts in the registry")
FEED_UP = Gauge("isofficial_feed_up", "1 if the feed's last refresh succeeded", ["url"])
FEED_LAST_SUCCESS = Gauge(
    "isofficial_feed_last_success_timestamp_seconds", "When the feed last refreshed", ["url"]
)
GUARD_WARNINGS = Counter(
    "isofficial_guard_warnings",
    "Members the guard warned about, by platform and whom they imitate: admin or official",
    ["platform", "imitates"],
)
GUARD_PHOTOS = Counter(
    "isofficial_guard_photos",
    "Members' photos the guard wanted, by platform and outcome: queued, done, dropped",
    ["platform", "outcome"],
)
ADAPTER_ERRORS = Counter(
    "isofficial_adapter_errors", "Errors an adapter logged or stopped with", ["adapter"]
)


class MeteredCore(Core):
    """The core, each check counted and timed (the core itself knows nothing of Prometheus)."""

    @classmethod
    def around(cls, core: Core) -> MeteredCore:
        """The same core, metered; its guard counts warnings and photos too."""
        core.guard.meter = GuardCounters()
        metered = cls(
            core.registry, core.index, core.moderators, core.feeds, core.preferences, core.verifier,
            core.guard,
            presence=core.presence,
        )
        metered.kept, metered.index_change = core.kept, core.index_change
        return metered

    async def check(
        self, text: str, asker: Asker, current_id: IdLookup | None = None
    ) -> list[Answer]:
        outcome = "error"
        start = time.perf_counter()
        try:
            answers = await super().check(text, asker, current_id)
            outcome = "answered"
            for answer in answers:
                ANSWERS.labels(asker.platform, answer.status.value).inc()
            return answers
        except IsOfficialError:
            outcome = "rejected"
            raise
        finally:
            CHECK_SECONDS.observe(time.perf_counter() - start)
            CHECKS.labels(asker.platform, outcome).inc()


class GuardCounters:
    """The guard's meter (bot.ports.GuardMeter) on Prometheus counters."""

    def warned(self, found: Impersonation) -> None:
        imitates = "admin" if found.imitates is not None else "official"
        GUARD_WARNINGS.labels(found.member.platform, imitates).inc()

    def photo(self, platform: str, outcome: PhotoOutcome) -> None:
        GUARD_PHOTOS.labels(platform, outcome.value).inc()


class AdapterErrorCounter(logging.Handler):
    """Counts ERROR records logged under adapters.<name>: every adapter logs its failures."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        parts = record.name.split(".")
        if len(parts) > 1 and parts[0] == "adapters":
            ADAPTER_ERRORS.labels(parts[1]).inc()


@dataclass(frozen=True)
class Probes:
    """What the endpoints ask: the registry's answer and size, the feeds' state."""

    registry_answers: Callable[[], Awaitable[object]]
    registry_size: Callable[[], Awaitable[int]] | None = None
    feeds: Callable[[], Awaitable[Sequence[FeedStatus]]] | None = None

    @classmethod
    def of(cls, registry: Registry) -> Probes:
        async def answers() -> object:
            return await registry.find([PROBE_REF])

        if not isinstance(registry, SqlRegistry):
            return cls(answers)
        engine = registry.engine
        return cls(answers, registry.count, lambda: list_feeds(engine))


def ops_app(probes: Probes, health: Health | None = None) -> web.Application:
    """/healthz: 503 with the reasons when the registry does not answer or an adapter has
    stopped receiving (bot.health); /metrics."""

    async def healthz(request: web.Request) -> web.Response:
        problems: dict[str, str] = dict(health.problems()) if health else {}
        try:
            await asyncio.wait_for(probes.registry_answers(), HEALTH_TIMEOUT)
        except Exception as error:  # any failure means "not healthy", and says why
            problems["registry"] = _why(error)
        if problems:
            log.warning("health check failed: %s", problems)
            return web.json_response({"status": "unhealthy", **problems}, status=503)
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        await _update_gauges(probes)
        return web.Response(body=generate_latest(REGISTRY), headers={
            "Content-Type": CONTENT_TYPE_LATEST,
        })

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def _update_gauges(probes: Probes) -> None:
    """Read the registry's size and the feeds' state at scrape time (a failure keeps old values)."""
    try:
        if probes.registry_size is not None:
            REGISTRY_ACCOUNTS.set(await probes.registry_size())
        if probes.feeds is not None:
            for feed in await probes.feeds():
                FEED_UP.labels(feed.url).set(0 if feed.last_error else 1)
                if feed.last_success is not None:
                    FEED_LAST_SUCCESS.labels(feed.url).set(feed.last_success.timestamp())
    except Exception as error:
        log.warning("metrics: the registry did not answer: %r", error)


def _why(error: BaseException) -> str:
    return "timed out" if isinstance(error, TimeoutError) else f"{type(error).__name__}: {error}"


async def run_ops(
    core: Core,
    settings: Settings,
    stop: asyncio.Event,
    started: asyncio.Event | None = None,
    health: Health | None = None,
) -> None:
    """Serve /healthz and /metrics until stop is set."""
    runner = web.AppRunner(ops_app(Probes.of(core.registry), health), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.ops_host, settings.ops_port)
        await site.start()
        bound = runner.addresses[0]
        log.info("ops endpoints listening", extra={"host": bound[0], "port": bound[1]})
        if started is not None:
            started.set()
        await stop.wait()
    finally:
        await runner.cleanup()


def count_adapter_errors() -> None:
    """Count adapter errors from the logs (idempotent)."""
    root = logging.getLogger()
    if not any(isinstance(h, AdapterErrorCounter) for h in root.handlers):
        root.addHandler(AdapterErrorCounter())


def adapter_failed(name: str) -> None:
    """An adapter stopped with an error."""
    ADAPTER_ERRORS.labels(name).inc()


def probe(settings: Settings) -> int:
    """0 if the local /healthz answers ok, else 1 with the reason on stderr."""
    host = settings.ops_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    url = f"http://{host}:{settings.ops_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT + 2) as response:
            ok = response.status == 200
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        sys.exit(probe(Settings()))
