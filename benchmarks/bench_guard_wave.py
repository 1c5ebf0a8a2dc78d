"""A join wave through the real Telegram adapter and the fake Bot API: 500 members join a guarded
group (60 of them as its admin), on a clock 60x faster than Telegram's (the group's 20 messages
a minute become 20 a second, on both sides; the fake answers 429 past them).

Side by side: the adapter as built (warnings gathered and packed, members' photos through the
bounded queue) and a baseline that sends one message per warning (no gathering, no packing).
Per variant, the median of several runs: messages sent, 429s, seconds from the first join to
the last warning (and what that is on Telegram's real clock), photos downloaded.

    .venv/bin/python benchmarks/bench_guard_wave.py               # 500 members, 3 runs
    .venv/bin/python benchmarks/bench_guard_wave.py --members 2000 --impostors 200
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from avatars import avatar, encoded
from fake_telegram import TOKEN, FakeTelegram, running_fake

from adapters.telegram.app import build_application
from adapters.telegram.config import TelegramConfig
from adapters.telegram.handlers import Services
from adapters.telegram.run import serve
from bot.core import Core
from knowledge.memory import MemoryRegistry

SCALE = 60  # the benchmark's clock runs this much faster than Telegram's
GROUP = -100500


async def wave(members: int, impostors: int, packed: bool) -> dict[str, float]:
    async with running_fake(FakeTelegram()) as fake:
        fake.flood = (20, 60 / SCALE)
        config = TelegramConfig(token=TOKEN, base_url=f"{fake.url}/bot", rate_limit=False,
                                poll_timeout=5, request_timeout=5, group_count=20,
                                group_seconds=60 / SCALE, photo_queue=100,
                                photo_rate=5.0 * SCALE, guard_gather=3.0 / SCALE)
        app = build_application(await Core.start(MemoryRegistry()), config)
        services: Services = app.bot_data["services"]
        if not packed:  # the baseline: every warning its own message, at once
            services.watch.warnings.limit, services.watch.warnings.gather = 1, 0.0
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(app, config, stop, ready))
        await ready.wait()
        group = fake.group(GROUP, "Readers")
        admin = fake.user(10, "Anna", "annapetrova") | {"last_name": "Petrova"}
        fake.join(group, admin, "administrator")
        fake.set_photo(admin, encoded(avatar(7)))
        fake.bot_is_admin(group)
        await fake.ask(group, admin, "/guard on")
        rng = random.Random(3)
        chosen = set(rng.sample(range(members), impostors))
        users = []
        for number in range(members):
            user: dict[str, Any] = fake.user(1000 + number, "Аnna" if number in chosen
                                             else f"Member{number}")
            user["last_name"] = "Petrova" if number in chosen else "Kim"
            if number % 5 == 0:
                fake.set_photo(user, encoded(avatar(5000 + number, 96)))
            users.append(user)
        downloads = fake.downloads
        started = time.perf_counter()
        for user in users:
            await fake.member_joins(group, user, service_message=False)
        blocks = 0
        while blocks < impostors:
            call = await fake.expect("sendMessage", chat_id=GROUP, timeout=600)
            blocks += len(call.text.split("\n\n")) if call.error is None else 0
        elapsed = time.perf_counter() - started
        sent = [c for c in fake.calls if c.method == "sendMessage" and c.error is None]
        stop.set()
        await task
        return {"messages": len(sent) - 1, "429s": fake.floods, "seconds": elapsed,
                "downloads": fake.downloads - downloads,
                "refused": services.watch.queue.refused}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--impostors", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"packed (as built)": [], "one per warning": []}
    for _ in range(args.runs):
        for name, packed in (("packed (as built)", True), ("one per warning", False)):
            results[name].append(await wave(args.members, args.impostors, packed))
    print(f"{args.members} joins, {args.impostors} impostors, group budget 20 messages/min "
          f"(clock x{SCALE}); medians of {args.runs} runs")
    print(f"{'variant':<20}{'messages':>10}{'429s':>6}{'to last warning':>18}"
          f"{'on Telegram':>14}{'photos':>8}{'refused':>9}")
    for name, runs in results.items():
        def median(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(run[key] for run in runs)

        print(f"{name:<20}{median('messages'):>10.0f}{median('429s'):>6.0f}"
              f"{median('seconds'):>16.2f} s{median('seconds') * SCALE / 60:>10.1f} min"
              f"{median('downloads'):>8.0f}{median('refused'):>9.0f}")
    packed, single = (statistics.median(r["seconds"] for r in runs) for runs in results.values())
    print(f"ratio: the last warning {single / packed:.1f}x sooner packed")


if __name__ == "__main__":
    asyncio.run(main())
