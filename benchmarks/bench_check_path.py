"""The check path: what `Core.check` costs when most queries name accounts with nothing to read.

A registry of synthetic official X accounts on SQLite (the handle generator of bench_lookalike,
imported with the importer), 3,000 queries: a third registered handles, a third one-edit
typos of them, a third strangers (realistic handles that are not registered). Each variant runs
in its own process on the same database and queries:

- `sets + cache`: this tree's Core.start (what is registered, mentioned, verified kept in
  memory; what registered accounts read cached, emptied before each run);
- `no sets`: this tree's core without them (every account read, one statement per check);
- `before`: another tree's code (`--tree NAME=PATH`, e.g. `git archive 3c505a7 | tar -x -C
  /tmp/before`), through its own Core.start.

Reported: start (presence sets included), statements per query (a SQLAlchemy event listener),
p50/p99 (median over --runs runs), and `isofficial check --json` fed the queries on stdin,
its start (one query) separated out.

    nice .venv/bin/python -m benchmarks.bench_check_path --n 100000 1000000 \\
        --tree "before (3c505a7)=/tmp/before"
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("exact", "typo", "stranger")


# --- the worker: one variant in its own process ------------------------------------------------


async def work(db: str, queries_file: str, variant: str, runs: int) -> dict[str, Any]:
    import resource

    from sqlalchemy import event

    from bot.core import Core
    from bot.model import Asker
    from knowledge.registry import open_registry

    asker = Asker("local", "bench")
    queries = json.loads(Path(queries_file).read_text())
    registry = await open_registry(db)
    started = time.perf_counter()
    core = await Core.start(registry)
    start = time.perf_counter() - started
    if variant == "no sets":
        core = Core(registry, core.index)
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(registry.engine.sync_engine, "before_cursor_execute", count)
    await core.check("x:warmup", asker)
    p50s: dict[str, list[float]] = {kind: [] for kind in ("all", *KINDS)}
    p99s: list[float] = []
    per_kind_statements = {kind: 0 for kind in KINDS}
    for _ in range(runs):
        presence = getattr(core, "presence", None)
        if presence is not None:
            presence.cache.clear()
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        statements[0] = 0
        for kind, text in queries:
            before = statements[0]
            began = time.perf_counter()
            await core.check(text, asker)
            times[kind].append((time.perf_counter() - began) * 1000)
            per_kind_statements[kind] += statements[0] - before
        every = [t for kind in KINDS for t in times[kind]]
        p50s["all"].append(statistics.median(every))
        p99s.append(statistics.quantiles(every, n=100)[98])
        for kind in KINDS:
            p50s[kind].append(statistics.median(times[kind]))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    presence_load = None
    if hasattr(core, "presence"):  # this tree: the sets' own share of the start, after the rest
        from bot.presence import Presence

        began = time.perf_counter()
        await Presence.load(registry)
        presence_load = time.perf_counter() - began
    await registry.close()
    counts = {kind: sum(1 for k, _ in queries if k == kind) * runs for kind in KINDS}
    return {
        "start": start,
        "presence_load": presence_load,
        "p50": {kind: statistics.median(values) for kind, values in p50s.items()},
        "p99": statistics.median(p99s),
        "statements": {k: per_kind_statements[k] / counts[k] for k in KINDS},
        "statements_all": sum(per_kind_statements.values()) / sum(counts.values()),
        "rss": rss,
    }


# --- the registry and the queries ---------------------------------------------------------------


def registry_file(n: int, seed: int, workdir: Path) -> tuple[str, list[str]]:
    """The SQLite registry of n accounts (imported once, kept in workdir) and its handles."""
    from benchmarks.bench_lookalike import DATA, synthetic_handles

    handles = synthetic_handles(n, seed, DATA)
    path = workdir / f"registry-{n}-{seed}.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    if not path.exists():
        asyncio.run(_import(url, handles, workdir / f"registry-{n}.csv"))
    return url, handles


async def _import(url: str, handles: list[str], source: Path) -> None:
    from knowledge.importer import import_rows, read_rows
    from knowledge.registry import open_registry

    with source.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["entity", "platform", "handle", "url", "verdict", "source_url"])
        for number, handle in enumerate(handles):
            out.writerow([f"Entity {number // 2}", "x", handle, f"https://x.com/{handle}",
                          "official", f"https://example.org/roster/{number // 1000}"])
    registry = await open_registry(url)
    started = time.perf_counter()
    result = await import_rows(registry, read_rows(source), by="bench")
    assert result.written == len(handles) and not result.problems, result
    print(f"imported {len(handles):,} accounts in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    await registry.close()
    source.unlink()


def make_queries(handles: list[str], count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, text): registered handles, one-edit typos of them, strangers, shuffled."""
    from benchmarks.bench_lookalike import DATA, synthetic_handles, typo_queries

    rng = random.Random(seed + 7)
    third = count // 3
    registered = set(handles)
    exact = [("exact", f"x:{h}") for h in rng.sample(handles, third)]
    valid = [t for t, _ in typo_queries(handles, 2 * third, seed) if len(t) <= 15]  # X's limit
    typos = [("typo", f"x:{t}") for t in valid[:third]]
    others = [h for h in synthetic_handles(len(handles) // 10 + 3 * third, seed + 1, DATA)
              if h not in registered]
    strangers = [("stranger", f"x:{h}") for h in rng.sample(others, count - 2 * third)]
    queries = exact + typos + strangers
    rng.shuffle(queries)
    return queries


# --- through the command line ----------------------------------------------------------------


def cli_seconds(db: str, lines: list[str], pythonpath: str) -> float:
    """Wall time of `isofficial check --json` fed lines on stdin."""
    env = {**os.environ, "ISOFFICIAL_DATABASE_URL": db, "PYTHONPATH": pythonpath}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "isofficial.cli", "check", "--json"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, cwd=pythonpath,
        check=False,
    )
    seconds = time.perf_counter() - began
    answered = done.stdout.count("\n")
    assert done.returncode == 0 and answered >= len(lines), done.stderr[-500:]
    return seconds


# --- the table -----------------------------------------------------------------------------


def run_worker(db: str, queries_file: str, variant: str, tree: str, runs: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": tree}  # the script's own folder holds no package
    done = subprocess.run(
        [sys.executable, __file__, "--worker", db, queries_file, variant, "--runs", str(runs)],
        capture_output=True, text=True, env=env, cwd=tree, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{variant} worker failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=None,
                        help="runs of `no sets` and the other trees (default: --runs); their "
                             "strangers scan every entity name, minutes a run at 1M")
    parser.add_argument("--no-sets", action=argparse.BooleanOptionalAction, default=True,
                        help="measure this tree without its sets too")
    parser.add_argument("--seed", type=int, default=39)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="also measure another tree's code (a previous version)")
    parser.add_argument("--no-cli", action="store_true", help="skip `isofficial check`")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--worker", nargs=3, metavar=("DB", "QUERIES", "VARIANT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(work(*args.worker, runs=args.runs))))
        return
    trees = [("sets + cache", str(ROOT))] + ([("no sets", str(ROOT))] if args.no_sets else [])
    trees += [(name, path) for name, _, path in (t.partition("=") for t in args.tree)]
    for n in args.n:
        measure(n, args, trees)


def measure(n: int, args: argparse.Namespace, trees: list[tuple[str, str]]) -> None:
    db, handles = registry_file(n, args.seed, args.workdir)
    queries = make_queries(handles, args.queries, args.seed)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(queries, file)
    results = {}
    baseline_runs = args.baseline_runs or args.runs
    for name, tree in trees:
        variant = "no sets" if name == "no sets" else "sets + cache"
        runs = args.runs if name == "sets + cache" else baseline_runs
        results[name] = run_worker(db, file.name, variant, tree, runs)
    print(f"\n{n:,} official X accounts (SQLite), {len(queries):,} checks "
          f"({', '.join(KINDS)}: a third each), medians of {args.runs} runs "
          f"({baseline_runs} for the baselines)\n")
    names = list(results)
    print("| measure | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))

    def row(label: str, cell: Any) -> None:
        print(f"| {label} | " + " | ".join(cell(results[name]) for name in names) + " |")

    row("start (index, presence sets)", lambda r: f"{r['start']:.2f} s")
    row("of which the presence sets", lambda r: "none" if r["presence_load"] is None
        else f"{r['presence_load']:.2f} s")
    row("statements per check", lambda r: f"{r['statements_all']:.2f}")
    for kind in KINDS:
        row(f"statements per check: {kind}", lambda r, k=kind: f"{r['statements'][k]:.2f}")
    row("check p50", lambda r: f"{r['p50']['all']:.3f} ms")
    row("check p99", lambda r: f"{r['p99']:.3f} ms")
    for kind in KINDS:
        row(f"check p50: {kind}", lambda r, k=kind: f"{r['p50'][k]:.3f} ms")
    base = results[names[-1]]["p50"]["all"]
    row(f"speed-up over {names[-1]} (p50)", lambda r: f"{base / r['p50']['all']:.1f}x")
    row("peak RSS", lambda r: f"{r['rss']:.0f} MB")
    if not args.no_cli:
        cli(db, queries, trees, args.runs, baseline_runs)
    os.unlink(file.name)


def cli(
    db: str, queries: list[tuple[str, str]], trees: list[tuple[str, str]], runs: int,
    baseline_runs: int,
) -> None:
    lines = [text for _, text in queries]
    print(f"\n`isofficial check --json`, the queries on stdin (median of {runs} runs, "
          f"{baseline_runs} for the baselines; start = the same command with one query)\n")
    print("| tree | start (one query) | 3,000 queries | per query after start |")
    print("| --- | --- | --- | --- |")
    for name, tree in trees:
        if name == "no sets":
            continue  # the command line always starts the core with its sets
        times = runs if name == "sets + cache" else baseline_runs
        start = statistics.median(cli_seconds(db, lines[:1], tree) for _ in range(times))
        whole = statistics.median(cli_seconds(db, lines, tree) for _ in range(times))
        per = (whole - start) / (len(lines) - 1) * 1000
        print(f"| {name} | {start:.2f} s | {whole:.2f} s | {per:.3f} ms |")


if __name__ == "__main__":
    main()
