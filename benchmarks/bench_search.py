"""Autocomplete search (`Registry.search`) at registry scale: latency per keystroke on SQLite and
PostgreSQL, beside a brute-force scan of the same accounts in Python (MemoryRegistry.search), whose
answers the SQL ones must equal.

    .venv/bin/python -m benchmarks.bench_search              # 100k accounts
    .venv/bin/python -m benchmarks.bench_search --n 20000    # quick
"""

from __future__ import annotations

import argparse
import asyncio
import random
import string
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from benchmarks.bench_lookalike import percentile
from bot.model import AccountRecord, AccountRef, Status
from knowledge.database import insert_many, writing
from knowledge.memory import MemoryRegistry
from knowledge.registry import SqlRegistry, open_registry
from knowledge.tables import accounts, entities

PLATFORMS = ("x", "instagram", "telegram", "youtube")
WORDS = ("agency", "ministry", "news", "space", "bank", "club", "party", "army", "police")
Search = Callable[[str, int], Awaitable[list[tuple[AccountRef, str | None]]]]  # search(text, limit)
Cleanup = Callable[[], Awaitable[None]]


def world(n: int, seed: int) -> list[tuple[AccountRef, str]]:
    rng = random.Random(seed)
    letters = string.ascii_lowercase + string.digits + "_"
    rows = []
    for number in range(n):
        handle = "".join(rng.choices(string.ascii_lowercase, k=2)) + "".join(
            rng.choices(letters, k=rng.randint(4, 12))
        )
        entity = f"{rng.choice(WORDS).title()} of {handle[:5].title()} {number // 3}"
        rows.append((AccountRef(PLATFORMS[number % len(PLATFORMS)], handle), entity))
    return list(dict(rows).items())


async def fill(registry: SqlRegistry, rows: list[tuple[AccountRef, str]]) -> None:
    async with writing(registry.engine) as conn:
        names = sorted({entity for _, entity in rows})
        await insert_many(conn, entities, ["name"], [(name,) for name in names])
        ids = dict((await conn.execute(select(entities.c.name, entities.c.id))).all())
        columns = ["platform", "handle_key", "handle_as_written", "entity_id", "status"]
        values = [(r.platform, r.handle, r.handle, ids[e], "official") for r, e in rows]
        await insert_many(conn, accounts, columns, values)


def queries(rows: list[tuple[AccountRef, str]], count: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    typed = [rng.choice(rows)[0].handle[: rng.randint(1, 5)] for _ in range(count)]
    return typed + [rng.choice(WORDS)[: rng.randint(2, 6)] for _ in range(count // 4)]


Suggestions = list[tuple[AccountRef, str | None]]


async def timed(search: Search, typed: list[str]) -> tuple[list[float], list[Suggestions]]:
    times: list[float] = []
    answers: list[Suggestions] = []
    for text in typed:
        start = time.perf_counter()
        answers.append(await search(text, 25))
        times.append((time.perf_counter() - start) * 1000)
    return times, answers


async def postgres_url(base: str) -> tuple[str, Cleanup]:
    url = make_url(base)
    name = f"isofficial_bench_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    server = await asyncpg.connect(admin)
    await server.execute(f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()

    return url.set(database=name).render_as_string(hide_password=False), drop


async def main(args: argparse.Namespace) -> None:
    rows = world(args.n, args.seed)
    typed = queries(rows, args.queries, args.seed)
    memory = MemoryRegistry()
    memory.records = {
        ref: AccountRecord(ref, Status.OFFICIAL, entity, ref.handle) for ref, entity in rows
    }
    brute_times, expected = await timed(memory.search, typed)
    table = [("python scan (baseline)", brute_times)]
    sqlite = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'search.sqlite3'}"
    targets: list[tuple[str, str, Cleanup | None]] = [("sqlite", sqlite, None)]
    if args.postgres:
        url, drop = await postgres_url(args.postgres)
        targets.append(("postgresql", url, drop))
    for name, url, cleanup in targets:
        registry = await open_registry(url)
        await fill(registry, rows)
        await registry.search("warm", 25)
        times, answers = await timed(registry.search, typed)
        wrong = sum(a != e for a, e in zip(answers, expected, strict=True))
        table.append((f"{name} Registry.search ({wrong} differ)", times))
        await registry.close()
        if cleanup:
            await cleanup()
    print(f"{len(rows):,} accounts, {len(typed)} typed prefixes, 25 suggestions each")
    print(f"{'search':<40} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, times in table:
        p50, p99 = percentile(times, 50), percentile(times, 99)
        print(f"{label:<40} {p50:8.2f} {p99:8.2f} {max(times):8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        help="server to create a scratch database on ('' to skip)",
    )
    asyncio.run(main(parser.parse_args()))
