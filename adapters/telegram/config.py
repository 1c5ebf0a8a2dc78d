"""What the Telegram adapter needs from the settings, read once, with defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL  # "<server>/bot"; the token is appended by the library
    rate_limit: bool = True  # AIORateLimiter: ~30 messages/s overall, 20/min per group, 429 retried
    throttle_count: int = 8  # questions per member of a group ...
    throttle_seconds: float = 60.0  # ... in any window this long
    group_count: int = 20  # a group's answers (Telegram: ~20 messages a minute per group) ...
    group_seconds: float = 60.0  # ... shared by its members, in any window this long
    private_count: int = 20  # a private chat's answers (Telegram: ~1 message a second) ...
    private_seconds: float = 20.0
    max_queued: int = 5  # questions of one chat waiting for a slot; beyond: "ask again in N s"
    max_wait: float = 60.0  # a slot further ahead is not queued: the asker is told to wait
    concurrency: int = 32  # updates handled at once (one chat's updates stay in order)
    connections: int = 8  # HTTP connections to the Bot API (httpx's pool slows down past ~8)
    request_timeout: float = 10.0
    poll_timeout: int = 30  # long-polling seconds
    webhook: bool = False  # webhook mode (`isofficial run --webhook`) instead of long polling
    webhook_url: str | None = None  # the public URL Telegram posts updates to
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    moderator_chat: int | None = None  # ISOFFICIAL_MODERATOR_CHAT's telegram:<chat id>
    guard_refresh: float = 600.0  # a guarded chat's admins re-read at most this often (seconds)
    photo_queue: int = 100  # members' photos waiting to be hashed; past it, offers are refused
    photo_rate: float = 5.0  # members' photos fetched per second, at most
    guard_gather: float = 3.0  # seconds a warning waits for the rest of a wave (and between
    # warning messages that are not full: at most a third of a group's 20 messages a minute)

    @property
    def base_file_url(self) -> str:
        """`https://api.telegram.org/file/bot` for `https://api.telegram.org/bot`."""
        root = self.base_url.removesuffix("/").removesuffix("/bot")
        return f"{root}/file/bot"

    @classmethod
    def from_settings(cls, settings: Any) -> TelegramConfig:
        """From isofficial.settings.Settings; fields it lacks keep their defaults here."""
        token = getattr(settings, "telegram_token", None)
        if not token:
            raise ValueError("ISOFFICIAL_TELEGRAM_TOKEN is not set")
        values = {
            name: getattr(settings, f"telegram_{name}")
            for name in cls.__dataclass_fields__
            if name != "token" and getattr(settings, f"telegram_{name}", None) is not None
        }
        chat = getattr(settings, "moderator_chats", {}).get("telegram")
        if chat is not None:
            values["moderator_chat"] = int(chat)
        values.setdefault("webhook", bool(values.get("webhook_url")))
        if values["webhook"] and not values.get("webhook_url"):
            raise ValueError("webhook mode needs ISOFFICIAL_TELEGRAM_WEBHOOK_URL")
        return cls(token=token, **values)
