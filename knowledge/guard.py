"""Chats' guards on the registry's database, and in memory for tests: bot.ports.GuardStore."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.guard_model import GuardOptions, GuardSettings
from knowledge.database import dialect_insert, writing
from knowledge.tables import guard_allowed, guard_settings

Key = tuple[str, str]
V = TypeVar("V")


class SqlGuardStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def settings(self, platform: str, chat_id: str) -> GuardSettings:
        query = select(guard_settings).where(*_chat(guard_settings, platform, chat_id))
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return GuardSettings()
        options = GuardOptions(row.restrict_until_approved, row.delete_join, row.moderators_chat)
        return GuardSettings(row.on, options, row.changed_by, row.changed_at)

    async def set_on(self, platform: str, chat_id: str, on: bool, by: str) -> None:
        await self._upsert(platform, chat_id, {"on": on}, by)

    async def set_options(
        self, platform: str, chat_id: str, options: GuardOptions, by: str
    ) -> None:
        values = {
            "restrict_until_approved": options.restrict_until_approved,
            "delete_join": options.delete_join,
            "moderators_chat": options.moderators_chat,
        }
        await self._upsert(platform, chat_id, values, by)

    async def _upsert(self, platform: str, chat_id: str, values: dict[str, Any], by: str) -> None:
        """Change some columns of the chat's row; a new row starts off with default options."""
        values = {**values, "changed_by": by[:200], "changed_at": datetime.now(UTC)}
        fresh = {"on": False, "restrict_until_approved": False, "delete_join": False}
        async with writing(self.engine) as conn:
            upsert = dialect_insert(conn, guard_settings).values(
                platform=platform, chat_id=chat_id, **{**fresh, **values}
            )
            await conn.execute(
                upsert.on_conflict_do_update(index_elements=["platform", "chat_id"], set_=values)
            )

    async def allowed(self, platform: str, chat_id: str, user_id: str) -> bool:
        query = select(guard_allowed.c.user_id).where(
            *_chat(guard_allowed, platform, chat_id), guard_allowed.c.user_id == user_id
        )
        async with self.engine.connect() as conn:
            return await conn.scalar(query) is not None

    async def allow(self, platform: str, chat_id: str, user_id: str, by: str) -> None:
        async with writing(self.engine) as conn:
            insert = dialect_insert(conn, guard_allowed).values(
                platform=platform, chat_id=chat_id, user_id=user_id,
                allowed_by=by[:200], allowed_at=datetime.now(UTC),
            )  # fmt: skip
            await conn.execute(insert.on_conflict_do_nothing())

    async def guarded(self, platform: str) -> list[str]:
        query = (
            select(guard_settings.c.chat_id)
            .where(guard_settings.c.platform == platform, guard_settings.c.on.is_(True))
            .order_by(guard_settings.c.chat_id)
        )
        async with self.engine.connect() as conn:
            return list((await conn.scalars(query)).all())

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """new_id's own rows (none, unless it was set up meanwhile) give way to old_id's."""
        async with writing(self.engine) as conn:
            for table in (guard_settings, guard_allowed):
                old = _chat(table, platform, old_id)
                if await conn.scalar(select(table.c.chat_id).where(*old).limit(1)):
                    await conn.execute(delete(table).where(*_chat(table, platform, new_id)))
                    await conn.execute(update(table).where(*old).values(chat_id=new_id))


def _chat(table: Any, platform: str, chat_id: str) -> tuple[Any, Any]:
    return table.c.platform == platform, table.c.chat_id == chat_id


class MemoryGuardStore:
    def __init__(self) -> None:
        self.chats: dict[Key, GuardSettings] = {}
        self.allowed_by: dict[Key, dict[str, tuple[str, datetime]]] = {}

    async def settings(self, platform: str, chat_id: str) -> GuardSettings:
        return self.chats.get((platform, chat_id), GuardSettings())

    async def set_on(self, platform: str, chat_id: str, on: bool, by: str) -> None:
        current = await self.settings(platform, chat_id)
        self.chats[(platform, chat_id)] = replace(current, on=on, by=by, at=datetime.now(UTC))

    async def set_options(
        self, platform: str, chat_id: str, options: GuardOptions, by: str
    ) -> None:
        current = await self.settings(platform, chat_id)
        changed = replace(current, options=options, by=by, at=datetime.now(UTC))
        self.chats[(platform, chat_id)] = changed

    async def allowed(self, platform: str, chat_id: str, user_id: str) -> bool:
        return user_id in self.allowed_by.get((platform, chat_id), {})

    async def allow(self, platform: str, chat_id: str, user_id: str, by: str) -> None:
        members = self.allowed_by.setdefault((platform, chat_id), {})
        members.setdefault(user_id, (by, datetime.now(UTC)))

    async def guarded(self, platform: str) -> list[str]:
        return sorted(c for (p, c), s in self.chats.items() if p == platform and s.on)

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        _move(self.chats, (platform, old_id), (platform, new_id))
        _move(self.allowed_by, (platform, old_id), (platform, new_id))


def _move(kept: dict[Key, V], old: Key, new: Key) -> None:
    if old in kept:
        kept[new] = kept.pop(old)
