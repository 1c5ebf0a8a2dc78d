"""A local fake Discord: the REST API over real HTTP and the gateway over a real websocket.

It speaks enough of Discord's v10 protocol for discord.py to log in, sync application commands,
identify (sharded or not), receive READY / GUILD_CREATE / INTERACTION_CREATE / MESSAGE_CREATE,
heartbeat, resume after a dropped connection, answer interactions (callbacks, followups,
@original edits) and open DM channels. Whatever it does not implement, and every protocol
mistake the bot makes (a late or double acknowledgement, a message over Discord's limits), lands
in `failures`; tests assert that list is empty, so an unexpected call fails the test.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from fake_discord_members import MemberWorld

JSON = dict[str, Any]
Handler = Callable[[web.Request, tuple[str, ...], Any], Awaitable[web.Response]]
API = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
ACK_DEADLINE = 3.0  # seconds Discord gives a bot to acknowledge an interaction

# Permission bits (https://discord.com/developers/docs/topics/permissions).
VIEW_CHANNEL, SEND_MESSAGES, MANAGE_GUILD, EMBED_LINKS = 1 << 10, 1 << 11, 1 << 5, 1 << 14
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
# Intents.
GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT = 1 << 0, 1 << 9, 1 << 15
EPHEMERAL = 1 << 6
OPTION_TYPES = {"string": 3, "integer": 4, "boolean": 5, "user": 6, "number": 10}


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py only parses bodies whose Content-Type is exactly `application/json`.
    # (aiohttp's content_type= would append "; charset=utf-8").
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> web.Response:
    body: JSON = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return _json(body, status)


@dataclass
class FakeUser:
    id: int
    name: str
    bot: bool = False
    dms_open: bool = True
    manages_guild: bool = False
    locale: str = "en-US"  # the user's Discord language, sent with each interaction
    global_name: str | None = None  # shown instead of the username when set
    avatar: bytes | None = None  # the avatar image the CDN serves

    @property
    def avatar_hash(self) -> str | None:
        return hashlib.sha256(self.avatar).hexdigest()[:32] if self.avatar else None

    def payload(self) -> JSON:
        return {
            "id": str(self.id), "username": self.name, "discriminator": "0",
            "global_name": self.global_name or self.name, "avatar": self.avatar_hash,
            "bot": self.bot, "public_flags": 0,
        }

    @property
    def permissions(self) -> int:
        return MEMBER_PERMISSIONS | (MANAGE_GUILD if self.manages_guild else 0)


@dataclass
class FakeGuild:
    id: int
    name: str
    channel_id: int
    owner_id: int


@dataclass
class Exchange:
    """One interaction as Discord saw it: what the bot answered, in order."""

    id: int
    token: str
    type: int
    channel_id: int
    sent_at: float
    callback: JSON | None = None  # the interaction callback body
    original: JSON | None = None  # the message the callback created or @original became
    followups: list[JSON] = field(default_factory=list)
    edits: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    @property
    def deferred(self) -> bool:
        return self.callback is not None and self.callback["type"] in (5, 6)

    @property
    def messages(self) -> list[JSON]:
        """Every visible message the bot produced for this interaction, original first."""
        original = [self.original] if self.original and not self.original["_loading"] else []
        return original + self.followups

    async def wait(self, done: Callable[[Exchange], bool], timeout: float = 10.0) -> Exchange:
        async def until() -> None:
            while not done(self):
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)
        return self

    async def reply(self, timeout: float = 10.0) -> JSON:
        """The bot's first visible answer (a message, or autocomplete choices)."""
        await self.wait(lambda e: bool(e.messages) or _is_choice(e.callback), timeout)
        if _is_choice(self.callback):
            assert self.callback is not None
            return dict(self.callback["data"])
        return self.messages[0]


def _is_choice(callback: JSON | None) -> bool:
    return callback is not None and callback["type"] == 8


class _Connection:
    """One gateway websocket: sequence numbers and optional zlib-stream compression."""

    def __init__(self, ws: web.WebSocketResponse, zlib_stream: bool) -> None:
        self.ws = ws
        self.seq = 0
        self.compressor = zlib.compressobj() if zlib_stream else None
        self.shard = (0, 1)
        self.session_id = ""

    async def send(self, op: int, d: Any, t: str | None = None) -> None:
        frame: JSON = {"op": op, "d": d, "t": t, "s": None}
        if op == 0:
            self.seq += 1
            frame["s"] = self.seq
        text = json.dumps(frame)
        if self.compressor is None:
            await self.ws.send_str(text)
        else:
            data = self.compressor.compress(text.encode())
            await self.ws.send_bytes(data + self.compressor.flush(zlib.Z_SYNC_FLUSH))


class FakeDiscord(MemberWorld):
    """Start with `await fake.start()`; point the bot at `fake.api_base`; drive it with
    `slash`, `autocomplete`, `context_menu`, `click`, `post_message`; then `await fake.close()`."""

    def __init__(
        self, token: str = "fake-bot-token", shards: int = 1, heartbeat_ms: int = 45_000,
        message_content_allowed: bool = True,
    ) -> None:
        self.token = token
        self.shard_count = shards
        self.heartbeat_ms = heartbeat_ms
        self.message_content_allowed = message_content_allowed
        self._ids = itertools.count(1)
        self.bot = FakeUser(self._snowflake(), "isofficial", bot=True)
        self.application_id = self.bot.id
        self.users: dict[int, FakeUser] = {}
        self.guilds: list[FakeGuild] = []
        self.commands: list[JSON] = []
        self.command_puts = 0
        self.messages: dict[int, JSON] = {}
        self.dm_channels: dict[int, int] = {}  # channel id -> recipient user id
        self.exchanges: dict[int, Exchange] = {}
        self.failures: list[str] = []
        self.identified: list[JSON] = []  # IDENTIFY payloads (minus the token)
        self.resumes = 0
        self.heartbeats = 0
        self.connections: dict[int, _Connection] = {}
        self.sessions: dict[str, tuple[int, int]] = {}  # session id -> shard, for RESUME
        self.rate_limit_next: set[str] = set()  # route paths that answer 429 once
        self.gateway_down = False  # True: refuse gateway connections (an outage)
        self.announced_gateway: str | None = None  # what GET /gateway/bot names (default: ours)
        self._ready = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._init_members()

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        self.add_cdn_route(app)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for exchange in self.exchanges.values():
            if not exchange.acknowledged:
                self._fail(f"interaction {exchange.id} was never acknowledged")
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return self.url + API

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway"

    def _fail(self, why: str) -> None:
        self.failures.append(why)

    def _snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | next(self._ids)

    # ---- the world -------------------------------------------------------------------------

    def add_user(self, name: str, *, dms_open: bool = True,
                 manages_guild: bool = False) -> FakeUser:
        user = FakeUser(self._snowflake(), name, dms_open=dms_open, manages_guild=manages_guild)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str) -> FakeGuild:
        guild = FakeGuild(self._snowflake(), name, self._snowflake(), owner_id=self.bot.id)
        self.guilds.append(guild)
        return guild

    def shard_of(self, guild: FakeGuild | None) -> int:
        return 0 if guild is None else (guild.id >> 22) % self.shard_count

    async def wait_ready(self, timeout: float = 20.0) -> None:
        """Until every shard has identified and received its guilds."""
        async with self._ready:
            await asyncio.wait_for(
                self._ready.wait_for(lambda: len(self.connections) == self.shard_count), timeout
            )

    def _guild_payload(self, guild: FakeGuild) -> JSON:
        everyone = {
            "id": str(guild.id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS),
            "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False,
            "flags": 0,
        }
        channel = {
            "id": str(guild.channel_id), "type": 0, "guild_id": str(guild.id), "name": "general",
            "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None,
        }
        mods = {**channel, "id": str(self.roster(guild).mods_channel), "name": "mods",
                "position": 1}
        me = {"user": self.bot.payload(), "roles": [str(self.roster(guild).bot_role)],
              "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0}
        return {
            "id": str(guild.id), "name": guild.name, "icon": None, "owner_id": str(guild.owner_id),
            "roles": [everyone, *self.extra_roles(guild)], "channels": [channel, mods],
            "members": [me], "member_count": 2,
            "threads": [], "emojis": [], "stickers": [], "features": [], "unavailable": False,
            "large": False, "joined_at": "2024-01-01T00:00:00+00:00", "voice_states": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [], "preferred_locale": "en-US", "premium_tier": 0,
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
            "system_channel_id": str(guild.channel_id),
        }

    # ---- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:  # an outage: every connection attempt is refused
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        if request.query.get("v") != "10" or request.query.get("encoding") != "json":
            self._fail(f"gateway opened with unexpected query {dict(request.query)}")
        conn = _Connection(ws, request.query.get("compress") == "zlib-stream")
        await conn.send(10, {"heartbeat_interval": self.heartbeat_ms})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            await self._on_frame(conn, frame["op"], frame.get("d"))
        if self.connections.get(conn.shard[0]) is conn:
            del self.connections[conn.shard[0]]
        return ws

    async def _on_frame(self, conn: _Connection, op: int, d: Any) -> None:
        if op == 1:
            self.heartbeats += 1
            await conn.send(11, None)
        elif op == 2:
            await self._identify(conn, d)
        elif op == 6:
            await self._resume(conn, d)
        elif op == 3:
            pass  # presence update
        elif op == 8:
            await self.request_members(conn, d)
        else:
            self._fail(f"gateway op {op} not implemented by the fake")

    async def _identify(self, conn: _Connection, d: JSON) -> None:
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = tuple(d.get("shard") or (0, 1))
        if shard[1] != self.shard_count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        if d["intents"] & MESSAGE_CONTENT and not self.message_content_allowed:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identified.append({k: v for k, v in d.items() if k != "token"})
        conn.shard, conn.session_id = (shard[0], shard[1]), secrets.token_hex(8)
        self.sessions[conn.session_id] = conn.shard
        mine = [g for g in self.guilds if self.shard_of(g) == shard[0]]
        await conn.send(0, {
            "v": 10, "user": self.bot.payload(), "session_id": conn.session_id,
            "resume_gateway_url": self.gateway_url, "shard": list(shard),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "application": {"id": str(self.application_id), "flags": 1 << 19},
        }, "READY")
        for guild in mine:
            await conn.send(0, self._guild_payload(guild), "GUILD_CREATE")
        async with self._ready:
            self.connections[shard[0]] = conn
            self._ready.notify_all()

    async def _resume(self, conn: _Connection, d: JSON) -> None:
        shard = self.sessions.get(d["session_id"])
        if d.get("token") != self.token or shard is None:
            await conn.send(9, False)  # invalid session, not resumable
            return
        self.resumes += 1
        conn.shard, conn.session_id, conn.seq = shard, d["session_id"], d["seq"]
        async with self._ready:
            self.connections[shard[0]] = conn
            self._ready.notify_all()
        await conn.send(0, {}, "RESUMED")

    async def drop_gateway(self, shard: int = 0) -> None:
        """Close a shard's socket the way a network hiccup or a Discord restart does."""
        await self.connections[shard].ws.close(code=4000, message=b"Unknown error")

    async def dispatch(self, guild: FakeGuild | None, event: str, data: JSON) -> None:
        await self.connections[self.shard_of(guild)].send(0, data, event)

    # ---- REST ------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix(API)
        if not request.path.startswith(API + "/"):
            self._fail(f"{request.method} {request.path}: outside the v10 API")
            return _error(404, 0, "404: Not Found")
        parts = tuple(path.strip("/").split("/"))
        webhook = parts[0] in ("interactions", "webhooks")
        if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        if path in self.rate_limit_next:
            self.rate_limit_next.discard(path)
            return self._rate_limited()
        body = await request.json() if request.can_read_body else None
        handler = self._route(request.method, parts)
        if handler is None:
            self._fail(f"{request.method} {path}: route not implemented by the fake")
            return _error(404, 0, "404: Not Found")
        return await handler(request, parts, body)

    def _rate_limited(self) -> web.Response:
        body = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
        response = _json(body, 429)
        response.headers.update({
            "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": "0.05",
            "X-RateLimit-Bucket": "fake", "X-RateLimit-Scope": "user", "Retry-After": "1",
            "Via": "1.1 google",  # discord.py treats a 429 without it as a Cloudflare ban
        })
        return response

    def _route(self, method: str, parts: tuple[str, ...]) -> Handler | None:
        match method, parts:
            case "GET", ("gateway", "bot"):
                return self._get_gateway_bot
            case "GET", ("gateway",):
                return self._get_gateway
            case "GET", ("users", "@me"):
                return self._get_me
            case "GET", ("oauth2", "applications", "@me") | ("applications", "@me"):
                return self._get_application
            case ("GET" | "PUT"), ("applications", _, "commands"):
                return self._commands
            case "POST", ("interactions", _, _, "callback"):
                return self._callback
            case "POST", ("webhooks", _, _):
                return self._followup
            case ("PATCH" | "GET" | "DELETE"), ("webhooks", _, _, "messages", _):
                return self._webhook_message
            case "POST", ("users", "@me", "channels"):
                return self._open_dm
            case "POST", ("channels", _, "messages"):
                return self._channel_message
            case "PATCH", ("guilds", _, "members", _):
                return self.edit_member
            case "GET", ("guilds", _, "members"):
                return self.list_members
        return None

    async def _get_gateway_bot(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        url = self.announced_gateway or self.gateway_url
        return _json({"url": url, "shards": self.shard_count,
                      "session_start_limit": limit})

    async def _get_gateway(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_me(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        return _json(self.bot.payload())

    async def _get_application(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        return _json({
            "id": str(self.application_id), "name": "isofficial", "icon": None, "description": "",
            "bot_public": True, "bot_require_code_grant": False, "owner": self.bot.payload(),
            "team": None, "verify_key": "00", "flags": 1 << 19, "summary": "",
            "interactions_endpoint_url": None, "bot": self.bot.payload(),
        })

    async def _commands(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        if parts[1] != str(self.application_id):
            self._fail(f"commands requested for unknown application {parts[1]}")
        if request.method == "PUT":
            self.command_puts += 1
            self.commands = [self._registered(c) for c in body]
        return _json(self.commands)

    def _registered(self, command: JSON) -> JSON:
        """A command as Discord stores and returns it: ids and server-side defaults added."""
        defaults = {"type": 1, "description": "", "default_member_permissions": None,
                    "nsfw": False, "contexts": None, "integration_types": [0]}
        return {**defaults, **command, "id": str(self._snowflake()),
                "application_id": str(self.application_id), "version": str(self._snowflake())}

    # ---- messages --------------------------------------------------------------------------

    def _message(self, channel_id: int, author: FakeUser, data: JSON) -> JSON:
        message = {
            "id": str(self._snowflake()), "channel_id": str(channel_id), "author": author.payload(),
            "content": data.get("content") or "", "timestamp": "2026-11-28T12:00:00+00:00",
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": data.get("embeds") or [],
            "components": data.get("components") or [], "pinned": False, "type": 0,
            "flags": data.get("flags") or 0, "_loading": False,
        }
        self.messages[int(str(message["id"]))] = message
        return message

    def _problems(self, data: JSON) -> list[str]:
        """Discord's own limits on a message (it answers 400 Invalid Form Body)."""
        problems = []
        embeds = data.get("embeds") or []
        if len(data.get("content") or "") > 2000:
            problems.append("content longer than 2000")
        if len(embeds) > 10:
            problems.append("more than 10 embeds")
        total = 0
        for embed in embeds:
            sizes = {"title": 256, "description": 4096}
            for key, limit in sizes.items():
                if len(embed.get(key) or "") > limit:
                    problems.append(f"embed {key} longer than {limit}")
            footer = (embed.get("footer") or {}).get("text") or ""
            total += sum(len(embed.get(k) or "") for k in sizes) + len(footer)
            total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields") or [])
        if total > 6000:
            problems.append("embeds longer than 6000 in total")
        for row in data.get("components") or []:
            for button in row.get("components", []):
                if len(button.get("custom_id") or "") > 100 or len(button.get("label") or "") > 80:
                    problems.append("component custom_id or label too long")
        if not (data.get("content") or embeds or data.get("components")):
            problems.append("empty message")
        return problems

    def _reject(self, data: JSON | None) -> web.Response | None:
        problems = self._problems(data or {})
        if not problems:
            return None
        self._fail(f"invalid message: {problems}")
        return _error(400, 50035, "Invalid Form Body", {"_errors": problems})

    async def _open_dm(self, request: web.Request, parts: Any, body: JSON) -> web.Response:
        user = self.users[int(str(body["recipient_id"]))]
        channel_id = next((c for c, u in self.dm_channels.items() if u == user.id), None)
        channel_id = channel_id or self._snowflake()
        self.dm_channels[channel_id] = user.id
        return _json({"id": str(channel_id), "type": 1, "recipients": [user.payload()],
                      "last_message_id": None, "flags": 0})

    async def _channel_message(self, request: web.Request, parts: Any, body: JSON) -> web.Response:
        channel_id = int(parts[1])
        recipient = self.dm_channels.get(channel_id)
        if recipient is not None and not self.users[recipient].dms_open:
            return _error(403, 50007, "Cannot send messages to this user")
        guild_channels = {g.channel_id for g in self.guilds} | {
            r.mods_channel for r in self.rosters.values()}
        if recipient is None and channel_id not in guild_channels:
            self._fail(f"message sent to unknown channel {channel_id}")
            return _error(404, 10003, "Unknown Channel")
        if rejected := self._reject(body):
            return rejected
        allowed, headers = self.channel_bucket(channel_id)
        if not allowed:
            response = self._rate_limited()
            response.headers.update(headers)
            return response
        response = _json(self._message(channel_id, self.bot, body))
        response.headers.update(headers)
        return response

    def dms_to(self, user: FakeUser) -> list[JSON]:
        channels = {c for c, u in self.dm_channels.items() if u == user.id}
        return [m for m in self.messages.values() if int(m["channel_id"]) in channels]

    def channel_messages(self, guild: FakeGuild, mods: bool = False) -> list[JSON]:
        """The bot's and members' messages in the guild's general (or mods) channel."""
        channel = self.roster(guild).mods_channel if mods else guild.channel_id
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel]

    # ---- interactions ----------------------------------------------------------------------

    async def _callback(self, request: web.Request, parts: Any, body: JSON) -> web.Response:
        exchange = self.exchanges.get(int(parts[1]))
        if exchange is None or exchange.token != parts[2]:
            self._fail(f"callback for unknown interaction {parts[1]}")
            return _error(404, 10062, "Unknown interaction")
        late = time.monotonic() - exchange.sent_at
        if late > ACK_DEADLINE:
            self._fail(f"interaction {exchange.id} acknowledged after {late:.1f} s")
            return _error(404, 10062, "Unknown interaction")
        if exchange.acknowledged:
            self._fail(f"interaction {exchange.id} acknowledged twice")
            return _error(400, 40060, "Interaction has already been acknowledged.")
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}}[exchange.type]
        if body["type"] not in allowed:
            self._fail(f"callback type {body['type']} invalid for interaction type {exchange.type}")
            return _error(400, 40043, "Invalid interaction response type")
        data = body.get("data") or {}
        if body["type"] in (4, 7) and (rejected := self._reject(data)):
            return rejected
        exchange.callback = body
        resource: JSON = {"type": body["type"]}
        if body["type"] in (4, 5):
            exchange.original = self._message(exchange.channel_id, self.bot, data)
            exchange.original["_loading"] = body["type"] == 5
            resource["message"] = exchange.original
        exchange.changed.set()
        return _json({"interaction": {"id": str(exchange.id), "type": exchange.type},
                      "resource": resource})

    def _exchange_by_token(self, parts: tuple[str, ...]) -> Exchange | None:
        if parts[1] != str(self.application_id):
            return None
        return next((e for e in self.exchanges.values() if e.token == parts[2]), None)

    async def _followup(self, request: web.Request, parts: Any, body: JSON) -> web.Response:
        exchange = self._exchange_by_token(parts)
        if exchange is None or not exchange.acknowledged:
            self._fail("followup before the interaction was acknowledged")
            return _error(404, 10015, "Unknown Webhook")
        if rejected := self._reject(body):
            return rejected
        original = exchange.original
        if original is not None and original["_loading"]:
            # The first followup after a deferral replaces the "thinking..." message.
            original.update(self._message(exchange.channel_id, self.bot, body), _loading=False)
            original["flags"] = (body.get("flags") or 0) | (original["flags"] & EPHEMERAL)
            message = original
        else:
            message = self._message(exchange.channel_id, self.bot, body)
            exchange.followups.append(message)
        exchange.changed.set()
        return _json(message)

    async def _webhook_message(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        exchange = self._exchange_by_token(parts)
        if exchange is None or exchange.original is None or parts[4] != "@original":
            self._fail(f"{request.method} of unknown interaction message {parts[4]}")
            return _error(404, 10008, "Unknown Message")
        if request.method == "GET":
            return _json(exchange.original)
        if request.method == "DELETE":
            exchange.original = None
            exchange.changed.set()
            return web.Response(status=204)
        if rejected := self._reject({**exchange.original, **body}):
            return rejected
        exchange.original.update({k: v for k, v in body.items() if k != "flags"}, _loading=False)
        exchange.edits += 1
        exchange.changed.set()
        return _json(exchange.original)

    def _member(self, user: FakeUser, guild: FakeGuild | None = None) -> JSON:
        roles = [str(self.roster(guild).managers_role)] if guild and user.manages_guild else []
        return {"user": user.payload(), "roles": roles, "permissions": str(user.permissions),
                "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False,
                "flags": 0, "nick": None, "avatar": None, "pending": False}

    async def _interact(self, kind: int, data: JSON, user: FakeUser, guild: FakeGuild | None,
                        message: JSON | None = None) -> Exchange:
        channel_id = guild.channel_id if guild else self._dm_channel(user)
        exchange = Exchange(self._snowflake(), secrets.token_urlsafe(24), kind, channel_id, 0.0)
        payload: JSON = {
            "id": str(exchange.id), "application_id": str(self.application_id), "type": kind,
            "data": data, "token": exchange.token, "version": 1, "locale": user.locale,
            "app_permissions": str(MEMBER_PERMISSIONS), "entitlements": [],
            "attachment_size_limit": 10 << 20, "channel_id": str(channel_id),
            "context": 0 if guild else 1,
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
        }
        if guild is None:
            payload["user"] = user.payload()
            payload["channel"] = {"id": payload["channel_id"], "type": 1, "flags": 0,
                                  "recipients": [user.payload()], "last_message_id": None}
        else:
            payload.update(guild_id=str(guild.id), guild_locale="en-US",
                           member=self._member(user, guild))
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            payload["channel"] = {"id": payload["channel_id"], "type": 0, "guild_id": str(guild.id),
                                  "name": "general", "position": 0, "permission_overwrites": [],
                                  "nsfw": False, "parent_id": None, "flags": 0}
        if message is not None:
            payload["message"] = message
        self.exchanges[exchange.id] = exchange
        exchange.sent_at = time.monotonic()
        await self.dispatch(guild, "INTERACTION_CREATE", payload)
        asyncio.get_running_loop().call_later(ACK_DEADLINE, self._check_acknowledged, exchange)
        return exchange

    def _check_acknowledged(self, exchange: Exchange) -> None:
        if not exchange.acknowledged:
            self._fail(f"interaction {exchange.id} not acknowledged within {ACK_DEADLINE} s")
            exchange.callback = {"type": -1}  # report once

    def _dm_channel(self, user: FakeUser) -> int:
        found = next((c for c, u in self.dm_channels.items() if u == user.id), None)
        if found is None:
            found = self._snowflake()
            self.dm_channels[found] = user.id
        return found

    def command(self, name: str, kind: int = 1) -> JSON:
        found = [c for c in self.commands if c["name"] == name and c["type"] == kind]
        if not found:
            synced = [c["name"] for c in self.commands]
            raise LookupError(f"no {name!r} command synced (have {synced})")
        return found[0]

    def _options(self, command: JSON, values: dict[str, Any], focused: str | None) -> list[JSON]:
        declared = {o["name"]: o for o in command.get("options", [])}
        unknown = set(values) - set(declared)
        if unknown:
            raise LookupError(f"/{command['name']} has no option {sorted(unknown)}")
        missing = {n for n, o in declared.items() if o.get("required")} - set(values)
        if missing and focused is None:
            raise LookupError(f"/{command['name']} needs {sorted(missing)}")
        options = []
        for name, value in values.items():
            option: JSON = {"name": name, "type": declared[name]["type"], "value": value}
            if name == focused:
                option["focused"] = True
            options.append(option)
        return options

    async def slash(self, name: str, user: FakeUser, guild: FakeGuild | None = None,
                    **values: Any) -> Exchange:
        """A member runs /name with these option values, sent unchecked (like a raw client)."""
        command = self.command(name)
        data = {"id": command["id"], "name": name, "type": 1,
                "options": self._options(command, values, None)}
        return await self._interact(2, data, user, guild)

    async def subcommand(self, name: str, sub: str, user: FakeUser,
                         guild: FakeGuild | None = None, **values: Any) -> Exchange:
        """A member runs /name sub with these option values (a command group's subcommand)."""
        command = self.command(name)
        [declared] = [o for o in command.get("options", []) if o["name"] == sub and o["type"] == 1]
        members = {k: v for k, v in values.items() if isinstance(v, FakeUser)}
        options = self._options(declared, values | {k: str(v.id) for k, v in members.items()},
                                None)
        data: JSON = {"id": command["id"], "name": name, "type": 1,
                      "options": [{"name": sub, "type": 1, "options": options}]}
        if members:  # user options arrive with the resolved users and members, as Discord sends
            data["resolved"] = {
                "users": {str(m.id): m.payload() for m in members.values()},
                "members": {str(m.id): {k: v for k, v in self._member(m, guild).items()
                                        if k != "user"} for m in members.values()},
            }
        return await self._interact(2, data, user, guild)

    async def autocomplete(self, name: str, focused: str, user: FakeUser,
                           guild: FakeGuild | None = None, **values: Any) -> list[JSON]:
        command = self.command(name)
        data = {"id": command["id"], "name": name, "type": 1,
                "options": self._options(command, values, focused)}
        exchange = await self._interact(4, data, user, guild)
        choices: list[JSON] = (await exchange.reply())["choices"]
        return choices

    async def context_menu(self, name: str, message: JSON, user: FakeUser,
                           guild: FakeGuild | None = None) -> Exchange:
        command = self.command(name, kind=3)
        public = {k: v for k, v in message.items() if not k.startswith("_")}
        data = {"id": command["id"], "name": name, "type": 3, "target_id": message["id"],
                "resolved": {"messages": {message["id"]: public}}}
        return await self._interact(2, data, user, guild)

    async def click(self, message: JSON, custom_id: str, user: FakeUser,
                    guild: FakeGuild | None = None) -> Exchange:
        ids = [c.get("custom_id") for row in message["components"] for c in row["components"]]
        if custom_id not in ids:
            raise LookupError(f"no button {custom_id!r} on that message (has {ids})")
        public = {k: v for k, v in message.items() if not k.startswith("_")}
        return await self._interact(3, {"custom_id": custom_id, "component_type": 2}, user, guild,
                                    message=public)

    async def post_message(self, user: FakeUser, guild: FakeGuild, content: str) -> JSON:
        """A member writes in the guild's channel; bots with GUILD_MESSAGES hear it."""
        message = self._message(guild.channel_id, user, {"content": content})
        conn = self.connections.get(self.shard_of(guild))
        intents = self.identified[-1]["intents"] if self.identified else 0
        if conn is not None and intents & GUILD_MESSAGES:
            event = {k: v for k, v in message.items() if not k.startswith("_")}
            if not intents & MESSAGE_CONTENT:
                event["content"] = ""  # privileged: Discord strips it
            event.update(guild_id=str(guild.id), member=self._member(user, guild))
            await conn.send(0, event, "MESSAGE_CREATE")
        return message
