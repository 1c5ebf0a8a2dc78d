"""Two-way link checks: an account is linked *from* its entity's official site, or it is not.

A link from the account to the site proves nothing (anyone can link to nasa.gov); a link from the
official site to the account, or a platform's own check of one (Mastodon's `verified_at`, a
Bluesky handle on the site's domain), does. One-way links are kept and shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.model import AccountRef


class Direction(StrEnum):
    SITE_TO_ACCOUNT = "site-to-account"  # the official site (or its domain) vouches: proof
    ACCOUNT_TO_SITE = "account-to-site"  # the account points at the site: a claim only


class LinkState(StrEnum):
    """What a verification concluded, strongest first."""

    LINKED = "linked"  # an official site links to the account
    ONE_WAY = "one-way"  # the account links to an official site that does not link back
    NOT_LINKED = "not-linked"  # the official sites were read and do not link to it
    UNCHECKED = "unchecked"  # no official site could be read (or the entity has none)


@dataclass(frozen=True, slots=True)
class LinkCheck:
    """One look at one official site, in one direction."""

    site: str  # the official site's domain
    direction: Direction
    found: bool | None  # None: could not be read (why: in `how`)
    how: str  # `rel="me" link`, `link via a redirector`, `Mastodon verified_at 2026-…`, an error
    url: str  # what was read


@dataclass(frozen=True, slots=True)
class Verification:
    """A dated verification of one account against its entity's official sites."""

    ref: AccountRef
    checked: datetime
    checks: tuple[LinkCheck, ...]
    by: str = ""

    @property
    def state(self) -> LinkState:
        if self.linked_from:
            return LinkState.LINKED
        if self.claimed_sites:
            return LinkState.ONE_WAY
        if any(c.found is False for c in self.checks):
            return LinkState.NOT_LINKED
        return LinkState.UNCHECKED

    @property
    def verified(self) -> bool:
        return self.state is LinkState.LINKED

    @property
    def linked_from(self) -> tuple[str, ...]:
        site_side = Direction.SITE_TO_ACCOUNT
        return _sites(c for c in self.checks if c.found and c.direction is site_side)

    @property
    def claimed_sites(self) -> tuple[str, ...]:
        """Sites the account links to, which do not link back."""
        return tuple(
            site
            for site in _sites(
                c for c in self.checks if c.found and c.direction is Direction.ACCOUNT_TO_SITE
            )
            if site not in self.linked_from
        )

    @property
    def unlinked_from(self) -> tuple[str, ...]:
        """Sites read that do not link to the account."""
        return _sites(
            c
            for c in self.checks
            if c.found is False and c.direction is Direction.SITE_TO_ACCOUNT
        )


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """What the live check found: the checks, and every account the sites link to."""

    checks: tuple[LinkCheck, ...]
    linked: tuple[tuple[str, AccountRef], ...] = ()  # (site, account it links to)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What a verify did: the verification stored, and the reports it queued for moderators."""

    verification: Verification
    suggested: tuple[AccountRef, ...] = ()  # linked from the official site, not in the registry
    lost: bool = False  # was linked at the previous verification, is not now


def _sites(checks: Iterable[LinkCheck]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.site for c in checks))
