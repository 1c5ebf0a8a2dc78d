"""Verification benchmark: what the safe fetcher and the HTML parser cost.

    .venv/bin/python benchmarks/bench_verify.py [--links 2000] [--rounds 200]

1. Link extraction from a home page of --links links (a footer's mix: relative links,
   redirectors, rel="me", profile links): parsing alone (selectolax's Lexbor HTML5 parser
   against the standard library's html.parser), then the whole extraction (the same URL
   resolution and redirector unwrapping after each parser).
2. Fetching that page from a local aiohttp server by a host name: the SafeFetcher (address
   check on every resolved address, manual redirect checks, robots.txt read once, streamed size
   cap) against a bare aiohttp session with the same resolver.
3. What showing the newest verification adds to `Core.check` on SQLite: --accounts accounts,
   each verified once, checked with the verification store against a core without one.
Medians of --rounds runs; ratios are baseline / ours.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

sys.path.insert(0, str(Path(__file__).parents[1]))

from bot.core import Core
from bot.model import AccountRef, Asker
from bot.verification import Direction, LinkCheck, Verification
from isofficial.bootstrap import live_verifier
from knowledge.fetcher import FetchLimits, SafeFetcher
from knowledge.importer import import_rows, read_rows
from knowledge.registry import open_registry
from knowledge.verify.links import anchors_in, forwarded, page_links
from knowledge.verify.store import SqlVerificationStore

HOST = "site.example"


def home_page(links: int) -> str:
    kinds = [
        '<a href="/news/{n}">News {n}</a>',
        '<a href="https://x.com/agency{n}">X</a>',
        '<a rel="me" href="https://mastodon.social/@agency{n}">Mastodon</a>',
        '<a href="/leaving?url=https%3A%2F%2Fwww.youtube.com%2F%40agency{n}">YouTube</a>',
        '<a href="//www.facebook.com/agency{n}">Facebook</a>',
    ]
    body = "\n".join(kinds[n % len(kinds)].format(n=n) for n in range(links))
    return f"<!doctype html><html><head><title>Agency</title></head><body>{body}</body></html>"


class StdlibAnchors(HTMLParser):
    """The baseline parser: (href, rel) of every <a>, <area>, <link>, with html.parser."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area", "link"):
            values = dict(attrs)
            href = (values.get("href") or "").strip()
            if href:
                self.anchors.append((href, values.get("rel") or ""))


def stdlib_anchors(html: str) -> list[tuple[str, str]]:
    parser = StdlibAnchors()
    parser.feed(html)
    return parser.anchors


def stdlib_links(html: str, base: str) -> list[tuple[str, bool]]:
    """The baseline of the whole extraction: the same URL work after html.parser."""
    links = []
    for href, rel in stdlib_anchors(html):
        absolute = urljoin(base, href)
        rel_me = "me" in rel.lower().split()
        links.append((absolute, rel_me))
        links += [(target, rel_me) for target in forwarded(absolute)]
    return links


class LocalResolver(AbstractResolver):
    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [{"hostname": host, "host": "127.0.0.1", "port": self.port,
                 "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(work: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


async def timed_async(work: Callable[[], Awaitable[object]], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


async def fetch_rows(html: str, rounds: int) -> tuple[float, float]:
    app = web.Application()
    app.router.add_get("/", lambda request: web.Response(text=html, content_type="text/html"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://{HOST}/"
    try:
        async with SafeFetcher.open(
            FetchLimits(attempts=1), allow_private=False, public=lambda address: True,
            resolver=LocalResolver(port),
        ) as fetcher:
            await fetcher.fetch(url)  # robots.txt (a 404 here) is read once, then remembered
            ours = await timed_async(lambda: fetcher.fetch(url), rounds)
        connector = aiohttp.TCPConnector(resolver=LocalResolver(port))
        async with aiohttp.ClientSession(connector=connector) as session:

            async def bare() -> bytes:
                async with session.get(url) as response:
                    return await response.read()

            await bare()
            baseline = await timed_async(bare, rounds)
    finally:
        await runner.cleanup()
    return ours, baseline


async def check_rows(accounts: int, rounds: int) -> tuple[float, float]:
    """p50 of Core.check (ms) with the verification store, and without (no verifier)."""
    with tempfile.TemporaryDirectory() as folder:
        registry = await open_registry(f"sqlite+aiosqlite:///{folder}/bench.sqlite3")
        lines = ["entity,platform,handle,url,verdict,source_url"]
        lines += [f"Agency {n},x,agency{n},,official," for n in range(accounts)]
        await import_rows(registry, read_rows(io.StringIO("\n".join(lines)), "csv"), by="bench")
        store = SqlVerificationStore(registry)
        now = datetime.now(UTC)
        for n in range(accounts):
            check = LinkCheck(f"agency{n}.gov", Direction.SITE_TO_ACCOUNT, True, "link", "u")
            await store.record(Verification(AccountRef("x", f"agency{n}"), now, (check,)))
        verifying = await Core.start(registry, verifier=live_verifier(registry, store))
        plain = Core(registry, verifying.index)
        asker = Asker("local", "bench")
        queries = [f"x:agency{random.randrange(accounts)}" for _ in range(rounds)]
        times = []
        for core in (verifying, plain):
            samples = []
            for query in queries:
                start = time.perf_counter()
                await core.check(query, asker)
                samples.append(time.perf_counter() - start)
            times.append(median_ms(samples))
        await registry.close()
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=2000)
    args = parser.parse_args()
    html = home_page(args.links)
    base = f"https://{HOST}/"
    assert anchors_in(html)[1] == stdlib_anchors(html)  # the same work
    assert len(page_links(html, base)) == len(stdlib_links(html, base))
    ours_parse = timed(lambda: anchors_in(html), args.rounds)
    std_parse = timed(lambda: stdlib_anchors(html), args.rounds)
    ours_links = timed(lambda: page_links(html, base), args.rounds)
    std_links = timed(lambda: stdlib_links(html, base), args.rounds)
    ours_fetch, bare_fetch = asyncio.run(fetch_rows(html, args.rounds))
    with_store, without = asyncio.run(check_rows(args.accounts, args.rounds))
    size = len(html.encode()) / 1000
    print(f"home page: {args.links:,} links, {size:,.0f} kB; medians of {args.rounds} runs\n")
    print(f"{'step':<34}{'ours ms':>10}{'baseline ms':>13}{'ratio':>8}")
    rows = [
        ("parse: selectolax vs html.parser", ours_parse, std_parse),
        ("links: parse + URL work, same", ours_links, std_links),
    ]
    for name, ours, baseline in rows:
        print(f"{name:<34}{ours:>10.2f}{baseline:>13.2f}{baseline / ours:>8.2f}")
    print(f"{'check: shown vs no verifications':<34}{with_store:>10.2f}{without:>13.2f}"
          f"{without / with_store:>8.2f}")
    print(f"{'fetch: SafeFetcher vs bare aiohttp':<34}{ours_fetch:>10.2f}{bare_fetch:>13.2f}"
          f"{bare_fetch / ours_fetch:>8.2f}")


if __name__ == "__main__":
    main()
