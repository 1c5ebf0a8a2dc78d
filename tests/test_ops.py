"""Operations: /healthz and /metrics over real HTTP, JSON logs without secrets, change notices."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Sized
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import BaseTestServer, TestServer
from fake_telegram import TOKEN, FakeTelegram, running_fake
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from bot.core import Core
from bot.guard import Member, PhotoOutcome
from bot.model import OPERATOR, AccountRef, Asker, Correction, NoAccountFound, Status
from isofficial.logs import MASK, configure_logging
from isofficial.ops import MeteredCore, Probes, count_adapter_errors, ops_app, probe
from isofficial.settings import Settings
from knowledge.database import make_engine
from knowledge.feeds.store import add_feed, record_error
from knowledge.notify import (
    APPLICATION_NAME,
    MAX_PAYLOAD,
    announce,
    following_changes,
    listen_for_changes,
    parse_payload,
    payloads,
)
from knowledge.registry import SqlRegistry, open_registry

ISOFFICIAL = Path(sys.executable).parent / "isofficial"


@pytest.fixture
async def served(registry: SqlRegistry) -> AsyncIterator[tuple[BaseTestServer, Core]]:
    core = MeteredCore.around(await Core.start(registry))
    async with TestServer(ops_app(Probes.of(registry))) as server:
        yield server, core


async def get(server: BaseTestServer, path: str) -> tuple[int, str]:
    async with ClientSession() as session, session.get(server.make_url(path)) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


# /healthz


async def test_healthz_says_ok_when_the_registry_answers(
    served: tuple[BaseTestServer, Core],
) -> None:
    status, body = await get(served[0], "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


async def test_healthz_is_503_with_the_reason_when_the_database_is_away() -> None:
    nowhere = SqlRegistry(make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none"))
    async with TestServer(ops_app(Probes.of(nowhere))) as server:
        status, body = await get(server, "/healthz")
    await nowhere.close()
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "unhealthy" and "refused" in answer["registry"].lower()


async def test_the_image_healthcheck_probe_follows_healthz(
    served: tuple[BaseTestServer, Core],
) -> None:
    server, _ = served
    assert server.port is not None
    settings = Settings(ops_port=server.port)
    assert await asyncio.to_thread(probe, settings) == 0
    await server.close()
    assert await asyncio.to_thread(probe, settings) == 1


# /metrics


async def test_metrics_count_checks_by_outcome_and_time_them(
    served: tuple[BaseTestServer, Core],
) -> None:
    server, core = served
    before = samples((await get(server, "/metrics"))[1])
    await core.registry.apply(
        Correction(AccountRef("x", "acmebank"), Status.OFFICIAL, entity="Acme Bank"), by="test"
    )
    await core.check("x:acmebank and x:nobodyatall", OPERATOR)
    with pytest.raises(NoAccountFound):
        await core.check("no account here", OPERATOR)
    after = samples((await get(server, "/metrics"))[1])

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("isofficial_checks_total", platform="local", outcome="answered") == 1
    assert grew("isofficial_checks_total", platform="local", outcome="rejected") == 1
    assert grew("isofficial_answers_total", platform="local", status="official") == 1
    assert grew("isofficial_answers_total", platform="local", status="unknown") == 1
    assert grew("isofficial_check_seconds_count") == 2


async def test_metrics_count_guard_warnings_and_photos(
    served: tuple[BaseTestServer, Core],
) -> None:
    server, core = served
    before = samples((await get(server, "/metrics"))[1])
    admin = Asker("telegram", "1", chat_id="-100", is_private=False)
    core.guard.set_admins("telegram", "-100", [Member("telegram", "1", "alicekim", "Alice Kim")])
    await core.guard.set_on("telegram", "-100", True, admin, chat_admin=True)
    impostor = Member("telegram", "9", None, "Alice Kim Support")
    assert await core.guard.inspect("telegram", "-100", impostor) is not None
    assert await core.guard.inspect("telegram", "-100", impostor) is None  # not warned twice
    for outcome in (PhotoOutcome.QUEUED, PhotoOutcome.QUEUED, PhotoOutcome.DONE,
                    PhotoOutcome.DROPPED):  # fmt: skip
        core.guard.count_photo("telegram", outcome)
    after = samples((await get(server, "/metrics"))[1])

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    warnings = "isofficial_guard_warnings_total"
    assert grew(warnings, platform="telegram", imitates="admin") == 1
    photos = "isofficial_guard_photos_total"
    assert grew(photos, platform="telegram", outcome="queued") == 2
    assert grew(photos, platform="telegram", outcome="done") == 1
    assert grew(photos, platform="telegram", outcome="dropped") == 1


async def test_metrics_show_registry_size_feed_health_and_adapter_errors(
    served: tuple[BaseTestServer, Core], registry: SqlRegistry
) -> None:
    server, _ = served
    for n in range(3):
        ref = AccountRef("x", f"brand{n}")
        await registry.apply(Correction(ref, Status.PARODY), by="test")
    good = await add_feed(registry.engine, "https://news.example/good.xml")
    bad = await add_feed(registry.engine, "https://news.example/bad.xml")
    await record_error(registry.engine, bad, "HTTP 500", datetime.now(UTC))
    count_adapter_errors()
    before = samples((await get(server, "/metrics"))[1])
    logging.getLogger("adapters.telegram.handlers").error("handling an update failed")
    logging.getLogger("bot.core").error("not an adapter")
    after = samples((await get(server, "/metrics"))[1])

    assert after["isofficial_registry_accounts", ()] == await registry.count() == 3
    assert after["isofficial_feed_up", (("url", good.url),)] == 1
    assert after["isofficial_feed_up", (("url", bad.url),)] == 0
    key = ("isofficial_adapter_errors_total", (("adapter", "telegram"),))
    assert after[key] - before.get(key, 0.0) == 1
    assert not any(name == "isofficial_adapter_errors_total" and dict(labels).get("adapter")
                   not in ("telegram", "discord") for name, labels in after)


# Logs


def test_json_logs_never_show_the_tokens() -> None:
    token = "123456:AAE-secret-token"
    settings = Settings(telegram_token=token, discord_token="discord-secret",
                        database_url="postgresql+asyncpg://bot:pg-secret@db/isofficial")
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(settings, out)
        log = logging.getLogger("httpx")
        log.setLevel(logging.NOTSET)  # the Telegram adapter quiets httpx when it runs first
        log.info("POST https://api.telegram.org/bot%s/getUpdates", token, extra={"chat": 42})
        try:
            raise RuntimeError(f"bad token {token} for pg-secret and discord-secret")
        except RuntimeError:
            log.exception("failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["level"], e["logger"]) for e in lines] == [("info", "httpx"), ("error", "httpx")]
    assert lines[0]["chat"] == 42 and f"/bot{MASK}/getUpdates" in lines[0]["message"]
    assert "RuntimeError" in lines[1]["error"]
    for secret in (token, "pg-secret", "discord-secret"):
        assert secret not in out.getvalue()


# Change notices


async def heard_within(seconds: float, heard: Sized) -> None:
    async with asyncio.timeout(seconds):
        while not heard:
            await asyncio.sleep(0.01)



def test_payloads_pack_every_ref_under_the_size_limit() -> None:
    refs = [AccountRef("x", f"account{n}") for n in range(5_000)]
    packed = list(payloads([*refs, refs[0]]))
    assert len(packed) > 1 and all(len(p.encode()) < MAX_PAYLOAD for p in packed)
    assert [ref for p in packed for ref in parse_payload(p)] == refs


async def test_announcing_on_sqlite_is_a_no_op(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    async with engine.begin() as conn:
        await announce(conn, [AccountRef("x", "nasa")])
    await engine.dispose()


@pytest.mark.postgres
async def test_a_notice_arrives_on_commit_only(postgres_url: str) -> None:
    heard: list[list[AccountRef]] = []

    async def reload(refs: list[AccountRef]) -> None:
        heard.append(refs)

    await (await open_registry(postgres_url)).close()  # the schema: listeners read the change log
    engine = make_engine(postgres_url)
    try:
        async with following_changes(postgres_url, reload):
            async with engine.connect() as conn, conn.begin() as transaction:
                await announce(conn, [AccountRef("x", "rolledback")])
                await transaction.rollback()
            async with engine.begin() as conn:
                await announce(conn, [AccountRef("x", "one"), AccountRef("youtube", "two")])
            await heard_within(10, heard)
    finally:
        await engine.dispose()
    assert heard == [[AccountRef("x", "one"), AccountRef("youtube", "two")]]


@pytest.mark.postgres
async def test_the_listener_reconnects_and_catches_up_on_what_it_missed(
    postgres_url: str,
) -> None:
    heard: list[AccountRef] = []

    async def reload(refs: list[AccountRef]) -> None:
        heard.extend(refs)

    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    registry = await open_registry(postgres_url)
    admin = await asyncpg.connect(dsn)
    stop, ready = asyncio.Event(), asyncio.Event()
    listener = asyncio.create_task(
        listen_for_changes(postgres_url, reload, stop, ready=ready, retry=1.0)
    )
    try:
        await ready.wait()
        ready.clear()
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()", APPLICATION_NAME
        )
        assert killed == 1
        # A change committed while nobody listens: only the change log can tell of it.
        await registry.apply(Correction(AccountRef("x", "missed"), Status.PARODY), by="test")
        await asyncio.wait_for(ready.wait(), 10)
        await heard_within(10, heard)
    finally:
        stop.set()
        await listener
        await admin.close()
        await registry.close()
    assert heard == [AccountRef("x", "missed")]


# `isofficial run`, a real process


@pytest.mark.postgres
async def test_isofficial_run_serves_ops_and_logs_json_without_the_token(
    tmp_path: Path, postgres_url: str
) -> None:
    async with running_fake(FakeTelegram()) as fake:
        env = {
            **os.environ,
            "ISOFFICIAL_TELEGRAM_TOKEN": TOKEN,
            "ISOFFICIAL_TELEGRAM_BASE_URL": f"{fake.url}/bot",
            "ISOFFICIAL_DATABASE_URL": postgres_url,
            "ISOFFICIAL_OPS_PORT": "0",
        }
        env.pop("ISOFFICIAL_DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            str(ISOFFICIAL), "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        logged: list[dict[str, object]] = []
        try:
            async with asyncio.timeout(60):  # until the ops server says where it listens
                while not logged or "port" not in logged[-1]:
                    logged.append(json.loads(await process.stderr.readline()))
            port = logged[-1]["port"]
            async with ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
                    assert health.status == 200
                await fake.expect("setMyCommands", timeout=60)
                ann = fake.user(2, "Ann", "ann")
                await fake.ask(fake.private(ann), ann, "/check https://twitter.com/uriminzok")
                async with session.get(f"http://127.0.0.1:{port}/metrics") as metrics:
                    page = samples(await metrics.text())
            process.send_signal(signal.SIGINT)
            rest = await asyncio.wait_for(process.stderr.read(), 15)
            assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert page["isofficial_checks_total", (("outcome", "answered"), ("platform", "telegram"))] == 1
    assert page["isofficial_registry_accounts", ()] > 0
    lines = [json.loads(line) for line in rest.decode().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in lines + logged)
    assert TOKEN.split(":")[1] not in str(logged) + rest.decode()
    assert any(entry["message"] == "listening for registry changes on isofficial_changes"
               for entry in logged + lines)
