"""Counts of several upstreams merged (the figures the README quotes): the three registry CSVs
imported in every order (rows refused, entities merged), then the native importers on the
upstreams' own files beside the CSVs (same accounts; people of both merged by identifier).

    .venv/bin/python -m benchmarks.upstream_counts
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from bot.model import AccountRef
from knowledge.importer import ImportResult, import_rows, read_rows
from knowledge.registry import open_registry
from knowledge.upstreams import Upstream, readers

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CSVS = ("congress", "openstates", "europarl")
CONGRESS_COMMIT = "dfa9622263dd4c8d08636926e498f1845704d7eb"  # as tests/data/LICENSES.md says
OPENSTATES_COMMIT = "934bf09a94a35351baf872c70e778a4367c8266e"


def reasons(result: ImportResult) -> str:
    kinds = Counter(
        "playlist/video" if "playlist" in p.reason or "watch" in p.reason
        else "RogerMarshallMD" if "rogermarshallmd" in p.reason
        else "other"
        for p in result.problems
    )
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"


async def csv_orders(work: Path) -> None:
    print("| order | refused rows (why) | entities merged | x:repadams |")
    print("| --- | --- | --- | --- |")
    for number, order in enumerate(itertools.permutations(CSVS)):
        registry = await open_registry(f"sqlite+aiosqlite:///{work / f'order{number}.sqlite3'}")
        refused, merged = [], 0
        for name in order:
            path = DATA / f"registry_{name}.csv"
            result = await import_rows(registry, read_rows(path), by=name, skip_invalid=True)
            refused.append(f"{name}: {reasons(result)}")
            merged += len(result.merges)
        ref = AccountRef("x", "repadams")
        record = (await registry.find([ref]))[ref]
        also = "; ".join(record.aliases)
        shown = f"{record.entity} (also {also}), {len(record.evidence)} sources"
        print(f"| {' → '.join(order)} | {'; '.join(refused)} | {merged} | {shown} |")
        await registry.close()


async def native(work: Path) -> None:
    registry = await open_registry(f"sqlite+aiosqlite:///{work / 'native.sqlite3'}")
    upstream = DATA / "upstream"
    print("\n| native import | rows written | refused (why) | merged by id | by shared accounts |")
    print("| --- | --- | --- | --- | --- |")
    for fmt, folder, commit in [
        ("congress-legislators", "congress-legislators", CONGRESS_COMMIT),
        ("openstates", "openstates-people", OPENSTATES_COMMIT),
    ]:
        rows = readers()[fmt](upstream / folder, Upstream(commit, date(2026, 7, 9)))
        result = await import_rows(registry, rows, by=fmt, skip_invalid=True)
        by_id = sum("(same " in m for m in result.merges)
        print(f"| {fmt} | {result.written} | {reasons(result)} | {by_id} "
              f"| {len(result.merges) - by_id} |")
    await registry.close()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="isofficial-counts-") as work:
        await csv_orders(Path(work))
        await native(Path(work))


if __name__ == "__main__":
    asyncio.run(main())
