"""The links a page makes (parsed by selectolax's Lexbor HTML5 parser) and the accounts named."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from bot.handles import find_accounts
from bot.model import AccountRef
from bot.platforms import ANY

MAX_LINKS = 5_000  # a page with more is read for its first ones only

# Hosts whose links are opaque redirects: followed (headers only) to see where they lead.
SHORTENERS = frozenset(
    {"t.co", "bit.ly", "ow.ly", "buff.ly", "tinyurl.com", "lnkd.in", "goo.gl", "fb.me", "youtu.be"}
)


@dataclass(frozen=True, slots=True)
class PageLink:
    url: str  # absolute
    rel_me: bool  # rel="me": the page says the target is the same owner
    via: str | None = None  # the redirector's host, when the link went through one


def page_links(html: bytes | str, page_url: str) -> list[PageLink]:
    """Every <a>, <area> and <link> target, absolute (against <base href> when there is one),
    and, for a link through a redirector (`/out?url=…`), the address it forwards to."""
    base_href, anchors = anchors_in(html)
    base = urljoin(page_url, base_href) if base_href else page_url
    links: list[PageLink] = []
    for href, rel in anchors:
        if href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        absolute = urljoin(base, href)
        rel_me = "me" in rel.lower().split()
        links.append(PageLink(absolute, rel_me))
        via = urlsplit(absolute).hostname
        links += [PageLink(target, rel_me, via) for target in forwarded(absolute)]
    return links


def anchors_in(html: bytes | str) -> tuple[str | None, list[tuple[str, str]]]:
    """The page's <base href> and each (href, rel) of its <a>, <area> and <link> elements."""
    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    base = (base_node.attributes.get("href") or "").strip() if base_node is not None else None
    anchors = []
    for node in tree.css("a[href], area[href], link[href]")[:MAX_LINKS]:
        href = (node.attributes.get("href") or "").strip()
        if href:
            anchors.append((href, node.attributes.get("rel") or ""))
    return base or None, anchors


def forwarded(url: str) -> list[str]:
    """The http(s) addresses a redirector link carries in its query (`?u=`, `?url=`, `?q=`…)."""
    return [
        value
        for _, value in parse_qsl(urlsplit(url).query)
        if value.startswith(("http://", "https://"))
    ]


def accounts_in(url: str) -> list[AccountRef]:
    """The accounts a link names (a profile link names one; most links name none)."""
    return [named.ref for named in find_accounts(url[:2000]) if named.ref.platform != ANY]


def on_site(url: str, site: str) -> bool:
    """Whether url is on the site's domain or one of its subdomains."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return host == site or host.endswith("." + site)
