"""Feeds end to end against a real local HTTP server and a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from fake_feeds import BILLION_LAUGHS, ENDLESS_LIMIT, EXTERNAL_ENTITY, FeedServer, rss_with
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import Core
from bot.handles import find_accounts
from bot.model import OPERATOR, AccountRef, Correction, Evidence, Status
from knowledge.feeds import (
    FeedError,
    add_feed,
    delete_older_than,
    format_feed_list,
    list_feeds,
    recent_mentions,
    remove_feed,
)
from knowledge.feeds.fetch import (
    CHUNK,
    USER_AGENT,
    Fetcher,
    FetchFailed,
    FetchLimits,
    TooLarge,
)
from knowledge.feeds.parse import UnsafeFeed, parse_feed
from knowledge.feeds.service import refresh_all, run_feed_scheduler
from knowledge.feeds.tables import feed_items, item_mentions
from knowledge.registry import SqlRegistry

FAST = FetchLimits(timeout=2, attempts=2, backoff=0.01, max_bytes=1_000_000)
FOREVER = 365 * 100.0  # the fixtures are from 2010: keep them
URIMINZOK = AccountRef("x", "uriminzok")


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


@pytest.fixture
def engine(registry: SqlRegistry) -> AsyncEngine:
    return registry.engine


async def refresh(engine: AsyncEngine, limits: FetchLimits = FAST) -> dict[str, str]:
    """Refresh every feed; each feed's report line by its URL."""
    reports = await refresh_all(engine, limits=limits, keep_days=FOREVER)
    return {report.url: report.line() for report in reports}


async def add(engine: AsyncEngine, server: FeedServer, *paths: str) -> list[str]:
    urls = [server.url(path) for path in paths]
    for url in urls:
        await add_feed(engine, url)
    return urls


async def stored_items(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(feed_items)) or 0)


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "title", "published", "named"),
    [
        ("/rss2.xml", "South Korea blocks", date(2010, 8, 19), "x:uriminzok"),
        ("/rss1.rdf", "Facebook page claiming", date(2010, 8, 25), "facebook:uriminzokkiriprank"),
        ("/rss091.xml", "Telegram channel", None, "telegram:uriminzok_news"),
        ("/atom.xml", "Is @uriminzok official? No & here", date(2010, 8, 26), "youtube:uriminzok"),
        ("/feed.json", "Bluesky impostor", date(2010, 8, 27), "bluesky:nasa-official.bsky.social"),
    ],
)
async def test_each_format_gives_items_and_the_accounts_they_name(
    engine: AsyncEngine,
    server: FeedServer,
    path: str,
    title: str,
    published: date | None,
    named: str,
) -> None:
    [url] = await add(engine, server, path)
    assert "new" in (await refresh(engine))[url]
    platform, handle = named.split(":", 1)
    [mention] = await recent_mentions(engine, AccountRef(platform, handle), 5)
    assert mention.title.startswith(title)
    assert mention.url.startswith("https://")
    # Undated items are dated by when they were first seen.
    assert mention.published == (published or datetime.now(UTC).date())


async def test_mentions_newest_first_with_title_link_date_and_publisher(
    engine: AsyncEngine, server: FeedServer
) -> None:
    await add(engine, server, "/rss2.xml", "/atom.xml", "/dup-a.xml")
    await refresh(engine)
    mentions = await recent_mentions(engine, URIMINZOK, 10)
    assert [(m.published, m.publisher) for m in mentions] == [
        (date(2010, 8, 26), "Fact checks"),  # x.com link in an Atom entry
        (date(2010, 8, 25), "Feed A"),  # a bare @uriminzok counts for every platform
        (date(2010, 8, 19), "Korea Desk"),  # twitter.com link inside an RSS description
    ]
    assert mentions[2] == Evidence(
        url="https://news.example.org/korea/2010/08/19/twitter-block",
        title="South Korea blocks North Korea's new Twitter account",
        publisher="Korea Desk",
        published=date(2010, 8, 19),
        quote="Seoul blocked access to @uriminzok , a Twitter account posting the North's "
        "propaganda.",
    )
    assert await recent_mentions(engine, URIMINZOK, 1) == mentions[:1]
    assert await recent_mentions(engine, AccountRef("x", "nasa"), 5) == []


async def test_new_items_appear_in_check_answers(engine: AsyncEngine, server: FeedServer) -> None:
    """Through the core, with the registry's mentions answered by the feed store."""

    class FeedRegistry(SqlRegistry):  # what SqlRegistry.mentions does once the patch is in
        async def mentions(self, ref: AccountRef, limit: int = 5) -> list[Evidence]:
            return await recent_mentions(self.engine, ref, limit)

    core = await Core.start(FeedRegistry(engine))
    server.set("/live.xml", rss_with([]))
    await add(engine, server, "/live.xml")
    await refresh(engine)
    [before] = await core.check("is https://twitter.com/uriminzok official?", OPERATOR)
    assert before.mentions == ()

    server.set(
        "/live.xml",
        rss_with(
            [
                ("Seoul blocks @uriminzok", "https://live.example/1", "Thu, 19 Aug 2010 08:00 GMT"),
                (
                    "Fans run x.com/uriminzok",
                    "https://live.example/2",
                    "Tue, 24 Aug 2010 09:00 GMT",
                ),
            ]
        ),
    )
    await refresh(engine)
    [after] = await core.check("is https://twitter.com/uriminzok official?", OPERATOR)
    assert [m.title for m in after.mentions] == [
        "Fans run x.com/uriminzok",
        "Seoul blocks @uriminzok",
    ]
    # A moderator cites a mention as the evidence of a verdict: its title and date are kept.
    cited = await core.verdict("x:uriminzok unofficial https://live.example/2", OPERATOR)
    assert cited.evidence == (after.mentions[0],)


# --- fetching ----------------------------------------------------------------------------------


async def test_conditional_get_gets_304_and_keeps_items(
    engine: AsyncEngine, server: FeedServer
) -> None:
    [url] = await add(engine, server, "/rss2.xml")
    assert (await refresh(engine))[url].endswith("2 new, 0 already known")
    assert (await refresh(engine))[url].endswith("not modified")
    assert server.not_modified["/rss2.xml"] == 1
    [feed] = await list_feeds(engine)
    assert (feed.item_count, feed.last_error, feed.etag is not None) == (2, None, True)
    assert feed.last_modified == "Tue, 24 Aug 2010 09:00:00 GMT"


async def test_redirects_are_followed_up_to_the_limit(server: FeedServer) -> None:
    async with Fetcher.open(FAST) as fetcher:
        fetched = await fetcher.fetch(server.url("/redirect/3"))
        assert fetched.url == server.url("/rss2.xml")
        with pytest.raises(FetchFailed, match="more than 5 redirects"):
            await fetcher.fetch(server.url("/redirect/9"))
    assert server.hits["/rss2.xml"] == 1


async def test_a_slow_feed_times_out_while_another_succeeds(
    engine: AsyncEngine, server: FeedServer
) -> None:
    slow, fine = await add(engine, server, "/slow", "/rss2.xml")
    lines = await refresh(engine, FetchLimits(timeout=0.3, attempts=1))
    assert lines[slow].endswith("failed: timed out after 0.3 s")
    assert lines[fine].endswith("2 new, 0 already known")
    rows = {row.url: row for row in await list_feeds(engine)}
    assert (rows[slow].last_error, rows[slow].last_success) == ("timed out after 0.3 s", None)
    assert (rows[fine].last_error, rows[fine].item_count) == (None, 2)


async def test_transient_errors_are_retried_and_permanent_ones_not(server: FeedServer) -> None:
    server.failures_left["/flaky"] = 1
    async with Fetcher.open(FAST) as fetcher:
        assert (await fetcher.fetch(server.url("/flaky"))).body
        with pytest.raises(FetchFailed, match="HTTP 410 Gone"):
            await fetcher.fetch(server.url("/gone"))
    assert (server.hits["/flaky"], server.hits["/gone"]) == (2, 1)


async def test_at_most_per_host_requests_at_once(server: FeedServer) -> None:
    limits = FetchLimits(per_host=2, timeout=10)
    async with Fetcher.open(limits) as fetcher:
        fetches = [asyncio.create_task(fetcher.fetch(server.url(f"/held/{n}"))) for n in range(5)]
        while server.in_flight < 2:
            await asyncio.sleep(0.01)
        for _ in range(20):  # room for any uncapped request to arrive
            await asyncio.sleep(0.01)
        server.release.set()
        await asyncio.gather(*fetches)
    assert (server.max_in_flight, sum(server.hits.values())) == (2, 5)


async def test_sends_a_polite_user_agent(server: FeedServer) -> None:
    async with Fetcher.open(FAST) as fetcher:
        await fetcher.fetch(server.url("/rss2.xml"))
    assert server.user_agents == [USER_AGENT]
    assert USER_AGENT.startswith("isofficial")


# --- hostile feeds ----------------------------------------------------------------------------


async def test_an_endless_response_is_cut_at_the_cap(server: FeedServer) -> None:
    cap = 1_000_000
    async with Fetcher.open(FetchLimits(max_bytes=cap, timeout=30, attempts=1)) as fetcher:
        with pytest.raises(TooLarge) as endless:
            await fetcher.fetch(server.url("/endless"))
        with pytest.raises(TooLarge) as declared:
            await fetcher.fetch(server.url("/huge-declared"))
    assert cap < endless.value.bytes_read <= cap + CHUNK
    assert server.sent["/endless"] < ENDLESS_LIMIT  # the server gave up: nobody was reading
    assert declared.value.bytes_read == 0  # a declared 50 MB is refused before reading
    assert str(endless.value) == "response larger than 1,000,000 bytes: cut off"


def test_entity_declarations_are_refused_before_expansion() -> None:
    # Expanded, this document is 3 GB of "lol": returning at all shows nothing was expanded.
    with pytest.raises(UnsafeFeed, match="refused"):
        parse_feed(BILLION_LAUGHS.encode())
    with pytest.raises(UnsafeFeed, match="refused"):
        parse_feed(EXTERNAL_ENTITY.encode())


async def test_hostile_feeds_are_reported_and_the_others_unaffected(
    engine: AsyncEngine, server: FeedServer
) -> None:
    paths = ["/bomb.xml", "/malformed.xml", "/home.html", "/image.png", "/endless", "/rss2.xml"]
    urls = await add(engine, server, *paths)
    lines = await refresh(engine, FetchLimits(max_bytes=500_000, attempts=1, timeout=30))
    errors = {row.url: row.last_error for row in await list_feeds(engine)}
    expected = [
        "refused: the document declares a DTD (entity expansion risk)",
        "not an RSS, Atom or JSON feed: <unknown>:3:31: not well-formed (invalid token)",
        "not an RSS, Atom or JSON feed: <unknown>:2:0: syntax error",
        "not a feed: served as image/png",
        "response larger than 500,000 bytes: cut off",
        None,
    ]
    assert [errors[url] for url in urls] == expected
    assert lines[urls[-1]].endswith("2 new, 0 already known")
    assert await stored_items(engine) == 2
    listing = format_feed_list(await list_feeds(engine)).splitlines()
    assert f"{urls[0]} · last success never · 0 items · last error: refused" in listing[0]


async def test_a_feed_served_with_a_loose_content_type_is_still_read(
    engine: AsyncEngine, server: FeedServer
) -> None:
    [url] = await add(engine, server, "/as-text.xml")
    assert (await refresh(engine))[url].endswith("2 new, 0 already known")


async def test_duplicates_across_and_within_feeds_are_merged(
    engine: AsyncEngine, server: FeedServer
) -> None:
    await add(engine, server, "/dup-a.xml", "/dup-b.xml")
    reports = await refresh_all(engine, limits=FAST, keep_days=FOREVER)
    # 5 items served, 3 distinct: the shared story once, B's repeated item once.
    assert (sum(r.new for r in reports), sum(r.duplicates for r in reports)) == (3, 2)
    assert await stored_items(engine) == 3
    assert [m.url for m in await recent_mentions(engine, URIMINZOK, 5)] == [
        "https://shared.example/story"
    ]
    assert sum(row.item_count for row in await list_feeds(engine)) == 3


# --- the feed list, retention, schedule -------------------------------------------------------


async def test_feed_list_add_and_remove(engine: AsyncEngine, server: FeedServer) -> None:
    assert format_feed_list([]).startswith("no feeds yet")
    for bad, message in [
        ("ftp://example.com/feed", "not a feed URL"),
        ("not a url", "not a feed URL"),
        ("https://", "not a feed URL"),
        ("http://[example.com/feed", "not a feed URL"),
        ("http://example.com:99999/feed", "not a feed URL"),
        ("https://e.com/" + "a" * 2000, "longer than 2000"),
    ]:
        with pytest.raises(FeedError, match=message):
            await add_feed(engine, bad)
    [url] = await add(engine, server, "/rss2.xml")
    with pytest.raises(FeedError, match="already in the feed list"):
        await add_feed(engine, url)
    await refresh(engine)
    await remove_feed(engine, url)
    assert (await list_feeds(engine), await stored_items(engine)) == ([], 0)
    assert await recent_mentions(engine, URIMINZOK, 5) == []
    with pytest.raises(FeedError, match="no feed"):
        await remove_feed(engine, url)


async def test_retention_forgets_old_items_and_skips_them_on_ingest(
    engine: AsyncEngine, server: FeedServer
) -> None:
    [url] = await add(engine, server, "/rss2.xml")
    await refresh(engine)
    forgotten = await delete_older_than(engine, 30, now=datetime(2010, 9, 20, tzinfo=UTC))
    assert forgotten == 1  # 2010-08-19 is older than 30 days; 2010-08-24 is not
    assert await recent_mentions(engine, URIMINZOK, 5) == []
    assert [f.item_count for f in await list_feeds(engine)] == [1]
    async with engine.connect() as conn:
        left = await conn.scalar(select(func.count()).select_from(item_mentions))
    assert left == 1  # youtube:uriminzok, from the item kept

    server.set("/rss2.xml", server.documents["/rss2.xml"][0] + " ")  # new ETag: fetched again
    [report] = await refresh_all(engine, limits=FAST, keep_days=30)
    assert (report.url, report.new, report.too_old) == (url, 0, 2)


async def test_the_scheduler_refreshes_until_stopped(
    engine: AsyncEngine, server: FeedServer
) -> None:
    await add(engine, server, "/atom.xml")
    stop = asyncio.Event()
    scheduler = asyncio.create_task(
        run_feed_scheduler(
            engine,
            interval=3600,
            stop=stop,
            keep_days=FOREVER,
            limits=FAST,
            find_accounts=find_accounts,
        )
    )
    while not (await list_feeds(engine))[0].last_success:
        await asyncio.sleep(0.01)
    stop.set()
    await scheduler  # returns although the next round is an hour away
    assert [m.publisher for m in await recent_mentions(engine, URIMINZOK, 5)] == ["Fact checks"]


async def test_years_old_items_naming_registered_accounts_are_kept_newest_first(
    registry: SqlRegistry, server: FeedServer
) -> None:
    engine = registry.engine
    await registry.apply(Correction(URIMINZOK, Status.UNOFFICIAL, "DPRK"), by="mod")
    await add(engine, server, "/rss2.xml", "/atom.xml")
    reports = await refresh_all(engine, limits=FAST, keep_days=30)  # items from 2010
    # each feed: its item naming x:uriminzok kept; rss2's about youtube:uriminzok (not
    # registered) is old news, skipped
    assert sorted((r.new, r.too_old) for r in reports) == [(1, 0), (1, 1)]
    assert await delete_older_than(engine, 30) == 0  # evidence, not news: kept
    mentions = await recent_mentions(engine, URIMINZOK, 5)
    assert [m.published for m in mentions] == [date(2010, 8, 26), date(2010, 8, 19)]


async def test_retention_never_drops_an_item_a_verdict_cites(
    registry: SqlRegistry, server: FeedServer
) -> None:
    engine = registry.engine
    await add(engine, server, "/rss2.xml")
    await refresh(engine)
    cited = Evidence("https://news.example.org/korea/2010/08/19/twitter-block", "Blocked")
    await registry.apply(Correction(AccountRef("x", "other"), Status.PARODY, "DPRK", cited), "mo")
    assert await delete_older_than(engine, 30, now=datetime(2010, 9, 20, tzinfo=UTC)) == 0
    assert await stored_items(engine) == 2
