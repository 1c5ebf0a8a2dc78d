"""Starter-data updates reaching an existing install: an account the starter data made and
nobody changed since takes the shipped version; one a moderator changed is left as it is."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRef
from knowledge.database import writing
from knowledge.importer import import_rows
from knowledge.importing.plan import first_source, plan_rows
from knowledge.importing.rows import Planned
from knowledge.notify import announce
from knowledge.registry import (
    SqlRegistry,
    change_values,
    evidence_json,
    find_in,
    snapshot_of,
    store,
)
from knowledge.tables import changes


async def update_starter(
    registry: SqlRegistry, rows: Iterable[tuple[int, dict[str, str]]], by: str
) -> int:
    """Bring the starter data's own accounts up to the shipped rows; returns accounts changed."""
    plan = plan_rows(rows)
    if plan.problems:  # shipped data must be valid: fail loudly in tests, not silently
        raise RuntimeError(f"starter data: {plan.problems[0]}")
    changed: list[AccountRef] = []
    async with writing(registry.engine) as conn:
        untouched = await _only_by(conn, list(plan.accounts), by)
        records = await find_in(conn, list(plan.accounts))
        new = [a for ref, a in plan.accounts.items() if ref not in records and ref in untouched]
        for ref, account in plan.accounts.items():
            record = records.get(ref)
            if record is None or ref not in untouched:
                continue
            before = snapshot_of(record)
            after = _shipped(account, before)
            if _same(before, after):
                continue
            await store(conn, ref, after)
            values = change_values(ref, by, before, after, "starter data update",
                                   first_source(account))
            await conn.execute(insert(changes).values(values))
            changed.append(ref)
        await announce(conn, changed)
    if new:  # accounts the shipped data gained (and nobody removed since)
        result = await import_rows(registry, _rows_of(new), by=by)
        changed += [a.ref for a in new] if result.written else []
    return len(changed)


async def _only_by(conn: AsyncConnection, refs: list[AccountRef], by: str) -> set[AccountRef]:
    """The refs whose every change is by `by` (or that have none)."""
    others: set[AccountRef] = set()
    keys: dict[str, list[str]] = defaultdict(list)
    for ref in refs:
        keys[ref.platform].append(ref.handle)
    for platform, handles in keys.items():
        query = select(changes.c.handle_key).distinct().where(
            changes.c.platform == platform,
            changes.c.handle_key.in_(handles),
            changes.c.by != by,
        )
        others |= {AccountRef(platform, key) for key in await conn.scalars(query)}
    return set(refs) - others


def _shipped(account: Planned, before: dict[str, object]) -> dict[str, object]:
    return {
        **before,
        "status": account.status.value,
        "entity": account.entity,
        "note": account.note,
        "platform_id": account.platform_id or before["platform_id"],
        "reviewed": datetime.now(UTC).isoformat(),
        "evidence": [evidence_json(e) for e in account.evidence.values()],
    }


def _same(before: dict[str, object], after: dict[str, object]) -> bool:
    keys = ("status", "entity", "note", "platform_id", "evidence")
    return all(before[k] == after[k] for k in keys)


def _rows_of(accounts: list[Planned]) -> list[tuple[int, dict[str, str]]]:
    rows = []
    for account in accounts:
        base = {
            "entity": account.entity or "",
            "platform": account.ref.platform,
            "handle": account.handle_as_written,
            "verdict": account.status.value,
            "note": account.note or "",
            "platform_id": account.platform_id or "",
        }
        for proof in account.evidence.values() or [None]:
            source = {}
            if proof is not None:
                source = {
                    "source_url": proof.url,
                    "source_title": proof.title,
                    "source_publisher": proof.publisher or "",
                    "source_published": proof.published.isoformat() if proof.published else "",
                    "source_quote": proof.quote or "",
                }
            rows.append((account.lines[0], base | source))
    return rows
