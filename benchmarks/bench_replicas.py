"""Checks per second through 1 and 2 replica processes, on PostgreSQL and on SQLite, same data.

Each replica is a real process (tests/replica.py: the core built as `isofficial run` builds it,
following changes) answering checks sent over a pipe, many in flight at once as in a busy chat.
The data: every official account of tests/data/registry_*.csv. The queries: registered
handles, lookalikes of them (one typo) and unknown names, shuffled. SQLite, 1 replica, is the
baseline each row is compared with.

    .venv/bin/python benchmarks/bench_replicas.py                  # 4000 checks per row
    .venv/bin/python benchmarks/bench_replicas.py --checks 1000    # quick
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from replica import Replica  # noqa: E402

from isofficial.bootstrap import load_starter_data  # noqa: E402
from knowledge.importer import import_rows, read_rows  # noqa: E402
from knowledge.registry import open_registry  # noqa: E402

DATA = ROOT / "tests" / "data"
POSTGRES = os.environ.get(
    "ISOFFICIAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_FLIGHT = 32  # checks awaiting an answer per replica


async def fill(url: str) -> list[tuple[str, str]]:
    """Load the real registry files; returns (platform, handle) of the accounts loaded."""
    registry = await open_registry(url)
    await load_starter_data(registry)
    loaded = []
    for path in sorted(DATA.glob("registry_*.csv")):
        if not path.stem.endswith("_meta"):
            rows = list(read_rows(path))
            await import_rows(registry, rows, by="bench", skip_invalid=True)
            loaded += [(r["platform"], r["handle"]) for _, r in rows if r.get("handle")]
    await registry.close()
    return loaded


def queries(accounts: list[tuple[str, str]], count: int, seed: int = 7) -> list[str]:
    """A third registered handles, a third one-typo lookalikes, a third unknown names."""
    rng = random.Random(seed)
    picked = []
    for n in range(count):
        platform, handle = rng.choice(accounts)
        if n % 3 == 1 and len(handle) > 3:
            at = rng.randrange(1, len(handle) - 1)
            handle = handle[:at] + handle[at + 1] + handle[at] + handle[at + 2 :]
        elif n % 3 == 2:
            handle = f"nobody{rng.randrange(10**6)}"
        picked.append(f"/check {platform}:{handle}")
    rng.shuffle(picked)
    return picked


async def throughput(url: str, replicas: int, asked: list[str]) -> float:
    env = {"ISOFFICIAL_DATABASE_URL": url}
    started = await asyncio.gather(*(Replica.start(env) for _ in range(replicas)))
    try:
        await asyncio.gather(*(r.ask(asked[0]) for r in started))  # warm up
        work = iter(asked)

        async def client(replica: Replica) -> None:
            for line in work:
                await replica.ask(line)

        start = time.perf_counter()
        await asyncio.gather(*(client(r) for r in started for _ in range(IN_FLIGHT)))
        return len(asked) / (time.perf_counter() - start)
    finally:
        await asyncio.gather(*(r.close() for r in started))


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    url = make_url(POSTGRES)
    name = f"isofficial_bench_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    await server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


async def main(checks: int) -> None:
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite+aiosqlite:///{folder}/registry.sqlite3"
        async with postgres_database() as postgres:
            accounts = await fill(sqlite)
            await fill(postgres)
            asked = queries(accounts, checks)
            for name, url in (("sqlite", sqlite), ("postgresql", postgres)):
                for replicas in (1, 2):
                    rows.append((name, replicas, await throughput(url, replicas, asked)))
    baseline = rows[0][2]
    print(f"{len(accounts)} accounts, {checks} checks per row, {IN_FLIGHT} in flight per "
          f"replica, {os.cpu_count()} CPUs")
    print(f"{'database':<12}{'replicas':>9}{'checks/s':>10}{'vs sqlite x1':>14}")
    for name, replicas, rate in rows:
        print(f"{name:<12}{replicas:>9}{rate:>10.0f}{rate / baseline:>13.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=4000)
    asyncio.run(main(parser.parse_args().checks))
