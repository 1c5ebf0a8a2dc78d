"""One sync: the registry brought in step with a source's rows, in one transaction, every
change credited to `source:NAME`.

- An account the source lists and the registry lacks is added.
- One it lists with another verdict is changed, unless a moderator set that verdict by hand:
  then the verdict stays and the disagreement goes to the reports queue (once).
- The source's record replaces its earlier record among the account's evidence.
- An account the source listed and lists no more is retired, not deleted: its evidence says
  "no longer listed by NAME since DATE"; its verdict is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRecord, AccountRef, ImportProblem
from knowledge.database import writing
from knowledge.importing.accounts import registered
from knowledge.importing.entities import match_entities, write_entities
from knowledge.importing.plan import first_source, plan_rows, verdict_of
from knowledge.importing.rows import Planned
from knowledge.notify import announce
from knowledge.registry import (
    change_values,
    entity_ids,
    evidence_json,
    find_in,
    snapshot_of,
    store,
)
from knowledge.sources.tables import source_listings, sources
from knowledge.tables import changes, reports

AUTOMATIC = ("source:", "import:")  # authors whose verdicts a source may update


@dataclass(slots=True)
class SyncResult:
    added: int = 0
    changed: int = 0
    retired: int = 0
    refreshed: int = 0  # listed as before, with a newer record
    disagreements: list[str] = field(default_factory=list)  # sent to the reports queue
    problems: list[ImportProblem] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"added {self.added}, changed {self.changed}, retired {self.retired}, "
            f"refreshed {self.refreshed}, {len(self.disagreements)} disagreements reported, "
            f"{len(self.problems)} invalid rows"
        )


async def sync_rows(
    engine: Any,
    name: str,
    rows: Iterable[tuple[int, dict[str, str]]],
    starter_by: str,
    today: date | None = None,
) -> SyncResult:
    """Bring the registry in step with the source's rows (see the module's rules)."""
    by = f"source:{name}"
    today = today or datetime.now(UTC).date()
    plan = plan_rows(rows)
    result = SyncResult()
    async with writing(engine) as conn:
        existing = await registered(conn, list(plan.accounts))
        matched = await match_entities(conn, plan, existing)
        result.problems = plan.problems
        result.merges = [f"line {n}: {t}" for n, t in matched.merges]
        named = {a.entity for a in plan.accounts.values() if a.entity}
        names = await entity_ids(conn, named | set(matched.aliases) | set(matched.identifiers))
        await write_entities(conn, matched, names)
        listed = await _listings(conn, name)
        by_hand = await _set_by_hand(conn, list(plan.accounts), starter_by)
        touched: list[AccountRef] = []
        for ref, account in plan.accounts.items():
            record = existing.get(ref)
            listing = listed.get(ref)
            outcome = await _sync_account(conn, account, record, listing, by, ref in by_hand)
            if outcome == "disagrees":
                assert record is not None
                message = f"{ref}: {name} lists it as {verdict_of(account)}, registered as "
                message += verdict_of(record)
                result.disagreements.append(message)
                await _report_once(conn, account, by, message)
            elif outcome:
                setattr(result, outcome, getattr(result, outcome) + 1)
                touched.append(ref)
            await _list(conn, name, account, listing, today)
        gone = [r for r, row in listed.items() if r not in plan.accounts and not row.retired_on]
        records = await find_in(conn, gone)
        for ref in gone:
            await _retire(conn, name, ref, records.get(ref), listed[ref], by, today)
            result.retired += 1
            touched.append(ref)
        await conn.execute(
            update(sources)
            .where(sources.c.name == name)
            .values(last_sync_at=datetime.now(UTC), last_result=result.line(), last_error=None)
        )
        await announce(conn, touched)
    return result


async def _listings(conn: AsyncConnection, name: str) -> dict[AccountRef, Any]:
    query = select(source_listings).where(source_listings.c.source == name)
    return {AccountRef(r.platform, r.handle_key): r for r in await conn.execute(query)}


async def _set_by_hand(
    conn: AsyncConnection, refs: list[AccountRef], starter_by: str
) -> set[AccountRef]:
    """The refs whose latest change was made by a person (not a source, import or starter)."""
    latest: dict[AccountRef, str] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        handles = [r.handle for r in chunk]
        query = (
            select(changes.c.platform, changes.c.handle_key, changes.c.by)
            .where(changes.c.handle_key.in_(handles))
            .order_by(changes.c.id)
        )
        for platform, key, who in await conn.execute(query):
            latest[AccountRef(platform, key)] = who
    return {
        ref
        for ref in refs
        if ref in latest and not latest[ref].startswith(AUTOMATIC) and latest[ref] != starter_by
    }


async def _sync_account(
    conn: AsyncConnection,
    account: Planned,
    record: AccountRecord | None,
    listing: Any,
    by: str,
    by_hand: bool,
) -> str | None:
    """What the sync did to one listed account: added, changed, refreshed, disagrees or None."""
    proof = first_source(account)
    if record is None:
        after = {
            "status": account.status.value,
            "entity": account.entity,
            "note": account.note,
            "handle_as_written": account.handle_as_written,
            "platform_id": account.platform_id,
            "reviewed": datetime.now(UTC).isoformat(),
            "evidence": [evidence_json(e) for e in account.evidence.values()],
        }
        await _write(conn, account.ref, None, after, by, proof, None)
        return "added"
    before = snapshot_of(record)
    earlier = listing.evidence_url if listing is not None else None
    new_urls = {e.url for e in account.evidence.values()}
    evidence = [e for e in before["evidence"] if e["url"] != earlier and e["url"] not in new_urls]
    evidence += [evidence_json(e) for e in account.evidence.values()]
    after = {**before, "evidence": evidence,
             "platform_id": before["platform_id"] or account.platform_id}
    differs = (record.status, record.entity) != (account.status, account.entity)
    if differs and by_hand:
        return "disagrees"
    if differs:
        after |= {"status": account.status.value, "entity": account.entity,
                  "note": account.note, "reviewed": datetime.now(UTC).isoformat()}
    if after == before:
        return None
    await _write(conn, account.ref, before, after, by, proof, None)
    return "changed" if differs else "refreshed"


async def _write(
    conn: AsyncConnection,
    ref: AccountRef,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    by: str,
    proof: Any,
    note: str | None,
) -> None:
    await store(conn, ref, after)
    await conn.execute(insert(changes).values(change_values(ref, by, before, after, note, proof)))


async def _report_once(conn: AsyncConnection, account: Planned, by: str, note: str) -> None:
    """The disagreement in the reports queue, unless this source's report on it is still open."""
    ref = account.ref
    open_one = select(reports.c.id).where(
        reports.c.platform == ref.platform,
        reports.c.handle_key == ref.handle,
        reports.c.by == by,
        reports.c.resolved.is_(False),
    )
    if await conn.scalar(open_one) is None:
        await conn.execute(
            insert(reports).values(
                platform=ref.platform,
                handle_key=ref.handle,
                status=account.status.value,
                note=note[:1000],
                by=by,
                at=datetime.now(UTC),
                resolved=False,
            )
        )


async def _list(
    conn: AsyncConnection, name: str, account: Planned, listing: Any, today: date
) -> None:
    proof = first_source(account)
    values = {"evidence_url": proof.url if proof else None, "retired_on": None}
    if listing is None:
        row = {"source": name, "platform": account.ref.platform,
               "handle_key": account.ref.handle, "listed_since": today, **values}
        await conn.execute(insert(source_listings).values(row))
    else:
        await conn.execute(
            update(source_listings)
            .where(
                source_listings.c.source == name,
                source_listings.c.platform == account.ref.platform,
                source_listings.c.handle_key == account.ref.handle,
            )
            .values(values)
        )


async def _retire(
    conn: AsyncConnection,
    name: str,
    ref: AccountRef,
    record: AccountRecord | None,
    listing: Any,
    by: str,
    today: date,
) -> None:
    """No longer listed: said on the source's record among the evidence; nothing deleted."""
    if record is not None:
        before = snapshot_of(record)
        since = f"no longer listed by {name} since {today.isoformat()}"
        evidence = [
            {**e, "title": f"{since} ({e['title']})"} if e["url"] == listing.evidence_url else e
            for e in before["evidence"]
        ]
        await _write(conn, ref, before, {**before, "evidence": evidence}, by, None, since)
    await conn.execute(
        update(source_listings)
        .where(
            source_listings.c.source == name,
            source_listings.c.platform == ref.platform,
            source_listings.c.handle_key == ref.handle,
        )
        .values(retired_on=today)
    )


__all__ = ["SyncResult", "sync_rows"]
