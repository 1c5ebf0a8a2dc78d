"""Where a new registry's import spends its CPU, trees side by side: each round, for each tree in
turn, `isofficial import` of one generated file of N official X accounts into a new directory.
Prints, per run and as medians per tree: the wall time, the CPU of the importing process's main
thread (the import's critical path: it reads, checks and plans every row), of the importing
process (its SQLite writer and pool threads too) and of the whole command (its building
process too). CPU figures vary less than wall time on a shared machine.

    nice .venv/bin/python -m benchmarks.bench_import_cpu --data /tmp/scale \\
        --tree "before=/tmp/before" --tree "now=." --rounds 3

A tree is a checkout (`git worktree add /tmp/before <commit>`), run with PYTHONPATH pointing at
it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_scale import compile_tree, environment, registry_files, trees_of

# `isofficial` of the tree on PYTHONPATH; on exit it writes its main thread's CPU and its own.
CLI = """import atexit, json, os, resource, sys, time
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {"main": time.thread_time(), "process": usage.ru_utime + usage.ru_stime}
    open(os.environ["BENCH_CPU_FILE"], "w").write(json.dumps(figures))
atexit.register(cpu)
from isofficial.cli import main
sys.exit(main())
"""
FIGURES = ("wall", "main", "process", "command")


def run_import(tree: Path, csv_file: Path, home: Path) -> dict[str, float]:
    """One import into a new registry under home: wall and CPU seconds (FIGURES)."""
    url = f"sqlite+aiosqlite:///{home}/registry.sqlite3"
    env = {**environment(tree, home, url), "BENCH_CPU_FILE": str(home / "cpu.json")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, "import", str(csv_file), "--by", "bench"],
                          env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"isofficial import failed:\n{done.stderr[-2000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and what it reaped
    command = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    inside = json.loads((home / "cpu.json").read_text())
    return {"wall": wall, "main": inside["main"], "process": inside["process"],
            "command": command}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="the registry's rows")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="where the CSV files are kept")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH")
    args = parser.parse_args()
    trees = trees_of(args.tree)
    work = Path(tempfile.mkdtemp(prefix="bench-import-cpu-"))
    try:
        _, (csv_file, *_) = registry_files(args.size, args.seed, args.data or work / "data")
        for _, tree in trees:
            compile_tree(tree)
        runs: dict[str, list[dict[str, float]]] = {label: [] for label, _ in trees}
        for round_number in range(1, args.rounds + 1):
            for label, tree in trees:
                home = work / f"{label}-{round_number}"
                figures = run_import(tree, csv_file, home)
                shutil.rmtree(home)
                runs[label].append(figures)
                shown = ", ".join(f"{name} {figures[name]:.2f} s" for name in FIGURES)
                print(f"  round {round_number}, {label}: {shown}", flush=True)
        print(f"\n{args.size:,} rows into a new SQLite registry, medians of {args.rounds} "
              "(seconds; CPU is user + system)\n")
        print("| figure | " + " | ".join(label for label, _ in trees) + " |")
        print("| --- |" + " --- |" * len(trees))
        names = {"wall": "wall", "main": "main thread CPU", "process": "importing process CPU",
                 "command": "whole command CPU"}
        for name in FIGURES:
            cells = [f"{statistics.median(r[name] for r in runs[label]):.2f}"
                     for label, _ in trees]
            print(f"| {names[name]} | " + " | ".join(cells) + " |")
        rates = [f"{args.size / statistics.median(r['wall'] for r in runs[label]):,.0f}"
                 for label, _ in trees]
        print("| rows/s (median wall) | " + " | ".join(rates) + " |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
