"""Recall per class of lookalike (issue 9) on cases generated from the real registries in
tests/data, through the real core; beside it, a brute-force reference: rapidfuzz Levenshtein
<= 2 from the case-folded name to every protected handle (a scan, where one applies).

    .venv/bin/python -m benchmarks.bench_lookalike_classes              # 300 cases per class
    .venv/bin/python -m benchmarks.bench_lookalike_classes --per-class 50

The same cases run against older code: put its tree first on PYTHONPATH, e.g.
    git worktree add /tmp/base def6631
    PYTHONPATH=/tmp/base python benchmarks/bench_lookalike_classes.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lookalike_cases import cases, core_of, hit, officials


def brute_force(handles: list[str], written: str, target: str) -> bool:
    name = written.casefold().lstrip("@")
    found = process.extract(name, handles, scorer=Levenshtein.distance, score_cutoff=2, limit=5)
    return any(handle == target for handle, _, _ in found)


async def measure(per_class: int, seed: int) -> None:
    protected = officials()
    core = await core_of(protected)
    handles = [o.ref.handle for o in protected]
    total, found, strong, brute = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    started = time.perf_counter()
    for case in cases(protected, per_class, seed):
        total[case.kind] += 1
        try:
            any_hit, strong_hit = await hit(core, case)
        except Exception:  # older code may refuse a case outright: a miss
            any_hit = strong_hit = False
        found[case.kind] += any_hit
        strong[case.kind] += strong_hit
        brute[case.kind] += brute_force(handles, case.written, case.target.handle)
    elapsed = time.perf_counter() - started
    print(
        f"\n{len(protected):,} officials of tests/data/registry_*.csv, up to {per_class} cases "
        f"per class (seed {seed}), {elapsed:.1f} s\n"
    )
    print("| class | cases | recall | of which strong | brute-force Levenshtein <= 2 |")
    print("| --- | --- | --- | --- | --- |")
    for kind in total:
        n = total[kind]
        print(
            f"| {kind} | {n} | {found[kind] / n:.3f} | {strong[kind] / n:.3f} "
            f"| {brute[kind] / n:.3f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--per-class", type=int, default=300)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    asyncio.run(measure(args.per_class, args.seed))


if __name__ == "__main__":
    main()
