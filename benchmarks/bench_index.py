"""The kept lookalike index at registry scale: start from the kept file against a fresh build,
the file's save time and size, RSS after start, find() latency and one-edit typo recall, side by
side with a brute-force rapidfuzz scan; and the catch-up rates, one by one and as a batch.

    nice .venv/bin/python benchmarks/bench_index.py                 # 100k and 1M handles
    nice .venv/bin/python benchmarks/bench_index.py --n 50000       # quick

Loads run in fresh processes (as `isofficial check` would), medians of --runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_lookalike import (
    DATA,
    PLATFORM,
    peak_rss_mb,
    percentile,
    synthetic_handles,
    typo_queries,
)
from bot.kept import from_kept, kept_arrays
from bot.lookalike import LookalikeIndex
from bot.model import AccountRecord, AccountRef, Status
from bot.ports import KeptArrays
from knowledge.index_file import IndexFile

URL = "bench://index"
HERE = Path(__file__).resolve().parents[1]
PARTS = 5
MORE = 100_000  # rows of the import into the full registry
CATCH_UP = 5_000  # accounts re-added to time a catch-up


def finds(index: LookalikeIndex, queries: list[tuple[str, str]]) -> dict[str, float]:
    latencies, found = [], 0
    for typo, handle in queries:
        started = time.perf_counter()
        result = index.find(AccountRef(PLATFORM, typo))
        latencies.append((time.perf_counter() - started) * 1000)
        found += any(lk.target.handle == handle for lk in result)
    return {"p50": statistics.median(latencies), "p99": percentile(latencies, 99),
            "recall": found / len(queries)}


def child(path: Path, queries_file: Path) -> None:
    """A fresh process: load the kept file, report the time and RSS, then the finds."""
    started = time.perf_counter()
    kept = IndexFile(path, URL).load()
    assert kept is not None, "the kept file did not load"
    index = from_kept(kept.arrays)[0]
    load = time.perf_counter() - started
    rss = psutil.Process().memory_info().rss / 2**20
    queries = [tuple(q) for q in json.loads(queries_file.read_text())]
    result = {"load": load, "rss": rss, **finds(index, queries)}  # type: ignore[arg-type]
    result["rss_after_finds"] = psutil.Process().memory_info().rss / 2**20
    print(json.dumps(result))


def loaded(path: Path, queries_file: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(queries_file)],
        capture_output=True, text=True, check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def bench(n: int, args: argparse.Namespace, folder: Path) -> None:
    handles = synthetic_handles(n, args.seed, args.data)
    queries = typo_queries(handles, args.queries, args.seed)
    queries_file = folder / "queries.json"
    queries_file.write_text(json.dumps(queries))
    rows = [(AccountRef(PLATFORM, h), h, None) for h in handles]

    started = time.perf_counter()
    index = LookalikeIndex.built(rows)
    build = time.perf_counter() - started
    build_rss = peak_rss_mb()
    fresh = finds(index, queries)

    kept = IndexFile(folder / f"index-{n}.bin", URL)
    saves = []
    for _ in range(args.runs):
        started = time.perf_counter()
        kept.save(KeptArrays(kept_arrays(index, None), 1, "bench", "bench"))
        saves.append(time.perf_counter() - started)
    size = kept.path.stat().st_size / 2**20
    runs = [loaded(kept.path, queries_file) for _ in range(args.runs)]

    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    started = time.perf_counter()
    for handle in handles[:CATCH_UP]:  # as a catch-up does: each account indexed again
        index.add(AccountRef(PLATFORM, handle), handle + " (renamed)")
    index.find(AccountRef(PLATFORM, "warmup"))
    catch_up = CATCH_UP / (time.perf_counter() - started)
    batch = [(ref, AccountRecord(ref, Status.OFFICIAL, f"{ref.handle} (bulk)", ref.handle))
             for ref in (AccountRef(PLATFORM, h) for h in handles[: n // 10])]
    started = time.perf_counter()
    index.update_all(batch)  # as a start after an import does: a tenth of the index changed
    bulk = len(batch) / (time.perf_counter() - started)

    brute: list[float] = []
    brute_found = 0
    for typo, handle in queries[: args.brute]:
        started = time.perf_counter()
        hits = process.extract(typo, handles, scorer=Levenshtein.distance, score_cutoff=2, limit=3)
        brute.append((time.perf_counter() - started) * 1000)
        brute_found += any(hit[0] == handle for hit in hits)
    brute_p50 = statistics.median(brute)

    print(f"\n{n:,} protected handles, {len(queries)} one-edit typos (brute force: first "
          f"{len(brute)}); medians of {args.runs} runs\n")
    print("| measure | kept index (fresh process) | fresh build | brute-force rapidfuzz scan |")
    print("| --- | --- | --- | --- |")
    print(f"| start: load the file / build | {median('load'):.3f} s | {build:.1f} s "
          f"({n / build:,.0f} accounts/s) | none |")
    print(f"| kept file | {size:.0f} MB, saved in {statistics.median(saves):.2f} s | | |")
    print(f"| RSS after start | {median('rss'):.0f} MB (after the finds "
          f"{median('rss_after_finds'):.0f} MB) | peak {build_rss:.0f} MB (handle list included) "
          f"| the handle list |")
    print(f"| find() p50 | {median('p50'):.3f} ms | {fresh['p50']:.3f} ms | {brute_p50:.1f} ms |")
    print(f"| find() p99 | {median('p99'):.3f} ms | {fresh['p99']:.3f} ms "
          f"| {percentile(brute, 99):.1f} ms |")
    print(f"| one-edit typo recall | {median('recall'):.3f} | {fresh['recall']:.3f} "
          f"| {brute_found / max(len(brute), 1):.3f} |")
    print(f"| speed-up over the scan (p50) | {brute_p50 / median('p50'):.0f}x "
          f"| {brute_p50 / fresh['p50']:.0f}x | 1x |")
    print(f"\ncatch-up (registry reads aside; --imports measures them): {catch_up:,.0f} "
          f"accounts/s one by one (a live core's reloads), {bulk:,.0f} accounts/s as a batch "
          f"(a tenth of the index, LookalikeIndex.update_all), against {n / build:,.0f} "
          f"accounts/s in a full build.")


# One keep in a fresh process, by whichever source tree PYTHONPATH puts first.
KEEP = """
import asyncio, json, logging, resource, sys, time
from isofficial.bootstrap import keep_index
from isofficial.settings import Settings
from knowledge.registry import open_registry

async def main(url, index):
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    registry = await open_registry(url)
    started = time.perf_counter()
    await keep_index(registry, Settings(database_url=url, index_file=index))
    seconds = time.perf_counter() - started
    await registry.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"keep": seconds, "rss": rss}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def import_files(source: Path, folder: Path) -> list[tuple[str, Path]]:
    """The source's rows as PARTS files, then MORE new rows (handles reversed, unseen ones)."""
    with source.open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    at = header.index("handle")
    size = -(-len(rows) // PARTS)
    seen = {row[at] for row in rows}
    more = []
    for row in rows:
        handle = row[at][::-1]
        if handle not in seen and len(more) < MORE:
            seen.add(handle)
            more.append([*row[:at], handle, *row[at + 1 :]])
    files = [(f"{i + 1}/{PARTS} of {len(rows):,}", rows[i * size : (i + 1) * size])
             for i in range(PARTS)]
    files.append((f"{len(more):,} more", more))
    found = []
    for number, (label, part) in enumerate(files):
        path = folder / f"part-{number}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([header, *part])
        found.append((label, path))
    return found


def keep_once(tree: Path, url: str, index: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", KEEP, url, str(index)], env=env, cwd=tree,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the keep by {tree} failed:\n{done.stderr[-2000:]}")
    result = dict(json.loads(done.stdout.splitlines()[-1]))
    result["how"] = "rebuilt" if "rebuilding" in done.stderr or "no kept" in done.stderr else (
        "caught up")
    return result


def imports(args: argparse.Namespace, folder: Path) -> None:
    trees = [("this tree", HERE), *((name, Path(path)) for name, _, path in
                                   (t.partition("=") for t in args.tree))]
    url = f"sqlite+aiosqlite:///{folder / 'registry.sqlite3'}"
    env = {**os.environ, "ISOFFICIAL_DATABASE_URL": url, "ISOFFICIAL_INDEX_FILE": "off"}
    print(f"\nkeep after each import into one SQLite registry ({args.imports}); medians of "
          f"{args.runs} keeps in fresh processes\n")
    print("| import | " + " | ".join(f"{name}: keep (runs), how, RSS" for name, _ in trees)
          + " | speed-up |")
    print("| --- |" + " --- |" * (len(trees) + 1))
    for label, path in import_files(args.imports, folder):
        subprocess.run([sys.executable, "-m", "isofficial.cli", "import", str(path)], env=env,
                       cwd=HERE, check=True, capture_output=True)
        measured: dict[int, list[dict[str, object]]] = {i: [] for i in range(len(trees))}
        for run in range(args.runs):  # interleaved, the order turned each run: the same load
            for number in list(range(len(trees)))[:: -1 if run % 2 else 1]:
                kept = folder / f"index-{number}.bin"
                scratch = folder / f"scratch-{number}.bin"
                scratch.unlink(missing_ok=True)
                if kept.exists():
                    shutil.copy(kept, scratch)
                measured[number].append(keep_once(trees[number][1], url, scratch))
        cells, seconds = [], []
        for number, runs in measured.items():
            (folder / f"scratch-{number}.bin").replace(folder / f"index-{number}.bin")
            keep = statistics.median(float(str(run["keep"])) for run in runs)
            rss = statistics.median(float(str(run["rss"])) for run in runs)
            seconds.append(keep)
            each = ", ".join(f"{float(str(run['keep'])):.1f}" for run in runs)
            cells.append(f"{keep:.1f} s ({each}), {runs[-1]['how']}, {rss:,.0f} MB")
        baseline = seconds[1] if len(seconds) > 1 else seconds[0]
        print(f"| {label} | {' | '.join(cells)} | {baseline / seconds[0]:.1f}x |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--brute", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=39)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--imports", type=Path, help="a CSV: the keep after imports of it")
    parser.add_argument("--scratch", type=Path, help="with --imports: the folder for the work")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="with --imports: another tree's keep too (a previous version)")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.imports:
        with tempfile.TemporaryDirectory(prefix="bench-index-", dir=args.scratch) as folder:
            imports(args, Path(folder))
        return
    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        for n in args.n:
            bench(n, args, Path(folder))


if __name__ == "__main__":
    main()
