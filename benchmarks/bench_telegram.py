"""Checks per second through the real Telegram adapter against the local fake Bot API server,
with a registry of 100k accounts; latency from update (pushed to the fake) to sendMessage.

Closed loop: `chats` group chats each send `/check <query>` and the next one when the answer
arrives. The fake runs in the same process and event loop, so its cost counts against the bot.
Baselines: the core alone (no Telegram), and the adapter one chat at a time.

    .venv/bin/python benchmarks/bench_telegram.py                  # 100k accounts, 3000 checks
    .venv/bin/python benchmarks/bench_telegram.py --accounts 20000 --checks 600   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench_lookalike import DATA, one_edit, synthetic_handles

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_telegram import TOKEN, Call, FakeTelegram, running_fake

from adapters.telegram.app import build_application
from adapters.telegram.config import TelegramConfig
from adapters.telegram.run import serve
from bot.core import Core
from bot.model import AccountRef, Asker, Correction, Status
from knowledge.memory import MemoryRegistry

STATUSES = [Status.OFFICIAL] * 6 + [Status.IMPERSONATOR, Status.UNOFFICIAL, Status.PARODY,
                                    Status.AFFILIATED]


async def registry_of(handles: list[str]) -> MemoryRegistry:
    registry = MemoryRegistry()
    rng = random.Random(7)
    for handle in handles:
        status = rng.choice(STATUSES)
        await registry.apply(Correction(AccountRef("x", handle), status, f"Entity {handle}"),
                             by="bench")
    return registry


def queries_for(handles: list[str], count: int) -> list[str]:
    """A third registered handles, a third one-edit typos, a third profile URLs."""
    rng = random.Random(11)
    shapes: list[Callable[[str], str]] = [
        lambda h: f"x:{h}",
        lambda h: f"x:{one_edit(h, rng)}" if 6 <= len(h) < 15 else f"x:{h}",
        lambda h: f"https://x.com/{h}",
    ]
    return [shapes[n % 3](rng.choice(handles)) for n in range(count)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def core_alone(core: Core, queries: list[str]) -> tuple[float, list[float]]:
    asker = Asker("telegram", "1", "-1", is_private=False)
    latencies = []
    started = time.perf_counter()
    for query in queries:
        began = time.perf_counter()
        await core.check(query, asker)
        latencies.append(time.perf_counter() - began)
    return len(queries) / (time.perf_counter() - started), latencies


async def through_telegram(
    core: Core, queries: list[str], chats: int, warmup: int
) -> tuple[float, list[float]]:
    """Checks/s and update->sendMessage latencies with `chats` chats asking in a closed loop."""
    async with running_fake(FakeTelegram()) as fake:
        config = TelegramConfig(token=TOKEN, base_url=f"{fake.url}/bot", rate_limit=False,
                                throttle_count=10**9, group_count=10**9, private_count=10**9)
        waiting: dict[int, asyncio.Future[Call]] = {}

        def answered(call: Call) -> None:
            if call.method == "sendMessage" and call.params.get("chat_id") in waiting:
                waiting.pop(call.params["chat_id"]).set_result(call)

        fake.observers.append(answered)
        stop, ready = asyncio.Event(), asyncio.Event()
        bot = asyncio.create_task(serve(build_application(core, config), config, stop, ready))
        await ready.wait()
        asker = fake.user(42, "Bench")
        groups = [fake.group(-1000 - n, f"group {n}") for n in range(chats)]
        todo = iter(queries)
        latencies: list[float] = []

        async def ask_in(group: dict[str, object]) -> None:
            for number, query in enumerate(todo):
                future = asyncio.get_running_loop().create_future()
                waiting[int(str(group["id"]))] = future
                began = time.perf_counter()
                await fake.send(group, asker, f"/check {query}")
                reply = await asyncio.wait_for(future, 30)
                assert reply.error is None and reply.text, reply
                if number >= warmup // chats:
                    latencies.append(reply.at - began)

        started = time.perf_counter()
        await asyncio.gather(*(ask_in(group) for group in groups))
        elapsed = time.perf_counter() - started
        stop.set()
        await bot
        assert not fake.problems, fake.problems
    return len(queries) / elapsed, latencies


def row(name: str, rate: float, latencies: list[float]) -> str:
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    return f"| {name:<44} | {rate:>9.0f} | {p50:>8.2f} | {p99:>8.2f} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=32)
    args = parser.parse_args()

    began = time.perf_counter()
    handles = synthetic_handles(args.accounts, seed=3, data=DATA)
    core = await Core.start(await registry_of(handles), frozenset())
    print(f"registry of {len(handles):,} accounts and its index built in "
          f"{time.perf_counter() - began:.1f} s")
    queries = queries_for(handles, args.checks)

    rows = [row("core.check alone (baseline, no Telegram)", *await core_alone(core, queries))]
    sequential = queries[: max(200, args.checks // 10)]
    rows.append(row("adapter + fake Bot API, 1 chat at a time",
                    *await through_telegram(core, sequential, 1, warmup=20)))
    rows.append(row(f"adapter + fake Bot API, {args.chats} chats at once",
                    *await through_telegram(core, queries, args.chats, warmup=args.chats * 3)))
    print(f"\n{args.checks} checks (/check of registered handles, typos, URLs); "
          "latency = update pushed -> sendMessage received\n")
    print(f"| {'path':<44} | {'checks/s':>9} | {'p50 ms':>8} | {'p99 ms':>8} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
    print("\n".join(rows))
    print("\ntarget: >= 300 checks/s through the adapter (10x Telegram's global send limit)")


if __name__ == "__main__":
    asyncio.run(main())
