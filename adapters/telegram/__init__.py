"""The Telegram adapter (python-telegram-bot 22): update -> core call -> answer -> reply."""

from adapters.telegram.run import run_telegram

__all__ = ["run_telegram"]
