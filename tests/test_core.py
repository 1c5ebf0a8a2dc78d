"""The core at its edge: check, verdicts, history, undo, reports, on an in-memory registry."""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.model import (
    AccountRef,
    Asker,
    Certainty,
    Correction,
    Evidence,
    FeedsNotConfigured,
    IsOfficialError,
    NoAccountFound,
    NotAllowed,
    NothingToUndo,
    Reason,
    Status,
    UnknownStatus,
)
from bot.render import feed_line
from isofficial.bootstrap import core_on, memory_core
from isofficial.settings import Settings
from knowledge.feeds.errors import FeedError
from knowledge.memory import MemoryChatPreferences
from knowledge.registry import open_registry

DPRK = "Government of North Korea (DPRK)"
MOD = Asker("telegram", "42", chat_id="-100", is_private=False, name="@mod")
USER = Asker("telegram", "7", chat_id="-100", is_private=False)
ARTICLE = Evidence("https://example.org/a", "North Korea denies link", "Example", None, None)


@pytest.fixture
async def core() -> Core:
    seed = [
        Correction(
            AccountRef("x", "uriminzok"),
            Status.UNOFFICIAL,
            DPRK,
            ARTICLE,
            handle_as_written="uriminzok",
        ),
        Correction(AccountRef("youtube", "uriminzok"), Status.UNOFFICIAL, DPRK),
        Correction(AccountRef("x", "nasa"), Status.OFFICIAL, "NASA", handle_as_written="NASA"),
    ]
    return await memory_core(frozenset({"telegram:42"}), seed)


async def test_founding_case_answers_unofficial_with_its_source(core: Core) -> None:
    [answer] = await core.check("is https://twitter.com/uriminzok official?", USER)
    assert (answer.ref, answer.status, answer.entity) == (
        AccountRef("x", "uriminzok"),
        Status.UNOFFICIAL,
        DPRK,
    )
    assert answer.evidence == (ARTICLE,)
    assert answer.certainty is Certainty.SOURCED


async def test_bare_handle_answers_every_platform_that_holds_it(core: Core) -> None:
    answers = await core.check("@uriminzok", USER)
    assert {a.ref.platform for a in answers} == {"x", "youtube"}
    assert {a.certainty for a in answers} == {Certainty.SOURCED, Certainty.UNSOURCED}


async def test_unknown_account_is_unknown_and_lookalike_names_its_target(core: Core) -> None:
    [answer] = await core.check("x.com/nasa_official", USER)
    assert answer.status is Status.UNKNOWN
    assert [(lk.target, lk.reason) for lk in answer.lookalike_of] == [
        (AccountRef("x", "nasa"), Reason.AFFIX)
    ]
    assert answer.alarming


async def test_registered_account_is_never_a_lookalike(core: Core) -> None:
    await core.correct(Correction(AccountRef("x", "nasa_official"), Status.PARODY, "NASA"), MOD)
    [answer] = await core.check("x:nasa_official", USER)
    assert answer.status is Status.PARODY and answer.lookalike_of == ()


async def test_text_without_account_is_a_clear_error(core: Core) -> None:
    with pytest.raises(NoAccountFound):
        await core.check("is this official?", USER)


async def test_only_moderators_change_the_registry(core: Core) -> None:
    with pytest.raises(NotAllowed):
        await core.verdict("x:fakedprk impersonator " + DPRK, USER)
    [answer] = await core.check("x:fakedprk", USER)
    assert answer.status is Status.UNKNOWN
    assert await core.registry.history(AccountRef("x", "fakedprk")) == []


async def test_verdict_by_chat_grammar_is_logged_with_who_and_source(core: Core) -> None:
    answer = await core.verdict(
        f"x:fakedprk impersonator {DPRK} | copies KCNA https://example.org/fake", MOD
    )
    assert (answer.status, answer.entity) == (Status.IMPERSONATOR, DPRK)
    assert [ev.url for ev in answer.evidence] == ["https://example.org/fake"]
    ref, changes = await core.history("x:fakedprk")
    assert ref == AccountRef("x", "fakedprk")
    [change] = changes
    assert change.by == "telegram:42 (@mod)"
    assert (change.old_status, change.new_status, change.note) == (
        Status.UNKNOWN,
        Status.IMPERSONATOR,
        "copies KCNA",
    )


async def test_unknown_status_lists_the_valid_ones(core: Core) -> None:
    with pytest.raises(UnknownStatus, match="official, affiliated"):
        await core.verdict("x:fakedprk banana", MOD)


async def test_official_verdict_needs_an_entity(core: Core) -> None:
    with pytest.raises(IsOfficialError, match="entity"):
        await core.verdict("x:esa official", MOD)


async def test_new_official_protects_at_once_and_undo_withdraws_it(core: Core) -> None:
    await core.verdict("x:esa_org official European Space Agency", MOD)
    [look] = await core.check("x:esa_org_support", USER)
    assert look.lookalike_of and look.lookalike_of[0].target == AccountRef("x", "esa_org")
    undone = await core.undo("x:esa_org", MOD)
    assert undone.status is Status.UNKNOWN
    [again] = await core.check("x:esa_org_support", USER)
    assert not any(lk.target == AccountRef("x", "esa_org") for lk in again.lookalike_of)
    _, changes = await core.history("x:esa_org")
    assert [c.new_status for c in changes] == [Status.UNKNOWN, Status.OFFICIAL]
    assert changes[0].undoes == changes[1].id
    with pytest.raises(NothingToUndo):
        await core.undo("x:esa_org", MOD)


async def test_undo_restores_the_previous_verdict(core: Core) -> None:
    await core.verdict("x:uriminzok compromised " + DPRK, MOD)
    answer = await core.undo("x:uriminzok", MOD)
    assert (answer.status, answer.entity) == (Status.UNOFFICIAL, DPRK)


async def test_ambiguous_bare_handle_in_a_command_asks_which(core: Core) -> None:
    with pytest.raises(IsOfficialError, match="x:uriminzok"):
        await core.history("@uriminzok")


async def test_reports_queue_for_moderators_only(core: Core) -> None:
    report = await core.report("x:fakedprk impersonator posts fake KCNA news", USER)
    assert (report.ref, report.status, report.by) == (
        AccountRef("x", "fakedprk"),
        Status.IMPERSONATOR,
        "telegram:7",
    )
    assert await core.open_reports(MOD) == [report]
    with pytest.raises(NotAllowed):
        await core.open_reports(USER)


async def test_a_changed_platform_id_is_said_plainly(core: Core) -> None:
    ref = AccountRef("x", "uriminzok")
    await core.remember_platform_id(ref, "111")

    async def current_id(_: AccountRef) -> str | None:
        return "222"

    [answer] = await core.check("x:uriminzok", USER, current_id)
    assert answer.notices and "different account" in answer.notices[0]


async def test_a_learned_platform_id_is_recorded(core: Core) -> None:
    async def current_id(_: AccountRef) -> str | None:
        return "333"

    [answer] = await core.check("x:nasa", USER, current_id)
    assert answer.notices == ()
    records = await core.registry.find([AccountRef("x", "nasa")])
    assert records[AccountRef("x", "nasa")].platform_id == "333"


async def test_a_cited_feed_mention_keeps_its_title_and_date(core: Core) -> None:
    from datetime import date

    mention = Evidence(
        "https://news.example/blocked", "Seoul blocks account", "Example News", date(2010, 8, 19)
    )
    core.registry.mention_items[AccountRef("x", "uriminzok")] = [mention]  # type: ignore[attr-defined]
    answer = await core.verdict(f"x:uriminzok unofficial {DPRK} {mention.url}", MOD)
    assert mention in answer.evidence


async def test_a_verdict_takes_the_accounts_reports_off_the_queue(core: Core) -> None:
    await core.report("x:nasa_help impersonator asks for keys", USER)
    other = await core.report("x:fakedprk impersonator", USER)
    await core.verdict("x:nasa_help impersonator NASA", MOD)
    assert await core.open_reports(MOD) == [other]


# --- autocomplete ---


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("na", "x:nasa"),
        ("@NA", "x:nasa"),
        ("x:na", "x:nasa"),
        ("twitter:NA", "x:nasa"),  # an alias names the platform
        ("youtube:uri", "youtube:uriminzok"),
        ("korea", "x:uriminzok"),  # part of the entity's name
    ],
)
async def test_suggest_finds_registered_accounts(core: Core, typed: str, first: str) -> None:
    found = await core.suggest(typed)
    assert str(found[0][0]) == first


async def test_suggest_limits_and_keeps_to_the_named_platform(core: Core) -> None:
    assert await core.suggest("x:uri") == [(AccountRef("x", "uriminzok"), DPRK)]
    assert len(await core.suggest("", limit=2)) == 2
    assert await core.suggest("nobody") == []


# --- chat preferences ---


class CountingPreferences(MemoryChatPreferences):
    """The memory store, counting reads (auto-check asks on every message)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def autocheck(self, platform: str, chat_id: str) -> bool:
        self.reads += 1
        return await super().autocheck(platform, chat_id)


async def test_autocheck_is_recorded_with_who_and_read_from_a_cache(core: Core) -> None:
    store = CountingPreferences()
    one = Core(core.registry, core.index, core.moderators, preferences=store)
    assert not await one.autocheck_enabled("telegram", "-100")  # never said: off
    await one.set_autocheck("-100", True, MOD)
    assert store.autochecks == {("telegram", "-100"): (True, "telegram:42 (@mod)")}
    for _ in range(100):
        assert await one.autocheck_enabled("telegram", "-100")
    assert not await one.autocheck_enabled("discord", "-100")  # chats are per platform
    assert store.reads == 2  # one per chat, not one per message

    restarted = Core(core.registry, core.index, core.moderators, preferences=store)
    assert await restarted.autocheck_enabled("telegram", "-100")


async def test_another_replicas_switch_is_seen_once_the_cache_expires(core: Core) -> None:
    store = MemoryChatPreferences()
    mine, theirs = (Core(core.registry, core.index, preferences=store) for _ in range(2))
    mine.preferences_ttl = 0.0
    assert not await mine.autocheck_enabled("telegram", "-100")
    await theirs.set_autocheck("-100", True, USER)
    assert await mine.autocheck_enabled("telegram", "-100")


async def test_without_a_store_autocheck_lasts_as_long_as_the_process(core: Core) -> None:
    bare = Core(core.registry, core.index)
    await bare.set_autocheck("-100", True, USER)
    assert await bare.autocheck_enabled("telegram", "-100")
    assert not await Core(core.registry, core.index).autocheck_enabled("telegram", "-100")


# --- feeds ---


async def test_feed_commands_are_for_moderators_and_need_feeds(core: Core) -> None:
    with pytest.raises(NotAllowed):
        await core.list_feeds(USER)
    with pytest.raises(FeedsNotConfigured, match="not configured"):
        await core.add_feed("https://example.org/feed.xml", MOD)


async def test_moderators_add_list_and_remove_feeds(database_url: str) -> None:
    registry = await open_registry(database_url)
    settings = Settings(_env_file=None, moderators=frozenset({"telegram:42"}))  # type: ignore[call-arg]
    sql = await core_on(registry, settings)
    url = "https://news.example/feed.xml"
    with pytest.raises(NotAllowed):
        await sql.add_feed(url, USER)
    added = await sql.add_feed(f"  {url} ", MOD)
    assert (added.url, added.item_count, added.last_success) == (url, 0, None)
    assert "news.example/feed.xml · last success never · 0 items" in feed_line(added)
    with pytest.raises(FeedError, match="already in the feed list"):
        await sql.add_feed(url, MOD)
    with pytest.raises(FeedError, match="not a feed URL"):
        await sql.add_feed("ftp://news.example/feed", MOD)
    assert [feed.url for feed in await sql.list_feeds(MOD)] == [url]
    with pytest.raises(FeedError, match="no feed"):
        await sql.remove_feed("https://elsewhere.example/", MOD)
    await sql.remove_feed(url, MOD)
    assert await sql.list_feeds(MOD) == []
    await registry.close()


class CountedFinds:
    """The in-memory registry, counting its find() calls."""

    def __init__(self, inner: object) -> None:
        self.inner, self.finds = inner, 0

    async def find(self, refs: list[AccountRef]) -> object:
        self.finds += 1
        return await self.inner.find(refs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_a_command_on_a_bare_handle_reads_the_registry_once(core: Core) -> None:
    counted = CountedFinds(core.registry)
    moderated = Core(counted, core.index, core.moderators)  # type: ignore[arg-type]
    with pytest.raises(IsOfficialError, match="x:uriminzok, youtube:uriminzok: name one"):
        await moderated.history("@uriminzok")
    assert counted.finds == 1
    await moderated.undo("@nasa", MOD)
    assert counted.finds == 2


async def test_autocheck_alarms_only_in_opted_in_chats_and_only_about_bad_accounts(
    core: Core,
) -> None:
    text = "follow x.com/uriminzok and x.com/NASA, not x.com/nasa_official"
    assert await core.alarms("-100", text, USER) == []  # the chat never opted in
    await core.set_autocheck("-100", True, MOD)
    alarming = await core.alarms("-100", text, USER)
    assert [str(answer.ref) for answer in alarming] == ["x:uriminzok", "x:nasa_official"]
    assert await core.alarms("-100", "good morning: x:", USER) == []  # chatter stays silent
