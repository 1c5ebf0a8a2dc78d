"""The safe fetcher against real local TLS servers and an injected DNS: what it refuses, where
it stops, and that it stays polite."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from fake_sites import FIFTY_MB, FakeWeb, slow

from knowledge.fetcher import (
    USER_AGENT,
    FetchFailed,
    FetchLimits,
    IPAddress,
    Refused,
    SafeFetcher,
    TooLarge,
    is_public,
)

LOCAL = ipaddress.ip_address("127.0.0.1")


def server_is_public(address: IPAddress) -> bool:
    """The policy of these tests: the local test server stands for a public host."""
    return address == LOCAL or is_public(address)


@pytest.fixture
async def site() -> AsyncIterator[FakeWeb]:
    web = FakeWeb()
    web.page("site.test", "/", "<p>home</p>")
    web.redirect("site.test", "/to-metadata", "http://169.254.169.254/latest/meta-data/")
    web.redirect("site.test", "/to-internal", "https://internal.test/admin")
    web.redirect("site.test", "/to-loopback-v6", "http://[::1]/")
    web.redirect("site.test", "/to-file", "file:///etc/passwd")
    web.redirect("site.test", "/hop", "/")
    web.addresses["internal.test"] = "10.1.2.3"
    robots = "User-agent: *\nDisallow: /private\n"
    web.page("site.test", "/robots.txt", robots, content_type="text/plain")
    web.page("site.test", "/private", "<p>secret</p>")
    web.page("site.test", "/picture", b"\x89PNG", content_type="image/png")
    web.handle("site.test", "/huge", web.endless)
    web.handle("site.test", "/slow", slow)
    web.redirect("site.test", "/elsewhere", "https://other.test/page")
    web.page("other.test", "/robots.txt", "User-agent: isofficial\nDisallow: /\n")
    web.page("other.test", "/page", "<p>not for bots</p>")
    web.redirect("site.test", "/robots-loop", "https://loop.test/")
    web.redirect("loop.test", "/robots.txt", "https://site.test/robots.txt")
    async with web:
        yield web


async def test_private_addresses_are_refused_without_a_request(site: FakeWeb) -> None:
    async with site.fetcher(allow_private=False) as fetcher:  # the real policy
        with pytest.raises(Refused, match="non-public address"):
            await fetcher.fetch("https://site.test/")
        for url in ("http://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/"):
            with pytest.raises(Refused, match="not a public address"):
                await fetcher.fetch(url)
    assert site.hits["site.test", "/"] == 0


async def test_redirects_to_private_addresses_are_refused(site: FakeWeb) -> None:
    async with site.fetcher(allow_private=False, public=server_is_public) as fetcher:
        assert (await fetcher.fetch("https://site.test/hop")).url == "https://site.test/"
        with pytest.raises(Refused, match=r"169\.254\.169\.254 is not a public address"):
            await fetcher.fetch("https://site.test/to-metadata")
        with pytest.raises(Refused, match=r"internal\.test resolves to a non-public address"):
            await fetcher.fetch("https://site.test/to-internal")
        with pytest.raises(Refused, match="not a public address"):
            await fetcher.fetch("https://site.test/to-loopback-v6")
        with pytest.raises(Refused, match="only http"):
            await fetcher.fetch("https://site.test/to-file")
    assert site.hits["site.test", "/to-internal"] == 1  # asked once: a refusal is not retried


async def test_only_http_and_https_are_fetched(site: FakeWeb) -> None:
    async with site.fetcher() as fetcher:
        for url in ("file:///etc/passwd", "ftp://site.test/", "gopher://site.test/", "site.test"):
            with pytest.raises(Refused, match="only http"):
                await fetcher.fetch(url)


async def test_allow_private_comes_from_the_environment(
    site: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISOFFICIAL_FETCH_ALLOW_PRIVATE", "false")
    async with SafeFetcher.open(resolver=site.resolver(), ssl_context=site.client_ssl()) as fetcher:
        with pytest.raises(Refused):
            await fetcher.fetch("https://site.test/")
    monkeypatch.setenv("ISOFFICIAL_FETCH_ALLOW_PRIVATE", "true")
    async with SafeFetcher.open(resolver=site.resolver(), ssl_context=site.client_ssl()) as fetcher:
        assert (await fetcher.fetch("https://site.test/")).body == b"<p>home</p>"


def test_the_address_policy() -> None:
    refused = ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
               "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1",
               "::ffff:127.0.0.1", "::ffff:169.254.169.254", "255.255.255.255"]
    allowed = ["93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
    assert [a for a in refused if is_public(ipaddress.ip_address(a))] == []
    assert all(is_public(ipaddress.ip_address(a)) for a in allowed)


async def test_a_50_mb_page_is_cut_off_at_the_cap(site: FakeWeb) -> None:
    cap = 5_000_000
    async with site.fetcher(FetchLimits(max_bytes=cap, attempts=1, timeout=30)) as fetcher:
        with pytest.raises(TooLarge) as cut:
            await fetcher.fetch("https://site.test/huge")
    assert cap < cut.value.bytes_read <= cap + 64 * 1024
    assert site.sent["/huge"] < FIFTY_MB / 2  # nobody read the rest: the server stopped early


async def test_a_slow_site_times_out(site: FakeWeb) -> None:
    async with site.fetcher(FetchLimits(timeout=0.3, attempts=1)) as fetcher:
        with pytest.raises(FetchFailed, match=r"timed out after 0\.3 s"):
            await fetcher.fetch("https://site.test/slow")


async def test_robots_txt_is_respected_and_the_user_agent_is_polite(site: FakeWeb) -> None:
    async with site.fetcher() as fetcher:
        assert (await fetcher.fetch("https://site.test/")).body
        with pytest.raises(Refused, match=r"robots\.txt of site\.test"):
            await fetcher.fetch("https://site.test/private")
        await fetcher.fetch("https://site.test/")
    assert site.hits["site.test", "/private"] == 0
    assert site.hits["site.test", "/robots.txt"] == 1  # read once per origin, then remembered
    assert set(site.user_agents) == {USER_AGENT}


async def test_non_documents_are_refused_before_reading(site: FakeWeb) -> None:
    async with site.fetcher() as fetcher:
        with pytest.raises(FetchFailed, match="not a page: served as image/png"):
            await fetcher.fetch("https://site.test/picture")


async def test_an_unknown_host_fails_in_one_line(site: FakeWeb) -> None:
    async with site.fetcher() as fetcher:
        with pytest.raises(FetchFailed) as failed:
            await fetcher.fetch("https://nowhere.test/")
    assert "\n" not in str(failed.value)


async def test_robots_txt_that_fails_forbids_reading_the_site(site: FakeWeb) -> None:
    site.page("site.test", "/robots.txt", "", status=503)
    async with site.fetcher() as fetcher:
        with pytest.raises(Refused, match=r"robots\.txt of https://site\.test unavailable"):
            await fetcher.fetch("https://site.test/")
    assert site.hits["site.test", "/"] == 0


async def test_shortened_links_are_followed_headers_only_and_checked(site: FakeWeb) -> None:
    async with site.fetcher(allow_private=False, public=server_is_public) as fetcher:
        target = await fetcher.final_url("https://site.test/hop", lambda url: False)
        assert target == "https://site.test/"  # where it leads, not requested
        with pytest.raises(Refused, match="not a public address"):
            await fetcher.final_url("https://site.test/to-metadata", lambda url: True)
    assert site.hits["site.test", "/"] == 0


async def test_a_redirect_to_another_site_obeys_that_sites_robots_txt(site: FakeWeb) -> None:
    async with site.fetcher() as fetcher:
        with pytest.raises(Refused, match=r"robots\.txt of other\.test"):
            await fetcher.fetch("https://site.test/elsewhere")
        with pytest.raises(FetchFailed, match="HTTP 404"):  # robots.txt redirects: no loop
            await fetcher.fetch("https://site.test/robots-loop")
    assert site.hits["other.test", "/page"] == 0
