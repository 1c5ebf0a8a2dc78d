"""The seam: frozen, typed values that cross between the core, the registry and the adapters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.verification import Verification

from bot.i18n import N_, _


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


class Strength(StrEnum):
    """How much a resemblance says: weak ones (two letters off between two plausible names) are
    shown when asked, never raised as an alarm."""

    STRONG = "strong"
    WEAK = "weak"


# Flags on an answer about what the name itself shows, registered or not.
INVISIBLE = "invisible-characters"
MIXED_SCRIPT = "mixed-script"


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


# What the lookalike index is built from: a protected account, its entity, its handle as written.
ProtectedRow = tuple[AccountRef, str, str]

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
STARTER_DATA = "starter data"  # how the change log names the starter data's import


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
    strength: Strength = Strength.STRONG
    cross_platform: bool = False  # the target is on another platform than the account asked about
    entity_here: bool = False  # cross-platform, and the entity has another account on that one
    detail: str = ""  # a finer class, for the words: tld-swap, leet, digits-dropped, insertion...


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
    set_by: str | None = None  # who set it (the change log's `by`); None: not recorded
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
    reviewed: datetime | None = None  # when the verdict was set here (not a review)
    note: str | None = None
    notices: tuple[str, ...] = ()  # plain facts worth saying, e.g. a handle now owned by another id
    verification: Verification | None = None  # the newest two-way link check, if any
    set_by: str | None = None  # who set the verdict (the change log's name for them)
    flags: tuple[str, ...] = ()  # INVISIBLE, MIXED_SCRIPT: what the written name itself shows
    written: str = ""  # the name as written, when it differs from the key (odd letters shown)
    nearby: tuple[Nearby, ...] = ()  # unknown, no lookalike: registered names close to it

    @property
    def strong_lookalikes(self) -> tuple[Lookalike, ...]:
        return tuple(lk for lk in self.lookalike_of if lk.strength is Strength.STRONG)
    aliases: tuple[str, ...] = ()  # the entity's other names
    entity_ids: tuple[str, ...] = ()  # `wikidata:Q42`, `bioguide:B001314`

    @property
    def alarming(self) -> bool:
        """Worth an unprompted reply in a group: a bad status, a strong lookalike of a protected
        account, or a name with hidden or mixed-script letters."""
        return self.status in ALARMING or bool(self.strong_lookalikes) or bool(self.flags)


@dataclass(frozen=True, slots=True)
class Nearby:
    """A registered account whose name is close to one asked about, whatever its status."""

    ref: AccountRef
    status: Status
    entity: str | None


class Answers(list[Answer]):
    """The answers to one message, and how many accounts it named beyond the cap."""

    def __init__(self, answers: Iterable[Answer] = (), unanswered: int = 0) -> None:
        super().__init__(answers)
        self.unanswered = unanswered


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


class Outcome(StrEnum):
    """How moderators closed a report."""

    ACCEPTED = "accepted"  # a verdict set what the report suggested
    DECIDED = "decided"  # a verdict set something else
    DISMISSED = "dismissed"  # closed without a verdict, with a reason


@dataclass(frozen=True, slots=True)
class Report:
    """A user's suggestion, queued for moderators. Repeats (same account and suggestion) merge
    into one: `count` times, by `reporters` (each named as `by` is, first reporter first)."""

    ref: AccountRef
    status: Status
    by: str
    note: str | None = None
    id: int | None = None
    at: datetime | None = None
    count: int = 1
    reporters: tuple[str, ...] = ()
    outcome: Outcome | None = None  # None while open
    closed_by: str | None = None
    reason: str | None = None  # why it was dismissed, or the verdict that closed it

    @property
    def everyone(self) -> tuple[str, ...]:
        """Every reporter, `by` first."""
        return self.reporters or (self.by,)

    @property
    def reporter_keys(self) -> tuple[str, ...]:
        """`telegram:42` for each reporter named `telegram:42 (@ann)`: where to tell them."""
        return tuple(dict.fromkeys(who.split(" ", 1)[0] for who in self.everyone))


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
        if text.strip():
            message = _("no account found in {text}: paste a profile link, @handle or "
                        "platform:handle").format(text=repr(shown))
        else:
            message = _("name an account: paste a profile link, @handle or platform:handle")
        super().__init__(message)


class InvalidHandle(IsOfficialError):
    pass


class UnknownPlatform(IsOfficialError):
    pass


class UnknownStatus(IsOfficialError):
    def __init__(self, word: str) -> None:
        valid = ", ".join(s.value for s in Status if s is not Status.UNKNOWN)
        super().__init__(_("unknown status {word}: use one of {valid}").format(
            word=repr(word[:40]), valid=valid))


# What a refusal says the asker may not do (NotAllowed's `action`).
CHANGE_REGISTRY = N_("only moderators can change the registry ({who} is not one)")
READ_REPORTS = N_("only moderators can read the reports ({who} is not one)")
MANAGE_FEEDS = N_("only moderators can manage the feeds ({who} is not one)")
DISMISS_REPORTS = N_("only moderators can dismiss reports ({who} is not one)")
VERIFY_UNLISTED = N_(
    "only moderators can verify an account the registry lacks, or name its entity"
    " ({who} is not one)"
)


class NotAllowed(IsOfficialError):
    def __init__(self, who: str, refusal: str = CHANGE_REGISTRY) -> None:
        super().__init__(_(refusal).format(who=who))


class NothingToUndo(IsOfficialError):
    pass


class VerifyNotConfigured(IsOfficialError):
    def __init__(self) -> None:
        super().__init__(_("live verification is not configured on this bot"))


class NoSuchReport(IsOfficialError):
    def __init__(self, report_id: int) -> None:
        super().__init__(_("there is no open report #{number} (see /reports)").format(
            number=report_id))


class FeedsNotConfigured(IsOfficialError):
    def __init__(self) -> None:
        super().__init__(
            _("feeds are not configured on this bot: the operator has to set them up"))
