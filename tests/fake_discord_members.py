"""The fake Discord's guild members: roles and permissions, GUILD_MEMBER_ADD / GUILD_MEMBER_UPDATE
dispatches (to bots with the GUILD_MEMBERS intent, as Discord does), member chunks (gateway op 8),
the members list, timeouts (PATCH member), and an avatar CDN serving real image bytes.

Mixed into FakeDiscord (tests/fake_discord.py); payloads follow Discord's v10 member objects as
discord.py reads them (Member, Role, Asset).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSON = dict[str, Any]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


GUILD_MEMBERS = 1 << 1  # the privileged members intent
MANAGE_GUILD_BIT, MODERATE_MEMBERS = 1 << 5, 1 << 40


@dataclass
class Roster:
    """One guild's members (by user id) and the extra roles and channel the fake gives it."""

    managers_role: int  # a role with Manage Server
    chosen_role: int  # a role without it, that a guild may pick as its admins
    bot_role: int  # the bot's: it may time members out
    mods_channel: int  # a second text channel
    members: dict[int, JSON] = field(default_factory=dict)  # user id -> member payload


class MemberWorld:
    """Needs FakeDiscord's users, guilds, connections, identified, dispatch, _snowflake, _json."""

    users: dict[int, Any]
    identified: list[JSON]

    def _init_members(self) -> None:
        self.channel_limit: tuple[int, float] | None = None  # (messages, seconds) per channel
        self.floods = 0  # 429s answered for a channel over its limit
        self._posted: dict[int, list[float]] = {}
        self.rosters: dict[int, Roster] = {}  # guild id -> its roster
        self.avatar_downloads = 0
        self.timeouts: dict[tuple[int, int], str | None] = {}  # (guild, user) -> until

    def roster(self, guild: Any) -> Roster:
        if guild.id not in self.rosters:
            ids = [self._snowflake() for _ in range(4)]  # type: ignore[attr-defined]
            self.rosters[guild.id] = Roster(*ids)
        return self.rosters[guild.id]

    def add_cdn_route(self, app: web.Application) -> None:
        app.router.add_get("/cdn/avatars/{user}/{file}", self._avatar)

    async def _avatar(self, request: web.Request) -> web.Response:
        key = request.match_info["file"].rsplit(".", 1)[0]
        user = self.users.get(int(request.match_info["user"]))
        data = user.avatar if user is not None and user.avatar_hash == key else None
        if data is None:
            return web.Response(status=404, text="404: Not Found")
        self.avatar_downloads += 1
        return web.Response(body=data, content_type="image/png")

    @property
    def cdn_base(self) -> str:
        return self.url + "/cdn"  # type: ignore[attr-defined]

    # ---- payloads ---------------------------------------------------------------------------

    def member_payload(self, guild: Any, user: Any, nick: str | None = None) -> JSON:
        roster = self.roster(guild)
        roles = [str(roster.managers_role)] if user.manages_guild else []
        return {"user": user.payload(), "nick": nick, "avatar": None, "roles": roles,
                "joined_at": "2026-11-28T12:00:00+00:00", "deaf": False, "mute": False,
                "flags": 0, "pending": False, "communication_disabled_until": None}

    def extra_roles(self, guild: Any) -> list[JSON]:
        roster = self.roster(guild)

        def role(role_id: int, name: str, permissions: int, position: int) -> JSON:
            return {"id": str(role_id), "name": name, "permissions": str(permissions),
                    "position": position, "color": 0, "hoist": False, "managed": False,
                    "mentionable": False, "flags": 0}

        return [role(roster.managers_role, "managers", MANAGE_GUILD_BIT, 1),
                role(roster.chosen_role, "helpers", 0, 2),
                role(roster.bot_role, "isofficial", MODERATE_MEMBERS, 3)]

    def _wants_members(self) -> bool:
        return bool(self.identified and self.identified[-1]["intents"] & GUILD_MEMBERS)

    def channel_bucket(self, channel_id: int) -> tuple[bool, dict[str, str]]:
        """Discord's per-channel message bucket: (allowed, the X-RateLimit headers)."""
        if self.channel_limit is None:
            return True, {}
        count, seconds = self.channel_limit
        now = time.monotonic()
        posted = [t for t in self._posted.get(channel_id, []) if t > now - seconds]
        allowed = len(posted) < count
        if allowed:
            posted.append(now)
        else:
            self.floods += 1
        self._posted[channel_id] = posted
        reset = max(0.0, posted[0] + seconds - now) if posted else 0.0
        return allowed, {"X-RateLimit-Limit": str(count),
                         "X-RateLimit-Remaining": str(max(0, count - len(posted))),
                         "X-RateLimit-Reset-After": f"{reset:.3f}",
                         "X-RateLimit-Reset": f"{time.time() + reset:.3f}",
                         "X-RateLimit-Bucket": f"channel-{channel_id}"}

    # ---- what tests do ----------------------------------------------------------------------

    def add_member(self, guild: Any, user: Any) -> JSON:
        """user is a member of guild from the start (listed in member chunks, no event)."""
        member = self.member_payload(guild, user)
        self.roster(guild).members[user.id] = member
        return member

    async def member_joins(self, guild: Any, user: Any) -> JSON:
        """user joins guild: GUILD_MEMBER_ADD reaches a bot with the members intent."""
        member = self.member_payload(guild, user)
        self.roster(guild).members[user.id] = member
        if self._wants_members():
            await self.dispatch(guild, "GUILD_MEMBER_ADD",  # type: ignore[attr-defined]
                                {**member, "guild_id": str(guild.id)})
        return member

    async def member_changes(self, guild: Any, user: Any, *, nick: str | None = None,
                             global_name: str | None = None, username: str | None = None,
                             avatar: bytes | None = None, roles: list[int] | None = None) -> JSON:
        """A member renames (server nickname, global name, username), changes avatar or roles:
        GUILD_MEMBER_UPDATE with the whole member, as Discord sends it."""
        member = self.roster(guild).members.setdefault(user.id, self.member_payload(guild, user))
        if global_name is not None:
            user.global_name = global_name
        if username is not None:
            user.name = username
        if avatar is not None:
            user.avatar = avatar
        if nick is not None:
            member["nick"] = nick
        if roles is not None:
            member["roles"] = [str(role) for role in roles]
        member["user"] = user.payload()
        if self._wants_members():
            await self.dispatch(guild, "GUILD_MEMBER_UPDATE",  # type: ignore[attr-defined]
                                {**member, "guild_id": str(guild.id)})
        return member

    # ---- gateway and REST -------------------------------------------------------------------

    async def request_members(self, conn: Any, d: JSON) -> None:
        """Gateway op 8: every member of the guild, in chunks of up to 1000."""
        guild = next(g for g in self.guilds if g.id == int(d["guild_id"]))  # type: ignore[attr-defined]
        members = [{**m, "guild_id": str(guild.id)} for m in self.roster(guild).members.values()]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for index, chunk in enumerate(chunks):
            await conn.send(0, {"guild_id": str(guild.id), "members": chunk, "chunk_index": index,
                                "chunk_count": len(chunks), "nonce": d.get("nonce"),
                                "not_found": []}, "GUILD_MEMBERS_CHUNK")

    async def edit_member(self, request: web.Request, parts: Any, body: JSON) -> web.Response:
        """PATCH /guilds/{guild}/members/{user}: here only communication_disabled_until."""
        guild_id, user_id = int(parts[1]), int(parts[3])
        member = self.rosters.get(guild_id, Roster(0, 0, 0, 0)).members.get(user_id)
        if member is None:
            return _json({"code": 10007, "message": "Unknown Member"}, 404)
        if set(body) - {"communication_disabled_until"}:
            self._fail(f"member edit with unexpected fields {sorted(body)}")  # type: ignore[attr-defined]
        if str(self.rosters[guild_id].managers_role) in member["roles"]:  # above the bot's role
            return _json({"code": 50013, "message": "Missing Permissions"}, 403)
        member["communication_disabled_until"] = body.get("communication_disabled_until")
        self.timeouts[(guild_id, user_id)] = member["communication_disabled_until"]
        return _json({**member, "guild_id": str(guild_id)})

    async def list_members(self, request: web.Request, parts: Any, body: Any) -> web.Response:
        """GET /guilds/{guild}/members?limit&after, in user id order (needs the intent)."""
        if not self._wants_members():
            return _json({"code": 50001, "message": "Missing Access"}, 403)
        roster = self.rosters.get(int(parts[1]))
        after, limit = int(request.query.get("after", 0)), int(request.query.get("limit", 1))
        found = sorted((m for uid, m in (roster.members.items() if roster else ()) if uid > after),
                       key=lambda m: int(m["user"]["id"]))[:limit]
        return _json(found)
