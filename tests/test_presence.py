"""Checks read only what is there: the in-memory sets (bot/registered.py, bot/search_keys.py,
bot/presence.py), the one-read path, and the cache kept by the change stream."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_feeds import FeedServer, rss_with
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

import bot.registered
from bot.core import Core
from bot.model import OPERATOR, AccountRef, Answer, Correction, IsOfficialError, Status
from bot.presence import Presence
from bot.registered import KeySet, keys_of, ref_key
from bot.search_keys import SearchKeys
from bot.stable_hash import stable_hash
from isofficial.bootstrap import core_on
from isofficial.settings import Settings
from knowledge.feeds.service import refresh_all
from knowledge.feeds.store import add_feed
from knowledge.importer import import_rows, read_rows
from knowledge.memory import MemoryRegistry
from knowledge.notify import following_changes
from knowledge.registry import SqlRegistry, open_registry

TEST_DATA = Path(__file__).parent / "data"
FOREVER = 365 * 100.0
PROPAGATION = 1.0  # seconds: the bound for a change to reach another process


# --- the key sets ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-50, 50)), max_size=200),
       st.lists(st.integers(-50, 50), max_size=50))
def test_a_key_set_is_a_set_through_adds_removals_and_a_snapshot(
    ops: list[tuple[bool, int]], start: list[int]
) -> None:
    original = bot.registered.COMPACT_AT
    bot.registered.COMPACT_AT = 7  # compact often: the merge is exercised too
    try:
        kept = KeySet(np.array(start, dtype=np.int64))
        model = set(start)
        for adding, key in ops:
            (kept.add if adding else kept.discard)(key)
            (model.add if adding else model.discard)(key)
            assert (key in kept) == (key in model)
            assert len(kept) == len(model)
        again = KeySet.from_arrays(kept.arrays())
        assert {k for k in range(-50, 51) if k in again} == model
    finally:
        bot.registered.COMPACT_AT = original


def test_keys_are_the_stable_hash_of_the_ref() -> None:
    refs = [AccountRef("x", "nasa"), AccountRef("telegram", "durov"), AccountRef("any", "ñandú")]
    assert keys_of([str(ref) for ref in refs]).tolist() == [stable_hash(str(r)) for r in refs]
    assert [ref_key(ref) for ref in refs] == [stable_hash(str(r)) for r in refs]


handles = st.text("abcde_.1", min_size=1, max_size=12)
names = st.text("abcdeÉé -.", min_size=1, max_size=20)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(handles, st.none() | names, st.lists(names, max_size=2)), max_size=15),
       st.lists(st.text("abcdeÉé_.1 -", min_size=4, max_size=14), max_size=20))
def test_the_search_pre_check_never_hides_what_search_finds(
    accounts: list[tuple[str, str | None, list[str]]], texts: list[str]
) -> None:
    """Against the reference Registry.search (knowledge/memory.py), on made-up registries."""
    registry = MemoryRegistry()
    for handle, entity, aliases in accounts:
        ref = AccountRef("x", handle.lower())
        asyncio.run(registry.apply(Correction(ref, Status.UNOFFICIAL, entity), "test"))
        registry.records[ref] = replace(registry.records[ref], aliases=tuple(aliases))
    keys = SearchKeys.of(
        [ref.handle for ref in registry.records],
        [n for r in registry.records.values() for n in (r.entity, *r.aliases) if n],
    )
    # the texts asked: made up, and pieces of what is registered
    pieces = [ref.handle[:k] for ref in registry.records for k in (4, 6, 9, 11, 13, 15)]
    pieces += [r.entity[i : i + 5] for r in registry.records.values() if r.entity for i in (0, 2)]
    every_name = [n for r in registry.records.values() for n in (r.entity, *r.aliases) if n]
    for text in [*texts, *pieces]:
        if asyncio.run(registry.search(text, 4)):
            assert keys.may_find(text), text
        if asyncio.run(registry.search(text, 4, names=False)):
            assert keys.may_find_handle(text), text
        if any(text.strip().lower() in name.lower() for name in every_name):
            assert keys.may_find_name(text), text


def test_the_search_pre_check_turns_strangers_away() -> None:
    keys = SearchKeys.of(["nasa", "nasa_gov", "bbcnews"], ["NASA", "BBC News"])
    assert keys.may_find("nasa_g") and keys.may_find("BBC N") and keys.may_find("news")
    assert not keys.may_find("zorblax") and not keys.may_find("nasb")


def test_the_search_pre_check_turns_away_a_stranger_sharing_a_long_start() -> None:
    """Handles made alike share their first 8 letters often, their first 12 seldom."""
    keys = SearchKeys.of(["senatorsmith_", "x" * 70], [])
    assert keys.may_find_handle("senatorsmit") and keys.may_find_handle("senatorsmith_")
    assert not keys.may_find_handle("senatorsmithjr") and not keys.may_find_handle("senatorsmyth")
    assert keys.may_find_handle("x" * 66) and not keys.may_find_handle("x" * 63 + "y")
    assert len(SearchKeys.of(["abc"], []).prefixes) == 0  # too short to be kept


# --- through the core, counting the database's statements ----------------------------------------


@asynccontextmanager
async def statements(registry: SqlRegistry) -> AsyncIterator[list[str]]:
    """Every SQL statement the registry runs inside the block: through its engine, and the
    reads it makes in one hop on SQLite."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(registry.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with registry.one_hop_statements() as one_hop:
            yield seen
        seen += one_hop
    finally:
        event.remove(registry.engine.sync_engine, "before_cursor_execute", count)


@pytest.fixture
async def congress(database_url: str) -> AsyncIterator[SqlRegistry]:
    """The real congress registry (1,732 accounts of 519 legislators, its conflict left out)."""
    registry = await open_registry(database_url)
    path = TEST_DATA / "registry_congress.csv"
    result = await import_rows(registry, read_rows(path), by="import:congress", skip_invalid=True)
    assert result.written == 1734 - 2
    yield registry
    await registry.close()


async def started(registry: SqlRegistry) -> Core:
    return await core_on(registry, Settings(_env_file=None))  # type: ignore[call-arg]


async def test_a_stranger_costs_no_read_and_a_registered_account_one_then_none(
    congress: SqlRegistry,
) -> None:
    core = await started(congress)
    async with statements(congress) as seen:
        [stranger] = await core.check("x:zq_nobody_12", OPERATOR)
    assert stranger.status is Status.UNKNOWN and seen == []
    async with statements(congress) as seen:
        [typo] = await core.check("instagram:repaaronbaen", OPERATOR)  # a one-edit typo
    assert typo.lookalike_of and seen == []
    async with statements(congress) as seen:
        [exact] = await core.check("instagram:RepAaronBean", OPERATOR)
    assert exact.status is Status.OFFICIAL and exact.entity == "Aaron Bean"
    assert len(seen) == 1
    async with statements(congress) as seen:
        [again] = await core.check("instagram:RepAaronBean", OPERATOR)
    assert again == exact and seen == []


async def test_a_key_held_but_not_registered_is_answered_as_unregistered(
    congress: SqlRegistry,
) -> None:
    """A hash collision (or a set told of a registration since undone): the read decides."""
    core = await started(congress)
    ghost = AccountRef("x", "ghost_account")
    assert core.presence is not None
    core.presence.registered.add(ref_key(ghost))
    [answer] = await core.check(str(ghost), OPERATOR)
    assert answer.status is Status.UNKNOWN and answer.ref == ghost
    core.presence.registered.add(ref_key(AccountRef("telegram", "repaaronbean")))
    reading_all = Core(congress, core.index)
    bare = await core.check("@repaaronbean", OPERATOR)  # held on telegram too: it is not
    assert bare == await reading_all.check("@repaaronbean", OPERATOR)
    assert {answer.ref.platform for answer in bare} == {"instagram", "x"}


async def test_the_sets_kept_in_arrays_answer_as_before(congress: SqlRegistry) -> None:
    core = await started(congress)
    assert core.presence is not None
    kept = Presence.from_arrays(core.presence.arrays())
    again = Core(congress, core.index, presence=kept)
    for query in ("instagram:repaaronbean", "x:zq_nobody_12", "x:repaaronbaen", "x:senator_x"):
        assert await answered(again, query) == await answered(core, query)
    assert len(kept.registered) == 1734 - 2


async def test_answers_are_the_same_with_and_without_the_sets(congress: SqlRegistry) -> None:
    """Registered, typos, strangers, bare @handles, and names near registered ones (the
    "registered nearby" line): the in-memory path answers exactly as reading everything."""
    fast = await started(congress)
    slow = Core(congress, fast.index, verifier=fast.verifier, feeds=fast.feeds)
    assert slow.presence is None
    rng = random.Random(12)
    refs: list[AccountRef] = []
    async for keys, _ in congress.registered_keys(1000):
        refs += [AccountRef(*key.split(":", 1)) for key in keys]
    queries = []
    for ref in rng.sample(refs, 60):
        queries += [str(ref), f"@{ref.handle}", f"{ref.platform}:{ref.handle[:5]}zz",
                    f"{ref.platform}:{ref.handle}{rng.choice('xyz')}"]
    entities = [r.entity for r in (await congress.find(rng.sample(refs, 30))).values()]
    queries += [f"x:{name.split()[-1].lower()}" for name in entities if name]
    queries += [f"x:{''.join(rng.choices('abcdefghij', k=9))}" for _ in range(40)]
    nearby = 0
    for query in queries:
        answers = await answered(fast, query)
        assert answers == await answered(slow, query), query
        nearby += isinstance(answers, list) and any(answer.nearby for answer in answers)
    assert nearby > 5  # the "nearby" line was exercised, not only skipped


async def answered(core: Core, query: str) -> list[Answer] | str:
    """The answers, or the refusal's message."""
    try:
        return await core.check(query, OPERATOR)
    except IsOfficialError as error:
        return str(error)


async def feed_holds(registry: SqlRegistry, server: FeedServer, item: tuple[str, str, str],
                     *, added: bool = True) -> None:
    """The test feed now holds this one item (title, link, date), read into the registry; the
    feed is added first unless it was."""
    server.set("/a.xml", rss_with([item]))
    if not added:
        await add_feed(registry.engine, server.url("/a.xml"))
    await refresh_all(registry.engine, keep_days=FOREVER)  # heard at once: same process


async def test_a_mention_of_an_unregistered_account_shows(congress: SqlRegistry) -> None:
    """Mentions stored before the core started, and mentions stored while it runs."""
    stranger, later = AccountRef("x", "uriminzok"), AccountRef("x", "dprk_today")
    async with FeedServer() as server:
        await feed_holds(congress, server, ("Seoul blocks @uriminzok", "https://news.example/1",
                                            "Thu, 19 Aug 2010 08:00 GMT"), added=False)
        core = await started(congress)
        [answer] = await core.check(str(stranger), OPERATOR)
        assert answer.status is Status.UNKNOWN
        assert [m.title for m in answer.mentions] == ["Seoul blocks @uriminzok"]

        [before] = await core.check(str(later), OPERATOR)
        assert before.mentions == ()
        await feed_holds(congress, server, ("Fans run x.com/dprk_today", "https://news.example/2",
                                            "Tue, 24 Aug 2010 09:00 GMT"))
        [after] = await core.check(str(later), OPERATOR)
        assert [m.title for m in after.mentions] == ["Fans run x.com/dprk_today"]


async def test_a_registered_account_is_read_for_mentions_only_where_a_feed_may_name_it(
    congress: SqlRegistry,
) -> None:
    """The read of a registered account no feed names leaves out the mention ranges; one a
    feed names, before the core started or while it runs, shows its mentions, as a core
    reading everything answers."""
    named, other = AccountRef("x", "repaaronbean"), AccountRef("instagram", "repaaronbean")
    async with FeedServer() as server:
        await feed_holds(congress, server, ("Fans of x.com/repaaronbean", "https://news.example/1",
                                            "Thu, 19 Aug 2010 08:00 GMT"), added=False)
        read = await congress.read([named, other], 5, mentioned=[named])
        assert read == await congress.read([named, other], 5)  # other has none: the same
        assert [m.title for m in read[named].mentions] == ["Fans of x.com/repaaronbean"]
        assert (await congress.read([named], 5, mentioned=[]))[named] == replace(
            read[named], mentions=())

        core = await started(congress)
        slow = Core(congress, core.index, verifier=core.verifier, feeds=core.feeds)
        for ref, titles in ((named, ["Fans of x.com/repaaronbean"]), (other, [])):
            async with statements(congress) as seen:
                [answer] = await core.check(str(ref), OPERATOR)
            assert [m.title for m in answer.mentions] == titles
            assert [("item_mentions" in sql) for sql in seen] == [bool(titles)]
            assert [answer] == await slow.check(str(ref), OPERATOR)

        await feed_holds(congress, server, ("Fans of instagram.com/repaaronbean",
                                            "https://news.example/2", "Tue, 24 Aug 2010 09:00 GMT"))
        [after] = await core.check(str(other), OPERATOR)
        assert [m.title for m in after.mentions] == ["Fans of instagram.com/repaaronbean"]
        assert [after] == await slow.check(str(other), OPERATOR)


async def within(seconds: float, answered: Callable[[], Awaitable[bool]]) -> None:
    start = time.monotonic()
    while not await answered():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not answered within {seconds}s")
        await asyncio.sleep(0.02)


async def test_another_process_change_is_seen_after_its_notice_never_a_cached_verdict(
    congress: SqlRegistry, database_url: str
) -> None:
    """A second registry on the same database (another process's view): its verdicts on a
    stranger and on a cached registered account reach this core through its listener."""
    core = await started(congress)
    other = await open_registry(database_url)
    try:
        stranger, known = AccountRef("x", "brandnew_sen"), AccountRef("instagram", "repaaronbean")
        assert (await core.check(str(stranger), OPERATOR))[0].status is Status.UNKNOWN
        assert (await core.check(str(known), OPERATOR))[0].status is Status.OFFICIAL  # cached
        async with following_changes(database_url, core.reload):
            await other.apply(Correction(stranger, Status.OFFICIAL, "Brand New"), "other")
            await other.apply(Correction(known, Status.IMPERSONATOR, "Aaron Bean"), "other")

            async def both_seen() -> bool:
                answers = [(await core.check(str(ref), OPERATOR))[0] for ref in (stranger, known)]
                return [a.status for a in answers] == [Status.OFFICIAL, Status.IMPERSONATOR]

            await within(PROPAGATION, both_seen)
            await other.undo(stranger, "other")

            async def undone() -> bool:
                return (await core.check(str(stranger), OPERATOR))[0].status is Status.UNKNOWN

            await within(PROPAGATION, undone)
    finally:
        await other.close()
