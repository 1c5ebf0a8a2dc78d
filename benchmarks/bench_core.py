"""The whole check path at registry scale: import rows/s into SQLite, index build, `Core.check`
latency on one-edit typos of registered handles, peak memory; the same typo queries answered by
a brute-force rapidfuzz scan of the registry, side by side.

    .venv/bin/python -m benchmarks.bench_core              # one million accounts
    .venv/bin/python -m benchmarks.bench_core --n 100000   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import tempfile
import time
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from benchmarks.bench_lookalike import (
    DATA,
    peak_rss_mb,
    percentile,
    synthetic_handles,
    typo_queries,
)
from bot.core import Core
from bot.model import AccountRef, Asker
from knowledge.importer import import_rows, read_rows
from knowledge.registry import open_registry

ASKER = Asker("local", "bench")
PLATFORM = "instagram"  # 30-character handles: a one-edit typo of a long handle stays valid


def write_csv(path: Path, handles: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["entity", "platform", "handle", "url", "verdict", "source_url"])
        for number, handle in enumerate(handles):
            out.writerow(
                [
                    f"Entity {number // 2}",
                    PLATFORM,
                    handle,
                    f"https://instagram.com/{handle}",
                    "official",
                    f"https://example.org/roster/{number // 1000}",
                ]
            )


async def measure(args: argparse.Namespace) -> None:
    handles = synthetic_handles(args.n, args.seed, args.data)
    queries = typo_queries(handles, args.queries, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="isofficial-bench-"))
    source = workdir / "registry.csv"
    write_csv(source, handles)
    registry = await open_registry(f"sqlite+aiosqlite:///{workdir / 'registry.sqlite3'}")

    started = time.perf_counter()
    result = await import_rows(registry, read_rows(source), by="bench")
    imported = time.perf_counter() - started
    assert result.written == args.n and not result.problems, result

    started = time.perf_counter()
    core = await Core.start(registry)
    await core.check(f"{PLATFORM}:warmup_query", ASKER)
    built = time.perf_counter() - started

    latencies: list[float] = []
    found = 0
    for typo, handle in queries:
        started = time.perf_counter()
        [answer] = await core.check(f"{PLATFORM}:{typo}", ASKER)
        latencies.append((time.perf_counter() - started) * 1000)
        found += any(lk.target.handle == handle.lower() for lk in answer.lookalike_of)

    matcher: list[float] = []  # the lookalike index alone: what the brute-force scan replaces
    for typo, _ in queries:
        ref = AccountRef(PLATFORM, typo.lower())
        started = time.perf_counter()
        core.index.find(ref, typo)
        matcher.append((time.perf_counter() - started) * 1000)

    keys = [handle.lower() for handle in handles]
    brute: list[float] = []
    for typo, _ in queries[: args.brute]:
        started = time.perf_counter()
        process.extract(typo.lower(), keys, scorer=Levenshtein.distance, score_cutoff=2, limit=3)
        brute.append((time.perf_counter() - started) * 1000)
    await registry.close()

    p50, brute_p50 = statistics.median(latencies), statistics.median(brute)
    match_p50 = statistics.median(matcher)
    print(
        f"\n{args.n:,} official accounts (SQLite), {len(queries)} one-edit typo checks "
        f"(brute force: first {len(brute)})\n"
    )
    print("| measure | isofficial | brute-force rapidfuzz scan |")
    print("| --- | --- | --- |")
    print(f"| import | {args.n / imported:,.0f} rows/s ({imported:.1f} s) | |")
    print(f"| start (read registry, build index) | {built:.1f} s | |")
    print(f"| check p50 | {p50:.3f} ms | {brute_p50:.1f} ms |")
    print(f"| check p99 | {percentile(latencies, 99):.3f} ms | {percentile(brute, 99):.1f} ms |")
    print(f"| lookalike search alone p50 | {match_p50:.3f} ms | {brute_p50:.1f} ms |")
    print(f"| lookalike search alone p99 | {percentile(matcher, 99):.3f} ms | |")
    print(f"| one-edit typos found | {found / len(queries):.3f} | |")
    print(f"| speed-up, whole check (p50) | {brute_p50 / p50:.0f}x | 1x |")
    print(f"| speed-up, lookalike search (p50) | {brute_p50 / match_p50:.0f}x | 1x |")
    print(f"| peak RSS (whole process) | {peak_rss_mb():.0f} MB | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="registered official accounts")
    parser.add_argument("--queries", type=int, default=2000, help="one-edit typo checks")
    parser.add_argument("--brute", type=int, default=20, help="queries for the brute-force scan")
    parser.add_argument("--seed", type=int, default=39)
    parser.add_argument("--data", type=Path, default=DATA)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
