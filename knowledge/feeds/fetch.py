"""Polite, bounded HTTP fetching of feeds.

Every fetch has a total timeout, a streamed size cap (the body is cut as soon as it passes the
cap, whatever Content-Length claims), a bounded number of redirects, conditional GET
(ETag / Last-Modified, 304), a cap on concurrent requests per host and retries with
exponential backoff for transient failures only.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from knowledge.feeds.errors import FeedError

USER_AGENT = "isofficial-feeds/0.1 (a bot answering 'is this account official?'; reads news feeds)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
# Bodies of these types are never feeds: refused before reading a byte of them.
REFUSED_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
CHUNK = 64 * 1024


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


class TooLarge(FeedError):
    def __init__(self, limit: int, bytes_read: int) -> None:
        self.bytes_read = bytes_read
        super().__init__(f"response larger than {limit:,} bytes: cut off")


class FetchFailed(FeedError):
    pass


class _Transient(Exception):
    """A status worth another try (5xx, 429)."""


class Fetcher:
    """Fetches feeds over one aiohttp session; share one per refresh round or scheduler."""

    def __init__(
        self, session: aiohttp.ClientSession, limits: FetchLimits = DEFAULT_LIMITS
    ) -> None:
        self.session = session
        self.limits = limits
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limits.per_host)
        )

    @classmethod
    @asynccontextmanager
    async def open(cls, limits: FetchLimits = DEFAULT_LIMITS) -> AsyncIterator[Fetcher]:
        headers = {"User-Agent": limits.user_agent, "Accept": ACCEPT}
        timeout = aiohttp.ClientTimeout(total=limits.timeout)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            yield cls(session, limits)

    async def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """The feed at url, or a FeedError saying in one line why not."""
        validators = {"If-None-Match": etag, "If-Modified-Since": last_modified}
        headers = {name: value for name, value in validators.items() if value}
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.limits.attempts),
            wait=wait_exponential(multiplier=self.limits.backoff, max=60),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        # The host slot is held outside the timeout: waiting for a slot is not slowness.
        async with self._hosts[urlsplit(url).hostname or ""]:
            try:
                return await retrying(self._fetch_once, url, headers)
            except FeedError:
                raise
            except (aiohttp.ClientError, TimeoutError, _Transient, ValueError) as error:
                raise FetchFailed(_describe(error, self.limits)) from None

    async def _fetch_once(self, url: str, headers: Mapping[str, str]) -> Fetched:
        async with self.session.get(
            url, headers=headers, max_redirects=self.limits.max_redirects
        ) as response:
            if response.status == 304:
                return _fetched(response, None)
            if response.status >= 500 or response.status == 429:
                raise _Transient(f"HTTP {response.status} {response.reason}")
            if response.status != 200:
                raise FetchFailed(f"HTTP {response.status} {response.reason}")
            if response.content_type.startswith(REFUSED_TYPES):
                raise FetchFailed(f"not a feed: served as {response.content_type}")
            return _fetched(response, await self._read_capped(response))

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self.limits.max_bytes
        if response.content_length is not None and response.content_length > limit:
            raise TooLarge(limit, 0)
        body = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise TooLarge(limit, len(body))
        return bytes(body)


def _fetched(response: aiohttp.ClientResponse, body: bytes | None) -> Fetched:
    return Fetched(
        url=str(response.url),
        body=body,
        content_type=response.headers.get("Content-Type", ""),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, aiohttp.TooManyRedirects | aiohttp.InvalidURL):
        return False
    return isinstance(error, _Transient | TimeoutError | aiohttp.ClientConnectionError)


def _describe(error: BaseException, limits: FetchLimits) -> str:
    if isinstance(error, TimeoutError):
        return f"timed out after {limits.timeout:g} s"
    if isinstance(error, aiohttp.TooManyRedirects):
        return f"more than {limits.max_redirects} redirects"
    if isinstance(error, aiohttp.InvalidURL):
        return f"invalid URL: {error}"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]
