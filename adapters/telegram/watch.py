"""The guard's eyes on Telegram: who a member is (name, username, photo hash), the chat's
admins (getChatAdministrators, refreshed on promotions and at most every `refresh` seconds,
their photos re-hashed only when they change), and what happens to an impostor: a warning in
the chat and the moderators' chat, optionally a restriction until an admin approves, and the
join message deleted."""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from telegram import (
    Bot,
    Chat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    User,
)
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from adapters.guard_queues import Bounded, GuardWarning, PhotoQueue, WarningQueue, after
from adapters.photos import photo_hash
from adapters.telegram.render import MESSAGE_LIMIT, text_html
from adapters.telegram.throttle import Throttle
from bot import guard_text
from bot.core import Core
from bot.guard import Impersonation, Member
from bot.i18n import _

log = logging.getLogger(__name__)

Warned = GuardWarning[InlineKeyboardButton]
APPROVE_PATTERN = r"^guard:ok:-?\d{1,20}:\d{1,20}$"
PHOTO_BYTES = 5 << 20  # a profile photo bigger than this is not a profile photo: skipped
MAX_BUTTONS = 20  # Approve buttons under one warning message
SEND_TRIES = 3  # a warning told to retry after N seconds is sent again, not dropped


def member_of(user: User, photo: int | None = None) -> Member:
    return Member("telegram", str(user.id), user.username, user.full_name, photo)


@dataclass
class Watch:
    """What the Telegram guard keeps: caches, the photo queue, the warnings queue."""

    bot: Bot
    core: Core
    throttle: Throttle
    refresh: float = 600.0  # admins re-read at most this often, unless a promotion says so
    photo_bound: int = 100
    photo_rate: float = 5.0
    gather: float = 3.0  # seconds a warning waits for others of the same wave
    seen: Bounded = field(default_factory=lambda: Bounded(100_000))  # (chat, user) -> names
    photos: Bounded = field(default_factory=lambda: Bounded(100_000))  # (user,) -> hash
    admin_photos: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    admins_read: dict[int, float] = field(default_factory=dict)  # chat -> when
    flagged: Bounded = field(default_factory=lambda: Bounded(10_000))  # (chat, user) impostors
    joins: Bounded = field(default_factory=lambda: Bounded(10_000))  # (chat, user) -> message id
    queue: PhotoQueue = field(init=False)
    warnings: WarningQueue[InlineKeyboardButton] = field(init=False)
    _photo_tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)  # per chat

    def __post_init__(self) -> None:
        count = partial(self.core.guard.count_photo, "telegram")
        self.queue = PhotoQueue(count, self.photo_bound, self.photo_rate)
        self.warnings = WarningQueue("telegram", self._send, self._slot, MESSAGE_LIMIT - 96,
                                     MAX_BUTTONS, self.gather)

    # --- admins -------------------------------------------------------------------------------

    async def admins(self, chat: Chat, force: bool = False, wait: bool = False) -> None:
        """Re-read the chat's admins when asked to, or when the last read is `refresh` old.
        Their photos are checked afterwards, in the background unless wait: a name warning
        never waits for admins' photos."""
        read = self.admins_read.get(chat.id)
        if not force and read is not None and time.monotonic() - read < self.refresh:
            return
        self.admins_read[chat.id] = time.monotonic()
        try:
            found = await self.bot.get_chat_administrators(chat.id)
        except TelegramError as error:  # removed from the chat, or it is gone
            log.info("getChatAdministrators %s: %s", chat.id, error)
            return
        people = [m.user for m in found if isinstance(m, ChatMemberAdministrator | ChatMemberOwner)
                  and not m.user.is_bot]
        self._set_admins(chat, people)
        photos = self._admin_photos(chat, people)
        if wait:
            await photos
            return
        # One check per chat at a time (the next after the running one: nothing twice).
        self._photo_tasks[chat.id] = asyncio.create_task(
            after(self._photo_tasks.get(chat.id), photos))

    def _set_admins(self, chat: Chat, people: Sequence[User]) -> None:
        admins = [member_of(user, self.admin_photos.get(user.id, ("", None))[1])
                  for user in people]
        self.core.guard.set_admins("telegram", str(chat.id), admins)
        self.core.guard.set_chat("telegram", str(chat.id), chat.title or str(chat.id),
                                 chat.username)

    async def _admin_photos(self, chat: Chat, people: Sequence[User]) -> None:
        changed = [await self._admin_photo(user) for user in people]
        if any(changed):
            self._set_admins(chat, people)

    async def _admin_photo(self, user: User) -> bool:
        """Hash the admin's photo again when it changed (file_unique_id); True if it did."""
        try:
            photos = await self.bot.get_user_profile_photos(user.id, limit=1)
            if not photos.photos:
                return self.admin_photos.pop(user.id, None) is not None
            size = photos.photos[0][0]
            known = self.admin_photos.get(user.id)
            if known is not None and known[0] == size.file_unique_id:
                return False
            self.admin_photos[user.id] = (size.file_unique_id, await self._download(size.file_id))
        except TelegramError as error:  # keep what was known
            log.info("the photo of admin %s: %s", user.id, error)
            return False
        return True

    async def settled(self) -> None:
        """Until the admins' photos being checked are (for tests and shutdown)."""
        await asyncio.gather(*self._photo_tasks.values(), return_exceptions=True)

    async def _download(self, file_id: str) -> int | None:
        file = await self.bot.get_file(file_id)
        if file.file_size is not None and file.file_size > PHOTO_BYTES:
            return None
        return photo_hash(bytes(await file.download_as_bytearray()))

    async def _member_photo(self, user: User) -> int | None:
        photos = await self.bot.get_user_profile_photos(user.id, limit=1)
        return await self._download(photos.photos[0][0].file_id) if photos.photos else None

    # --- members ------------------------------------------------------------------------------

    async def look_at(self, chat: Chat, user: User) -> None:
        """A member arrived, renamed, or is seen for the first time: warn if they pose as
        someone; by name at once, by photo later through the queue (when worth it)."""
        guard = self.core.guard
        if user.id == self.bot.id or not await guard.is_on("telegram", str(chat.id)):
            return
        await self.admins(chat)
        cached = self.photos.get((user.id,))
        member = member_of(user, cached if isinstance(cached, int) else None)
        found = await guard.inspect("telegram", str(chat.id), member)
        if found is not None:
            await self.act(chat, found)
            return
        fetch = (user.id,) not in self.photos and guard.needs_photo("telegram", str(chat.id),
                                                                    member)
        if fetch and self.queue.offer((chat.id, user.id), lambda: self._by_photo(chat, user)):
            self.photos.put((user.id,), None)  # being fetched: a second event waits for it

    async def _by_photo(self, chat: Chat, user: User) -> None:
        hashed = await self._member_photo(user)
        self.photos.put((user.id,), hashed)
        if hashed is None:
            return
        member = member_of(user, hashed)
        found = await self.core.guard.inspect("telegram", str(chat.id), member)
        if found is not None:
            await self.act(chat, found)

    def seen_name(self, chat: Chat, user: User) -> bool:
        """Remember the sender's names; True when they changed (or were never seen)."""
        names = (user.full_name, user.username)
        return self.seen.put((chat.id, user.id), names) != names

    def is_admin(self, chat: Chat, user: User) -> bool:
        admins = self.core.guard.admins("telegram", str(chat.id))
        return any(admin.user_id == str(user.id) for admin in admins)

    def known_user(self, chat_id: int, username: str) -> int | None:
        """The id of a member of chat seen with @username (admins included)."""
        wanted = username.removeprefix("@").casefold()
        for admin in self.core.guard.admins("telegram", str(chat_id)):
            if (admin.username or "").casefold() == wanted:
                return int(admin.user_id)
        for (seen_chat, user_id), names in reversed(self.seen.items()):
            username_seen = names[1] if isinstance(names, tuple) else None
            if seen_chat == chat_id and str(username_seen).casefold() == wanted:
                return int(str(user_id))
        return None

    # --- acting on an impostor ------------------------------------------------------------------

    async def act(self, chat: Chat, found: Impersonation) -> None:
        """Warn (chat and moderators' chat), and do what the chat's admins chose."""
        options = await self.core.guard.options("telegram", str(chat.id))
        user_id = int(found.member.user_id)
        self.flagged.put((chat.id, user_id), True)
        button = None
        if options.restrict_until_approved and await self._restrict(chat.id, user_id):
            button = InlineKeyboardButton(
                "✅ " + _("Approve {name}").format(name=found.member.display_name[:40]),
                callback_data=f"guard:ok:{chat.id}:{user_id}")
        warning = GuardWarning(guard_text.warning_text(found), button)
        self.warnings.add(str(chat.id), warning)
        if options.moderators_chat is not None:  # the chat's admins' own moderators' chat
            where = _("in {chat}").format(chat=chat.title or chat.id)
            self.warnings.add(options.moderators_chat,
                              GuardWarning(f"{where}: {warning.text}", button))
        if options.delete_join:
            await self.delete_join(chat.id, user_id)

    async def delete_join(self, chat_id: int, user_id: int) -> None:
        """Delete the impostor's join message, once it is known and they are flagged."""
        message_id = self.joins.get((chat_id, user_id))
        if not isinstance(message_id, int) or (chat_id, user_id) not in self.flagged:
            return
        self.joins.pop((chat_id, user_id), None)
        try:
            await self.bot.delete_message(chat_id, message_id)
        except TelegramError as error:  # not an admin with that right, or already gone
            log.info("could not delete join message in %s: %s", chat_id, error)

    async def _restrict(self, chat_id: int, user_id: int) -> bool:
        try:
            return await self.bot.restrict_chat_member(chat_id, user_id,
                                                       ChatPermissions.no_permissions())
        except TelegramError as error:  # the bot lacks the right, or they are an admin
            log.info("could not restrict %s in %s: %s", user_id, chat_id, error)
            return False

    async def lift(self, chat_id: int, user_id: int) -> None:
        await self.bot.restrict_chat_member(chat_id, user_id, ChatPermissions.all_permissions())

    def _slot(self, chat: str) -> float:
        """Seconds until the chat's next message slot, booked (warnings share the budget of
        the chat's answers: Telegram's ~20 messages a minute per group)."""
        return self.throttle.reserve(int(chat))

    async def _send(self, chat: str, warnings: Sequence[Warned]) -> None:
        text = "\n\n".join(w.text for w in warnings)
        buttons = [[w.button] for w in warnings if w.button is not None]
        markup = InlineKeyboardMarkup(buttons) if buttons else None
        for attempt in range(SEND_TRIES):
            try:
                await self.bot.send_message(int(chat), text_html(text),
                                            parse_mode=ParseMode.HTML, reply_markup=markup)
                return
            except RetryAfter as error:  # over Telegram's limit after all: wait, then again
                if attempt == SEND_TRIES - 1:
                    raise
                await asyncio.sleep(retry_seconds(error))

    async def close(self) -> None:
        for task in self._photo_tasks.values():
            task.cancel()
        await self.settled()
        await self.queue.close()
        await self.warnings.close()


def retry_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after, int or timedelta as PTB is configured (its deprecation of the
    int form is not ours to print)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
