"""A per-user throttle: a sliding window of requests, one polite notice per burst."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum


class Admission(Enum):
    ANSWER = "answer"
    NOTIFY = "notify"  # the first refusal of a burst: say so once
    IGNORE = "ignore"  # later refusals: stay silent


class Throttle:
    """At most `count` requests per user in any `seconds`; remembers at most `max_users` users."""

    def __init__(
        self,
        count: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 100_000,
    ) -> None:
        self.count, self.seconds, self.clock, self.max_users = count, seconds, clock, max_users
        self._recent: OrderedDict[int, deque[float]] = OrderedDict()
        self._notified: set[int] = set()

    def admit(self, user_id: int) -> Admission:
        now = self.clock()
        recent = self._recent.pop(user_id, None) or deque()
        self._recent[user_id] = recent  # most recently seen last: the oldest are forgotten first
        while recent and recent[0] <= now - self.seconds:
            recent.popleft()
        if len(self._recent) > self.max_users:
            forgotten, _ = self._recent.popitem(last=False)
            self._notified.discard(forgotten)
        if len(recent) < self.count:
            recent.append(now)
            self._notified.discard(user_id)
            return Admission.ANSWER
        if user_id in self._notified:
            return Admission.IGNORE
        self._notified.add(user_id)
        return Admission.NOTIFY
