"""Safe, polite, bounded HTTP fetching: every page, feed or API the bot reads goes through here.

- only http(s), and only to public addresses: every name is checked after DNS resolution and
  every redirect hop before it is followed (no loopback, private, link-local, metadata or
  multicast address); ISOFFICIAL_FETCH_ALLOW_PRIVATE=true lifts that for tests and private
  deployments;
- a total timeout per attempt, a streamed size cap (cut as soon as the body passes it, whatever
  Content-Length claims), a bounded number of redirects, a cap on concurrent requests per host,
  retries with exponential backoff for transient failures only, conditional GET (ETag, 304);
- a polite User-Agent, and robots.txt respected (RFC 9309: a missing one allows everything, an
  unreachable one forbids everything) unless the caller reads a subscription, like a feed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Self
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.model import IsOfficialError

USER_AGENT = (
    "isofficial/0.1 (a bot answering 'is this account official?'; "
    "reads official sites and news feeds; obeys robots.txt)"
)
ROBOTS_AGENT = "isofficial"  # the product token robots.txt rules name
ALLOW_PRIVATE_ENV = "ISOFFICIAL_FETCH_ALLOW_PRIVATE"
# Bodies of these types are never pages, feeds or API answers: refused before reading a byte.
REFUSED_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
ROBOTS_MAX_BYTES = 500_000  # RFC 9309 asks crawlers to read at least 500 KiB
ROBOTS_TTL = 24 * 3600.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout: float = 30.0  # seconds for one attempt: connect, headers and body
    max_bytes: int = 5_000_000  # decompressed body
    max_redirects: int = 5
    per_host: int = 2  # concurrent requests to one host
    attempts: int = 3
    backoff: float = 1.0  # first wait between attempts, doubled each time
    user_agent: str = USER_AGENT


DEFAULT_LIMITS = FetchLimits()


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    body: bytes | None  # None: not modified since the validators we sent (HTTP 304)
    content_type: str
    etag: str | None
    last_modified: str | None


class FetchError(IsOfficialError):
    """A fetch that did not give a body; the message says why in one line."""


class FetchFailed(FetchError):
    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status  # the HTTP status that failed it, when one did
        super().__init__(message)


class TooLarge(FetchError):
    def __init__(self, limit: int, bytes_read: int) -> None:
        self.bytes_read = bytes_read
        super().__init__(f"response larger than {limit:,} bytes: cut off")


class Refused(FetchError):
    """Not fetched at all: a scheme, address or robots.txt rule forbids it."""


class _Transient(Exception):
    """A status worth another try (5xx, 429)."""


def allow_private_from_env() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local (cloud metadata), CGNAT,
    reserved or multicast; an IPv4-mapped IPv6 address is judged as its IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class PublicOnlyResolver(AbstractResolver):
    """Resolves through `inner` and refuses any name with a non-public address: the check
    happens on the very addresses aiohttp then connects to, so DNS rebinding cannot slip by."""

    def __init__(
        self, inner: AbstractResolver | None = None, public: Callable[[IPAddress], bool] = is_public
    ) -> None:
        self.inner = inner or aiohttp.ThreadedResolver()
        self.public = public

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for result in results:
            if not self.public(ipaddress.ip_address(result["host"])):
                raise Refused(f"{host} resolves to a non-public address ({result['host']})")
        return results

    async def close(self) -> None:
        await self.inner.close()


class SafeFetcher:
    """Fetches over one aiohttp session; share one per round, scheduler or command.

    A subclass sets what it reads through the class defaults: ACCEPT (the Accept header),
    ROBOTS (False: the caller reads a subscription, a feed, not a crawl) and WHAT (the word
    error messages use for the body, `not a feed: served as image/png`)."""

    ACCEPT = "*/*"
    ROBOTS = True
    WHAT = "page"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        limits: FetchLimits = DEFAULT_LIMITS,
        *,
        allow_private: bool = False,
        public: Callable[[IPAddress], bool] = is_public,
        robots: bool | None = None,
        what: str | None = None,
    ) -> None:
        self.session = session
        self.limits = limits
        self.allow_private = allow_private
        self.public = public
        self.robots = self.ROBOTS if robots is None else robots
        self.what = what or self.WHAT
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limits.per_host)
        )
        self._robots: dict[str, tuple[RobotFileParser | None, float]] = {}

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        limits: FetchLimits = DEFAULT_LIMITS,
        *,
        allow_private: bool | None = None,
        public: Callable[[IPAddress], bool] = is_public,
        resolver: AbstractResolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        accept: str | None = None,
        robots: bool | None = None,
        what: str | None = None,
    ) -> AsyncIterator[Self]:
        """allow_private None: as ISOFFICIAL_FETCH_ALLOW_PRIVATE says. resolver: the DNS (tests
        and private deployments inject one); ssl_context: trusted CAs (default: the system's)."""
        allowed = allow_private_from_env() if allow_private is None else allow_private
        if not allowed:
            resolver = PublicOnlyResolver(resolver, public)
        connector = aiohttp.TCPConnector(
            resolver=resolver, ssl=ssl_context if ssl_context is not None else True
        )
        headers = {"User-Agent": limits.user_agent, "Accept": accept or cls.ACCEPT}
        timeout = aiohttp.ClientTimeout(total=limits.timeout)
        async with aiohttp.ClientSession(
            connector=connector, headers=headers, timeout=timeout
        ) as session:
            yield cls(
                session, limits, allow_private=allowed, public=public, robots=robots, what=what
            )

    async def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """The body at url, or a FetchError saying in one line why not."""
        self.check_url(url)
        await self._obey_robots(url)
        validators = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        headers = {name: value for name, value in validators.items() if value}
        return await self._fetch(url, headers)

    async def final_url(self, url: str, follow: Callable[[str], bool]) -> str:
        """Where url leads, without reading a body: its redirects are followed (each checked)
        while follow(the next address) says so; for links through shorteners."""
        for _ in range(self.limits.max_redirects + 1):
            self.check_url(url)
            async with self._hosts[urlsplit(url).hostname or ""], self.session.get(
                url, allow_redirects=False
            ) as response:
                location = response.headers.get("Location")
                if response.status not in REDIRECTS or not location:
                    return url
            url = urljoin(url, location)
            if not follow(url):
                return url
        raise FetchFailed(f"more than {self.limits.max_redirects} redirects")

    def check_url(self, url: str) -> None:
        """Refuse what is not http(s) with a host, or names a non-public address literally."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise Refused(f"only http(s) addresses are fetched, not {url[:200]!r}")
        if self.allow_private:
            return
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return  # a name: the resolver checks its addresses
        if not self.public(address):
            raise Refused(f"{parts.hostname} is not a public address: not fetched")

    async def _fetch(self, url: str, headers: Mapping[str, str], obey: bool = True) -> Fetched:
        """obey False: for robots.txt itself, whose redirects no robots.txt governs."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.limits.attempts),
            wait=wait_exponential(multiplier=self.limits.backoff, max=60),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        try:
            return await retrying(self._follow, url, headers, obey)
        except FetchError:
            raise
        except (aiohttp.ClientError, TimeoutError, _Transient, ValueError) as error:
            if isinstance(error.__cause__, FetchError):  # the resolver's refusal, wrapped
                raise error.__cause__ from None
            raise FetchFailed(_describe(error, self.limits)) from None

    async def _follow(self, url: str, headers: Mapping[str, str], obey: bool) -> Fetched:
        """One attempt: every redirect hop is checked before it is requested."""
        for _ in range(self.limits.max_redirects + 1):
            fetched, location = await self._once(url, headers)
            if fetched is not None:
                return fetched
            self.check_url(location)
            if obey and urlsplit(location).netloc != urlsplit(url).netloc:
                await self._obey_robots(location)  # another site: its own rules
            url = location
        raise FetchFailed(f"more than {self.limits.max_redirects} redirects")

    async def _once(self, url: str, headers: Mapping[str, str]) -> tuple[Fetched | None, str]:
        """(the answer, "") or (None, the redirect's target)."""
        # The host slot is held outside the timeout: waiting for a slot is not slowness.
        async with self._hosts[urlsplit(url).hostname or ""], self.session.get(
            url, headers=headers, allow_redirects=False
        ) as response:
            location = response.headers.get("Location")
            if response.status in REDIRECTS and location:
                return None, urljoin(url, location)
            if response.status == 304:
                return _fetched(response, None), ""
            if response.status >= 500 or response.status == 429:
                raise _Transient(f"HTTP {response.status} {response.reason}")
            if response.status != 200:
                raise FetchFailed(f"HTTP {response.status} {response.reason}", response.status)
            if response.content_type.startswith(REFUSED_TYPES):
                raise FetchFailed(f"not a {self.what}: served as {response.content_type}")
            return _fetched(response, await self._read_capped(response)), ""

    async def _read_capped(
        self, response: aiohttp.ClientResponse, limit: int | None = None
    ) -> bytes:
        limit = limit or self.limits.max_bytes
        if response.content_length is not None and response.content_length > limit:
            raise TooLarge(limit, 0)
        body = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise TooLarge(limit, len(body))
        return bytes(body)

    async def _obey_robots(self, url: str) -> None:
        if self.robots and not await self._robots_allow(url):
            raise Refused(f"robots.txt of {urlsplit(url).hostname} asks bots not to read {url}")

    async def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules, until = self._robots.get(origin, (None, 0.0))
        if time.monotonic() >= until:
            rules = await self._read_robots(origin)
            self._robots[origin] = (rules, time.monotonic() + ROBOTS_TTL)
        return rules is None or rules.can_fetch(ROBOTS_AGENT, url)

    async def _read_robots(self, origin: str) -> RobotFileParser | None:
        """The origin's rules; None when it has none (4xx). When the server fails (5xx) the
        page is not read (RFC 9309: assume complete disallow) and robots.txt is asked again
        next time; when the host cannot be reached at all, that error is the answer."""
        try:
            fetched = await self._fetch(f"{origin}/robots.txt", {}, obey=False)
        except TooLarge:
            return None  # RFC 9309 lets a crawler ignore what is past its cap
        except FetchFailed as error:
            if error.status is not None and 400 <= error.status < 500:
                return None
            if error.status is not None or str(error).startswith("HTTP 5"):
                raise Refused(f"robots.txt of {origin} unavailable ({error}): not read") from None
            raise
        rules = RobotFileParser()
        rules.parse((fetched.body or b"").decode("utf-8", "replace").splitlines())
        return rules


def _fetched(response: aiohttp.ClientResponse, body: bytes | None) -> Fetched:
    return Fetched(
        url=str(response.url),
        body=body,
        content_type=response.headers.get("Content-Type", ""),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, aiohttp.InvalidURL) or isinstance(error.__cause__, FetchError):
        return False
    return isinstance(error, _Transient | TimeoutError | aiohttp.ClientConnectionError)


def _describe(error: BaseException, limits: FetchLimits) -> str:
    if isinstance(error, TimeoutError):
        return f"timed out after {limits.timeout:g} s"
    if isinstance(error, aiohttp.InvalidURL):
        return f"invalid URL: {error}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]
