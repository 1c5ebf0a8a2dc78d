"""Run the Telegram adapter until `stop` is set: long polling, or a webhook when configured."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from adapters.telegram.app import ALLOWED_UPDATES, TelegramApp, build_application
from adapters.telegram.config import TelegramConfig
from adapters.telegram.manners import set_command_lists
from bot.core import Core

log = logging.getLogger(__name__)


async def run_telegram(core: Core, settings: Any, stop: asyncio.Event) -> None:
    """Serve Telegram with `core` until `stop` is set; `settings`: isofficial.settings.Settings."""
    config = TelegramConfig.from_settings(settings)
    await serve(build_application(core, config), config, stop)


async def serve(
    app: TelegramApp,
    config: TelegramConfig,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Answer until stop is set; ready is set once updates flow (polling or webhook listening)."""
    async with app:  # getMe, then on exit a clean shutdown
        await set_command_lists(app.bot)
        updater = app.updater
        assert updater is not None
        if config.webhook:
            await start_webhook(app, config)
        else:
            await updater.start_polling(
                timeout=config.poll_timeout, allowed_updates=ALLOWED_UPDATES
            )
        await app.start()
        if ready is not None:
            ready.set()
        log.info("telegram: @%s is answering", app.bot.username)
        try:
            await stop.wait()
        finally:
            await updater.stop()
            await app.stop()


async def start_webhook(
    app: TelegramApp, config: TelegramConfig
) -> None:
    """Listen where the load balancer forwards to; Telegram must send the secret header."""
    assert app.updater is not None and config.webhook_url
    secret = config.webhook_secret
    if not secret:  # fine for one instance; several behind a balancer must share one
        secret = secrets.token_urlsafe(32)
        log.warning("telegram: no webhook secret configured, using a random one")
    await app.updater.start_webhook(
        listen=config.webhook_listen,
        port=config.webhook_port,
        url_path=urlsplit(config.webhook_url).path.strip("/"),
        webhook_url=config.webhook_url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
