"""The guard's data: chat members as platforms show them, who they pose as, a chat's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.model import AccountRef


@dataclass(frozen=True, slots=True)
class Member:
    """Who someone in a chat is, as the platform shows them."""

    platform: str  # "telegram" | "discord"
    user_id: str  # "" when known by username only (/check @name): then the username decides
    username: str | None  # without "@"
    display_name: str  # Telegram first + last name; Discord nick / global name
    photo: int | None = None  # 64-bit pHash of the profile photo (None: none or not fetched)

    def names(self) -> tuple[str, ...]:
        """The names people read: the display name, then the username."""
        return tuple(n for n in (self.display_name, self.username) if n and n.strip())


@dataclass(frozen=True, slots=True)
class Impersonation:
    """A member who poses as someone protected in this chat."""

    member: Member
    imitates: Member | None  # a chat admin ...
    official: AccountRef | None  # ... or a registered official/affiliated account
    entity: str | None  # whose official account
    reasons: tuple[str, ...]  # "homoglyph", "typo", "affix", "same-name", "invisible", ...
    shown: str  # the member's name that imitates, with invisible characters made visible
    odd: tuple[str, ...] = ()  # its odd characters, described: "А U+0410 CYRILLIC CAPITAL LETTER A"
    imitated_name: str = ""  # the protected name it resembles, as written

    @property
    def target(self) -> str:
        """Who is imitated, as a key: the admin's id or the official account."""
        return f"admin:{self.imitates.user_id}" if self.imitates else f"official:{self.official}"


@dataclass(frozen=True, slots=True)
class GuardOptions:
    """What the chat's admins chose beyond a warning."""

    restrict_until_approved: bool = False  # an impostor may not write until an admin allows them
    delete_join: bool = False  # delete the impostor's join message
    moderators_chat: str | None = None  # a chat id where warnings are copied


@dataclass(frozen=True, slots=True)
class GuardSettings:
    """A chat's guard: on or off, its options, and who last changed it, when."""

    on: bool = False
    options: GuardOptions = GuardOptions()
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberAnswer:
    """Is this member one of the chat's admins? If they only look like one, whom?"""

    member: Member
    admin: bool  # one of this chat's admins (the same account)
    official: bool  # a registered official or affiliated account on the platform
    looks_like: Impersonation | None  # whom they only resemble


@dataclass(frozen=True, slots=True)
class GuardedChat:
    """A chat the guard is on in, with the names a user may call it by."""

    platform: str
    chat_id: str
    title: str
    username: str | None = None  # a public chat's @name, without "@"


class PhotoOutcome(StrEnum):
    """What became of a member's photo the guard wanted (adapters fetch and hash it)."""

    QUEUED = "queued"  # waiting for the fetch rate limit
    DONE = "done"  # fetched and hashed (or found to be no image)
    DROPPED = "dropped"  # the queue was full (a join wave): the name is still compared
