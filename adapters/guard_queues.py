"""What keeps the guard within a platform's limits, shared by both adapters.

- PhotoQueue: members' profile photos are fetched one at a time, at most `per_second`, with at
  most `bound` waiting; past the bound an offer is refused (and counted), so a join wave of
  thousands never downloads thousands of photos. Name warnings never wait for it.
- WarningQueue: a warning waits `gather` seconds (the rest of a wave arrives meanwhile) and
  then for the chat's next message slot; whatever piled up goes out together, packed into as
  few messages as the platform allows. Messages that are not full stay `gather` apart, so
  warnings use a bounded share of a chat's budget; a backlog of full ones goes at the
  platform's pace. A wave of impostors costs a few messages, and none is dropped.

The photo queue tells the core's guard what became of each photo (Guard.count_photo: the
isofficial_guard_photos metric); the guard itself counts warnings.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.guard_model import PhotoOutcome

log = logging.getLogger(__name__)

Job = Callable[[], Coroutine[None, None, None]]
B = TypeVar("B")  # a platform's button


class PhotoQueue:
    """One fetch at a time, at most per_second, at most bound waiting (the rest refused)."""

    def __init__(self, count: Callable[[PhotoOutcome], None], bound: int = 100,
                 per_second: float = 5.0) -> None:
        """count: told each photo's outcome (the core's Guard.count_photo, for metrics)."""
        self.count, self.bound, self.per_second = count, bound, per_second
        self._waiting: OrderedDict[Hashable, tuple[Job, contextvars.Context]] = OrderedDict()
        self._worker: asyncio.Task[None] | None = None
        self.fetched = self.refused = self.failed = 0
        self.most_waiting = 0  # the longest the queue ever was

    def offer(self, key: Hashable, job: Job) -> bool:
        """Queue job (one per key: a second offer of a waiting key is a no-op); False when full.
        The job runs in the offerer's context (its language)."""
        if key in self._waiting:
            return True
        if len(self._waiting) >= self.bound:
            self.refused += 1
            self.count(PhotoOutcome.DROPPED)
            return False
        self._waiting[key] = (job, contextvars.copy_context())
        self.most_waiting = max(self.most_waiting, len(self._waiting))
        self.count(PhotoOutcome.QUEUED)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return True

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def _work(self) -> None:
        while self._waiting:
            _key, (job, context) = self._waiting.popitem(last=False)
            try:
                await asyncio.create_task(job(), context=context)
                self.fetched += 1
            except Exception:  # one member's photo must not stop the others (counted as done)
                self.failed += 1
                log.warning("fetching a member's photo failed", exc_info=True)
            self.count(PhotoOutcome.DONE)
            await asyncio.sleep(1 / self.per_second)

    async def close(self) -> None:
        self._waiting.clear()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)


class Bounded(OrderedDict[tuple[object, ...], object]):
    """Keys such as (chat, user) to what was last seen; the least recently used go first."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def put(self, key: tuple[object, ...], value: object) -> object | None:
        """Store value; returns what was there before (None: never seen or forgotten)."""
        before = self.pop(key, None)
        self[key] = value
        while len(self) > self.capacity:
            self.popitem(last=False)
        return before


async def after(first: asyncio.Task[None] | None, then: Coroutine[None, None, None]) -> None:
    """Run then once first (if any) has ended, however it ended."""
    if first is not None:
        await asyncio.gather(first, return_exceptions=True)
    await then


@dataclass(frozen=True, slots=True)
class GuardWarning(Generic[B]):
    text: str  # one warning, one or more lines
    button: B | None = None  # e.g. "Approve <name>", when the member was restricted


def fills(waiting: deque[GuardWarning[B]], limit: int, max_buttons: int) -> bool:
    """Whether what waits would fill a message already (no point gathering more)."""
    size = sum(len(w.text) + 2 for w in waiting)
    return size > limit or sum(w.button is not None for w in waiting) >= max_buttons


def pack(waiting: deque[GuardWarning[B]], limit: int, max_buttons: int) -> list[GuardWarning[B]]:
    """Take from waiting as many warnings as fit one message (limit characters with the blank
    lines between them, max_buttons buttons); at least one, clipped by the sender if too long."""
    taken: list[GuardWarning[B]] = []
    size = buttons = 0
    while waiting:
        warning = waiting[0]
        grown = size + len(warning.text) + (2 if taken else 0)
        more = buttons + (warning.button is not None)
        if taken and (grown > limit or more > max_buttons):
            break
        taken.append(waiting.popleft())
        size, buttons = grown, more
    return taken


# Sends (chat, warnings) as one message.
Send = Callable[[str, Sequence[GuardWarning[B]]], Awaitable[None]]


class WarningQueue(Generic[B]):
    """Per destination chat: gather, wait for its slot (`delay(chat)` seconds, booked), send
    what is waiting, packed; repeat until nothing waits. Adding never blocks."""

    def __init__(self, platform: str, send: Send[B], delay: Callable[[str], float],
                 limit: int, max_buttons: int, gather: float = 1.0) -> None:
        self.platform, self.send, self.delay = platform, send, delay
        self.limit, self.max_buttons, self.gather = limit, max_buttons, gather
        self._waiting: dict[str, deque[GuardWarning[B]]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self.sent = self.messages = 0

    def add(self, chat: str, warning: GuardWarning[B]) -> None:
        self._waiting.setdefault(chat, deque()).append(warning)
        sender = self._senders.get(chat)
        if sender is None or sender.done():
            self._senders[chat] = asyncio.create_task(self._drain(chat))

    async def _drain(self, chat: str) -> None:
        waiting = self._waiting[chat]
        while waiting:
            if not fills(waiting, self.limit, self.max_buttons):
                await asyncio.sleep(self.gather)  # the rest of a wave arrives meanwhile
            await asyncio.sleep(self.delay(chat))  # booked now: the message goes out then
            batch = pack(waiting, self.limit, self.max_buttons)
            try:
                await self.send(chat, batch)
            except Exception:  # the chat is gone or refuses the bot: nothing more to do there
                log.warning("could not warn chat %s:%s", self.platform, chat, exc_info=True)
                waiting.clear()
                return
            self.sent += len(batch)
            self.messages += 1
        del self._waiting[chat]

    async def idle(self) -> None:
        """Until every waiting warning is sent (for shutdown and tests)."""
        while running := [task for task in self._senders.values() if not task.done()]:
            await asyncio.gather(*running, return_exceptions=True)

    async def close(self) -> None:
        for task in self._senders.values():
            task.cancel()
        await asyncio.gather(*self._senders.values(), return_exceptions=True)
