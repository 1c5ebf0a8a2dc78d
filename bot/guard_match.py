"""Who a chat member poses as: the chat's admins (by name and photo) or the registry's protected
accounts on the chat's platform, by the same lookalike rules as `check` (bot.lookalike).

The admins' usernames and display names go into a small LookalikeIndex of their own, so an
admin's "Alice Kim" is matched exactly as an official's handle would be: homoglyphs, typos,
affix words ("Alice Kim Support"), invisible characters dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from bot.guard_model import Impersonation, Member
from bot.lookalike import LookalikeIndex
from bot.model import AccountRef, IsOfficialError, Lookalike, Reason, Strength
from bot.platforms import normalize_handle
from bot.skeleton import describe_character, invisible_characters, mixed_script, odd_letters

# Bits two pHashes of the same photo may differ by, measured by benchmarks/bench_guard.py on
# photo-like images: JPEG quality 85..35 and 640..96 pixels move at most 4 bits, a 2% crop at
# each edge at most 10, 3% at most 12, 5% up to 18 (80% within 12); distinct images are 16 or
# more apart (1,770 pairs; 14 at the least in 44,850 pairs with --images 300). Hence 12.
PHOTO_DISTANCE = 12
SAME_NAME = "same-name"  # the reason for an exact copy of a name (no trick needed on chats)
PHOTO = "photo"
INVISIBLE = "invisible"
MIXED_SCRIPT = "mixed-script"
PART_DROPPED = "part-dropped"  # bot.lookalike's detail: the official minus digits or last word
_BLANKS = re.compile(r"\s+")
_MEMBER = "member/"  # the prefix of a query's own ref: never one of the indexed ones
_LOOKUP_LIMIT = 10  # lookalikes asked of the registry's index, before keeping this platform's


def photo_distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class AdminIndex:
    """One chat's admins: their names indexed by the lookalike rules, their photo hashes."""

    def __init__(self, platform: str, admins: Sequence[Member]) -> None:
        self.platform = platform
        self.admins = tuple(admins)
        self._ids = {admin.user_id for admin in admins}
        self._usernames = {admin.username.casefold() for admin in admins if admin.username}
        self._owners: dict[AccountRef, tuple[Member, str]] = {}
        self._index = LookalikeIndex()
        for number, admin in enumerate(self.admins):
            for name in admin.names():
                ref = AccountRef(platform, f"{number}/{_as_handle(name)}")
                self._index.add(ref, admin.user_id, _as_handle(name))
                self._owners[ref] = (admin, name)

    def is_admin(self, member: Member) -> bool:
        """The same account: the same user id; a member known by username only (user_id "",
        /check @name) by the same username (unique on the platform). An id decides when
        there is one: an admin's former username may have been taken by someone else."""
        if member.user_id:
            return member.user_id in self._ids
        return member.username is not None and member.username.casefold() in self._usernames

    def by_name(self, name: str) -> Iterator[tuple[Member, str, Lookalike]]:
        """Admins whose names this name resembles, closest first (weak ones too)."""
        query = AccountRef(self.platform, _MEMBER + _as_handle(name))
        found_all = self._index.find(query, _as_handle(name), limit=_LOOKUP_LIMIT)
        for found in sorted(found_all, key=_closest):
            admin, written = self._owners[found.target]
            yield admin, written, found

    def by_photo(self, photo: int) -> Member | None:
        """The admin whose photo this one is (within PHOTO_DISTANCE), closest first."""
        near = [
            (photo_distance(photo, admin.photo), number)
            for number, admin in enumerate(self.admins)
            if admin.photo is not None and photo_distance(photo, admin.photo) <= PHOTO_DISTANCE
        ]
        return self.admins[min(near)[1]] if near else None

    @property
    def has_photos(self) -> bool:
        return any(admin.photo is not None for admin in self.admins)


def impersonation(
    member: Member, admins: AdminIndex, officials: LookalikeIndex
) -> Impersonation | None:
    """Whom member poses as, if anyone: an admin first (by name, then by photo), else a
    protected account of the registry on member's platform. No exemption is decided here."""
    return _as_admin(member, admins) or _as_official(member, officials)


def is_registered_official(member: Member, officials: LookalikeIndex) -> bool:
    """The member's username is itself a protected account on their platform."""
    ref = _username_ref(member)
    return ref is not None and ref in officials


def _as_admin(member: Member, admins: AdminIndex) -> Impersonation | None:
    photo_of = admins.by_photo(member.photo) if member.photo is not None else None
    for name in member.names():
        for admin, written, found in admins.by_name(name):
            if _strong_here(found) or admin == photo_of:
                photo = (PHOTO,) if admin == photo_of else ()
                return _found(member, name, written, found, photo, imitates=admin)
    if photo_of is not None:
        name = member.display_name or member.username or ""
        return Impersonation(
            member, photo_of, None, None, (PHOTO,), _shown(name), _odd(name),
            photo_of.display_name or photo_of.username or "",
        )  # fmt: skip
    return None


def _as_official(member: Member, officials: LookalikeIndex) -> Impersonation | None:
    for name in member.names():
        query = AccountRef(member.platform, _MEMBER + _as_handle(name))
        for found in officials.find(query, _as_handle(name), limit=_LOOKUP_LIMIT):
            same_platform = found.target.platform == member.platform
            if same_platform and found.strength is Strength.STRONG:
                return _found(member, name, found.target.handle, found, (), official=found)
    return None


def _found(
    member: Member,
    name: str,
    written: str,
    found: Lookalike,
    extra: tuple[str, ...],
    imitates: Member | None = None,
    official: Lookalike | None = None,
) -> Impersonation:
    reason = SAME_NAME if found.reason is Reason.CROSS_PLATFORM else str(found.reason)
    tricks: tuple[str, ...] = (INVISIBLE,) if invisible_characters(name) else ()
    tricks += (MIXED_SCRIPT,) if mixed_script(name) else ()
    return Impersonation(
        member,
        imitates,
        official.target if official else None,
        official.entity if official else None,
        (reason, *tricks, *extra),
        _shown(name),
        _odd(name),
        written,
    )


def _strong_here(found: Lookalike) -> bool:
    """Strong in a chat: a member called by a part of an admin's username (Boris for
    boris_ops) is most often another Boris; that counts with the admin's photo only."""
    return found.strength is Strength.STRONG and found.detail != PART_DROPPED


def _closest(found: Lookalike) -> tuple[bool, bool, float]:
    """Strong first; among them the very same name (its invisible characters aside) first."""
    return not _strong_here(found), found.reason is not Reason.CROSS_PLATFORM, -found.score


def _username_ref(member: Member) -> AccountRef | None:
    if not member.username:
        return None
    try:
        return AccountRef(member.platform, normalize_handle(member.platform, member.username))
    except IsOfficialError:  # not a handle the registry could hold
        return None


def _as_handle(name: str) -> str:
    """A display name written as a handle would be: words joined by `_`, so the lookalike rules
    read "Ilhan Camuel" as they read ilhan_camuel (a first name beside another word is weak),
    and no `/` (names are read after the last one)."""
    return _BLANKS.sub("_", name.strip()).replace("/", "_")


def _shown(name: str) -> str:
    """The name with each invisible character written as its code point: `Alice⟨U+200B⟩`."""
    hidden = set(invisible_characters(name))
    return "".join(f"⟨U+{ord(c):04X}⟩" if c in hidden else c for c in name)


def _odd(name: str) -> tuple[str, ...]:
    """The characters that make the name a trick: invisible ones, letters of another script."""
    odd = dict.fromkeys([*invisible_characters(name), *(c for c, _ in odd_letters(name))])
    return tuple(describe_character(c) for c in odd)
