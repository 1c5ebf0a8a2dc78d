"""`isofficial check` as a fresh process on a registry of N official X accounts (SQLite): wall
time with the kept lookalike index (kept by the import) against ISOFFICIAL_INDEX_FILE=off (the
index built from the registry on every start, as before issue 12); medians of --runs.

    nice .venv/bin/python benchmarks/bench_start.py --n 100000
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_lookalike import DATA, synthetic_handles

ISOFFICIAL = str(Path(sys.executable).with_name("isofficial"))
SOURCE = "https://example.org/registry"


def timed(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([ISOFFICIAL, *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--off-runs", type=int, default=1, help="runs without the kept index")
    args = parser.parse_args()
    handles = synthetic_handles(args.n, 39, DATA)
    typo = handles[len(handles) // 2][:-1] + "q"
    with tempfile.TemporaryDirectory(prefix="bench-start-") as folder:
        rows = Path(folder) / "registry.csv"
        with rows.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["entity", "platform", "handle", "verdict", "source_url"])
            writer.writerows([f"Entity {h}", "x", h, "official", SOURCE] for h in handles)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISOFFICIAL_")}
        env |= {"ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/registry.sqlite3",
                "ISOFFICIAL_INDEX_FILE": f"{folder}/index.bin", "ISOFFICIAL_LOG_LEVEL": "WARNING"}
        imported, _ = timed(env, "import", str(rows))
        kept = [timed(env, "check", "--json", f"x:{typo}") for _ in range(args.runs)]
        off = [timed(env | {"ISOFFICIAL_INDEX_FILE": "off"}, "check", "--json", f"x:{typo}")
               for _ in range(args.off_runs)]
        assert kept[0][1] == off[0][1], "the kept index answered otherwise than a fresh build"
        size = Path(folder, "index.bin").stat().st_size / 2**20
        bare = [timed(env, "--version")[0] for _ in range(args.runs)]  # Python start alone
    print(f"\n{args.n:,} official X accounts on SQLite; `isofficial check --json x:{typo}` as a "
          f"fresh process (Python start included); import with the index kept: {imported:.1f} s\n")
    print("| measure | kept index | ISOFFICIAL_INDEX_FILE=off (built at every start) |")
    print("| --- | --- | --- |")
    print(f"| check, wall | {statistics.median(t for t, _ in kept):.2f} s (median of {len(kept)}) "
          f"| {statistics.median(t for t, _ in off):.2f} s (median of {len(off)}) |")
    print(f"| `isofficial --version` (Python and imports only) | {statistics.median(bare):.2f} s "
          "| the same |")
    print(f"| kept file | {size:.0f} MB | none |")
    print(f"| same answer | {'yes' if kept[0][1] == off[0][1] else 'NO'} | |")


if __name__ == "__main__":
    main()
