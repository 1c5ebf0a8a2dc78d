"""An import into a registry whose lookalike index is kept (every import after the first),
through the real command line: one registry of N official X accounts is imported once per tree
and kept; then each round, for each tree in turn, a copy of it takes a second file of new
accounts (another seed's handles, none of the first file's, entities of their own). Prints the
wall time of each `isofficial import` and the peak RSS of its processes together, and the
median per tree.

    nice .venv/bin/python -m benchmarks.bench_import_into_kept --data /tmp/scale \\
        --tree "before=/tmp/before" --tree "now=." --rounds 2

The second files are a fifth of N rows and the rest of an N-row file (at 1M and seed 12:
200,000 and 942,235 rows). A tree is
a checkout (`git worktree add /tmp/before <commit>`), run with PYTHONPATH pointing at it.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import tempfile
from pathlib import Path

from benchmarks.bench_scale import (
    compile_tree,
    environment,
    registry_files,
    run_cli,
    trees_of,
)


def second_files(n: int, seed: int, folder: Path) -> list[Path]:
    """The second imports: another seed's handles not in the first file, each its own entity."""
    first, _ = registry_files(n, seed, folder)
    _, (source, *_) = registry_files(n, seed + 1, folder)
    taken = set(first)
    rest = folder / f"{n}-{seed}-second.csv"
    if not rest.exists():
        with source.open(newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
        kept = [[f"Second {row[0]}", *row[1:]] for row in rows[1:] if row[2] not in taken]
        small = folder / f"{n}-{seed}-second-small.csv"
        for path, count in ((rest, len(kept)), (small, n // 5)):
            with path.open("w", newline="", encoding="utf-8") as file:
                csv.writer(file).writerows([rows[0], *kept[:count]])
    return [folder / f"{n}-{seed}-second-small.csv", rest]


def rows_of(path: Path) -> int:
    with path.open(encoding="utf-8") as file:
        return sum(1 for _ in file) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="the kept registry's rows")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", type=Path, default=None, help="where the CSV files are kept")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=PATH")
    args = parser.parse_args()
    trees = trees_of(args.tree)
    work = Path(tempfile.mkdtemp(prefix="bench-into-kept-"))
    data = args.data or work / "data"
    try:
        _, (first, *_) = registry_files(args.size, args.seed, data)
        seconds = second_files(args.size, args.seed, data)
        for _, tree in trees:
            compile_tree(tree)
        home = work / "run"  # one path for every run: the kept index is named by the database's
        url = f"sqlite+aiosqlite:///{home}/registry.sqlite3"
        for label, tree in trees:  # each tree's own kept registry, by its own code
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir(parents=True)
            run_cli(["import", str(first), "--by", "bench"], environment(tree, home, url), tree)
            shutil.move(home, work / f"kept-{label}")
        found: dict[tuple[str, Path], list[tuple[float, float]]] = {}
        for round_ in range(1, args.rounds + 1):
            for label, tree in trees:
                for second in seconds:
                    shutil.rmtree(home, ignore_errors=True)
                    shutil.copytree(work / f"kept-{label}", home)
                    took, rss, _ = run_cli(["import", str(second), "--by", "bench"],
                                           environment(tree, home, url), tree)
                    found.setdefault((label, second), []).append((took, rss))
                    print(f"round {round_} {label} {rows_of(second):,} rows: {took:.2f} s, "
                          f"{rss:,.0f} MB", flush=True)
        print(f"\nimport into a kept {args.size:,}-account registry (medians of {args.rounds})")
        print("| new accounts | " + " | ".join(label for label, _ in trees) + " |")
        print("| --- |" + " --- |" * len(trees))
        for second in seconds:
            cells = []
            for label, _ in trees:
                runs = found[(label, second)]
                took = statistics.median(t for t, _ in runs)
                rss = statistics.median(r for _, r in runs)
                cells.append(f"{took:.2f} s, {rows_of(second) / took:,.0f} rows/s, {rss:,.0f} MB")
            print(f"| {rows_of(second):,} | " + " | ".join(cells) + " |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
