"""The guard's store on SQLite and PostgreSQL, and its in-memory twin: the same behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.guard import Guard, GuardOptions, GuardSettings
from bot.lookalike import LookalikeIndex
from bot.model import Asker
from bot.ports import GuardStore
from isofficial.bootstrap import core_on
from isofficial.settings import Settings
from knowledge.guard import MemoryGuardStore, SqlGuardStore
from knowledge.registry import open_registry

TG = "telegram"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """"" for the memory store, else a fresh database of that kind."""
    if request.param == "memory":
        return ""
    return str(request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[GuardStore]:
    if not store_url:
        yield MemoryGuardStore()
        return
    registry = await open_registry(store_url)
    yield SqlGuardStore(registry.engine)
    await registry.close()


async def test_a_chat_that_never_said_is_off_with_default_options(store: GuardStore) -> None:
    assert await store.settings(TG, "-1") == GuardSettings()
    assert not await store.allowed(TG, "-1", "5")
    assert await store.guarded(TG) == []


async def test_switching_and_options_are_kept_with_who_and_when(store: GuardStore) -> None:
    await store.set_on(TG, "-1", True, "telegram:1 (@alice)")
    options = GuardOptions(restrict_until_approved=True, delete_join=False, moderators_chat="-9")
    await store.set_options(TG, "-1", options, "telegram:2")
    settings = await store.settings(TG, "-1")
    assert settings.on and settings.options == options and settings.by == "telegram:2"
    assert settings.at is not None and settings.at.tzinfo is not None
    await store.set_options("discord", "-3", GuardOptions(delete_join=True), "discord:4")
    assert not (await store.settings("discord", "-3")).on  # options alone do not switch it on
    assert await store.guarded(TG) == ["-1"] and await store.guarded("discord") == []
    await store.set_on(TG, "-1", False, "telegram:1")
    off = await store.settings(TG, "-1")
    assert not off.on and off.options == options


async def test_allowed_members_per_chat(store: GuardStore) -> None:
    await store.allow(TG, "-1", "5", "telegram:1")
    await store.allow(TG, "-1", "5", "telegram:2")  # twice: kept once, the first who
    assert await store.allowed(TG, "-1", "5")
    assert not await store.allowed(TG, "-2", "5") and not await store.allowed("discord", "-1", "5")


async def test_a_moved_chat_takes_its_guard_along(store: GuardStore) -> None:
    await store.set_on(TG, "-1", True, "telegram:1")
    await store.allow(TG, "-1", "5", "telegram:1")
    await store.set_on(TG, "-100", False, "telegram:1")  # the new id had a row: it gives way
    await store.move_chat(TG, "-1", "-100")
    assert (await store.settings(TG, "-100")).on and await store.allowed(TG, "-100", "5")
    assert await store.settings(TG, "-1") == GuardSettings()
    assert not await store.allowed(TG, "-1", "5")
    await store.move_chat(TG, "-404", "-1")  # nothing to move: nothing lost
    assert (await store.settings(TG, "-100")).on


async def test_a_second_guard_on_the_same_store_sees_the_switch(store: GuardStore) -> None:
    """Two replicas: one switches, the other sees it once its cache expires."""
    first, second = Guard(LookalikeIndex(), store), Guard(LookalikeIndex(), store)
    second.settings_ttl = 0.0
    admin = Asker(TG, "1", chat_id="-1", is_private=False)
    await first.set_on(TG, "-1", True, admin, chat_admin=True)
    await first.allow(TG, "-1", "5", admin, chat_admin=True)
    assert await second.is_on(TG, "-1") and await second.is_allowed(TG, "-1", "5")


async def test_the_running_cores_guard_keeps_its_chats_across_a_restart(sqlite_url: str) -> None:
    registry = await open_registry(sqlite_url)
    core = await core_on(registry, Settings(database_url=sqlite_url), lookalikes=False)
    admin = Asker(TG, "1", chat_id="-1", is_private=False)
    await core.guard.set_on(TG, "-1", True, admin, chat_admin=True)
    await core.guard.allow(TG, "-1", "5", admin, chat_admin=True)
    await registry.close()
    reopened = await open_registry(sqlite_url)
    again = await core_on(reopened, Settings(database_url=sqlite_url), lookalikes=False)
    assert await again.guard.is_on(TG, "-1") and await again.guard.is_allowed(TG, "-1", "5")
    await reopened.close()
