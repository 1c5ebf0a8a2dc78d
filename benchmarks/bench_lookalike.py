"""Lookalike index at registry scale: build time, memory, find() latency and typo recall,
side by side with a brute-force rapidfuzz scan of every protected handle.

    .venv/bin/python benchmarks/bench_lookalike.py            # one million handles
    .venv/bin/python benchmarks/bench_lookalike.py --n 50000  # quick
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import resource
import statistics
import string
import time
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.lookalike import LookalikeIndex
from bot.model import AccountRef

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
PLATFORM = "x"
LETTERS = string.ascii_lowercase + string.digits


def vocabulary(data: Path) -> tuple[list[str], list[str]]:
    """Real name parts (from entities) and words (from handles) of the registry files."""
    names: set[str] = set()
    words: set[str] = set()
    for path in sorted(data.glob("registry_*.csv")):
        if path.stem.endswith("_meta"):
            continue
        with path.open(newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                names.update(p for p in re.findall(r"[a-z]+", row["entity"].lower()) if len(p) > 1)
                words.update(w for w in re.findall(r"[a-z]{3,}", row["handle"].lower()))
    return sorted(names), sorted(words)


def synthetic_handles(n: int, seed: int, data: Path) -> list[str]:
    """n distinct realistic handles: names and words with separators and digits."""
    names, words = vocabulary(data)
    rng = random.Random(seed)
    shapes: list[Callable[[], str]] = [
        lambda: rng.choice(names) + rng.choice(names),
        lambda: f"{rng.choice(names)}_{rng.choice(names)}",
        lambda: rng.choice(names) + rng.choice(names) + str(rng.randrange(100)),
        lambda: rng.choice(("rep", "sen", "gov", "mayor", "team")) + rng.choice(names),
        lambda: rng.choice(words) + rng.choice(names),
        lambda: rng.choice(names) + rng.choice(words) + str(rng.randrange(2030)),
        lambda: f"{rng.choice(words)}_{rng.choice(words)}",
    ]
    handles: set[str] = set()
    while len(handles) < n:
        handle = rng.choice(shapes)()[:15]
        if len(handle) >= 4:
            handles.add(handle)
    return sorted(handles)


def one_edit(handle: str, rng: random.Random) -> str:
    """A random substitution, insertion, deletion or transposition."""
    i = rng.randrange(len(handle))
    kind = rng.choice(("sub", "ins", "del", "swap"))
    if kind == "sub":
        return handle[:i] + rng.choice(LETTERS.replace(handle[i], "")) + handle[i + 1 :]
    if kind == "ins":
        return handle[:i] + rng.choice(LETTERS) + handle[i:]
    if kind == "del":
        return handle[:i] + handle[i + 1 :]
    i = min(i, len(handle) - 2)
    return handle[:i] + handle[i + 1] + handle[i] + handle[i + 2 :]


def typo_queries(handles: list[str], count: int, seed: int) -> list[tuple[str, str]]:
    """(typo, handle it came from) for handles of length >= 6; typos that are registered skipped."""
    rng = random.Random(seed + 1)
    registered = set(handles)
    long_ones = [h for h in handles if len(h) >= 6]
    queries: list[tuple[str, str]] = []
    while len(queries) < count:
        handle = rng.choice(long_ones)
        typo = one_edit(handle, rng)
        if typo not in registered and typo != handle:
            queries.append((typo, handle))
    return queries


def index_bytes(index: LookalikeIndex) -> int:
    """The index's hash arrays (also for the code before issue 9, which kept one set of them
    per platform and one for plain handles)."""
    if hasattr(index, "nbytes"):
        return int(index.nbytes())
    maps = [m for p in vars(index)["_platforms"].values() for m in (p.exact, p.deletions)]
    maps.append(vars(index)["_handles"])
    return sum(int(m._hashes.nbytes + m._ids.nbytes) + 12 * len(m._new_hashes) for m in maps)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="protected handles")
    parser.add_argument("--queries", type=int, default=2000, help="one-edit typo queries")
    parser.add_argument("--brute", type=int, default=30, help="queries for the brute-force scan")
    parser.add_argument("--seed", type=int, default=39)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    handles = synthetic_handles(args.n, args.seed, args.data)
    queries = typo_queries(handles, args.queries, args.seed)
    rss_before = peak_rss_mb()

    started = time.perf_counter()
    if hasattr(LookalikeIndex, "built"):  # one build, each hash array sorted once
        index = LookalikeIndex.built((AccountRef(PLATFORM, h), h, None) for h in handles)
    else:  # the code before the kept index (issue 12): one add per account
        index = LookalikeIndex()
        for handle in handles:
            index.add(AccountRef(PLATFORM, handle), handle)
    index.find(AccountRef(PLATFORM, "warmup"))  # sorts the freshly added hashes in
    build = time.perf_counter() - started

    latencies: list[float] = []
    found = 0
    for typo, handle in queries:
        started = time.perf_counter()
        result = index.find(AccountRef(PLATFORM, typo))
        latencies.append((time.perf_counter() - started) * 1000)
        found += any(lk.target.handle == handle for lk in result)

    brute: list[float] = []
    brute_found = 0
    for typo, handle in queries[: args.brute]:
        started = time.perf_counter()
        hits = process.extract(typo, handles, scorer=Levenshtein.distance, score_cutoff=2, limit=3)
        brute.append((time.perf_counter() - started) * 1000)
        brute_found += any(hit[0] == handle for hit in hits)

    p50, brute_p50 = statistics.median(latencies), statistics.median(brute)
    print(
        f"\n{args.n:,} protected handles on one platform, {len(queries)} one-edit typos "
        f"(brute force: first {len(brute)})\n"
    )
    print("| measure | index | brute-force rapidfuzz scan |")
    print("| --- | --- | --- |")
    print(f"| build | {build:.1f} s ({args.n / build:,.0f} accounts/s) | none |")
    print(
        f"| peak RSS (process) | {peak_rss_mb():.0f} MB (handles alone {rss_before:.0f} MB) |"
        f" same list |"
    )
    print(f"| index hash arrays | {index_bytes(index) / 2**20:.0f} MB | none |")
    print(f"| find() p50 | {p50:.3f} ms | {brute_p50:.1f} ms |")
    print(f"| find() p99 | {percentile(latencies, 99):.3f} ms | {percentile(brute, 99):.1f} ms |")
    print(
        f"| one-edit typo recall | {found / len(queries):.3f} | "
        f"{brute_found / max(len(brute), 1):.3f} |"
    )
    print(f"| speed-up (p50) | {brute_p50 / p50:.0f}x | 1x |")


if __name__ == "__main__":
    main()
