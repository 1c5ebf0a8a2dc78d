"""Structured logs for long-running processes: one JSON object per line, secrets masked."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.engine import make_url

from isofficial.settings import Settings

MASK = "***"
# LogRecord attributes that are not `extra=` fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...extra fields, "error"}`, secrets masked.

    Masking the finished line catches a secret wherever it hides: in the message, an extra
    field, a URL an HTTP library logs (the Telegram token is part of every Bot API URL), or
    a traceback.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return self.mask(json.dumps(entry, ensure_ascii=False, default=str))

    def mask(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line


class MaskingFormatter(logging.Formatter):
    """The plain-text format, secrets masked the same way."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.masker = JsonFormatter(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.masker.mask(super().format(record))


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret: tokens, the webhook secret, the database password."""
    found = [settings.telegram_token, settings.discord_token, settings.telegram_webhook_secret]
    if settings.database_url:
        found.append(make_url(settings.database_url).password)
    return [s for s in found if s]


def configure_logging(settings: Settings, stream: TextIO = sys.stderr) -> None:
    """Replace the root handlers: JSON lines (ISOFFICIAL_LOG_FORMAT=json, the default) or text."""
    secrets = secrets_of(settings)
    as_json = settings.log_format.lower() != "text"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(secrets) if as_json else MaskingFormatter(secrets))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
