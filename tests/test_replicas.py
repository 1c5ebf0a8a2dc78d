"""Several bot processes on one PostgreSQL: changes reach every replica, none is lost, and a
killed import leaves nothing behind. Real processes (tests/replica.py, `isofficial import`)."""

from __future__ import annotations

import asyncio
import csv
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from replica import Replica
from sqlalchemy.engine import make_url

from bot.model import AccountRef, Correction, Status
from isofficial.bootstrap import load_starter_data
from knowledge.registry import SqlRegistry, open_registry

pytestmark = pytest.mark.postgres

MODERATORS = [f"telegram:{n}" for n in range(1, 9)]
PROPAGATION = 1.0  # seconds: the bound for a change to reach every replica
BULK_ROWS = 30_000
ISOFFICIAL = Path(sys.executable).with_name("isofficial")


@pytest.fixture
async def seeded(postgres_url: str) -> AsyncIterator[SqlRegistry]:
    """The schema and starter data, made once before any replica starts (as `db upgrade` would)."""
    registry = await open_registry(postgres_url)
    await load_starter_data(registry)
    yield registry
    await registry.close()


@pytest.fixture
async def replicas(postgres_url: str, seeded: SqlRegistry) -> AsyncIterator[list[Replica]]:
    env = {"ISOFFICIAL_DATABASE_URL": postgres_url, "ISOFFICIAL_MODERATORS": ",".join(MODERATORS)}
    started = await asyncio.gather(Replica.start(env), Replica.start(env))
    yield list(started)
    await asyncio.gather(*(r.close() for r in started))


async def within(seconds: float, answered: Callable[[], Awaitable[bool]]) -> float:
    """How long until answered() is true, failing the test after `seconds`."""
    start = time.monotonic()
    while not await answered():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not answered within {seconds}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_a_replica_restarted_on_its_kept_index_catches_up_a_write_made_while_it_was_down(
    postgres_url: str, seeded: SqlRegistry, tmp_path: Path
) -> None:
    kept = tmp_path / "index.bin"
    env = {"ISOFFICIAL_DATABASE_URL": postgres_url, "ISOFFICIAL_MODERATORS": MODERATORS[0],
           "ISOFFICIAL_INDEX_FILE": str(kept)}
    a = await Replica.start(env)  # no file yet: it builds the index and keeps it
    assert "looks like" not in await a.ask("/check x:acmebnak")
    await a.close()
    built = kept.stat().st_mtime_ns
    await seeded.apply(Correction(AccountRef("x", "acmebank"), Status.OFFICIAL, "Acme Bank"), "m")

    a = await Replica.start(env)  # the kept index, and the one change made since
    b = await Replica.start(env)
    try:
        assert kept.stat().st_mtime_ns == built  # loaded, not rebuilt (a rebuild is kept anew)
        assert "looks like x:acmebank (Acme Bank)" in await a.ask("/check x:acmebnak")
        saved = await b.ask("/verdict x:globexcorp official Globex", as_user=MODERATORS[0])
        assert saved.startswith("saved:")

        async def a_warns() -> bool:
            return "looks like x:globexcorp (Globex)" in await a.ask("/check x:globexcrop")

        await within(PROPAGATION, a_warns)
    finally:
        await asyncio.gather(a.close(), b.close())


async def test_a_verdict_set_through_one_replica_is_answered_by_the_other(
    replicas: list[Replica],
) -> None:
    a, b = replicas
    assert "looks like" not in await b.ask("/check x:acmebnak")

    saved = await a.ask("/verdict x:acmebank official Acme Bank", as_user=MODERATORS[0])
    assert saved.startswith("saved:")

    async def b_warns() -> bool:  # only B's own in-memory index can say this
        return "looks like x:acmebank (Acme Bank)" in await b.ask("/check x:acmebnak")

    await within(PROPAGATION, b_warns)
    assert "official" in await b.ask("/check x:acmebank")

    assert (await a.ask("/undo x:acmebank", as_user=MODERATORS[0])).startswith("undone:")

    async def b_forgot() -> bool:
        return "looks like" not in await b.ask("/check x:acmebnak")

    await within(PROPAGATION, b_forgot)


async def test_concurrent_moderators_through_both_replicas_lose_nothing(
    replicas: list[Replica], seeded: SqlRegistry
) -> None:
    brands = {AccountRef("x", "acmebank"): "Acme Bank", AccountRef("x", "globexcorp"): "Globex",
              AccountRef("x", "initech"): "Initech"}
    accounts = list(brands)
    statuses = [Status.OFFICIAL, Status.IMPERSONATOR, Status.PARODY, Status.AFFILIATED]

    async def moderator(m: int) -> None:
        for c in range(200):
            ref, status = accounts[(m + c) % len(accounts)], statuses[(m * 7 + c) % len(statuses)]
            line = f"/verdict {ref} {status} {brands[ref]} | m{m} c{c}"
            replica = replicas[(m + c) % 2]
            assert (await replica.ask(line, as_user=MODERATORS[m])).startswith("saved:")

    await asyncio.gather(*(moderator(m) for m in range(len(MODERATORS))))

    logs = {ref: await seeded.history(ref) for ref in accounts}
    notes = Counter(change.note for log in logs.values() for change in log)
    assert notes == Counter(f"m{m} c{c}" for m in range(8) for c in range(200))
    finals = await seeded.find(accounts)
    for ref, log in logs.items():
        last = log[0]  # newest first: the last committed write
        assert (finals[ref].status, finals[ref].note) == (last.new_status, last.note)
        assert {change.by for change in log} <= set(MODERATORS)

    async def both_agree() -> bool:  # each index: a lookalike warning iff the last write protects
        for ref in accounts:
            protected = finals[ref].status in (Status.OFFICIAL, Status.AFFILIATED)
            lookalike = f"x:{ref.handle}help"
            for replica in replicas:
                warns = f"looks like {ref}" in await replica.ask(f"/check {lookalike}")
                if warns != protected:
                    return False
        return True

    await within(PROPAGATION, both_agree)


# Kill -9 during a large import


def _write_rows(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["entity", "platform", "handle", "url", "verdict", "source_url"])
        for n in range(count):
            writer.writerow([f"Bulk Entity {n}", "x", f"bulk{n}", "", "official",
                             f"https://example.org/bulk/{n}"])


async def _dump(conn: asyncpg.Connection) -> dict[str, list[asyncpg.Record]]:
    """Every row of the registry's tables."""
    tables = ("entities", "accounts", "evidence", "changes", "reports")
    return {t: await conn.fetch(f"SELECT * FROM {t} ORDER BY id") for t in tables}


async def _writing_backend(conn: asyncpg.Connection, seconds: float) -> int | None:
    """The pid of another backend of this database whose transaction has written (an xid)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.01)
    return None


async def _accounts_grown(conn: asyncpg.Connection, by: int) -> None:
    """Wait until the accounts table has grown by `by` bytes: uncommitted rows take room too."""
    size = "SELECT pg_total_relation_size('accounts')"
    start = await conn.fetchval(size)
    while await conn.fetchval(size) < start + by:
        await asyncio.sleep(0.01)


async def _gone(conn: asyncpg.Connection, pid: int) -> None:
    while await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
        await asyncio.sleep(0.05)


async def _import(url: str, path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(ISOFFICIAL), "import", str(path),
        env={**os.environ, "ISOFFICIAL_DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_kill_9_during_a_large_import_leaves_the_registry_as_before(
    postgres_url: str, seeded: SqlRegistry, tmp_path: Path
) -> None:
    rows = tmp_path / "bulk.csv"
    _write_rows(rows, BULK_ROWS)
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(dsn)
    try:
        before = await _dump(conn)
        process = await _import(postgres_url, rows)
        writer = await _writing_backend(conn, seconds=120)
        assert writer is not None, "the import never started writing"
        await asyncio.wait_for(_accounts_grown(conn, BULK_ROWS * 40), 120)  # well under way
        assert process.returncode is None, "the import ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
        await asyncio.wait_for(_gone(conn, writer), 60)

        assert await _dump(conn) == before

        again = await _import(postgres_url, rows)
        _, err = await again.communicate()
        assert again.returncode == 0, err.decode()
        assert re.search(rf"wrote {BULK_ROWS} rows", err.decode())
        after = await _dump(conn)
        assert len(after["accounts"]) == len(before["accounts"]) + BULK_ROWS
    finally:
        await conn.close()
