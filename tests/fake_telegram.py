"""A local fake of the Telegram Bot API (aiohttp), speaking its wire format, for end-to-end tests.

The bot under test talks to it exactly as to api.telegram.org: `POST /bot<token>/<method>` with
form-encoded (non-string fields JSON-encoded), multipart or JSON bodies, answered with
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`.
Tests push updates (messages with the entities Telegram would attach, inline queries) and await
the bot's requests. Any method the fake does not implement is recorded in `problems`; the test
fixture fails the test when that list is not empty.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from fake_telegram_members import BotApiError, MemberMethods

JSON = dict[str, Any]
TOKEN = "123456789:AAE-fake-SECRET-token_for-tests"
BOT_ID = 123456789
WAIT_SECONDS = 10.0  # guard against a hung bot; tests await events, never sleep

# Fields Telegram decodes as JSON / integers / booleans when they arrive as form strings.
JSON_FIELDS = frozenset(
    {"reply_markup", "entities", "commands", "results", "reply_parameters", "scope",
     "link_preview_options", "allowed_updates", "button", "permissions"}
)
INT_FIELDS = frozenset(
    {"offset", "limit", "timeout", "user_id", "cache_time", "max_connections", "message_thread_id",
     "message_id", "until_date"}
)
BOOL_FIELDS = frozenset(
    {"disable_notification", "protect_content", "drop_pending_updates", "is_personal",
     "allow_sending_without_reply", "use_independent_chat_permissions"}
)
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
     "tg-spoiler", "blockquote", "tg-emoji"}
)
HTML_TOKEN = re.compile(
    r"<(/?)([A-Za-z-]+)((?:\s+[A-Za-z-]+(?:=\"[^\"<>]*\")?)*)\s*>"
    r"|&(?:lt|gt|amp|quot|#\d+|#x[0-9A-Fa-f]+);"
    r"|[<&]"
)
# What Telegram marks up in user text: commands, links, @mentions (usernames have >= 5 chars).
ENTITY_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("url", re.compile(r"(?<![\w@/])(?:https?://)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?:/\S*)?")),
    ("mention", re.compile(r"(?<![\w/])@[A-Za-z0-9_]{5,32}(?!\w)")),
)
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}


@dataclass
class Call:
    """One request the bot made, decoded, with what the fake answered."""

    method: str
    params: JSON
    result: Any = None
    error: BotApiError | None = None
    at: float = field(default_factory=time.perf_counter)
    taken: bool = False

    @property
    def text(self) -> str:
        """The visible text of a sent message (HTML parsed away)."""
        return str(self.result["text"]) if isinstance(self.result, dict) else ""

    @property
    def buttons(self) -> list[JSON]:
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_of(text: str) -> list[JSON]:
    """The entities Telegram attaches to a user's text; offsets in UTF-16 code units."""
    found = []
    for kind, pattern in ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return sorted(found, key=lambda entity: entity["offset"])


def parse_html(text: str) -> str:
    """The visible text of an HTML message, or 400 as Telegram answers bad markup."""
    visible: list[str] = []
    stack: list[str] = []
    position = 0
    for match in HTML_TOKEN.finditer(text):
        visible.append(text[position : match.start()])
        position = match.end()
        token = match.group()
        closing, tag = match.group(1), (match.group(2) or "").lower()
        if token in "<&":
            raise BotApiError(400, f"Bad Request: can't parse entities: unexpected {token!r} "
                                   f"at byte offset {match.start()}")
        if token.startswith("&"):
            visible.append(html.unescape(token))
        elif tag not in HTML_TAGS:
            raise BotApiError(400, f"Bad Request: can't parse entities: unsupported start tag "
                                   f"\"{tag}\" at byte offset {match.start()}")
        elif closing:
            if not stack or stack.pop() != tag:
                raise BotApiError(400, f"Bad Request: can't parse entities: can't find end tag "
                                       f"corresponding to start tag \"{tag}\"")
        else:
            stack.append(tag)
    if stack:
        raise BotApiError(400, f"Bad Request: can't parse entities: can't find end tag "
                               f"corresponding to start tag \"{stack[-1]}\"")
    visible.append(text[position:])
    return "".join(visible)


# Sent only to bots that ask for them in allowed_updates (Telegram's default leaves them out).
OPT_IN_UPDATES = ("chat_member", "message_reaction", "message_reaction_count")


def wanted(update: JSON, allowed: list[str]) -> bool:
    """Whether Telegram delivers update to a bot that asked for allowed (empty: the default)."""
    if allowed:
        return any(kind in update for kind in allowed)
    return not any(kind in update for kind in OPT_IN_UPDATES)


def decode_field(name: str, value: str) -> Any:
    """A form field as Telegram reads it: JSON-encoded objects, numbers and booleans."""
    try:
        if name in JSON_FIELDS:
            return json.loads(value)
        if name in INT_FIELDS:
            return int(value)
        if name in BOOL_FIELDS:
            return {"true": True, "false": False}[value.lower()]
        if name == "chat_id":
            return value if value.startswith("@") else int(value)
    except (ValueError, KeyError):
        raise BotApiError(400, f"Bad Request: can't parse {name} field value {value!r}") from None
    return value


class FakeTelegram(MemberMethods):
    """The fake server's state, its HTTP routes, and the helpers tests drive it with."""

    def __init__(self, token: str = TOKEN, username: str = "isofficial_test_bot") -> None:
        self.token = token
        self.me: JSON = {
            "id": BOT_ID, "is_bot": True, "first_name": "isofficial", "username": username,
            "can_join_groups": True, "can_read_all_group_messages": True,
            "supports_inline_queries": True, "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.problems: list[str] = []  # unimplemented methods and wire-format faults
        self.chats: dict[int, JSON] = {}
        self.members: dict[tuple[int, int], JSON] = {}
        self.dm_open: set[int] = set()  # users who started the bot: it may write to them
        self.commands: list[JSON] = []  # the default scope's
        self.scoped_commands: dict[str, list[JSON]] = {}  # scope type -> its command list
        self.webhook: JSON | None = None
        self.webhook_statuses: list[int] = []
        self._pending: deque[JSON] = deque()  # updates not yet confirmed by an offset
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: set[tuple[int, int]] = set()
        self._errors: dict[str, deque[BotApiError]] = {}
        self._callbacks: set[str] = set()  # callback queries not yet answered
        self._changed = asyncio.Condition()
        self._poller = 0  # generation of the current long poll: a newer one terminates older
        self.url = ""
        self.observers: list[Callable[[Call], None]] = []  # e.g. a benchmark's clock
        self._methods: dict[str, Callable[[JSON], Any]] = {
            "getMe": lambda _: self.me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._webhook_info,
            "sendMessage": self._send_message,
            "answerInlineQuery": self._answer_inline_query,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda _: self.commands,
            "getChatMember": self._get_chat_member,
            "getChat": self._get_chat,
            **self.member_methods(),
        }
        self._init_members()

    # --- the HTTP side ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.add_file_route(app)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(BotApiError(401, "Unauthorized").body(), status=401)
        method = request.match_info["method"]
        handler = next((h for name, h in self._methods.items() if name.lower() == method.lower()),
                       None)
        if handler is None:
            self.problems.append(f"bot called unimplemented method {method}")
            error = BotApiError(404, "Not Found")
            return web.json_response(error.body(), status=404)
        call = Call(method, {})
        try:
            call.params = await self._params(request)
            queued = self._errors.get(method)
            if queued:
                raise queued.popleft()
            result = handler(call.params)
            call.result = await result if asyncio.iscoroutine(result) else result
        except BotApiError as error:
            call.error = error
        if method != "getUpdates":
            await self._record(call)
        if call.error:
            return web.json_response(call.error.body(), status=call.error.code)
        return web.json_response({"ok": True, "result": call.result})

    async def _params(self, request: web.Request) -> JSON:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise BotApiError(400, "Bad Request: request body must be a JSON object")
            return body
        form = await request.post() if request.can_read_body else request.query
        params = {name: decode_field(name, str(value)) for name, value in form.items()}
        params.update({name: decode_field(name, v) for name, v in request.query.items()})
        return params

    async def _record(self, call: Call) -> None:
        for observe in self.observers:
            observe(call)
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # --- the methods --------------------------------------------------------------------------

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                   "active; use deleteWebhook to delete the webhook first")
        offset, limit = params.get("offset", 0), params.get("limit", 100)
        timeout, allowed = params.get("timeout", 0), params.get("allowed_updates") or []
        async with self._changed:
            self._poller += 1  # a newer long poll terminates an older one, as on Telegram
            me = self._poller
            self._changed.notify_all()
            while self._pending and offset and self._pending[0]["update_id"] < offset:
                self._pending.popleft()  # confirmed by the offset

            def ready() -> bool:
                self._pending = deque(u for u in self._pending if wanted(u, allowed))
                return bool(self._pending) or self._poller != me

            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            if self._poller != me:
                raise BotApiError(409, "Conflict: terminated by other getUpdates request; "
                                       "make sure that only one bot instance is running")
            return list(itertools.islice(self._pending, limit))

    def _delete_webhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _set_webhook(self, params: JSON) -> bool:
        if not params.get("url"):
            return self._delete_webhook(params)
        self.webhook = params
        return True

    def _webhook_info(self, _: JSON) -> JSON:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}

    def _send_message(self, params: JSON) -> JSON:
        chat = self._chat(params.get("chat_id"))
        text = str(params.get("text", ""))
        visible = parse_html(text) if str(params.get("parse_mode", "")).upper() == "HTML" else text
        if not visible.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(visible) > 4096:
            raise BotApiError(400, "Bad Request: message is too long")
        if chat["type"] == "private" and chat["id"] not in self.dm_open:
            raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
        self.check_flood(chat)
        reply = params.get("reply_parameters")
        if reply and (chat["id"], reply.get("message_id")) not in self._messages:
            raise BotApiError(400, "Bad Request: message to be replied not found")
        message = self._message(chat, self.me, visible)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _answer_inline_query(self, params: JSON) -> bool:
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise BotApiError(400, "Bad Request: RESULTS_TOO_MUCH" if results else
                                   "Bad Request: results must be an array")
        for result in results:
            content = result.get("input_message_content", {})
            if content.get("parse_mode", "").upper() == "HTML":
                parse_html(content.get("message_text", ""))
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command"))) and c.get("description")
            for c in commands
        ):
            raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        scope = (params.get("scope") or {"type": "default"})["type"]
        if scope not in ("default", "all_private_chats", "all_group_chats",
                         "all_chat_administrators", "chat", "chat_administrators", "chat_member"):
            raise BotApiError(400, "Bad Request: BOT_COMMAND_SCOPE_INVALID")
        self.scoped_commands[scope] = commands
        if scope == "default":
            self.commands = commands
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        if params.get("callback_query_id") not in self._callbacks:
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired")
        self._callbacks.discard(params["callback_query_id"])
        return True

    def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._chat(params.get("chat_id"))
        user_id = params.get("user_id")
        member = self.members.get((chat["id"], int(user_id or 0)))
        if member is None:
            raise BotApiError(400, "Bad Request: user not found")
        return member

    def _get_chat(self, params: JSON) -> JSON:
        chat = self._chat(params.get("chat_id"))
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}

    def _chat(self, chat_id: Any) -> JSON:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            found = [c for c in self.chats.values() if str(c.get("username", "")).lower() == wanted]
            if found:
                return found[0]
        elif isinstance(chat_id, int) and chat_id in self.chats:
            return self.chats[chat_id]
        raise BotApiError(400, "Bad Request: chat not found")

    def _message(self, chat: JSON, sender: JSON, text: str) -> JSON:
        counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
        message: JSON = {"message_id": next(counter), "from": sender,
                         "chat": {k: v for k, v in chat.items() if k != "bio"},
                         "date": int(time.time()), "text": text}
        self._messages.add((chat["id"], message["message_id"]))
        return message

    # --- what tests set up ----------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Ann", username: str | None = None,
             language_code: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code  # the user's Telegram app language
        return user

    def private(self, user: JSON) -> JSON:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.chats[user["id"]] = chat
        return chat

    def group(self, chat_id: int, title: str = "A group", username: str | None = None,
              kind: str = "supergroup") -> JSON:
        chat: JSON = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        self.chats[chat_id] = chat
        return chat

    def join(self, chat: JSON, user: JSON, status: str = "member") -> None:
        """Make user a member, administrator (with every right listed) or creator of chat."""
        member: JSON = {"status": status, "user": user}
        if status == "administrator":
            member |= {
                "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                "can_delete_messages": True, "can_manage_video_chats": True,
                "can_restrict_members": True, "can_promote_members": False,
                "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                "can_edit_stories": False, "can_delete_stories": False,
                "can_pin_messages": True, "can_manage_topics": False,
                "can_manage_direct_messages": False, "custom_title": "mod",
            }
        elif status == "creator":
            member |= {"is_anonymous": False}
        self.members[(chat["id"], user["id"])] = member

    def fail_next(self, method: str, code: int = 429, retry_after: int = 1) -> None:
        """The next call of method fails; 429 carries parameters.retry_after like Telegram's."""
        error = (BotApiError(429, f"Too Many Requests: retry after {retry_after}",
                             {"retry_after": retry_after})
                 if code == 429 else BotApiError(code, f"error {code}"))
        self._errors.setdefault(method, deque()).append(error)

    # --- what tests push and await ----------------------------------------------------------------

    async def send(self, chat: JSON, user: JSON, text: str, reply_to: JSON | None = None,
                   sender_chat: JSON | None = None) -> JSON:
        """A user's text message, with the entities Telegram would attach; returns the message."""
        if chat["type"] == "private":
            self.dm_open.add(user["id"])
        message = self._message(chat, user, text)
        if entities := entities_of(text):
            message["entities"] = entities
        if reply_to:
            message["reply_to_message"] = reply_to
        if sender_chat:
            message["sender_chat"] = sender_chat
        await self.push({"message": message})
        return message

    async def edit(self, message: JSON, text: str) -> JSON:
        """The sender edits their message: an edited_message update with the new text."""
        edited = {**message, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if entities := entities_of(text):
            edited["entities"] = entities
        await self.push({"edited_message": edited})
        return edited

    async def send_photo(self, chat: JSON, user: JSON, caption: str) -> JSON:
        """A photo with a caption (its entities are caption_entities)."""
        message = self._message(chat, user, "")
        del message["text"]
        message |= {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90,
                               "height": 90}], "caption": caption}
        if entities := entities_of(caption):
            message["caption_entities"] = entities
        await self.push({"message": message})
        return message

    async def post_in_channel(self, channel: JSON, text: str) -> JSON:
        """A channel post: no sender user, signed by the channel itself."""
        message = self._message(channel, {}, text)
        del message["from"]
        message["sender_chat"] = {k: v for k, v in channel.items() if k != "bio"}
        if entities := entities_of(text):
            message["entities"] = entities
        await self.push({"channel_post": message})
        return message

    async def add_bot_to(self, chat: JSON, by: JSON, status: str = "member") -> None:
        """Someone adds the bot to a chat: a my_chat_member update (left -> status)."""
        bot_member: JSON = {"status": status, "user": self.me}
        if status == "administrator":
            self.join(chat, self.me, "administrator")
            bot_member = self.members[(chat["id"], self.me["id"])]
        else:
            self.members[(chat["id"], self.me["id"])] = bot_member
        await self.push({"my_chat_member": {
            "chat": chat, "from": by, "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": self.me},
            "new_chat_member": bot_member,
        }})

    async def migrate(self, group: JSON, new_id: int, by: JSON) -> JSON:
        """A basic group becomes a supergroup: the service messages Telegram sends to both."""
        supergroup = self.group(new_id, group.get("title", "A group"))
        old = self._message(group, by, "")
        del old["text"]
        old["migrate_to_chat_id"] = new_id
        new = self._message(supergroup, self.me, "")
        del new["text"]
        new["migrate_from_chat_id"] = group["id"]
        for (chat_id, user_id), member in list(self.members.items()):
            if chat_id == group["id"]:
                self.members[(new_id, user_id)] = member
        await self.push({"message": old})
        await self.push({"message": new})
        return supergroup

    async def click(self, message: JSON, user: JSON, data: str) -> str:
        """A user presses an inline button (callback_data) under one of the bot's messages."""
        query_id = f"cb{next(self._update_ids)}"
        self._callbacks.add(query_id)
        await self.push({"callback_query": {"id": query_id, "from": user, "message": message,
                                            "chat_instance": "ci1", "data": data}})
        return query_id

    async def inline(self, user: JSON, query: str) -> str:
        query_id = f"iq{next(self._update_ids)}"
        await self.push({"inline_query": {"id": query_id, "from": user, "query": query,
                                          "offset": "", "chat_type": "supergroup"}})
        return query_id

    async def push(self, update: JSON) -> int:
        """Queue an update for getUpdates, or post it to the webhook when one is set."""
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook:
            await self._deliver(update)
        else:
            async with self._changed:
                self._pending.append(update)
                self._changed.notify_all()
        return int(update["update_id"])

    async def _deliver(self, update: JSON) -> None:
        assert self.webhook is not None
        headers = {}
        if secret := self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with aiohttp.ClientSession() as session, session.post(
            self.webhook["url"], json=update, headers=headers
        ) as response:
            self.webhook_statuses.append(response.status)

    async def expect(self, method: str, timeout: float = WAIT_SECONDS, **match: Any) -> Call:
        """The bot's first not yet taken call of method whose params match; waits for it."""

        def found() -> Call | None:
            for call in self.calls:
                if not call.taken and call.method == method and all(
                    call.params.get(key) == value for key, value in match.items()
                ):
                    return call
            return None

        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(found), timeout)
        except TimeoutError:
            seen = [(c.method, c.params.get("chat_id")) for c in self.calls[-10:]]
            raise AssertionError(f"bot never called {method} {match}; last calls: {seen}") from None
        call = found()
        assert call is not None
        call.taken = True
        return call

    async def ask(self, chat: JSON, user: JSON, text: str, reply_to: JSON | None = None) -> Call:
        """Send text and await the bot's reply in that chat."""
        await self.send(chat, user, text, reply_to)
        return await self.expect("sendMessage", chat_id=chat["id"])

    def untaken(self, method: str = "sendMessage") -> list[Call]:
        return [call for call in self.calls if call.method == method and not call.taken]


@asynccontextmanager
async def running_fake(fake: FakeTelegram | None = None) -> AsyncIterator[FakeTelegram]:
    """Serve a fake on a free local port; `fake.url` is its base (append /bot or /file/bot)."""
    fake = fake or FakeTelegram()
    runner = web.AppRunner(fake.app(), shutdown_timeout=0.5, access_log=None)  # it logs tokens
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        async with fake._changed:
            fake._poller += 1  # release a waiting long poll
            fake._changed.notify_all()
        await runner.cleanup()
