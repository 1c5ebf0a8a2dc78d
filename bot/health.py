"""What each running part says about itself, for /healthz: a bot that cannot hear is not healthy.

Adapters report `up` when they receive (a long poll answered, the gateway connected) and `down`
with the reason when they stop; a part down for longer than the grace period, or stopped by a
fatal error, makes /healthz fail with that reason. A blip shorter than the grace (a gateway
reconnect, one failed poll retried) is not worth a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

GRACE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Down:
    reason: str
    since: float
    fatal: bool  # stays down: the process has to restart
    at_once: bool  # no grace: the part has been silent for long already


class Health:
    def __init__(
        self, grace: float = GRACE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grace = grace
        self._clock = clock
        self._down: dict[str, _Down] = {}

    def up(self, part: str) -> None:
        if part in self._down and not self._down[part].fatal:
            del self._down[part]

    def down(self, part: str, reason: str, *, fatal: bool = False, at_once: bool = False) -> None:
        """part stopped receiving; the first time of a streak of failures is kept."""
        known = self._down.get(part)
        if known is not None and known.fatal:
            return
        since = known.since if known is not None and not fatal else self._clock()
        self._down[part] = _Down(reason, since, fatal, at_once)

    def problems(self) -> dict[str, str]:
        """The parts not healthy now, with why and for how long."""
        now = self._clock()
        return {
            part: f"{down.reason} ({now - down.since:.0f} s)"
            for part, down in self._down.items()
            if down.fatal or down.at_once or now - down.since >= self.grace
        }
