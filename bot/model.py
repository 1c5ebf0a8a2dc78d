"""The seam: frozen, typed values that cross between the core, the registry and the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    """How an account relates to the entity it names; graded, never just yes/no."""

    OFFICIAL = "official"
    AFFILIATED = "affiliated"
    UNOFFICIAL = "unofficial"
    PARODY = "parody"
    IMPERSONATOR = "impersonator"
    COMPROMISED = "compromised"
    DEFUNCT = "defunct"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, word: str) -> Status:
        """The status a user typed, case-insensitively; UnknownStatus lists the valid words."""
        try:
            return cls(word.strip().lower())
        except ValueError:
            raise UnknownStatus(word) from None


# Accounts a lookalike may imitate: the entity's own.
PROTECTED = frozenset({Status.OFFICIAL, Status.AFFILIATED})
# Statuses worth interrupting a group chat for (auto-check speaks only for these or lookalikes).
ALARMING = frozenset({Status.UNOFFICIAL, Status.IMPERSONATOR, Status.COMPROMISED})


class Reason(StrEnum):
    """Why an unregistered account looks like a protected one."""

    HOMOGLYPH = "homoglyph"
    TYPO = "typo"
    AFFIX = "affix"
    CROSS_PLATFORM = "cross-platform"


class Certainty(StrEnum):
    """How sure the registry is about an answer."""

    SOURCED = "sourced"  # a moderator's verdict backed by dated evidence
    UNSOURCED = "unsourced"  # a registered verdict with no evidence attached
    HEURISTIC = "heuristic"  # not registered; only the lookalike matcher speaks
    NONE = "none"  # nothing known


@dataclass(frozen=True, slots=True, order=True)
class AccountRef:
    """One account: a platform name from bot.platforms and the handle's normalised key."""

    platform: str
    handle: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.handle}"


@dataclass(frozen=True, slots=True)
class Asker:
    """Who is asking, and where: decides permissions and how much to say."""

    platform: str  # "telegram", "discord", "local"
    user_id: str
    chat_id: str | None = None
    is_private: bool = True
    name: str | None = None

    @property
    def key(self) -> str:
        """The form used in ISOFFICIAL_MODERATORS and in the change log: `telegram:42`."""
        return f"{self.platform}:{self.user_id}"


OPERATOR = Asker(platform="local", user_id="operator", name="operator")


@dataclass(frozen=True, slots=True)
class Evidence:
    url: str
    title: str
    publisher: str | None = None
    published: date | None = None
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class Lookalike:
    target: AccountRef
    entity: str
    reason: Reason
    score: float  # 0..1, higher is closer


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """What the registry holds about one account."""

    ref: AccountRef
    status: Status
    entity: str | None
    handle_as_written: str
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None
    platform_id: str | None = None  # the platform's numeric id, when known
    reviewed: datetime | None = None  # when a moderator (or import) last set this verdict
    aliases: tuple[str, ...] = ()  # the entity's other names
    entity_ids: tuple[str, ...] = ()  # the entity's identifiers elsewhere, `scheme:value`


@dataclass(frozen=True, slots=True)
class Answer:
    """The core's reply about one account named in a query."""

    query: str
    ref: AccountRef
    status: Status
    entity: str | None
    certainty: Certainty
    lookalike_of: tuple[Lookalike, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    mentions: tuple[Evidence, ...] = ()
    reviewed: datetime | None = None
    note: str | None = None
    notices: tuple[str, ...] = ()  # plain facts worth saying, e.g. a handle now owned by another id
    aliases: tuple[str, ...] = ()  # the entity's other names
    entity_ids: tuple[str, ...] = ()  # `wikidata:Q42`, `bioguide:B001314`

    @property
    def alarming(self) -> bool:
        """Worth an unprompted reply in a group: a bad status or a lookalike of a protected one."""
        return self.status in ALARMING or bool(self.lookalike_of)


@dataclass(frozen=True, slots=True)
class Correction:
    """A moderator's verdict on one account."""

    ref: AccountRef
    status: Status
    entity: str | None = None
    evidence: Evidence | None = None
    note: str | None = None
    handle_as_written: str | None = None
    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One line of the append-only change log: who changed what, when and why."""

    id: int
    ref: AccountRef
    at: datetime
    by: str
    old_status: Status  # UNKNOWN when the account was not registered
    new_status: Status  # UNKNOWN when the account was removed (e.g. an undo of its creation)
    old_entity: str | None
    new_entity: str | None
    note: str | None = None
    evidence: Evidence | None = None
    undoes: int | None = None  # the change id this one reverts


@dataclass(frozen=True, slots=True)
class Report:
    """A user's suggestion, queued for moderators."""

    ref: AccountRef
    status: Status
    by: str
    note: str | None = None
    id: int | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A row an import would not take, with its line and the reason."""

    line: int
    reason: str
    row: dict[str, str] = field(default_factory=dict)


class IsOfficialError(Exception):
    """A problem the user caused or can fix; its message is safe to show as one line."""


class NoAccountFound(IsOfficialError):
    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        where = f"no account found in {shown!r}" if text.strip() else "name an account"
        super().__init__(f"{where}: paste a profile link, @handle or platform:handle")


class InvalidHandle(IsOfficialError):
    pass


class UnknownPlatform(IsOfficialError):
    pass


class UnknownStatus(IsOfficialError):
    def __init__(self, word: str) -> None:
        valid = ", ".join(s.value for s in Status if s is not Status.UNKNOWN)
        super().__init__(f"unknown status {word[:40]!r}: use one of {valid}")


class NotAllowed(IsOfficialError):
    def __init__(self, who: str, action: str = "change the registry") -> None:
        super().__init__(f"only moderators can {action} ({who} is not one)")


class NothingToUndo(IsOfficialError):
    pass


class FeedsNotConfigured(IsOfficialError):
    def __init__(self) -> None:
        super().__init__("feeds are not configured on this bot: the operator has to set them up")
