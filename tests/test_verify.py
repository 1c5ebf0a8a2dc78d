"""Two-way verification against a local web (real TLS, injected DNS): each way a site links to
an account, the seed's one-way pattern, the accounts' own side (Mastodon, Bluesky), reports for
moderators, and what answers show."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fake_sites import FakeWeb, slow

from adapters.console import reply
from bot import render
from bot.core import Core
from bot.model import AccountRef, Asker, Correction, IsOfficialError, NotAllowed, Status
from bot.verification import Direction, LinkState
from bot.verify_text import outcome_text
from isofficial.bootstrap import live_verifier
from isofficial.verifying import run_reverification
from knowledge.fetcher import FetchLimits, IPAddress, is_public
from knowledge.memory import MemoryRegistry
from knowledge.registry import SqlRegistry
from knowledge.verify.store import MemoryVerificationStore, SqlVerificationStore

DPRK = "Government of North Korea (DPRK)"
MOD = Asker("telegram", "42", name="@mod")
USER = Asker("telegram", "7")
VERIFIED_AT = "2026-11-30T10:00:00.000+00:00"


def profile(*fields: tuple[str, str, str | None]) -> str:
    """A Mastodon account API answer with these (name, value html, verified_at) fields."""
    rows = [{"name": n, "value": v, "verified_at": at} for n, v, at in fields]
    return json.dumps({"id": "1", "acct": "x", "fields": rows})


def build_web() -> FakeWeb:
    web = FakeWeb()
    # NASA: a plain link, a relative link through a <base>, a link to an unregistered account.
    web.page("nasa.gov", "/", """<html><body><footer>
        <a href="https://x.com/NASA">X</a>
        <a href="https://www.youtube.com/@NASA">YouTube</a>
        <a href="/about">About</a></footer></body></html>""")
    web.page("nasa.gov", "/.well-known/atproto-did", "did:plc:nasa1", content_type="text/plain")
    # ESA: rel="me" only, in the head.
    web.page("esa.int", "/", '<head><link rel="me" href="https://mastodon.social/@esa"></head>')
    # CERN: the home page redirects, then a protocol-relative link against <base href>.
    web.redirect("cern.ch", "/", "/en/")
    web.page("cern.ch", "/en/", '<base href="https://cern.ch/en/"><a href="//x.com/CERN">X</a>')
    # NIH: a relative link through its own redirector, and one through a shortener.
    web.page("nih.gov", "/", """<a href="/leaving?url=https%3A%2F%2Fx.com%2Fnih">X</a>
        <a href="https://t.co/abc123">Facebook</a>""")
    web.redirect("t.co", "/abc123", "https://www.facebook.com/nih")
    # WHO: links elsewhere, not to the account asked about.
    web.page("who.int", "/", '<a href="https://x.com/WHO_Europe">Europe</a>')
    # The seed: the official site links to none of the accounts that link to it.
    web.page("uriminzokkiri.com", "/", '<a href="/news">News</a><a href="/video">Video</a>')
    web.page("slow.gov", "/", "")
    web.handle("slow.gov", "/", slow)
    web.redirect("bad.gov", "/", "http://169.254.169.254/latest/meta-data/")
    web.page("fast.gov", "/", '<a href="https://x.com/fastgov">X</a>')
    # Mastodon's account API, no login needed.
    api = "/api/v1/accounts/lookup?acct="
    web.page("mastodon.social", api + "esa", profile(), content_type="application/json")
    web.page("mastodon.social", api + "nasa", profile(
        ("Website", '<a href="https://www.nasa.gov/" rel="me">nasa.gov</a>', VERIFIED_AT),
    ), content_type="application/json")
    web.page("mastodon.social", api + "uriminzok", profile(
        ("Official site", '<a href="http://www.uriminzokkiri.com/">uriminzokkiri.com</a>', None),
    ), content_type="application/json")
    web.page("mastodon.social", api + "junk", "[1, 2]", content_type="application/json")
    # Bluesky: DID documents in the PLC directory.
    plc = {"did:plc:nasa1": "at://nasa.gov", "did:plc:other": "at://someone.bsky.social"}
    for did, handle in plc.items():
        doc = json.dumps({"id": did, "alsoKnownAs": [handle]})
        web.page("plc.directory", f"/{did}", doc, content_type="application/json")
    return web


DNS_TXT = {"_atproto.nasa.gov": ["did=did:plc:nasa1"], "_atproto.esa.int": ["did=did:plc:other"]}


async def fake_txt(name: str) -> list[str]:
    return DNS_TXT.get(name, [])


SITES = {
    "NASA": "nasa.gov", "ESA": "esa.int", "CERN": "cern.ch", "NIH": "nih.gov", "WHO": "who.int",
    DPRK: "uriminzokkiri.com", "Slow": "slow.gov", "Bad": "bad.gov",
}
ACCOUNTS = [
    ("x", "nasa", "NASA"), ("mastodon", "esa@mastodon.social", "ESA"), ("x", "cern", "CERN"),
    ("x", "nih", "NIH"), ("facebook", "nih", "NIH"), ("x", "who", "WHO"),
    ("mastodon", "nasa@mastodon.social", "NASA"), ("bluesky", "nasa.gov", "NASA"),
    ("bluesky", "esa.int", "ESA"), ("mastodon", "uriminzok@mastodon.social", DPRK),
    ("mastodon", "junk@mastodon.social", "ESA"),
]


@dataclass
class World:
    core: Core
    registry: MemoryRegistry
    web: FakeWeb


async def seeded(registry: MemoryRegistry) -> None:
    for entity, site in SITES.items():
        status = Status.AFFILIATED if entity == DPRK else Status.OFFICIAL
        await registry.apply(Correction(AccountRef("website", site), status, entity), "seed")
    for platform, handle, entity in ACCOUNTS:
        status = Status.UNOFFICIAL if entity == DPRK else Status.OFFICIAL
        await registry.apply(Correction(AccountRef(platform, handle), status, entity), "seed")


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry = MemoryRegistry()
    await seeded(registry)
    async with build_web() as web, web.fetcher(FetchLimits(timeout=1, attempts=1)) as fetcher:
        verifier = live_verifier(registry, MemoryVerificationStore(registry), fetcher, fake_txt)
        core = await Core.start(registry, frozenset({"telegram:42"}), verifier=verifier)
        yield World(core, registry, web)


async def test_a_plain_link_from_the_official_site_verifies(world: World) -> None:
    outcome = await world.core.verify("x:nasa", USER)  # anyone, for a registered account
    verification = outcome.verification
    assert (verification.state, verification.linked_from) == (LinkState.LINKED, ("nasa.gov",))
    [check] = verification.checks
    assert (check.direction, check.found, check.how) == (Direction.SITE_TO_ACCOUNT, True, "link")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"linked from nasa.gov (link) (checked {today})" in outcome_text(outcome)


async def test_a_rel_me_link_verifies(world: World) -> None:
    verification = (await world.core.verify("mastodon:esa@mastodon.social", USER)).verification
    assert verification.verified
    assert verification.checks[0].how == 'rel="me" link'


async def test_a_relative_link_after_a_redirect_verifies(world: World) -> None:
    verification = (await world.core.verify("x:cern", USER)).verification
    assert verification.verified
    assert verification.checks[0].url == "https://cern.ch/en/"


async def test_links_through_a_redirector_or_a_shortener_verify(world: World) -> None:
    through_site = (await world.core.verify("x:nih", USER)).verification
    through_short = (await world.core.verify("facebook:nih", USER)).verification
    assert through_site.checks[0].how == "link via nih.gov"
    assert through_short.checks[0].how == "link via t.co"
    assert world.web.hits["www.facebook.com", "/nih"] == 0  # the target itself is not read


async def test_a_site_that_does_not_link_does_not_verify(world: World) -> None:
    outcome = await world.core.verify("x:who", USER)
    assert outcome.verification.state is LinkState.NOT_LINKED
    assert "not linked from who.int (checked " in outcome_text(outcome)


async def test_the_seed_pattern_account_links_to_site_site_does_not_link_back(
    world: World,
) -> None:
    outcome = await world.core.verify("mastodon:uriminzok@mastodon.social", USER)
    verification = outcome.verification
    assert verification.state is LinkState.ONE_WAY
    assert not verification.verified
    assert verification.claimed_sites == ("uriminzokkiri.com",)
    line = outcome_text(outcome).splitlines()[0]
    assert "one-way: it links to uriminzokkiri.com, which does not link back" in line
    assert line.endswith(": not proof")


async def test_mastodon_verified_at_is_read(world: World) -> None:
    verification = (await world.core.verify("mastodon:nasa@mastodon.social", USER)).verification
    assert verification.verified  # nasa.gov's page lacks the link; the instance checked rel=me
    site, instance, claim = verification.checks
    assert (site.found, instance.found, claim.direction) == (
        False, True, Direction.ACCOUNT_TO_SITE
    )
    assert instance.how.startswith("Mastodon verified_at 2026-11-30")


async def test_a_bluesky_handle_is_resolved_both_ways(world: World) -> None:
    verification = (await world.core.verify("bluesky:nasa.gov", USER)).verification
    assert verification.verified
    how = verification.checks[-1].how
    assert "_atproto TXT and .well-known/atproto-did give did:plc:nasa1" in how
    other = (await world.core.verify("bluesky:esa.int", USER)).verification
    assert other.state is LinkState.NOT_LINKED  # its DID document names another handle
    assert "does not name it back" in other.checks[-1].how


async def test_an_unreadable_or_slow_site_leaves_it_unchecked(world: World) -> None:
    await world.registry.apply(Correction(AccountRef("x", "slowgov"), Status.OFFICIAL, "Slow"), "t")
    verification = (await world.core.verify("x:slowgov", USER)).verification
    assert verification.state is LinkState.UNCHECKED
    assert "timed out" in verification.checks[0].how


def server_is_public(address: IPAddress) -> bool:
    return address == ipaddress.ip_address("127.0.0.1") or is_public(address)


async def test_a_site_redirecting_to_a_private_address_is_not_read() -> None:
    registry = MemoryRegistry()
    await seeded(registry)
    await registry.apply(Correction(AccountRef("x", "badgov"), Status.OFFICIAL, "Bad"), "t")
    async with build_web() as web, web.fetcher(
        allow_private=False, public=server_is_public
    ) as fetcher:
        verifier = live_verifier(registry, MemoryVerificationStore(registry), fetcher, fake_txt)
        core = await Core.start(registry, verifier=verifier)
        verification = (await core.verify("x:badgov", USER)).verification
    assert verification.state is LinkState.UNCHECKED
    assert "169.254.169.254 is not a public address" in verification.checks[0].how


async def test_only_moderators_verify_unregistered_accounts(world: World) -> None:
    with pytest.raises(NotAllowed):
        await world.core.verify("x:nasa_fan NASA", USER)
    outcome = await world.core.verify("x:nasa_fan NASA", MOD)
    assert outcome.verification.state is LinkState.NOT_LINKED


async def test_accounts_the_site_links_to_become_reports_once(world: World) -> None:
    first = await world.core.verify("x:nasa", USER)
    await world.core.verify("x:nasa", USER)
    assert first.suggested == (AccountRef("youtube", "nasa"),)
    [report] = await world.registry.open_reports()
    assert (report.ref, report.status, report.by) == (
        AccountRef("youtube", "nasa"), Status.OFFICIAL, "verify"
    )
    assert report.note is not None and "linked from nasa.gov" in report.note
    assert AccountRef("youtube", "nasa") not in await world.registry.find(
        [AccountRef("youtube", "nasa")]
    )  # a suggestion, not a verdict


async def test_a_lost_link_is_reported_and_the_verdict_kept(world: World) -> None:
    fast = AccountRef("x", "fastgov")
    for ref in (AccountRef("website", "fast.gov"), fast):
        await world.registry.apply(Correction(ref, Status.OFFICIAL, "Fast"), "t")
    assert (await world.core.verify("x:fastgov", USER)).verification.verified
    world.web.page("fast.gov", "/", "<p>we redesigned our site</p>")
    [outcome] = await world.core.reverify(datetime.now(UTC) + timedelta(seconds=1))
    assert outcome.lost and outcome.verification.state is LinkState.NOT_LINKED
    [report] = [r for r in await world.registry.open_reports() if r.ref == fast]
    assert report.note is not None and report.note.startswith("link lost: fast.gov")
    assert (await world.registry.find([fast]))[fast].status is Status.OFFICIAL


async def test_check_and_sources_show_the_verification_with_its_date(world: World) -> None:
    await world.core.verify("x:nasa", USER)
    [answer] = await world.core.check("x:nasa", USER)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"🔗 linked from nasa.gov (link) (checked {today})" in render.short_text([answer])
    assert f"checked {today}" in render.full_text(await world.core.sources("x:nasa", USER))
    row = render.answer_json(answer)["verification"]
    assert (row["state"], row["linked_from"]) == ("linked", ["nasa.gov"])
    [never] = await world.core.check("x:who", USER)
    assert render.answer_json(never)["verification"] is None


async def test_verifications_are_kept_as_history_on_sql(registry: SqlRegistry) -> None:
    for entity, site in SITES.items():
        await registry.apply(Correction(AccountRef("website", site), Status.OFFICIAL, entity), "t")
    await registry.apply(Correction(AccountRef("x", "nasa"), Status.OFFICIAL, "NASA"), "t")
    store = SqlVerificationStore(registry)
    assert await store.official_sites("NASA") == ["nasa.gov"]
    async with build_web() as web, web.fetcher() as fetcher:
        core = await Core.start(registry, verifier=live_verifier(registry, store, fetcher))
        await core.verify("x:nasa", USER)
        web.page("nasa.gov", "/", "<p>gone</p>")
        await core.verify("x:nasa", USER)
    newest, oldest = await core.verifications(AccountRef("x", "nasa"))
    assert (newest.state, oldest.state) == (LinkState.NOT_LINKED, LinkState.LINKED)
    assert oldest.checks[0].how == "link" and newest.by == "telegram:7"
    text = render.history_text(AccountRef("x", "nasa"), [], [newest, oldest])
    assert "verify by telegram:7: 🔗 not linked from nasa.gov" in text
    assert await store.due(datetime.now(UTC) + timedelta(seconds=1)) == [AccountRef("x", "nasa")]
    assert await store.due(datetime.now(UTC) - timedelta(hours=1)) == []
    [answer] = await core.check("x:nasa", USER)
    assert answer.verification == newest


async def test_run_re_verifies_on_schedule_and_flags_a_lost_link(world: World) -> None:
    assert (await world.core.verify("x:nasa", USER)).verification.verified
    world.web.page("nasa.gov", "/", "<p>no social links today</p>")
    stop = asyncio.Event()
    scheduler = asyncio.create_task(run_reverification(world.core, 0.1 / 3600, stop))

    async def lost_reported() -> None:
        while not any(
            r.ref == AccountRef("x", "nasa") for r in await world.registry.open_reports()
        ):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(lost_reported(), 10)
    stop.set()
    await asyncio.wait_for(scheduler, 5)
    newest = (await world.core.verifications(AccountRef("x", "nasa")))[0]
    assert (newest.state, newest.by) == (LinkState.NOT_LINKED, "scheduled re-verify")
    nasa = AccountRef("x", "nasa")
    assert (await world.registry.find([nasa]))[nasa].status is Status.OFFICIAL  # not downgraded


async def test_the_console_verifies_and_its_history_lists_verifications(world: World) -> None:
    assert "🔗 linked from nasa.gov (link)" in await reply(world.core, "/verify x:nasa", USER)
    history = await reply(world.core, "/history x:nasa", USER)
    assert "verifications, newest first:" in history
    assert "verify by telegram:7: 🔗 linked from nasa.gov" in history
    refused = await reply(world.core, "/verify x:nasa_fan NASA", USER)
    assert refused.startswith("sorry: only moderators")


async def test_verifying_the_official_site_itself_lists_what_it_links_to(world: World) -> None:
    outcome = await world.core.verify("website:nasa.gov", USER)
    assert outcome.verification.state is LinkState.UNCHECKED  # no site vouches for itself
    assert "not verified: it is the official site itself" in outcome_text(outcome)
    assert outcome.suggested == (AccountRef("youtube", "nasa"),)


async def test_an_entity_without_an_official_site_is_said_so(world: World) -> None:
    with pytest.raises(IsOfficialError, match="Nobody has no registered official website"):
        await world.core.verify("x:nasa Nobody", MOD)
    with pytest.raises(IsOfficialError, match="x:somebody_new has no entity"):
        await world.core.verify("x:somebody_new", MOD)


async def test_a_broken_account_api_answer_costs_only_that_check(world: World) -> None:
    verification = (await world.core.verify("mastodon:junk@mastodon.social", USER)).verification
    site, account = verification.checks
    assert (site.found, verification.state) == (False, LinkState.NOT_LINKED)
    assert account.found is None and account.how.endswith("not a JSON object")
