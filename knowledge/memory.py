"""In-memory Registry and ChatPreferences: the ports' reference behaviour, for tests and demos."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
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
    NoSuchReport,
    NothingToUndo,
    Outcome,
    ProtectedRow,
    Report,
    Status,
)
from bot.ports import Known
from knowledge.changelog import mark_of


class MemoryRegistry:
    def __init__(self) -> None:
        self.records: dict[AccountRef, AccountRecord] = {}
        self.changes: list[Change] = []
        self.reports: list[Report] = []
        self.mention_items: dict[AccountRef, list[Evidence]] = {}
        self.before: dict[int, AccountRecord | None] = {}  # state before each change, for undo
        self._ids = itertools.count(1)
        self._sorted: list[tuple[str, str, AccountRef]] | None = None  # by handle, for search

    async def find(self, refs: Sequence[AccountRef]) -> dict[AccountRef, AccountRecord]:
        return {ref: self.records[ref] for ref in refs if ref in self.records}

    async def protected(self, batch: int = 10_000) -> AsyncIterator[list[ProtectedRow]]:
        rows = [(r.ref, r.entity or "", r.handle_as_written or r.ref.handle)
                for r in self.records.values() if r.status in PROTECTED]
        for start in range(0, len(rows), batch):
            yield rows[start : start + batch]

    async def newest_change(self) -> int:
        return self.changes[-1].id if self.changes else 0

    async def changed_since(
        self, change_id: int, until: int | None = None
    ) -> tuple[int, list[AccountRef]]:
        newest = await self.newest_change() if until is None else until
        later = [c.ref for c in self.changes if change_id < c.id <= newest]
        return newest, list(dict.fromkeys(later))

    async def change_mark(self, change_id: int) -> str | None:
        if change_id == 0:
            return "empty"
        marked = [c for c in self.changes if c.id == change_id]
        if not marked:
            return None
        return mark_of([(c.id, c.at, c.ref.platform, c.ref.handle, c.by, c.new_status.value,
                         c.new_entity) for c in dict.fromkeys([self.changes[0], *marked])])

    async def registered_keys(
        self, batch: int = 100_000
    ) -> AsyncIterator[tuple[list[str], list[str]]]:
        refs = list(self.records)
        for start in range(0, len(refs), batch):
            part = refs[start : start + batch]
            yield [str(ref) for ref in part], [ref.handle for ref in part]

    async def mentioned_keys(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        keys = [str(ref) for ref, items in self.mention_items.items() if items]
        for start in range(0, len(keys), batch):
            yield keys[start : start + batch]

    async def entity_names(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        names = sorted({n for r in self.records.values() for n in (r.entity, *r.aliases) if n})
        for start in range(0, len(names), batch):
            yield names[start : start + batch]

    def follow(self, reload: Callable[[list[AccountRef]], Awaitable[None]]) -> None:
        """Nothing writes here but the core, which keeps itself up to date."""

    async def read(
        self, refs: Sequence[AccountRef], mentions: int = 5,
        mentioned: Collection[AccountRef] | None = None,
    ) -> dict[AccountRef, Known]:
        may = set(refs if mentioned is None else mentioned)
        return {ref: Known(self.records.get(ref),
                           tuple(await self.mentions(ref, mentions)) if ref in may else ())
                for ref in refs}

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
        record = replace(record, set_by=by)
        change = self._log(record.ref, old, record, by, correction.note, correction.evidence, None)
        for index, report in enumerate(self.reports):
            if report.ref == record.ref and report.outcome is None:
                outcome = Outcome.ACCEPTED if report.status == record.status else Outcome.DECIDED
                self.reports[index] = replace(report, outcome=outcome, closed_by=by,
                                              reason=f"verdict: {record.status.value}")
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
        report = limits.checked_report(report)
        for index, kept in enumerate(self.reports):
            if kept.ref == report.ref and kept.status == report.status and kept.outcome is None:
                reporters = tuple(dict.fromkeys([*kept.everyone, report.by]))
                merged = replace(kept, count=kept.count + 1, reporters=reporters,
                                 note=kept.note or report.note)
                self.reports[index] = merged
                return merged
        stored = replace(report, id=len(self.reports) + 1, at=_now(), reporters=(report.by,))
        self.reports.append(stored)
        return stored

    async def open_reports(self, limit: int = 50) -> list[Report]:
        return [r for r in reversed(self.reports) if r.outcome is None][:limit]

    async def open_reports_about(self, ref: AccountRef) -> list[Report]:
        return [r for r in self.reports if r.ref == ref and r.outcome is None]

    async def report(self, report_id: int) -> Report | None:
        return next((r for r in self.reports if r.id == report_id), None)

    async def close_report(
        self, report_id: int, outcome: Outcome, by: str, reason: str | None
    ) -> Report:
        for index, kept in enumerate(self.reports):
            if kept.id == report_id and kept.outcome is None:
                self.reports[index] = replace(kept, outcome=outcome, closed_by=by, reason=reason)
                return self.reports[index]
        raise NoSuchReport(report_id)

    async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
        return self.mention_items.get(ref, [])[:limit]

    async def search(
        self, prefix: str, limit: int = 25, platform: str | None = None, names: bool = True
    ) -> list[tuple[AccountRef, str | None]]:
        key = prefix.strip().lower()
        found = [(self.records[ref].ref, self.records[ref].entity)
                 for ref in self._handles_from(key) if platform in (None, ref.platform)]
        if key and names and platform is None:
            named = [(r.entity.lower(), r) for r in self.records.values() if r.entity]
            by_name = sorted(
                ((not name.startswith(key), name, r.ref), r) for name, r in named if key in name
            )
            found += [(r.ref, r.entity) for _, r in by_name]
        return list(dict.fromkeys(found))[:limit]

    def _handles_from(self, key: str) -> Iterator[AccountRef]:
        """Refs whose lowercased handle starts with key, in (handle, platform) order: a sorted
        list kept until the next change, searched by bisection (as the SQL index is)."""
        if self._sorted is None:
            self._sorted = sorted((r.handle.lower(), r.platform, r) for r in self.records)
        start = bisect.bisect_left(self._sorted, (key,))
        for handle, _platform, ref in itertools.islice(self._sorted, start, None):
            if not handle.startswith(key):
                return
            yield ref

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
        self._sorted = None
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
        self.languages: dict[tuple[str, str], str | None] = {}

    async def autocheck(self, platform: str, chat_id: str) -> bool:
        return self.autochecks.get((platform, chat_id), (False, ""))[0]

    async def set_autocheck(self, platform: str, chat_id: str, on: bool, by: str) -> None:
        self.autochecks[(platform, chat_id)] = (on, by)

    async def language(self, platform: str, chat_id: str) -> str | None:
        return self.languages.get((platform, chat_id))

    async def set_language(
        self, platform: str, chat_id: str, language: str | None, by: str
    ) -> None:
        self.languages[(platform, chat_id)] = language

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        if (platform, old_id) in self.autochecks:
            self.autochecks[(platform, new_id)] = self.autochecks.pop((platform, old_id))
        if (platform, old_id) in self.languages:
            self.languages[(platform, new_id)] = self.languages.pop((platform, old_id))
