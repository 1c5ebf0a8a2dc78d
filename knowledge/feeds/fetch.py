"""Feeds are fetched by the safe fetcher (knowledge/fetcher.py): public addresses only, size,
time and redirect caps, per-host limits, retries, conditional GET. A feed is a subscription the
operator made, read like a feed reader reads it: robots.txt (for crawlers) is not consulted."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Self

from aiohttp.abc import AbstractResolver

from knowledge.fetcher import (
    CHUNK,
    DEFAULT_LIMITS,
    USER_AGENT,
    Fetched,
    FetchError,
    FetchFailed,
    FetchLimits,
    IPAddress,
    Refused,
    SafeFetcher,
    TooLarge,
    is_public,
)

__all__ = [
    "ACCEPT",
    "CHUNK",
    "DEFAULT_LIMITS",
    "USER_AGENT",
    "FetchError",
    "FetchFailed",
    "FetchLimits",
    "Fetched",
    "Fetcher",
    "Refused",
    "TooLarge",
]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


class Fetcher(SafeFetcher):
    """The safe fetcher, set up for feeds: their Accept header, no robots.txt, `not a feed`."""

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
        accept: str = ACCEPT,
        robots: bool = False,
        what: str = "feed",
    ) -> AsyncIterator[Self]:
        opened = super().open(
            limits,
            allow_private=allow_private,
            public=public,
            resolver=resolver,
            ssl_context=ssl_context,
            accept=accept,
            robots=robots,
            what=what,
        )
        async with opened as fetcher:
            yield fetcher
