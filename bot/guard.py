"""The guard: warns a chat about members who pose as its admins or as registered officials.

It keeps what must survive a restart (on/off, options, allowed members) in a GuardStore and the
rest in memory: the admins, who was already warned, whose photo was hashed. An adapter:
- tells each chat's admins, with their photo hashes (set_admins; again when they change) and
  its title and @name (set_chat, for DMs that name it);
- on a join or a rename: inspect(member) and, when it returns an Impersonation, posts
  guard_text.warning_text (and copies it to options().moderators_chat); if needs_photo(),
  queues the photo's fetch (adapters/photos.photo_hash), counts it with count_photo, and
  inspects the member again with the hash (a name already warned about is not repeated);
- /guard on|off, options, allow: set_on / set_options / allow with chat_admin telling whether
  the asker is one of the chat's admins (NotAllowed otherwise: its message is the reply);
- /check @member in a group: who_is -> guard_text.member_answer_lines; in a DM: named_chats
  -> guard_text.never_write_first.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from bot import limits
from bot.chat_cache import ChatCache
from bot.guard_match import AdminIndex, impersonation, is_registered_official
from bot.guard_model import (
    GuardedChat,
    GuardOptions,
    GuardSettings,
    Impersonation,
    Member,
    MemberAnswer,
    PhotoOutcome,
)
from bot.i18n import N_
from bot.lookalike import LookalikeIndex
from bot.model import Asker, NotAllowed
from bot.ports import GuardMeter, GuardStore

__all__ = [
    "Guard",
    "GuardOptions",
    "GuardSettings",
    "GuardedChat",
    "Impersonation",
    "Member",
    "MemberAnswer",
    "PhotoOutcome",
]

CHAT_ADMINS_ONLY = N_("only this chat's admins can change its guard ({who} is not one)")
MIN_TITLE = 4  # a chat title this short is a word, not a name someone means in a DM

Key = tuple[str, str]  # (platform, chat id)
Who = tuple[str, str, str]  # (platform, chat id, user id)
Change = Callable[[GuardSettings], GuardSettings]
V = TypeVar("V")


class Guard:
    # Read on every join: cached this long, so a switch made through another replica is seen
    # within it (this replica's own switches at once).
    settings_ttl = 60.0
    remembered_members = 200_000  # members whose warnings and photo hashes are remembered

    def __init__(
        self,
        officials: LookalikeIndex,
        store: GuardStore | None = None,
        meter: GuardMeter | None = None,
    ) -> None:
        """officials: the core's index of protected accounts. store None: settings and
        allowed members are kept in this process only (lost on restart). meter None: counted
        nowhere."""
        self.officials = officials
        self.store = store
        self.meter = meter
        self._settings: ChatCache[GuardSettings] = ChatCache()
        self._allowed: set[Who] = set()  # known allowed (allowing is forever)
        self._admins: dict[Key, AdminIndex] = {}
        self._chats: dict[Key, GuardedChat] = {}
        # (platform, chat, user) -> what they were warned about: (display name, username, target)
        self._warned: OrderedDict[Who, set[tuple[str, str, str]]] = OrderedDict()
        self._hashed: OrderedDict[Who, None] = OrderedDict()

    # --- settings (the adapter tells whether the asker is one of the chat's admins) --------

    async def settings(self, platform: str, chat_id: str) -> GuardSettings:
        store = self.store

        async def load() -> GuardSettings:
            return await store.settings(platform, chat_id) if store else GuardSettings()

        return await self._settings.read((platform, chat_id), load, self.settings_ttl)

    async def is_on(self, platform: str, chat_id: str) -> bool:
        """Opt-in: False when the chat never said."""
        return (await self.settings(platform, chat_id)).on

    async def options(self, platform: str, chat_id: str) -> GuardOptions:
        return (await self.settings(platform, chat_id)).options

    async def set_on(
        self, platform: str, chat_id: str, on: bool, by: Asker, *, chat_admin: bool
    ) -> None:
        """Switch the chat's guard; NotAllowed unless the asker is one of its admins."""
        who = _allowed_to_change(by, chat_admin)
        if self.store is not None:
            await self.store.set_on(platform, chat_id, on, who)
        await self._changed(platform, chat_id, lambda current: replace(current, on=on), who)

    async def set_options(
        self, platform: str, chat_id: str, options: GuardOptions, by: Asker, *, chat_admin: bool
    ) -> None:
        who = _allowed_to_change(by, chat_admin)
        if self.store is not None:
            await self.store.set_options(platform, chat_id, options, who)
        await self._changed(platform, chat_id, lambda now: replace(now, options=options), who)

    async def _changed(self, platform: str, chat_id: str, change: Change, who: str) -> None:
        """Cache the chat's new settings: read back from the store (its who and when), or
        without a store, changed here (kept for the life of the process)."""
        key = (platform, chat_id)
        if self.store is not None:
            self._settings.drop(key)
            await self.settings(platform, chat_id)
            return
        changed = replace(change(await self.settings(platform, chat_id)), by=who, at=_now())
        self._settings.put(key, changed, float("inf"))

    async def allow(
        self, platform: str, chat_id: str, user_id: str, by: Asker, *, chat_admin: bool
    ) -> None:
        """The member is never warned about again in this chat."""
        who = _allowed_to_change(by, chat_admin)
        if self.store is not None:
            await self.store.allow(platform, chat_id, user_id, who)
        self._allowed.add((platform, chat_id, user_id))

    async def is_allowed(self, platform: str, chat_id: str, user_id: str) -> bool:
        key = (platform, chat_id, user_id)
        store = self.store
        if key not in self._allowed and store and await store.allowed(*key):
            self._allowed.add(key)
        return key in self._allowed

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """A chat got a new id (a Telegram group became a supergroup): its guard follows."""
        if self.store is not None:
            await self.store.move_chat(platform, old_id, new_id)
        old, new = (platform, old_id), (platform, new_id)
        self._settings.move(old, new)
        _move(self._admins, old, new)
        if old in self._chats:
            self._chats[new] = replace(self._chats.pop(old), chat_id=new_id)
        moved = {(p, c, u) for p, c, u in self._allowed if (p, c) == old}
        self._allowed = (self._allowed - moved) | {(platform, new_id, u) for _, _, u in moved}

    # --- what the adapter tells about a chat ----------------------------------------------

    def set_admins(self, platform: str, chat_id: str, admins: Sequence[Member]) -> None:
        """Replace the chat's admin set (the adapter refreshes it when it changes)."""
        self._admins[(platform, chat_id)] = AdminIndex(platform, admins)

    def admins(self, platform: str, chat_id: str) -> tuple[Member, ...]:
        return self._admin_index(platform, chat_id).admins

    def set_chat(
        self, platform: str, chat_id: str, title: str, username: str | None = None
    ) -> None:
        """The chat's title and public @name, for DMs that name it."""
        self._chats[(platform, chat_id)] = GuardedChat(platform, chat_id, title, username)

    def _admin_index(self, platform: str, chat_id: str) -> AdminIndex:
        return self._admins.get((platform, chat_id)) or AdminIndex(platform, ())

    # --- members -------------------------------------------------------------------------

    def needs_photo(self, platform: str, chat_id: str, member: Member) -> bool:
        """Worth fetching this member's photo: some admin has one, and the member was not
        hashed yet (nor is an admin)."""
        admins = self._admin_index(platform, chat_id)
        return (
            member.photo is None
            and admins.has_photos
            and not admins.is_admin(member)
            and (platform, chat_id, member.user_id) not in self._hashed
        )

    async def inspect(self, platform: str, chat_id: str, member: Member) -> Impersonation | None:
        """Whom the member poses as; None when there is nothing to say: guard off, a real
        admin, an allowed member, a registered official, or already warned about this very
        name and target."""
        if not await self.is_on(platform, chat_id):
            return None
        found = self._match(platform, chat_id, member)
        if found is None or await self.is_allowed(platform, chat_id, member.user_id):
            return None
        # No await from here on: two inspections of one member cannot both warn.
        who = (platform, chat_id, member.user_id)
        seen = (member.display_name, member.username or "", found.target)
        warned = self._remember(self._warned, who, set())
        if seen in warned:
            return None
        warned.add(seen)
        if self.meter is not None:
            self.meter.warned(found)
        return found

    def count_photo(self, platform: str, outcome: PhotoOutcome) -> None:
        """The adapter's photo queue tells what became of a photo the guard wanted."""
        if self.meter is not None:
            self.meter.photo(platform, outcome)

    def _match(self, platform: str, chat_id: str, member: Member) -> Impersonation | None:
        admins = self._admin_index(platform, chat_id)
        if member.photo is not None:
            self._remember(self._hashed, (platform, chat_id, member.user_id), None)
        if admins.is_admin(member) or is_registered_official(member, self.officials):
            return None
        return impersonation(member, admins, self.officials)

    def who_is(self, platform: str, chat_id: str, member: Member) -> MemberAnswer:
        """/check @someone in a group: one of this chat's admins? a registered official? or
        only looking like one (whom)?"""
        admins = self._admin_index(platform, chat_id)
        admin = admins.is_admin(member)
        official = is_registered_official(member, self.officials)
        looks = None if admin or official else impersonation(member, admins, self.officials)
        return MemberAnswer(member, admin, official, looks)

    async def guarded_chats(self, platform: str) -> list[GuardedChat]:
        """The chats known to this process (set_chat) whose guard is on (one query)."""
        chats = [chat for (p, _), chat in self._chats.items() if p == platform]
        if self.store is None:
            return [chat for chat in chats if await self.is_on(platform, chat.chat_id)]
        on = set(await self.store.guarded(platform))
        return [chat for chat in chats if chat.chat_id in on]

    async def named_chats(self, platform: str, text: str) -> list[GuardedChat]:
        """Guarded chats a DM names, by title or @name: "Admins of <chat> never write first"."""
        said = _words(text)
        return [chat for chat in await self.guarded_chats(platform) if _names(chat, said)]

    def _remember(self, cache: OrderedDict[Who, V], key: Who, value: V) -> V:
        """cache[key], set to value if absent; the oldest entries go past the bound."""
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        cache[key] = value
        while len(cache) > self.remembered_members:
            cache.popitem(last=False)
        return value


def _now() -> datetime:
    return datetime.now(UTC)


def _move(cache: dict[Key, V], old: Key, new: Key) -> None:
    if old in cache:
        cache[new] = cache.pop(old)


def _allowed_to_change(by: Asker, chat_admin: bool) -> str:
    """The change log's name of the asker; NotAllowed unless they are one of the chat's admins."""
    named = by.name and by.name != by.user_id
    who = limits.who(f"{by.key} ({by.name})" if named else by.key)
    if not chat_admin:
        raise NotAllowed(who, CHAT_ADMINS_ONLY)
    return who


_WORD = re.compile(r"[\w@]+")


def _words(text: str) -> str:
    return " " + " ".join(_WORD.findall(text.casefold())) + " "


def _names(chat: GuardedChat, said: str) -> bool:
    title = _words(chat.title)
    by_title = len(title.strip()) >= MIN_TITLE and title in said
    by_name = chat.username is not None and (
        f" @{chat.username.casefold()} " in said or f" {chat.username.casefold()} " in said
    )
    return by_title or by_name
