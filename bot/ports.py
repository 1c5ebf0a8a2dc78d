"""The ports the core owns. knowledge/ implements them on SQL; tests implement them in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.guard_model import GuardOptions, GuardSettings, Impersonation, PhotoOutcome
from bot.model import (
    AccountRecord,
    AccountRef,
    Answer,
    Change,
    Correction,
    Evidence,
    Outcome,
    ProtectedRow,
    Report,
)
from bot.verification import SiteLinks, Verification


@dataclass(frozen=True, slots=True)
class Known:
    """What a check reads about one account: its record (None: not registered), its mentions."""

    record: AccountRecord | None
    mentions: tuple[Evidence, ...]


class Registry(Protocol):
    """The curated registry: accounts, their verdicts and evidence, the change log, reports."""

    async def find(self, refs: Sequence[AccountRef]) -> dict[AccountRef, AccountRecord]:
        """The registered records among refs (absent refs are simply missing)."""
        ...

    def protected(self, batch: int = 10_000) -> AsyncIterator[list[ProtectedRow]]:
        """Every official or affiliated account with its entity and its handle as written, in
        batches: feeds the index."""
        ...

    async def newest_change(self) -> int:
        """The id of the newest change of the change log (0: none yet)."""
        ...

    async def changed_since(
        self, change_id: int, until: int | None = None
    ) -> tuple[int, list[AccountRef]]:
        """The newest change id (or until), and every account changed after change_id up to
        it."""
        ...

    async def change_mark(self, change_id: int) -> str | None:
        """A digest of this registry's change log up to change_id: the same only on this
        registry's own history; None when the log has no such change (0 has one always)."""
        ...

    def registered_keys(
        self, batch: int = 100_000
    ) -> AsyncIterator[tuple[list[str], list[str]]]:
        """Every registered account (any status), in batches: each batch's str(ref) and handle
        keys, as two columns (a million pairs are a million tuples to make and take apart)."""
        ...

    def mentioned_keys(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        """Every account a stored feed item names, as str(ref) (a bare @handle: `any:handle`)."""
        ...

    def entity_names(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        """Every entity name and alias (what search matches besides handle keys), in batches."""
        ...

    async def read(
        self, refs: Sequence[AccountRef], mentions: int = 5,
        mentioned: Collection[AccountRef] | None = None,
    ) -> dict[AccountRef, Known]:
        """Each ref's record and its newest mentions (as `mentions` gives them), in one round
        trip for a check's few refs; refs not in mentioned (None: every ref is) are known to
        have no mentions, and are read without."""
        ...

    def follow(self, reload: Callable[[list[AccountRef]], Awaitable[None]]) -> None:
        """reload hears the accounts each write made in this process changed (a verdict, an
        import, new feed mentions), once committed; other processes' are heard through
        knowledge.notify's listener."""
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

    async def open_reports_about(self, ref: AccountRef) -> list[Report]:
        """The open reports of one account, oldest first."""
        ...

    async def report(self, report_id: int) -> Report | None: ...

    async def close_report(
        self, report_id: int, outcome: Outcome, by: str, reason: str | None
    ) -> Report:
        """Close an open report, naming who and why; NoSuchReport when none is open."""
        ...

    async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
        """Recent feed items naming ref, newest first (empty until feeds are configured)."""
        ...

    async def search(
        self, prefix: str, limit: int = 25, platform: str | None = None, names: bool = True
    ) -> list[tuple[AccountRef, str | None]]:
        """Registered accounts for autocomplete, each with its entity, case-insensitively:
        handle keys starting with prefix first (by key), then entity names starting with it,
        then entity names containing it (by name). With a platform, or names False (the
        caller knows no name contains prefix): handle keys only."""
        ...


@dataclass(frozen=True)
class KeptArrays:
    """What the core built from the whole registry, as named arrays, and what it was built
    from: the newest change it includes, that change's mark, and the code that built it."""

    arrays: Mapping[str, npt.NDArray[np.generic]]
    change_id: int
    mark: str
    code: str


class IndexStore(Protocol):
    """Where the lookalike index (and whatever else the core builds from the whole registry)
    is kept between runs: a file per database. Errors are the store's: a file it cannot read
    is reported (logged) and load gives None; a failed save is logged, never raised."""

    def load(self) -> KeptArrays | None: ...

    def save(self, kept: KeptArrays) -> None: ...


class ChatPreferences(Protocol):
    """What a chat (a Telegram chat, a Discord server) opted into; kept across restarts."""

    async def autocheck(self, platform: str, chat_id: str) -> bool:
        """Whether the chat opted into auto-check (False when it never said)."""
        ...

    async def set_autocheck(self, platform: str, chat_id: str, on: bool, by: str) -> None:
        """Record the chat's choice and who made it."""
        ...

    async def language(self, platform: str, chat_id: str) -> str | None:
        """The language the chat chose (None: each asker's own)."""
        ...

    async def set_language(
        self, platform: str, chat_id: str, language: str | None, by: str
    ) -> None: ...

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """Every setting of the chat old_id now belongs to new_id (old_id keeps none)."""
        ...


class GuardStore(Protocol):
    """Each chat's guard settings and the members its admins allowed; kept across restarts."""

    async def settings(self, platform: str, chat_id: str) -> GuardSettings:
        """The chat's guard (off, default options, when it never said)."""
        ...

    async def set_on(self, platform: str, chat_id: str, on: bool, by: str) -> None: ...

    async def set_options(
        self, platform: str, chat_id: str, options: GuardOptions, by: str
    ) -> None: ...

    async def allowed(self, platform: str, chat_id: str, user_id: str) -> bool:
        """Whether the chat's admins allowed this member (never warned about again)."""
        ...

    async def allow(self, platform: str, chat_id: str, user_id: str, by: str) -> None:
        """Record who allowed the member, and when (allowing twice keeps the first)."""
        ...

    async def guarded(self, platform: str) -> list[str]:
        """The ids of the chats whose guard is on."""
        ...

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """The guard of old_id (settings and allowed members) now belongs to new_id."""
        ...


class GuardMeter(Protocol):
    """What the guard did, for operations (isofficial/ops.py counts it in Prometheus)."""

    def warned(self, found: Impersonation) -> None: ...

    def photo(self, platform: str, outcome: PhotoOutcome) -> None: ...


class FeedState(Protocol):
    """One feed of the feed list, with how its last refreshes went."""

    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def last_success(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def item_count(self) -> int: ...


class FeedCatalog(Protocol):
    """The list of feeds whose items are searched for mentions (errors: IsOfficialError)."""

    async def add_feed(self, url: str) -> FeedState:
        """Add an http(s) feed; refused with a one-line reason if bad or already listed."""
        ...

    async def list_feeds(self) -> Sequence[FeedState]: ...

    async def remove_feed(self, url: str) -> None:
        """Remove a listed feed and the items only it brought."""
        ...


class LinkChecker(Protocol):
    """Reads official sites (and the account's own side, where no login is needed) live."""

    async def check(self, ref: AccountRef, sites: Sequence[str]) -> SiteLinks:
        """Whether each site (a domain) links to ref, and whether ref links back to it."""
        ...


class VerificationStore(Protocol):
    """Dated verifications, kept as a history (errors: IsOfficialError)."""

    async def official_sites(self, entity: str) -> list[str]:
        """The domains of the entity's registered official or affiliated websites."""
        ...

    async def record(self, verification: Verification) -> None: ...

    def verified_keys(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        """Every account that has a verification, as str(ref), in batches."""
        ...

    async def latest(self, refs: Sequence[AccountRef]) -> dict[AccountRef, Verification]:
        """The newest verification of each ref that has one."""
        ...

    async def history(self, ref: AccountRef) -> list[Verification]:
        """Every verification of ref, newest first."""
        ...

    async def due(self, before: datetime, limit: int = 100) -> list[AccountRef]:
        """Accounts whose newest verification is older than before, oldest first."""
        ...


class ModerationNotices(Protocol):
    """Where the moderation loop is heard: a platform's moderators' chat, reporters' DMs.
    Adapters implement it and register with Core.listen; a failure is logged, never raised."""

    async def report_filed(self, report: Report) -> None:
        """A new report (not a repeat merged into an open one)."""
        ...

    async def report_closed(self, report: Report, verdict: Answer | None) -> None:
        """A report was accepted, decided otherwise (verdict: the account now) or dismissed."""
        ...

    async def verdict_changed(self, answer: Answer, by: str) -> None:
        """A moderator set or undid a verdict; answer is the account now."""
        ...
