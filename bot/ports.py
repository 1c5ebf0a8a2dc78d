"""The ports the core owns. knowledge/ implements them on SQL; tests implement them in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from bot.model import AccountRecord, AccountRef, Change, Correction, Evidence, Report


class Registry(Protocol):
    """The curated registry: accounts, their verdicts and evidence, the change log, reports."""

    async def find(self, refs: Sequence[AccountRef]) -> dict[AccountRef, AccountRecord]:
        """The registered records among refs (absent refs are simply missing)."""
        ...

    def protected(self, batch: int = 10_000) -> AsyncIterator[list[tuple[AccountRef, str]]]:
        """Every official or affiliated account with its entity, in batches: feeds the index."""
        ...

    async def apply(self, correction: Correction, by: str) -> tuple[AccountRecord, Change]:
        """Set a verdict and append its change, in one transaction."""
        ...

    async def undo(self, ref: AccountRef, by: str) -> tuple[AccountRecord | None, Change]:
        """Revert the latest change of ref by appending its inverse; NothingToUndo if none."""
        ...

    async def history(self, ref: AccountRef) -> list[Change]:
        """Every change of ref, newest first."""
        ...

    async def remember_platform_id(self, ref: AccountRef, platform_id: str) -> None:
        """Record the platform's numeric id of a registered account."""
        ...

    async def add_report(self, report: Report) -> Report:
        """Queue a suggestion; returns it with its id and time."""
        ...

    async def open_reports(self, limit: int = 50) -> list[Report]: ...

    async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
        """Recent feed items naming ref, newest first (empty until feeds are configured)."""
        ...
