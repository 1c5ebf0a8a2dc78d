"""Whether the bot still hears Telegram: the long-poll connection reports every answer it gets.

python-telegram-bot stops polling for good on a 401 and retries a 409 forever, in both cases
while the process looks alive. The getUpdates connection sees every answer, so it tells
bot.health: up on 200, down (retried with backoff by the library) on other failures, and fatal on
401/404 (the token is refused) and 409 (another process polls with this token, or a webhook is
set): those end the process, so that the supervisor restarts it and the operator sees why.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram.request import HTTPXRequest

from bot.health import Health

PART = "telegram"
FATAL = {
    401: "Telegram refused the bot token (401 Unauthorized): set a valid ISOFFICIAL_TELEGRAM_TOKEN",
    404: "Telegram does not know the bot token (404): set a valid ISOFFICIAL_TELEGRAM_TOKEN",
    409: "another process is receiving this bot's updates (409 Conflict): run one poller per "
    "token, or use --webhook",
}


class PollWatch(HTTPXRequest):
    """The getUpdates connection, reporting to health whether each long poll was answered."""

    def __init__(self, health: Health, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.health = health
        self.last_answer = time.monotonic()
        self.fatal = asyncio.Event()
        self.fatal_reason = ""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except Exception as error:
            self.health.down(PART, f"getUpdates failed: {type(error).__name__}")
            raise
        self.last_answer = time.monotonic()
        if code == 200:
            self.health.up(PART)
        elif code in FATAL:
            self.stop_for(code)
        else:
            self.health.down(PART, f"getUpdates answered HTTP {code}")
        return code, payload

    def stop_for(self, code: int) -> None:
        """Telegram answered code: this process may not receive; it has to stop."""
        self.fatal_reason = FATAL[code]
        self.health.down(PART, self.fatal_reason, fatal=True)
        self.fatal.set()

    def silent_for(self) -> float:
        return time.monotonic() - self.last_answer
