"""The registry at scale (issue 12): for 100k, 1M and 10M official X accounts, in one run,
import, start, check per query, RSS and one-edit typo recall through the real command line, side
by side with a brute-force rapidfuzz Levenshtein scan of the same registry on the same queries.

Per size and database, in a temporary directory (XDG_CACHE_HOME, XDG_DATA_HOME and
XDG_CONFIG_HOME point into it, so runs never share a kept index or settings):

- import: `isofficial import` as a subprocess on generated CSV files of at most 2M rows each (the
  200 MB file limit), rows/s over all files and the largest peak RSS (the command's processes
  together, sampled every 50 ms: its building process holds the folded accounts);
- check: a fresh `isofficial check --json` fed QUERIES lines on stdin (a third registered
  handles, a third one-edit typos of valid handles, a third strangers: handles made like the
  registered ones, not registered): start = spawn to the
  first answer (Python start included); per query = (last answer - first answer) / (QUERIES - 1);
  peak RSS of that process; typo recall = typos whose lookalike_of names the handle they came
  from; medians of --runs processes;
- one at a time: another fresh `check --json` asked --latency lines one after another (write,
  wait for the answer): p50 and p99 of each answer's time, as an interactive script sees it;
- a fresh `isofficial check x.com/HANDLE` per run: wall seconds, Python start included;
- the scan: rapidfuzz.process.extract(Levenshtein, score_cutoff=2) over every handle, per query
  (the first --scan queries), and the speed-up = scan / check;
- PostgreSQL replica (tests/replica.py, as `isofficial run` builds the core): start it, stop it,
  register an account with `isofficial verdict` while it is down, start it again: time until it
  answers a one-edit typo of that account with the lookalike (caught up), and its start alone.

With several sizes, a last table puts each figure side by side as the registry grows. --data DIR
keeps the generated CSV files for later runs (10M rows take minutes to make).

The code measured is this tree's, or another checkout's (`--tree PATH`, e.g. a `git worktree add
/tmp/main main`: the "before" column), run with PYTHONPATH pointing at it, its bytecode written
first as an install's is (compile_tree).

    .venv/bin/python -m benchmarks.bench_scale --quick                       # 20k, a minute
    nice .venv/bin/python -m benchmarks.bench_scale --sizes 100000,1000000   # SQLite and PostgreSQL
    nice .venv/bin/python -m benchmarks.bench_scale --sizes 10000000 --db sqlite --data /tmp/scale
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from benchmarks.bench_import import _drop_postgres, _fresh_postgres
from benchmarks.bench_lookalike import DATA, synthetic_handles, typo_queries
from bot.model import IsOfficialError
from bot.platforms import normalize_handle

HERE = Path(__file__).resolve().parent.parent
FILE_ROWS = 2_000_000  # rows per CSV file: each stays under the import's 200 MB limit
# `isofficial` of the tree on PYTHONPATH; on exit it writes its own peak RSS (KB) to a file.
CLI = """import atexit, os, resource, sys
def peak(): open(os.environ["BENCH_RSS_FILE"], "w").write(str(resource.getrusage(0).ru_maxrss))
atexit.register(peak)
from isofficial.cli import main
sys.exit(main())
"""
CATCH_UP_HANDLE = "scalebenchnew"  # registered while the replica is down
TARGETS = {
    "start": "<= 1 s",
    "check": "<= 0.3 ms",
    "speed-up": ">= 250x",
    "rss": "<= 500 MB",
    "import": ">= 60k rows/s",
    "recall": ">= 0.99",
    "replica": "<= 1 s",
    "one-shot": "<= 1.5 s",
}


@dataclass(slots=True)
class Figures:
    """One size on one database, by one tree."""

    import_rate: float = 0.0
    import_rss: float = 0.0
    starts: list[float] = field(default_factory=list)
    per_query: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    index_mb: float = 0.0  # the kept index on disk (the cache directory)
    latencies: list[float] = field(default_factory=list)  # ms, one query at a time
    one_shot: list[float] = field(default_factory=list)  # s, `isofficial check x.com/...`
    replica_start: float | None = None
    replica_caught_up: float | None = None


# The registry and the queries


def write_files(handles: list[str], workdir: Path) -> list[Path]:
    """CSV files of official X accounts (an entity each, a source page per 1,000 accounts)."""
    files: list[Path] = []
    for start in range(0, len(handles), FILE_ROWS):
        path = workdir / f"registry-{start // FILE_ROWS:02d}.csv"
        with path.open("w", newline="", encoding="utf-8") as file:
            out = csv.writer(file)
            out.writerow(["entity", "platform", "handle", "verdict", "source_url"])
            for number in range(start, min(start + FILE_ROWS, len(handles))):
                roster = f"https://example.org/roster/{number // 1000}"
                out.writerow([f"Office {number}", "x", handles[number], "official", roster])
        files.append(path)
    return files


def registry_files(n: int, seed: int, folder: Path) -> tuple[list[str], list[Path]]:
    """The n handles and their CSV files, generated into folder/n-seed or read back from it."""
    here = folder / f"{n}-{seed}"
    listed = here / "handles.txt"
    if listed.exists():
        return listed.read_text().split("\n"), sorted(here.glob("registry-*.csv"))
    here.mkdir(parents=True, exist_ok=True)
    handles = synthetic_handles(n, seed, DATA)
    files = write_files(handles, here)
    listed.with_suffix(".tmp").write_text("\n".join(handles))
    listed.with_suffix(".tmp").rename(listed)  # last: a folder with the list is complete
    return handles, files


@dataclass(frozen=True, slots=True)
class Queries:
    lines: list[str]  # as fed to check, shuffled
    typo_of: dict[str, str]  # typo -> the handle it came from


def make_queries(handles: list[str], count: int, seed: int) -> Queries:
    rng = random.Random(seed + 2)
    third = count // 3
    exact = rng.sample(handles, third)
    typos = [(t, h) for t, h in typo_queries(handles, 2 * third, seed) if _valid(t)][:third]
    strangers = _strangers(set(handles), count - 2 * third, seed, rng)
    lines = [f"x:{h}" for h in (*exact, *(typo for typo, _ in typos), *strangers)]
    first, rest = lines[0], lines[1:]  # the first answer (start) is a registered handle
    rng.shuffle(rest)
    return Queries([first, *rest], dict(typos))


def _strangers(registered: set[str], count: int, seed: int, rng: random.Random) -> list[str]:
    """Handles made like the registered ones (the same generator, another seed), not registered."""
    made = 3 * count
    while True:
        others = [h for h in synthetic_handles(made, seed + 1, DATA) if h not in registered]
        if len(others) >= count:
            return rng.sample(others, count)
        made *= 4


def _valid(handle: str) -> bool:
    """A valid X handle (a one-edit typo of a 15-letter one may be 16 letters: not a handle)."""
    try:
        normalize_handle("x", handle)
    except IsOfficialError:
        return False
    return True


# Processes


def environment(tree: Path, home: Path, url: str) -> dict[str, str]:
    """A process of tree's code with its own data, cache and config directories."""
    return {
        **os.environ,
        "PYTHONPATH": str(tree),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "ISOFFICIAL_DATABASE_URL": url,
        "BENCH_RSS_FILE": str(home / "peak-rss"),
    }


def trees_of(specs: list[str]) -> list[tuple[str, Path]]:
    """The trees of --tree LABEL=PATH options (default: this checkout, as "now")."""
    return [(label, Path(path).resolve()) for label, _, path in
            (spec.partition("=") for spec in specs or [f"now={HERE}"])]


def compile_tree(tree: Path) -> None:
    """Write the tree's bytecode, as `pip install .` does for an installed copy: a source tree
    run with PYTHONDONTWRITEBYTECODE (set on these machines) compiles every module at every
    start, a tenth of a second or more that no installed isofficial pays."""
    packages = [str(tree / name) for name in ("bot", "knowledge", "isofficial", "adapters")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS MB, stderr) of one `isofficial` command: its processes' together
    (an import's building process holds the folded accounts), or its own when more."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CLI, *args], env=env, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    sampled: list[float] = []
    sampler = threading.Thread(target=_sample_tree_rss, args=(child, sampled))
    sampler.start()
    _, stderr = child.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if child.returncode:
        raise SystemExit(f"isofficial {' '.join(args)} failed:\n{stderr[-2000:]}")
    return seconds, max(_peak_rss(env), *sampled), stderr


def _sample_tree_rss(child: subprocess.Popen[str], peaks: list[float]) -> None:
    """The RSS (MB) of child and its children together, every 50 ms while it runs."""
    root = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            processes = [root, *root.children(recursive=True)]
            peaks.append(sum(p.memory_info().rss for p in processes) / 2**20)
        except psutil.Error:  # one ended between the listing and the reading
            pass
        time.sleep(0.05)


def _peak_rss(env: dict[str, str]) -> float:
    """The peak RSS (MB) the last child wrote on its way out (see CLI)."""
    return int(Path(env["BENCH_RSS_FILE"]).read_text()) / 1024


def import_files(files: list[Path], env: dict[str, str], home: Path, n: int) -> tuple[float, float]:
    """(rows/s over every file, largest peak RSS MB)."""
    seconds = rss = 0.0
    for path in files:
        took, peak, _ = run_cli(["import", str(path), "--by", "bench"], env, home)
        seconds += took
        rss = max(rss, peak)
    return n / seconds, rss


def check_run(
    queries: Queries, env: dict[str, str], home: Path
) -> tuple[float, float, float, float]:
    """(start s, per query ms, peak RSS MB, typo recall) of one `isofficial check --json`."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CLI, "check", "--json"], env=env, cwd=home,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(queries.lines[0] + "\n")
    child.stdin.flush()
    answers = [json.loads(child.stdout.readline())]
    first = time.perf_counter()

    def feed() -> None:
        assert child.stdin is not None
        child.stdin.write("".join(line + "\n" for line in queries.lines[1:]))
        child.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    last = first
    for line in child.stdout:
        answers.append(json.loads(line))
        last = time.perf_counter()
    writer.join()
    child.wait()
    peak = _peak_rss(env)
    found = sum(
        any(lk["handle"] == queries.typo_of[a["handle"]] for lk in a["lookalike_of"])
        for a in answers
        if a.get("handle") in queries.typo_of
    )
    if os.environ.get("BENCH_SCALE_MISSES"):
        missed = [a for a in answers if a.get("handle") in queries.typo_of and not any(
            lk["handle"] == queries.typo_of[a["handle"]] for lk in a["lookalike_of"])]
        for a in missed[:10]:
            print("  missed:", a["handle"], queries.typo_of[a["handle"]],
                  [lk["handle"] for lk in a["lookalike_of"]])
    per_query = (last - first) / (len(queries.lines) - 1) * 1000
    return first - started, per_query, peak, found / max(len(queries.typo_of), 1)


def latency_run(queries: Queries, env: dict[str, str], home: Path, count: int) -> list[float]:
    """ms per answer of a fresh `check --json` asked one line at a time (write, wait, read), as
    an interactive script asks: the first count queries after the start."""
    child = subprocess.Popen(
        [sys.executable, "-c", CLI, "check", "--json"], env=env, cwd=home,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    times = []
    for number, line in enumerate(queries.lines[: count + 1]):
        started = time.perf_counter()
        child.stdin.write(line + "\n")
        child.stdin.flush()
        json.loads(child.stdout.readline())
        if number:  # the first answer includes the start
            times.append((time.perf_counter() - started) * 1000)
    child.stdin.close()
    child.wait()
    return times


def one_shot_s(handle: str, env: dict[str, str], home: Path) -> float:
    """Wall seconds of `isofficial check x.com/HANDLE` as a fresh process, Python start included."""
    seconds, _, _ = run_cli(["check", f"x.com/{handle}"], env, home)
    return seconds


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def scan_ms(handles: list[str], queries: Queries, count: int) -> float:
    """Median ms of the brute-force scan per query, over the first count queries."""
    times = []
    for line in queries.lines[:count]:
        handle = line.partition(":")[2]
        started = time.perf_counter()
        process.extract(handle, handles, scorer=Levenshtein.distance, score_cutoff=2, limit=3)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class ReplicaProcess:
    """tests/replica.py of a tree: JSON lines in and out."""

    def __init__(self, tree: Path, env: dict[str, str], home: Path) -> None:
        self.child = subprocess.Popen(
            [sys.executable, str(tree / "tests" / "replica.py")], env=env, cwd=home,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.child.stdout is not None
        if json.loads(self.child.stdout.readline() or "{}") != {"ready": True}:
            raise SystemExit("the replica did not start")

    def ask(self, line: str) -> str:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(json.dumps({"id": 1, "line": line}) + "\n")
        self.child.stdin.flush()
        return str(json.loads(self.child.stdout.readline())["reply"])

    def close(self) -> None:
        assert self.child.stdin is not None
        self.child.stdin.close()
        self.child.wait()


def replica_catch_up(tree: Path, env: dict[str, str], home: Path) -> tuple[float, float]:
    """(start s, caught-up s) of a replica restarted after a verdict written while it was down."""
    first = ReplicaProcess(tree, env, home)  # builds its index (and keeps it, where the code does)
    first.ask("/check x:nobodyatall")
    first.close()
    run_cli(["verdict", f"x:{CATCH_UP_HANDLE}", "official", "--entity", "Scale Bench Newcomer",
             "--by", "bench"], env, home)
    typo = CATCH_UP_HANDLE[:-1] + "x"
    started = time.perf_counter()
    replica = ReplicaProcess(tree, env, home)
    ready = time.perf_counter() - started
    try:
        while CATCH_UP_HANDLE not in replica.ask(f"/check x:{typo}"):
            if time.perf_counter() - started > 300:
                raise SystemExit("the replica never saw the new account")
            time.sleep(0.05)
        return ready, time.perf_counter() - started
    finally:
        replica.close()


# One size


def measure(
    tree: Path, db: str, files: list[Path], n: int, queries: Queries, args: argparse.Namespace
) -> Figures:
    home = Path(tempfile.mkdtemp(prefix="isofficial-scale-", dir=args.workdir))
    pg_name = None
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{home / 'registry.sqlite3'}"
    else:
        url, pg_name = asyncio.run(_fresh_postgres())
    figures = Figures()
    try:
        env = environment(tree, home, url)
        figures.import_rate, figures.import_rss = import_files(files, env, home, n)
        figures.index_mb = _megabytes(home / "cache")
        print(f"  {db}: imported {n:,} at {figures.import_rate:,.0f} rows/s "
              f"({_megabytes(home):,.0f} MB on disk, {figures.index_mb:,.0f} MB kept index)",
              flush=True)
        for _ in range(args.runs):
            start, per_query, rss, recall = check_run(queries, env, home)
            figures.starts.append(start)
            figures.per_query.append(per_query)
            figures.rss.append(rss)
            figures.recall.append(recall)
            print(f"  {db}: start {start:.2f} s, {per_query:.3f} ms/query, {rss:,.0f} MB, "
                  f"recall {recall:.3f}", flush=True)
            figures.one_shot.append(one_shot_s(queries.lines[0].partition(":")[2], env, home))
        figures.latencies = latency_run(queries, env, home, args.latency)
        print(f"  {db}: one at a time p50 {_percentile(figures.latencies, 0.5):.3f} ms, p99 "
              f"{_percentile(figures.latencies, 0.99):.3f} ms; fresh check "
              f"{statistics.median(figures.one_shot):.2f} s wall", flush=True)
        if db == "postgresql":
            figures.replica_start, figures.replica_caught_up = replica_catch_up(tree, env, home)
    finally:
        if pg_name:
            asyncio.run(_drop_postgres(pg_name))
        shutil.rmtree(home, ignore_errors=True)
    return figures


def _megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def table(n: int, db: str, results: dict[str, Figures], scan: float) -> Iterator[str]:
    labels = list(results)
    yield f"\n{n:,} official X accounts, {db}, medians of the check runs\n"
    yield "| figure | " + " | ".join(labels) + " | target |"
    yield "| --- | " + " | ".join("---" for _ in labels) + " | --- |"

    def row(name: str, cells: list[str], target: str = "") -> str:
        return f"| {name} | " + " | ".join(cells) + f" | {target} |"

    every = results.values()
    yield row("import", [f"{f.import_rate:,.0f} rows/s" for f in every], TARGETS["import"])
    yield row("import peak RSS", [f"{f.import_rss:,.0f} MB" for f in every])
    yield row("start (fresh `check`, first answer)",
              [f"{statistics.median(f.starts):.2f} s" for f in every], TARGETS["start"])
    yield row("check, per query", [f"{statistics.median(f.per_query):.3f} ms" for f in every],
              TARGETS["check"])
    yield row("one query at a time, p50",
              [f"{_percentile(f.latencies, 0.5):.3f} ms" for f in every])
    yield row("one query at a time, p99",
              [f"{_percentile(f.latencies, 0.99):.3f} ms" for f in every])
    yield row("fresh `check x.com/...` (wall)",
              [f"{statistics.median(f.one_shot):.2f} s" for f in every], TARGETS["one-shot"])
    yield row("brute-force scan, per query", [f"{scan:.1f} ms" for _ in every], "(reference)")
    yield row("speed-up over the scan",
              [_times(scan / statistics.median(f.per_query)) for f in every],
              TARGETS["speed-up"])
    yield row("peak RSS (check)", [f"{statistics.median(f.rss):,.0f} MB" for f in every],
              TARGETS["rss"])
    yield row("one-edit typo recall", [f"{statistics.median(f.recall):.3f}" for f in every],
              TARGETS["recall"])
    if db == "postgresql":
        yield row("replica start", [_seconds(f.replica_start) for f in every])
        yield row("replica caught up (a verdict made while down)",
                  [_seconds(f.replica_caught_up) for f in every], TARGETS["replica"])


def growth(db: str, sizes: dict[int, tuple[float, Figures]]) -> Iterator[str]:
    """One tree's figures side by side as the registry grows: what each costs per size."""
    yield f"\nAs the registry grows ({db}, the last tree)\n"
    yield "| figure | " + " | ".join(f"{n:,}" for n in sizes) + " |"
    yield "| --- |" + " --- |" * len(sizes)
    rows: list[tuple[str, Callable[[float, Figures], str]]] = [
        ("import", lambda _, f: f"{f.import_rate:,.0f} rows/s"),
        ("kept index on disk", lambda _, f: f"{f.index_mb:,.0f} MB"),
        ("start", lambda _, f: f"{statistics.median(f.starts):.2f} s"),
        ("fresh `check x.com/...` (wall)", lambda _, f: f"{statistics.median(f.one_shot):.2f} s"),
        ("check, per query", lambda _, f: f"{statistics.median(f.per_query):.3f} ms"),
        ("one at a time, p50", lambda _, f: f"{_percentile(f.latencies, 0.5):.3f} ms"),
        ("one at a time, p99", lambda _, f: f"{_percentile(f.latencies, 0.99):.3f} ms"),
        ("peak RSS (check)", lambda _, f: f"{statistics.median(f.rss):,.0f} MB"),
        ("brute-force scan", lambda scan, _: f"{scan:.1f} ms"),
        ("speed-up", lambda scan, f: _times(scan / statistics.median(f.per_query))),
        ("typo recall", lambda _, f: f"{statistics.median(f.recall):.3f}"),
    ]
    for name, cell in rows:
        yield f"| {name} | " + " | ".join(cell(scan, f) for scan, f in sizes.values()) + " |"


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated account counts")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-max", type=int, default=1_000_000,
                        help="largest size also run on PostgreSQL")
    parser.add_argument("--runs", type=int, default=3, help="check processes per size")
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--scan", type=int, default=60, help="queries for the brute-force scan")
    parser.add_argument("--latency", type=int, default=500,
                        help="queries asked one at a time (p50, p99)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH",
                        help="source trees to measure (default: this one); columns side by side")
    parser.add_argument("--quick", action="store_true", help="20k accounts, 300 queries, 1 run")
    parser.add_argument("--data", type=Path, default=None,
                        help="keep the generated CSV files here and reuse them in later runs")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary files go")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.queries, args.runs, args.scan, args.latency = "20000", 300, 1, 20, 100
    trees = [(label, Path(path)) for label, _, path in (t.partition("=") for t in args.tree)]
    trees = trees or [("this tree", HERE)]
    for _, tree in trees:
        compile_tree(tree)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    grown: dict[str, dict[int, tuple[float, Figures]]] = {db: {} for db in dbs}
    for n in (int(size) for size in args.sizes.split(",")):
        data = Path(tempfile.mkdtemp(prefix="isofficial-scale-data-", dir=args.workdir))
        try:
            handles, files = registry_files(n, args.seed, args.data or data)
            queries = make_queries(handles, args.queries, args.seed)
            scan = scan_ms(handles, queries, args.scan)
            print(f"{n:,} accounts: {len(files)} CSV files, scan {scan:.1f} ms/query", flush=True)
            for db in dbs:
                if db == "postgresql" and n > args.postgres_max:
                    continue
                results = {
                    label: measure(tree, db, files, n, queries, args) for label, tree in trees
                }
                print("\n".join(table(n, db, results, scan)), flush=True)
                grown[db][n] = (scan, list(results.values())[-1])
        finally:
            shutil.rmtree(data, ignore_errors=True)
    for db, sizes in grown.items():
        if len(sizes) > 1:
            print("\n".join(growth(db, sizes)), flush=True)


if __name__ == "__main__":
    main()
