"""In-memory Registry and ChatPreferences: the ports' reference behaviour, for tests and demos."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot import limits
from bot.model import (
    PROTECTED,
    AccountRecord,
    AccountRef,
    Change,
    Correction,
    Evidence,
    NothingToUndo,
    Report,
    Status,
)


class MemoryRegistry:
    def __init__(self) -> None:
        self.records: dict[AccountRef, AccountRecord] = {}
        self.changes: list[Change] = []
        self.reports: list[Report] = []
        self.mention_items: dict[AccountRef, list[Evidence]] = {}
        self.before: dict[int, AccountRecord | None] = {}  # state before each change, for undo
        self.resolved: set[int] = set()  # ids of reports a verdict answered
        self._ids = itertools.count(1)

    async def find(self, refs: Sequence[AccountRef]) -> dict[AccountRef, AccountRecord]:
        return {ref: self.records[ref] for ref in refs if ref in self.records}

    async def protected(self, batch: int = 10_000) -> AsyncIterator[list[tuple[AccountRef, str]]]:
        rows = [(r.ref, r.entity) for r in self.records.values() if r.status in PROTECTED]
        for start in range(0, len(rows), batch):
            yield [(ref, entity or "") for ref, entity in rows[start : start + batch]]

    async def apply(self, correction: Correction, by: str) -> tuple[AccountRecord, Change]:
        correction, by = limits.checked_correction(correction), limits.who(by)
        old = self.records.get(correction.ref)
        evidence = old.evidence if old else ()
        if correction.evidence:  # a source cited again replaces its earlier copy
            kept = tuple(ev for ev in evidence if ev.url != correction.evidence.url)
            evidence = (*kept, correction.evidence)
        record = AccountRecord(
            ref=correction.ref,
            status=correction.status,
            entity=correction.entity if correction.entity is not None or not old else old.entity,
            handle_as_written=correction.handle_as_written
            or (old.handle_as_written if old else correction.ref.handle),
            evidence=evidence,
            note=correction.note,
            platform_id=correction.platform_id or (old.platform_id if old else None),
            reviewed=_now(),
        )
        change = self._log(record.ref, old, record, by, correction.note, correction.evidence, None)
        self.resolved |= {r.id for r in self.reports if r.ref == record.ref and r.id is not None}
        return record, change

    async def undo(self, ref: AccountRef, by: str) -> tuple[AccountRecord | None, Change]:
        by = limits.who(by)
        undone = {c.undoes for c in self.changes if c.undoes}
        live = [c for c in self.changes if c.ref == ref and not c.undoes and c.id not in undone]
        if not live:
            raise NothingToUndo(f"{ref}: nothing to undo")
        last = live[-1]
        before = self.before[last.id]
        change = self._log(
            ref, self.records.get(ref), before, by, f"undo #{last.id}", None, last.id
        )
        return before, change

    async def history(self, ref: AccountRef) -> list[Change]:
        return [c for c in reversed(self.changes) if c.ref == ref]

    async def remember_platform_id(self, ref: AccountRef, platform_id: str) -> None:
        if ref in self.records:
            self.records[ref] = replace(self.records[ref], platform_id=platform_id)

    async def add_report(self, report: Report) -> Report:
        stored = replace(limits.checked_report(report), id=len(self.reports) + 1, at=_now())
        self.reports.append(stored)
        return stored

    async def open_reports(self, limit: int = 50) -> list[Report]:
        return [r for r in reversed(self.reports) if r.id not in self.resolved][:limit]

    async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
        return self.mention_items.get(ref, [])[:limit]

    async def search(
        self, prefix: str, limit: int = 25, platform: str | None = None
    ) -> list[tuple[AccountRef, str | None]]:
        key = prefix.strip().lower()
        by_handle = sorted(
            (r for r in self.records.values() if platform in (None, r.ref.platform)),
            key=lambda r: (r.ref.handle.lower(), r.ref.platform),
        )
        found = [(r.ref, r.entity) for r in by_handle if r.ref.handle.lower().startswith(key)]
        if key and platform is None:
            named = [(r.entity.lower(), r) for r in self.records.values() if r.entity]
            by_name = sorted(
                ((not name.startswith(key), name, r.ref), r) for name, r in named if key in name
            )
            found += [(r.ref, r.entity) for _, r in by_name]
        return list(dict.fromkeys(found))[:limit]

    def _log(
        self,
        ref: AccountRef,
        old: AccountRecord | None,
        new: AccountRecord | None,
        by: str,
        note: str | None,
        evidence: Evidence | None,
        undoes: int | None,
    ) -> Change:
        change = Change(
            id=next(self._ids),
            ref=ref,
            at=_now(),
            by=by,
            old_status=old.status if old else Status.UNKNOWN,
            new_status=new.status if new else Status.UNKNOWN,
            old_entity=old.entity if old else None,
            new_entity=new.entity if new else None,
            note=note,
            evidence=evidence,
            undoes=undoes,
        )
        self.before[change.id] = old
        self.changes.append(change)
        if new is None:
            self.records.pop(ref, None)
        else:
            self.records[ref] = new
        return change


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryChatPreferences:
    def __init__(self) -> None:
        self.autochecks: dict[tuple[str, str], tuple[bool, str]] = {}  # -> (on, switched by)

    async def autocheck(self, platform: str, chat_id: str) -> bool:
        return self.autochecks.get((platform, chat_id), (False, ""))[0]

    async def set_autocheck(self, platform: str, chat_id: str, on: bool, by: str) -> None:
        self.autochecks[(platform, chat_id)] = (on, by)
