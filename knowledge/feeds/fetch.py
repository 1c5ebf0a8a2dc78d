"""Feeds are fetched by the safe fetcher (knowledge/fetcher.py): public addresses only, size,
time and redirect caps, per-host limits, retries, conditional GET. A feed is a subscription the
operator made, read like a feed reader reads it: robots.txt (for crawlers) is not consulted."""

from __future__ import annotations

from knowledge.fetcher import (
    CHUNK,
    DEFAULT_LIMITS,
    USER_AGENT,
    Fetched,
    FetchError,
    FetchFailed,
    FetchLimits,
    Refused,
    SafeFetcher,
    TooLarge,
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

    ACCEPT = ACCEPT
    ROBOTS = False
    WHAT = "feed"
