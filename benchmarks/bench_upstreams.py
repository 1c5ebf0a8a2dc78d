"""Native Wikidata import at scale: rows/s and peak memory as the dump grows (streaming: memory
stays flat), beside a reader that loads the whole file at once (json.load), on the same data.

Each measurement runs in its own process (peak RSS is per process). The dump is generated in
the JSON dumps' shape (`[`, one entity per line, `]`): every entity has an X account with its
numeric id; every second an Instagram account; every fifth a former X account (end time).

    .venv/bin/python -m benchmarks.bench_upstreams                   # 100k and 1M entities
    .venv/bin/python -m benchmarks.bench_upstreams --sizes 20000,100000   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_lookalike import peak_rss_mb

WHOLE_FILE_LIMIT = 200_000  # baselines beyond: json.load needs more memory than we share


def entity(n: int) -> dict[str, object]:
    def statement(prop: str, value: str, **qualifiers: Any) -> dict[str, object]:
        snak = {"snaktype": "value", "property": prop, "datatype": "external-id",
                "datavalue": {"value": value, "type": "string"}}
        return {"mainsnak": snak, "type": "statement", "rank": "normal",
                "id": f"Q{n}${prop}", "qualifiers": qualifiers}

    def numeric(value: str) -> list[dict[str, object]]:
        return [{"snaktype": "value", "property": "P6552",
                 "datavalue": {"value": value, "type": "string"}}]

    x = [statement("P2002", f"acct{n}x", P6552=numeric(str(10**9 + n)))]
    if n % 5 == 0:
        ended = [{"snaktype": "value", "property": "P582", "datavalue": {"type": "time", "value": {
            "time": "+2020-01-01T00:00:00Z", "precision": 11}}}]
        x.append(statement("P2002", f"acct{n}old", P582=ended))
    claims: dict[str, object] = {"P2002": x}
    if n % 2 == 0:
        claims["P2003"] = [statement("P2003", f"acct{n}.insta")]
    return {"type": "item", "id": f"Q{n}", "lastrevid": 2_000_000_000 + n,
            "modified": "2026-07-09T00:00:00Z",
            "labels": {"en": {"language": "en", "value": f"Bench Entity {n}"}},
            "aliases": {}, "claims": claims}


def accounts_per_entity(n: int) -> int:
    return 1 + (n % 5 == 0) + (n % 2 == 0)


def write_dump(path: Path, count: int) -> int:
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(1, count + 1):
            out.write(json.dumps(entity(n), separators=(",", ":")))
            out.write(",\n" if n < count else "\n")
            rows += accounts_per_entity(n)
        out.write("]\n")
    return rows


def child_native(dump: Path, database: Path) -> dict[str, float]:
    from knowledge.importer import import_rows
    from knowledge.registry import open_registry
    from knowledge.upstreams import Upstream
    from knowledge.upstreams.wikidata import rows

    async def run() -> dict[str, float]:
        registry = await open_registry(f"sqlite+aiosqlite:///{database}")
        start = time.perf_counter()
        result = await import_rows(registry, rows(dump, Upstream()), by="bench")
        seconds = time.perf_counter() - start
        count = await registry.count()
        await registry.close()
        assert not result.problems, result.problems[:3]
        return {"rows": result.written, "accounts": count, "seconds": seconds}

    return asyncio.run(run()) | {"peak_mb": peak_rss_mb()}


def child_csv(dump: Path, database: Path) -> dict[str, float]:
    """The same accounts as import rows in a CSV (written before the clock starts)."""
    import csv

    from knowledge.importer import COLUMNS, import_rows, read_rows
    from knowledge.registry import open_registry
    from knowledge.upstreams import Upstream
    from knowledge.upstreams.wikidata import rows

    table = dump.with_suffix(".csv")
    with table.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(row for _, row in rows(dump, Upstream()))

    async def run() -> dict[str, float]:
        registry = await open_registry(f"sqlite+aiosqlite:///{database}")
        start = time.perf_counter()
        result = await import_rows(registry, read_rows(table), by="bench")
        seconds = time.perf_counter() - start
        await registry.close()
        return {"rows": result.written, "seconds": seconds}

    try:
        return asyncio.run(run()) | {"peak_mb": peak_rss_mb()}
    finally:
        table.unlink()


def child_whole(dump: Path) -> dict[str, float]:
    start = time.perf_counter()
    with dump.open(encoding="utf-8") as stream:
        items = json.load(stream)
    seconds = time.perf_counter() - start
    return {"rows": len(items), "seconds": seconds, "peak_mb": peak_rss_mb()}


def in_process(mode: str, dump: Path, database: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_upstreams", "--child", mode, str(dump),
         str(database)],
        check=True, capture_output=True, text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DUMP", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, dump, database = args.child
        children = {
            "native": lambda: child_native(Path(dump), Path(database)),
            "csv": lambda: child_csv(Path(dump), Path(database)),
            "whole": lambda: child_whole(Path(dump)),
        }
        result = children[mode]()
        print(json.dumps(result))
        return
    work = Path(tempfile.mkdtemp(prefix="isofficial-bench-upstreams-"))
    print("| entities | dump MB | accounts | native import rows/s | seconds | peak RSS MB "
          "| CSV of the same rows: rows/s | json.load whole file: peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in (int(s) for s in args.sizes.split(",")):
        dump = work / f"dump-{size}.json"
        write_dump(dump, size)
        native = in_process("native", dump, work / f"registry-{size}.sqlite3")
        small = size <= WHOLE_FILE_LIMIT
        whole = f"{in_process('whole', dump, work / 'none')['peak_mb']:,.0f}" if small else "-"
        table = in_process("csv", dump, work / f"csv-{size}.sqlite3") if small else None
        csv_speed = f"{table['rows'] / table['seconds']:,.0f}" if table else "-"
        print(
            f"| {size:,} | {dump.stat().st_size / 1e6:,.0f} | {native['accounts']:,.0f} "
            f"| {native['rows'] / native['seconds']:,.0f} | {native['seconds']:,.1f} "
            f"| {native['peak_mb']:,.0f} | {csv_speed} | {whole} |",
            flush=True,
        )
        dump.unlink()
        for database in work.glob("*.sqlite3*"):
            database.unlink()


if __name__ == "__main__":
    main()
