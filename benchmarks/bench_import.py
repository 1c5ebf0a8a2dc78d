"""`isofficial import` speed: N generated rows (official X accounts with entities, sources, some
entity_ids and aliases) imported into a fresh SQLite file or PostgreSQL database, each run in its
own process; rows/s and peak RSS, medians of several runs, beside baseline source trees run on the
same file, runs interleaved (this tree, the baseline, this tree, ...) so that the machine's load
weighs on both alike. A baseline is another checkout (`--tree LABEL=PATH`) or a commit, checked
out for the run in a temporary `git worktree` (`--baseline main`).

The registry is opened as `isofficial import` opens it (starter data in), and rows/s is the
import's own: from the first row read to the commit. With --keep, the lookalike index is then
kept as the command keeps it (bot/kept.py), timed apart: "whole" is both, the command's work.

    .venv/bin/python -m benchmarks.bench_import --sizes 100000,1000000 --runs 3 --baseline main
    .venv/bin/python -m benchmarks.bench_import --sizes 1000000 --runs 1 --db sqlite --keep
    .venv/bin/python -m benchmarks.bench_import --csv /tmp/scale/100000-12/registry-00.csv

--csv imports a file of your own instead (bench_scale's, say): every row must be valid and
name another account.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "ISOFFICIAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
HEADER = ["entity", "platform", "handle", "url", "verdict", "source_url", "source_title"]
HEADER += ["entity_ids", "aliases"]

# One import in a fresh process, against whichever source tree PYTHONPATH puts first.
CHILD = """
import asyncio, json, resource, sys, time
from isofficial.bootstrap import keep_index, open_sql_registry
from isofficial.settings import Settings
from knowledge.importer import import_rows, read_rows

async def main(path, url, n, index):
    settings = Settings(database_url=url, index_file=index or "off")
    registry = await open_sql_registry(settings)
    started = time.perf_counter()
    result = await import_rows(registry, read_rows(path), by="bench")
    seconds = time.perf_counter() - started
    assert result.written == n and not result.problems, (result.written, result.problems[:3])
    imported_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if index:
        await keep_index(registry, settings)
    keep = time.perf_counter() - started
    await registry.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "keep": keep, "rss": imported_rss, "whole_rss": rss}))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


@dataclass(frozen=True)
class Run:
    """One import: rows/s to the commit, the keep's seconds, peak RSS to the commit and after."""

    rate: float
    seconds: float
    keep: float
    rss: float
    whole_rss: float


def write_csv(path: Path, n: int) -> None:
    """Two accounts per entity; one entity in four has a wikidata id, one in eight an alias;
    a source page per 500 accounts."""
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(HEADER)
        for number in range(n):
            person = number // 2
            handle = f"m{number:07d}_{'ab'[number % 2]}"
            out.writerow(
                [
                    f"Person {person}",
                    "x",
                    handle,
                    f"https://x.com/{handle}",
                    "official",
                    f"https://example.org/roster/{number // 500}",
                    f"Roster page {number // 500}",
                    f"wikidata:Q{person + 1000}" if person % 4 == 0 else "",
                    f"P. {person}" if person % 8 == 0 else "",
                ]
            )


async def _fresh_postgres() -> tuple[str, str]:
    url = make_url(POSTGRES)
    name = f"isofficial_bench_{uuid.uuid4().hex[:12]}"
    server = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    await server.execute(f'CREATE DATABASE "{name}"')
    await server.close()
    return url.set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres(name: str) -> None:
    url = make_url(POSTGRES)
    server = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await server.close()


def run_once(tree: Path, source: Path, db: str, n: int, workdir: Path, keep: bool) -> Run:
    """One import by the code in tree (and the keep of the index after it, with keep)."""
    name = None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / uuid.uuid4().hex}.sqlite3"
    else:
        url, name = asyncio.run(_fresh_postgres())
    try:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        index = str(workdir / f"{uuid.uuid4().hex}.index") if keep else ""
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(source), url, str(n), index],
            env=env, cwd=tree, capture_output=True, text=True,
        )
    finally:
        if name:
            asyncio.run(_drop_postgres(name))
        for leftover in [*workdir.glob("*.sqlite3*"), *workdir.glob("*.index*")]:
            leftover.unlink()
    if done.returncode:
        raise SystemExit(f"the import by {tree} failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = measured["seconds"]
    return Run(n / seconds, seconds, measured["keep"], measured["rss"], measured["whole_rss"])


def _checkout(commit: str, workdir: Path) -> Path:
    """A temporary worktree of commit (removed by _remove_checkout)."""
    tree = workdir / f"tree-{commit.replace('/', '_')}"
    subprocess.run(
        ["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), commit],
        check=True, capture_output=True,
    )
    return tree


def _remove_checkout(tree: Path) -> None:
    subprocess.run(
        ["git", "-C", str(HERE), "worktree", "remove", "--force", str(tree)], capture_output=True
    )


def rows_in(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as file:
        return sum(1 for record in csv.reader(file) if record) - 1  # the header


def measure(
    trees: list[tuple[str, Path]], db: str, source: Path, n: int, runs: int, workdir: Path,
    keep: bool,
) -> dict[str, list[Run]]:
    """Each tree's runs on one file (of n rows), interleaved."""
    measured: dict[str, list[Run]] = {label: [] for label, _ in trees}
    for _ in range(runs):
        for label, tree in trees:
            measured[label].append(run_once(tree, source, db, n, workdir, keep))
    return measured


def table(db: str, measured: dict[str, list[Run]], keep: bool) -> Iterator[str]:
    """One line per tree: medians, each run's rows/s, and this tree's speed-up over it."""
    ours = statistics.median(run.rate for run in next(iter(measured.values())))
    for label, runs in measured.items():
        rate = statistics.median(run.rate for run in runs)
        each = ", ".join(f"{run.rate:,.0f}" for run in runs)
        seconds = statistics.median(run.seconds for run in runs)
        rss = statistics.median(run.rss for run in runs)
        line = f"| {db} | {label} | {rate:,.0f} | {each} | {seconds:,.1f} s | {rss:,.0f} MB |"
        if keep:
            kept = statistics.median(run.keep for run in runs)
            whole = statistics.median(run.seconds + run.keep for run in runs)
            whole_rss = statistics.median(run.whole_rss for run in runs)
            line += f" {kept:,.1f} s | {whole:,.1f} s | {whole_rss:,.0f} MB |"
        yield line + f" {ours / rate:.2f}x |"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes", default="100000", help="rows in the file, comma-separated (100000,1000000)"
    )
    parser.add_argument(
        "--csv", type=Path, default=None, help="import this CSV file instead (--sizes ignored)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per tree and database")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--keep", action="store_true", help="then keep the lookalike index, timed apart"
    )
    parser.add_argument(
        "--tree", action="append", default=[], metavar="LABEL=PATH",
        help="another source tree to run on the same file (repeatable)",
    )
    parser.add_argument(
        "--baseline", action="append", default=[], metavar="COMMIT",
        help="a commit to run beside this tree, from a temporary git worktree (repeatable)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="isofficial-bench-import-"))
    trees = [("this tree", HERE)]
    trees += [(label, Path(path)) for label, _, path in (t.partition("=") for t in args.tree)]
    checkouts = [(commit, _checkout(commit, workdir)) for commit in args.baseline]
    trees += checkouts
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    try:
        for source in _sources(args.csv, args.sizes, workdir):
            n = rows_in(source)
            named = f" of {source}" if args.csv else ""
            print(f"\n{n:,} rows{named}, median of {args.runs} runs each (interleaved)\n")
            head = "| database | tree | rows/s to commit | runs | import | peak RSS |"
            head += " keep index | whole | peak RSS, whole |" if args.keep else ""
            print(head + " this tree's speed-up |")
            print("| --- " * head.count("|") + "|")
            for db in dbs:
                measured = measure(trees, db, source, n, args.runs, workdir, args.keep)
                for line in table(db, measured, args.keep):
                    print(line, flush=True)
    finally:
        for _, tree in checkouts:
            _remove_checkout(tree)
        shutil.rmtree(workdir, ignore_errors=True)


def _sources(given: Path | None, sizes: str, workdir: Path) -> Iterator[Path]:
    """The file given, or a generated file of each size."""
    if given is not None:
        yield given
        return
    for n in (int(size) for size in sizes.split(",")):
        source = workdir / f"rows-{n}.csv"
        write_csv(source, n)
        yield source


if __name__ == "__main__":
    main()
