"""Run the Telegram adapter until `stop` is set: long polling, or a webhook when configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from telegram.error import InvalidToken, TelegramError

from adapters.telegram.app import ALLOWED_UPDATES, TelegramApp, build_application
from adapters.telegram.config import TelegramConfig
from adapters.telegram.liveness import PART, PollWatch
from adapters.telegram.manners import set_command_lists
from bot.core import Core
from bot.health import Health

log = logging.getLogger(__name__)


WATCH_EVERY = 1.0  # seconds between looks at the long poll
SILENCE_MARGIN = 5.0  # past the longest a long poll may take: the polling loop is dead


class TelegramStopped(RuntimeError):
    """Telegram answered that this process may not receive (a refused token, a conflict)."""


async def run_telegram(
    core: Core, settings: Any, stop: asyncio.Event, health: Health | None = None
) -> None:
    """Serve Telegram with `core` until `stop` is set; `settings`: isofficial.settings.Settings."""
    config = TelegramConfig.from_settings(settings)
    await serve(build_application(core, config, health), config, stop)


async def serve(
    app: TelegramApp,
    config: TelegramConfig,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Answer until stop is set; ready is set once updates flow (polling or webhook listening).
    TelegramStopped when Telegram refuses the token or another process polls it."""
    poll: PollWatch = app.bot_data["poll"]
    try:
        await _answer(app, config, stop, ready, poll)
    except InvalidToken:  # at start (getMe, deleteWebhook) or from the polling loop
        poll.stop_for(401)
    if poll.fatal.is_set():
        log.error("telegram: stopping, %s", poll.fatal_reason)
        raise TelegramStopped(poll.fatal_reason)


async def _answer(
    app: TelegramApp,
    config: TelegramConfig,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    poll: PollWatch,
) -> None:
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
            await _until_stopped(stop, poll, None if config.webhook else config)
        finally:
            with contextlib.suppress(TelegramError):  # a poll that died was reported already
                await updater.stop()
            await app.stop()
            await app.bot_data["services"].watch.close()


async def _until_stopped(
    stop: asyncio.Event, poll: PollWatch, polling: TelegramConfig | None
) -> None:
    """Wait for stop or a fatal answer; meanwhile, when polling, report a silent long poll."""
    ends = [asyncio.create_task(stop.wait()), asyncio.create_task(poll.fatal.wait())]
    try:
        while not any(end.done() for end in ends):
            await asyncio.wait(ends, timeout=WATCH_EVERY, return_when=asyncio.FIRST_COMPLETED)
            if polling is None:
                continue
            longest = polling.poll_timeout + polling.request_timeout + SILENCE_MARGIN
            if (silent := poll.silent_for()) > longest:
                poll.health.down(PART, f"no answer to getUpdates for {silent:.0f} s", at_once=True)
    finally:
        for end in ends:
            end.cancel()


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
