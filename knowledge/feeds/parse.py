"""Feed documents to items: RSS 0.9x/1.0/2.0 and Atom by feedparser, JSON Feed by json.

XML is screened first: a document declaring entities (billion laughs, external entities) is
refused before feedparser sees it.
"""

from __future__ import annotations

import calendar
import json
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from xml.parsers import expat

import feedparser

from knowledge.feeds.errors import FeedError

JSON_FEED_VERSION = "https://jsonfeed.org/version/"
SUMMARY_CHARS = 2000
# What feedparser flags but reads correctly anyway: mislabelled types and encodings.
_HARMLESS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, reduced to what we store and search."""

    guid: str | None
    link: str | None
    title: str
    summary: str  # plain text
    published: datetime | None  # aware UTC
    links: tuple[str, ...] = ()  # every URL in the item: its link and the links in its content


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: tuple[FeedItem, ...]
    warning: str | None = None  # what the parser recovered from, e.g. malformed XML


class UnsafeFeed(FeedError):
    pass


class NotAFeed(FeedError):
    pass


def parse_feed(body: bytes, content_type: str = "") -> ParsedFeed:
    """The feed in body; NotAFeed or UnsafeFeed (one-line messages) when it is none or unsafe."""
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body)
    refuse_entity_declarations(body)
    return _parse_xml_feed(body, content_type)


def refuse_entity_declarations(body: bytes) -> None:
    """UnsafeFeed if the XML prolog declares entities or an internal DTD subset.

    Reads only up to the root element (declarations cannot come later), so it costs nothing on
    large feeds. A bare external DOCTYPE (RSS 0.91's Netscape one) is allowed: nothing fetches it.
    Mirrors defusedxml's forbid_entities/forbid_external, without building a tree of the feed.
    """
    parser = expat.ParserCreate()

    def doctype(_name: str, _sysid: str | None, _pubid: str | None, internal: int) -> None:
        if internal:
            raise UnsafeFeed("refused: the document declares a DTD (entity expansion risk)")

    def entity(*_args: object) -> None:
        raise UnsafeFeed("refused: the document declares XML entities")

    def root(*_args: object) -> None:
        raise _PrologDone

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.StartElementHandler = root
    # A malformed document is feedparser's to judge (and to report).
    with suppress(_PrologDone, expat.ExpatError):
        parser.Parse(body, True)


class _PrologDone(Exception):
    pass


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_xml_feed(body: bytes, content_type: str) -> ParsedFeed:
    parsed = feedparser.parse(body, response_headers={"content-type": content_type or "text/xml"})
    problem = parsed.get("bozo_exception")
    why = None if problem is None or isinstance(problem, _HARMLESS) else _one_line(str(problem))
    if not parsed.version or (why and not parsed.entries):
        raise NotAFeed(f"not an RSS, Atom or JSON feed: {why or 'no feed element'}")
    items = tuple(_xml_item(entry) for entry in parsed.entries)
    return ParsedFeed(parsed.feed.get("title") or None, items, why)


def _xml_item(entry: Any) -> FeedItem:
    html = " ".join(
        [entry.get("summary", "")] + [part.get("value", "") for part in entry.get("content", [])]
    )
    text, hrefs = html_text_and_links(html)
    link = entry.get("link") or None
    links = [link] + [ln.get("href") for ln in entry.get("links", [])] + hrefs
    struct = entry.get("published_parsed") or entry.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(struct), UTC) if struct else None
    return FeedItem(
        guid=entry.get("id") or None,
        link=link,
        title=_one_line(entry.get("title", "")),
        summary=text[:SUMMARY_CHARS],
        published=published,
        links=_unique(links),
    )


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise NotAFeed(f"malformed JSON feed: {_one_line(str(error))}") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        JSON_FEED_VERSION
    ):
        raise NotAFeed("not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise NotAFeed("malformed JSON feed: items is not a list")
    title = document.get("title")
    return ParsedFeed(title if isinstance(title, str) else None, tuple(_json_items(items)))


def _json_items(items: list[Any]) -> list[FeedItem]:
    return [_json_item(item) for item in items if isinstance(item, dict)]


def _json_item(item: dict[str, Any]) -> FeedItem:
    html = _text(item.get("content_html"))
    text, hrefs = html_text_and_links(html)
    plain = _text(item.get("content_text")) or _text(item.get("summary")) or text
    link = _text(item.get("url")) or None
    links = [link, _text(item.get("external_url")) or None, *hrefs]
    return FeedItem(
        guid=_text(item.get("id")) or None,
        link=link,
        title=_one_line(_text(item.get("title"))),
        summary=plain[:SUMMARY_CHARS],
        published=_rfc3339(item.get("date_published") or item.get("date_modified")),
        links=_unique(links),
    )


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name == "href" and value]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_text_and_links(html: str) -> tuple[str, list[str]]:
    """The readable text of an HTML fragment and the targets of its links."""
    if "<" not in html and "&" not in html:
        return _one_line(html), []
    reader = _TextAndLinks()
    reader.feed(html)
    reader.close()
    return _one_line(" ".join(reader.text)), reader.links


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unique(values: list[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))
