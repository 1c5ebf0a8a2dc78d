"""Settings, read once from the environment (prefix ISOFFICIAL_) or a .env file: the one in the
working directory, else (or under it: the working directory's wins) the config directory's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ISOFFICIAL_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str | None = None  # None: an SQLite file in the user's data directory
    # Where the lookalike index is kept between runs (a start maps it instead of reading every
    # account): None, a file per database in the user's cache directory; "off": none kept.
    index_file: str | None = None
    moderators: Annotated[frozenset[str], NoDecode] = frozenset()
    # Where moderators hear about reports and verdicts: `telegram:<chat id>,discord:<channel id>`.
    moderator_chat: Annotated[frozenset[str], NoDecode] = frozenset()

    telegram_token: str | None = Field(default=None, repr=False)
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook: bool = False  # `isofficial run --webhook`: receive updates by webhook
    telegram_webhook_url: str | None = None  # public URL Telegram posts to (webhook mode)
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str | None = Field(default=None, repr=False)
    telegram_rate_limit: bool = True  # ~30 messages/s overall, 20/min per group; 429 retried
    telegram_throttle_count: int = 8  # questions per member of a group ...
    telegram_throttle_seconds: float = 60.0  # ... in any window this long
    telegram_group_count: int = 20  # a group's answers, shared by its members ...
    telegram_group_seconds: float = 60.0  # ... in any window this long
    telegram_private_count: int = 20  # a private chat's answers ...
    telegram_private_seconds: float = 20.0  # ... in any window this long
    telegram_max_queued: int = 5  # questions per chat waiting for their slot
    telegram_max_wait: float = 60.0  # a slot further ahead: told how long to wait instead
    telegram_concurrency: int = 32  # updates handled at once (one chat's stay in order)
    telegram_connections: int = 8
    telegram_request_timeout: float = 10.0
    telegram_poll_timeout: int = 30

    discord_token: str | None = Field(default=None, repr=False)
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway: str | None = None
    discord_autocheck: bool = False  # asks Discord for the message-content intent
    discord_guard: bool = False  # /guard; asks Discord for the (privileged) members intent
    discord_cdn: str = "https://cdn.discordapp.com"  # where avatars are read from

    discord_shard_id: int | None = None  # this process's shard, Discord split over processes
    discord_shard_count: int | None = None

    ops_host: str = "127.0.0.1"  # /healthz and /metrics
    ops_port: int = 9090  # 0: any free port
    health_grace_seconds: float = 30.0  # an adapter not receiving this long fails /healthz
    log_format: str = "json"  # json | text
    log_level: str = "INFO"

    reverify_hours: float = 24.0 * 7  # `run` re-verifies accounts checked longer ago; 0: never
    feeds_interval_minutes: float = 30.0
    feeds_retention_days: int = 30

    @property
    def moderator_chats(self) -> dict[str, str]:
        """{"telegram": "-100123", "discord": "456"} from ISOFFICIAL_MODERATOR_CHAT."""
        pairs = (entry.partition(":") for entry in self.moderator_chat)
        return {platform: chat for platform, _, chat in pairs if chat}

    @field_validator("moderators", "moderator_chat", mode="before")
    @classmethod
    def _split_moderators(cls, value: object) -> object:
        """`telegram:42, discord:7` -> {"telegram:42", "discord:7"}."""
        if isinstance(value, str):
            return frozenset(part.strip().lower() for part in value.split(",") if part.strip())
        return value


def env_files() -> list[Path]:
    """The .env files that exist, weakest first: the config directory's, the working one's."""
    candidates = [Path(platformdirs.user_config_dir("isofficial")) / ".env", Path.cwd() / ".env"]
    return [path for path in dict.fromkeys(candidates) if path.is_file()]

