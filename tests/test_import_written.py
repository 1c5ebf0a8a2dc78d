"""An SQLite import asks the registry only about what may be there (knowledge/importing/
written.py): the set of keys it keeps is exact, and an import that reads only what the set
lets through writes what one asking about every ref and name writes, refusals and merges too."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select

from bot.model import AccountRef
from knowledge import importer
from knowledge.importer import import_rows
from knowledge.importing import written as written_module
from knowledge.importing.rows import ImportResult
from knowledge.importing.written import KeyRuns, Written
from knowledge.registry import SqlRegistry, open_registry
from knowledge.tables import accounts, changes, entities, entity_aliases, entity_identifiers
from knowledge.tables import evidence as evidence_table

Rows = list[tuple[int, dict[str, str]]]


def test_key_runs_hold_exactly_the_keys_added() -> None:
    chance = np.random.default_rng(12)
    runs, added = KeyRuns(), set[int]()
    for size in [0, 1, 3, 50, 7, 1_000, 1, 0, 400, 2_000, 5, 60]:
        keys = chance.integers(-(1 << 63), (1 << 63) - 1, size, dtype=np.int64)
        keys[: size // 4] = keys[size // 2 : size // 2 + size // 4]  # repeats in a batch
        if added and size:
            keys[-1] = next(iter(added))  # and a key added before
        runs.add(keys)
        added.update(keys.tolist())
        strangers = chance.integers(-(1 << 63), (1 << 63) - 1, 500, dtype=np.int64)
        probe = np.concatenate([np.array(sorted(added), dtype=np.int64), strangers])
        expected = [key in added for key in probe.tolist()]
        assert runs.holds(probe).tolist() == expected
    assert len(runs._runs) <= 5  # merged as they come: a lookup searches a few runs


def tangled_rows(count: int, seed: int) -> Rows:
    """Rows that meet each other across parts: a few hundred handles named again and again,
    entities shared by many accounts, identifiers and aliases, verdicts that clash."""
    chance = random.Random(seed)
    rows: Rows = []
    for line in range(2, count + 2):
        person = chance.randrange(40)
        row = {
            "platform": chance.choice(["x", "x", "instagram", "youtube"]),
            "handle": f"h{chance.randrange(300)}",
            "verdict": chance.choice(["official", "official", "affiliated", "parody"]),
            "entity": f"Person {person}",
            "source_url": f"https://example.org/{chance.randrange(500)}",
        }
        if row["verdict"] == "parody" and chance.random() < 0.5:
            row["entity"] = ""
        if row["entity"] and chance.random() < 0.2:
            row["entity_ids"] = f"wikidata:Q{person + chance.choice([0, 0, 0, 1])}"
        if row["entity"] and chance.random() < 0.1:
            row["aliases"] = f"P{person}; Someone {chance.randrange(5)}"
        rows.append((line, row))
    return rows


async def imported(path: Path, rows: Rows, read_at: int) -> tuple[ImportResult, list[Any]]:
    """rows imported into a registry that holds some accounts and entities already (in parts
    of 40 rows), with Written keeping sets of tables up to read_at rows; the result and every
    table's rows (the clock's times left out)."""
    registry: SqlRegistry = await open_registry(f"sqlite+aiosqlite:///{path}")
    try:
        await import_rows(registry, tangled_rows(30, seed=1), by="before")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(written_module, "READ_AT", read_at)
            patch.setattr(importer, "BATCH_ROWS", 40)
            result = await import_rows(registry, rows, by="bulk", skip_invalid=True)
        tables = []
        async with registry.engine.connect() as conn:
            for table, order in ((accounts, accounts.c.id), (entities, entities.c.id),
                                 (entity_aliases, entity_aliases.c.alias),
                                 (entity_identifiers, entity_identifiers.c.value),
                                 (evidence_table, evidence_table.c.id),
                                 (changes, changes.c.id)):
                shown = [c for c in table.c if c.name not in ("at", "reviewed_at")]
                found = await conn.execute(select(*shown).order_by(order))
                tables.append([tuple(_timeless(value) for value in row) for row in found])
        return result, tables
    finally:
        await registry.close()


def _timeless(value: object) -> object:
    """A change's state before it without the time it was reviewed at (the clock's)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "reviewed"}
    return value


async def test_an_import_reading_only_what_may_be_there_writes_what_one_reading_all_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    reads = Written.to_read

    def counted(
        self: Written, refs: list[AccountRef], names: Iterable[str]
    ) -> tuple[list[AccountRef], set[str]]:
        found = reads(self, refs, names)
        asked.append(len(found[0]))
        return found

    monkeypatch.setattr(Written, "to_read", counted)
    for seed in range(3):
        rows = tangled_rows(400, seed=10 + seed)
        asked.clear()
        kept = await imported(tmp_path / f"kept{seed}.db", rows, written_module.READ_AT)
        with_set = sum(asked)
        asked.clear()
        every = await imported(tmp_path / f"all{seed}.db", rows, -1)
        assert kept == every
        assert kept[0].problems and kept[0].written  # the rows did meet and clash
        assert 0 < with_set < sum(asked)  # fewer refs read, but not none: repeats are read


async def test_a_new_part_of_new_accounts_reads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = await open_registry(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    monkeypatch.setattr(importer, "BATCH_ROWS", 100)
    rows = [(n + 2, {"platform": "x", "handle": f"new{n}", "verdict": "official",
                     "entity": f"E{n // 2}"}) for n in range(300)]
    event.listen(registry.engine.sync_engine, "before_cursor_execute", seen)
    result = await import_rows(registry, rows, by="bulk")
    await registry.close()
    assert result.written == 300
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 4  # the sets' reads at the start, the newest change at the end
