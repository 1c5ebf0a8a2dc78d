"""The python-telegram-bot Application: every handler registered in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import httpx
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from adapters.telegram import group, limits
from adapters.telegram import guard as g
from adapters.telegram import handlers as h
from adapters.telegram.config import TelegramConfig
from adapters.telegram.liveness import PollWatch
from adapters.telegram.moderation import BUTTON_PATTERN, TelegramNotices
from adapters.telegram.throttle import Throttle
from adapters.telegram.verify import verify
from adapters.telegram.watch import APPROVE_PATTERN, Watch
from bot.core import Core
from bot.health import Health

NEW_MESSAGES = filters.UpdateType.MESSAGE  # edits of old commands are not new questions
POSTED = (filters.TEXT | filters.CAPTION) & ~filters.COMMAND
# Auto-check reads group messages and channel posts, new or edited, text or captions.
CHATTER = POSTED & (
    (filters.ChatType.GROUPS & (filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE))
    | filters.UpdateType.CHANNEL_POSTS
)
CHANNEL_POST = filters.UpdateType.CHANNEL_POST
DM_TEXT = filters.ChatType.PRIVATE & POSTED & NEW_MESSAGES
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CHANNEL_POST,
                   Update.EDITED_CHANNEL_POST, Update.INLINE_QUERY, Update.MY_CHAT_MEMBER,
                   Update.CHAT_MEMBER, Update.CALLBACK_QUERY]
GROUP_MESSAGES = filters.ChatType.GROUPS & ~filters.UpdateType.CHANNEL_POSTS
WATCHERS = 1  # the guard's handler group: runs beside the one that answers
CONNECT_RETRIES = 3  # only failed connects are retried: nothing was sent, so nothing doubles
TelegramApp = Application[Any, Any, Any, Any, Any, Any]


def register_handlers(app: TelegramApp) -> None:
    """Every handler the bot has."""
    app.add_handler(TypeHandler(Update, group.choose_language), group=-2)
    app.add_handler(TypeHandler(Update, limits.throttle_gate), group=-1)
    app.add_handlers(
        [
            CommandHandler("start", h.start, NEW_MESSAGES),
            CommandHandler("help", h.help_command, NEW_MESSAGES),
            CommandHandler("check", g.check, NEW_MESSAGES),
            CommandHandler("sources", h.sources, NEW_MESSAGES),
            CommandHandler("history", h.history, NEW_MESSAGES),
            CommandHandler("report", h.report, NEW_MESSAGES),
            CommandHandler("verdict", h.verdict, NEW_MESSAGES),
            CommandHandler("undo", h.undo, NEW_MESSAGES),
            CommandHandler("reports", h.reports, NEW_MESSAGES),
            CommandHandler("dismiss", h.dismiss, NEW_MESSAGES),
            CommandHandler("autocheck", group.autocheck, NEW_MESSAGES | CHANNEL_POST),
            CommandHandler("language", group.language, NEW_MESSAGES),
            CommandHandler("feeds", h.feeds, NEW_MESSAGES),
            CommandHandler("verify", verify, NEW_MESSAGES),
            CommandHandler("guard", g.guard, NEW_MESSAGES),
            MessageHandler(filters.StatusUpdate.MIGRATE, group.migrated),
            MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, g.joined),
            MessageHandler(DM_TEXT, g.private_text),
            MessageHandler(CHATTER, group.autocheck_message),
            ChatMemberHandler(group.added_to_chat, ChatMemberHandler.MY_CHAT_MEMBER),
            ChatMemberHandler(g.member_changed, ChatMemberHandler.CHAT_MEMBER),
            CallbackQueryHandler(h.moderation_button, pattern=BUTTON_PATTERN),
            CallbackQueryHandler(g.approve, pattern=APPROVE_PATTERN),
            InlineQueryHandler(h.inline_query),
        ]
    )
    # The guard also reads every group message: a sender under a new name is looked at.
    app.add_handler(MessageHandler(GROUP_MESSAGES, g.sender), group=WATCHERS)
    app.add_error_handler(h.on_error)
    services = app.bot_data["services"]
    services.commands = frozenset(
        name for handlers in app.handlers.values() for handler in handlers
        if isinstance(handler, CommandHandler) for name in handler.commands
    )


def build_application(
    core: Core, config: TelegramConfig, health: Health | None = None
) -> TelegramApp:
    """The application; its getUpdates connection reports to health (app.bot_data["poll"])."""
    hide_token(config.token)  # before the Bot exists: it logs its URL when created
    poll = PollWatch(health or Health(), **_request_options(
        config, config.poll_timeout + config.request_timeout, 1
    ))
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .request(_request(config, config.request_timeout, pool=config.connections))
        .get_updates_request(poll)
        .concurrent_updates(InOrderPerChat(config.concurrency))
    )
    if config.rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    app = builder.build()
    throttle = Throttle(config.throttle_count, config.throttle_seconds, config.group_count,
                        config.group_seconds, config.private_count, config.private_seconds,
                        config.max_queued, config.max_wait)
    watch = Watch(app.bot, core, throttle, config.guard_refresh, config.photo_queue,
                  config.photo_rate, config.guard_gather)
    app.bot_data["services"] = h.Services(core=core, throttle=throttle, watch=watch)
    core.listen(TelegramNotices(app.bot, config.moderator_chat))
    app.bot_data["poll"] = poll
    register_handlers(app)
    return app


def _request(config: TelegramConfig, read_timeout: float, pool: int) -> HTTPXRequest:
    return HTTPXRequest(**_request_options(config, read_timeout, pool))


def _request_options(config: TelegramConfig, read_timeout: float, pool: int) -> dict[str, Any]:
    transport = httpx.AsyncHTTPTransport(
        retries=CONNECT_RETRIES, limits=httpx.Limits(max_connections=pool)
    )
    return {
        "connection_pool_size": pool,
        "read_timeout": read_timeout,
        "write_timeout": config.request_timeout,
        "connect_timeout": config.request_timeout,
        "pool_timeout": config.request_timeout,
        "httpx_kwargs": {"transport": transport},
    }


# Loggers that write request URLs, which hold the token (the Bot logs its base URL at DEBUG).
URL_LOGGERS = ("httpx", "telegram.Bot", "telegram.ext.ExtBot")


class RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        return True


def hide_token(token: str) -> None:
    """The token never reaches a log line written by the loggers that know it."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs every URL at INFO
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))


class InOrderPerChat(BaseUpdateProcessor):
    """Updates of different chats at once; one chat's updates one after another, in order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # lock and how many use it

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, users = self._chats.get(chat.id, (asyncio.Lock(), 0))
        self._chats[chat.id] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._chats[chat.id]
            if users == 1:
                del self._chats[chat.id]
            else:
                self._chats[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
