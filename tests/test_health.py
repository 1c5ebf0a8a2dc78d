"""A bot that cannot hear never reports itself healthy (issue 10, finding 2).

The real python-telegram-bot and discord.py stacks against the fake servers; /healthz served by
the real ops app; the fatal-401 exit through a real `isofficial run` process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from fake_discord import FakeDiscord
from fake_telegram import TOKEN, FakeTelegram, running_fake
from test_discord import make_world, settings_for
from test_telegram import config_for, seeded_core

from adapters.discord.run import run_discord
from adapters.telegram.app import build_application
from adapters.telegram.run import TelegramStopped, serve
from bot.health import Health
from isofficial.ops import Probes, ops_app
from knowledge.memory import MemoryRegistry

ISOFFICIAL = Path(sys.executable).with_name("isofficial")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_blip_shorter_than_the_grace_is_healthy_a_fatal_error_never_is() -> None:
    clock = Clock()
    health = Health(grace=30, clock=clock)
    health.down("telegram", "getUpdates failed: NetworkError")
    clock.now += 29
    assert health.problems() == {}
    health.down("telegram", "getUpdates answered HTTP 502")  # the streak keeps its start
    clock.now += 1
    assert health.problems() == {"telegram": "getUpdates answered HTTP 502 (30 s)"}
    health.up("telegram")
    assert health.problems() == {}
    health.down("telegram", "token refused", fatal=True)
    health.up("telegram")
    assert health.problems() == {"telegram": "token refused (0 s)"}


@asynccontextmanager
async def healthz(health: Health) -> AsyncIterator[Callable[[], Any]]:
    """A function that GETs /healthz of a real ops server: (status, body)."""
    app = ops_app(Probes.of(MemoryRegistry()), health)
    async with TestServer(app) as server, ClientSession() as session:

        async def get() -> tuple[int, dict[str, str]]:
            async with session.get(server.make_url("/healthz")) as response:
                return response.status, await response.json()

        yield get


async def until_status(get: Callable[[], Any], status: int, timeout: float) -> dict[str, str]:
    async with asyncio.timeout(timeout):
        while True:
            code, body = await get()
            if code == status:
                return dict(body)
            await asyncio.sleep(0.1)


@asynccontextmanager
async def telegram_bot(
    fake: FakeTelegram, health: Health, **config: Any
) -> AsyncIterator[asyncio.Task[None]]:
    core, _ = await seeded_core()
    settings = config_for(fake, **config)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(build_application(core, settings, health), settings, stop,
                                     ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 20)


async def test_a_401_on_getupdates_makes_healthz_503_and_stops_the_adapter() -> None:
    health = Health(grace=30)
    async with running_fake() as fake, healthz(health) as get, telegram_bot(
        fake, health, poll_timeout=1
    ) as task:
        assert (await get())[0] == 200
        fake.token = "0:revoked"  # the token is revoked while the bot polls
        started = time.monotonic()
        body = await until_status(get, 503, 60)
        assert time.monotonic() - started < 60
        assert "401 Unauthorized" in body["telegram"]
        with pytest.raises(TelegramStopped, match="refused the bot token"):
            await asyncio.wait_for(task, 20)


async def test_a_409_conflict_stops_the_adapter_with_the_reason() -> None:
    health = Health(grace=30)
    async with running_fake() as fake, telegram_bot(fake, health, poll_timeout=1) as task:
        fake.webhook = {"url": "http://127.0.0.1:9/elsewhere"}  # Telegram answers getUpdates 409
        with pytest.raises(TelegramStopped, match="409 Conflict"):
            await asyncio.wait_for(task, 20)
    assert "another process is receiving" in health.problems()["telegram"]


async def test_failing_polls_are_retried_503_past_the_grace_and_healthy_again() -> None:
    health = Health(grace=1)
    async with running_fake() as fake, healthz(health) as get, telegram_bot(
        fake, health, poll_timeout=1
    ):
        for _ in range(4):
            fake.fail_next("getUpdates", 502)
        body = await until_status(get, 503, 30)
        assert "getUpdates answered HTTP 502" in body["telegram"]
        await until_status(get, 200, 30)  # the library retried with backoff, the fake recovered
        ann = fake.user(2, "Ann", "ann")
        reply = await fake.ask(fake.private(ann), ann, "/check x:uriminzok")
        assert "uriminzok" in reply.text


async def test_a_dead_polling_loop_is_503_within_60_s() -> None:
    health = Health(grace=30)
    async with running_fake() as fake, healthz(health) as get, telegram_bot(
        fake, health, poll_timeout=1, request_timeout=1
    ) as task:
        await asyncio.sleep(0.5)
        app_updater = [t for t in asyncio.all_tasks() if "network_retry_loop" in repr(t.get_coro())]
        assert app_updater, "the polling task runs"
        for polling in app_updater:
            polling.cancel()  # the loop dies without a word, as after an unexpected error
        started = time.monotonic()
        body = await until_status(get, 503, 60)
        assert time.monotonic() - started < 60
        assert "no answer to getUpdates" in body["telegram"]
        assert not task.done()


async def test_a_lost_gateway_is_503_past_the_grace_and_recovers() -> None:
    fake = FakeDiscord(heartbeat_ms=200)
    await fake.start()
    health = Health(grace=1)
    world = await make_world(fake)
    stop = asyncio.Event()
    settings = settings_for(fake, discord_gateway=fake.gateway_url)  # reconnects go there too
    task = asyncio.create_task(run_discord(world.core, settings, stop,
                                           guild_ready_timeout=0.1, health=health))
    try:
        async with healthz(health) as get:
            await fake.wait_ready()
            await until_status(get, 200, 20)
            fake.gateway_down = True
            await fake.drop_gateway()
            started = time.monotonic()
            body = await until_status(get, 503, 60)
            assert time.monotonic() - started < 60
            assert "gateway connection lost" in body["discord shard 0"]
            fake.gateway_down = False
            await until_status(get, 200, 60)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await fake.close()


async def test_isofficial_run_exits_non_zero_with_a_clear_line_on_a_401(tmp_path: Path) -> None:
    async with running_fake(FakeTelegram()) as fake:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ISOFFICIAL_")},
            "ISOFFICIAL_TELEGRAM_TOKEN": TOKEN,
            "ISOFFICIAL_TELEGRAM_BASE_URL": f"{fake.url}/bot",
            "ISOFFICIAL_TELEGRAM_POLL_TIMEOUT": "1",
            "ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
            "ISOFFICIAL_OPS_PORT": "0",
        }
        process = await asyncio.create_subprocess_exec(
            str(ISOFFICIAL), "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        try:
            await fake.expect("setMyCommands", timeout=60)
            fake.token = "0:revoked"
            code = await asyncio.wait_for(process.wait(), 60)
            logged = [json.loads(line) for line in (await process.stderr.read()).splitlines()]
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert code != 0
    messages = [entry["message"] for entry in logged]
    assert any("refused the bot token (401 Unauthorized)" in m for m in messages), messages
    assert not any("still running" in m for m in messages)
