"""Fair limits that follow Telegram's own budgets, and never drop a question without a word.

Telegram lets a bot send about 20 messages a minute into one group and about one a second into
one private chat. So a group's answers are a shared budget, of which one member may use at most
their own share (`member_count` per `member_seconds`): one busy member cannot silence the group.
A DM is limited only by that chat's own rate. A question over the limit is given a later slot
(answered then: queued, at most `max_queued` per chat and `max_wait` seconds ahead) or, when the
queue is full, told how long to wait.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


class Window:
    """At most `count` events in any `seconds`; slots may be booked in the future."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self.times: deque[float] = deque()  # booked slots, ascending

    def next_slot(self, now: float) -> float:
        """The earliest moment >= now at which one more event fits."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) < self.count:
            return now
        return max(now, self.times[len(self.times) - self.count] + self.seconds, self.times[-1])

    def book(self, at: float) -> None:
        self.times.append(at)  # callers book at >= every earlier booking: stays ascending

    def idle(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.seconds


@dataclass(frozen=True, slots=True)
class Admission:
    delay: float  # seconds until the answer may go out; 0: now
    queued: bool  # True: answer after `delay`; False: refused, tell the asker to wait `delay`

    @property
    def now(self) -> bool:
        return self.queued and self.delay <= 0


class Throttle:
    """Budgets per group, per member of a group and per private chat (or inline asker)."""

    def __init__(
        self,
        member_count: int = 8,
        member_seconds: float = 60.0,
        group_count: int = 20,
        group_seconds: float = 60.0,
        private_count: int = 20,
        private_seconds: float = 20.0,
        max_queued: int = 5,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_windows: int = 100_000,
    ) -> None:
        self.member = (member_count, member_seconds)
        self.group = (group_count, group_seconds)
        self.private = (private_count, private_seconds)
        self.max_queued, self.max_wait, self.clock = max_queued, max_wait, clock
        self.max_windows = max_windows
        self._windows: OrderedDict[tuple[str, int, int], Window] = OrderedDict()

    def admit(self, user_id: int, chat_id: int | None, is_group: bool) -> Admission:
        """Book the asker's next slot, or refuse when it is too far ahead or too many wait."""
        now = self.clock()
        if is_group and chat_id is not None:
            windows = [self._window("group", chat_id, 0, self.group),
                       self._window("member", chat_id, user_id, self.member)]
        else:
            windows = [self._window("private", chat_id or user_id, 0, self.private)]
        slot = max(window.next_slot(now) for window in windows)
        waiting = sum(1 for t in windows[0].times if t > now)
        if slot > now and (slot - now > self.max_wait or waiting >= self.max_queued):
            return Admission(slot - now, queued=False)
        for window in windows:
            window.book(slot)
        return Admission(slot - now, queued=True)

    def reserve(self, chat_id: int) -> float:
        """Book the group's next slot for a message the bot sends unasked (a guard warning):
        never refused, it shares the budget of the group's answers; returns the wait."""
        now = self.clock()
        window = self._window("group", chat_id, 0, self.group)
        slot = window.next_slot(now)
        window.book(slot)
        return slot - now

    def _window(self, kind: str, chat: int, user: int, limit: tuple[int, float]) -> Window:
        key = (kind, chat, user)
        window = self._windows.pop(key, None) or Window(*limit)
        self._windows[key] = window  # most recently used last: idle ones are forgotten first
        if len(self._windows) > self.max_windows:
            oldest_key, oldest = next(iter(self._windows.items()))
            if oldest.idle(self.clock()):
                del self._windows[oldest_key]
        return window
