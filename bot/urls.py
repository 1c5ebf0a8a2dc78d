"""Links read the way a browser reads them: the WHATWG URL standard, through ada-url.

Every command reads a link here, so `https://evil.com\\@x.com/nasa` is evil.com everywhere (a
browser opens evil.com: `\\` ends the host of an http link) and `https://x。com/nasa` is x.com
(the standard maps the ideographic full stop to a dot). A link that is no URL by the standard
is refused with one line, never an exception from deep inside a parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

import ada_url

from bot.domains import to_ascii, to_unicode
from bot.i18n import _
from bot.limits import MAX_URL, RefusedInput, clean, field_name
from bot.model import InvalidHandle

_SPECIAL = ("http:", "https:", "ws:", "wss:", "ftp:", "file:")
# Where the authority of a special-scheme link ends (`\\` counts as `/` for them).
_AUTHORITY_END = re.compile(r"[/\\?#]")
_HTTP = re.compile(r"https?://", re.IGNORECASE)
_SPACE = re.compile(r"\s")
# An ordinary link: http(s), an ASCII host of letters, digits and inner hyphens ending in a label
# that starts with a letter (so no IPv4 parse), no punycode to check, no port, and a path
# of unreserved characters. Every such URL is valid by the standard, so ada is asked about the
# rest only (a bulk import's source links are nearly all ordinary).
_ORDINARY = re.compile(
    r"https?://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z][a-z0-9-]{0,61}(?<!-)"
    r"(?:/[a-z0-9._~/-]*)?",
    re.IGNORECASE | re.ASCII,  # ASCII: no Kelvin sign or long s matching k or s
)


@dataclass(frozen=True, slots=True)
class Link:
    scheme: str  # "https", lowercase, no colon
    host: str  # as the browser resolves it: lowercase, punycode ASCII, no trailing dot
    written_host: str  # the host as the user typed it (unicode and case kept) when it is host
    segments: tuple[str, ...]  # the path's non-empty segments, percent-decoded
    query: dict[str, list[str]]
    username: str


def read_link(text: str) -> Link:
    """The link text names; a scheme-less `x.com/NASA` reads as https. InvalidHandle if none."""
    url = text.strip()
    if "://" not in url and not url.casefold().startswith("tg:"):
        url = "https://" + url
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        raise InvalidHandle(_("{text} is no valid link").format(text=repr(text[:60]))) from None
    scheme = parsed.protocol.rstrip(":")
    host = parsed.hostname.rstrip(".")
    path = parsed.pathname if parsed.protocol in _SPECIAL else parsed.pathname.lstrip("/")
    return Link(
        scheme=scheme,
        host=host,
        written_host=_written_host(url, host) if parsed.protocol in _SPECIAL else host,
        segments=tuple(unquote(s) for s in path.split("/") if s),
        query=parse_qs(parsed.search.removeprefix("?")),
        username=unquote(parsed.username),
    )


def _written_host(url: str, host: str) -> str:
    """The host as typed, when it is the one the browser resolved; else host in unicode."""
    authority = _AUTHORITY_END.split(url.partition("://")[2], maxsplit=1)[0]
    written = authority.rpartition("@")[2]
    if not written.startswith("["):
        written = written.rpartition(":")[0] if ":" in written else written
    written = written.rstrip(".")
    return written if to_ascii(written) == host else to_unicode(host)


def http_link(text: str, field: str = "link") -> str:
    """A source link as stored: an http(s) URL with a host and no credentials, within the
    length limit; RefusedInput saying why not. The text is kept as written (stripped)."""
    url = clean(field, text, MAX_URL)
    if _ORDINARY.fullmatch(url) and "xn--" not in url.lower():
        return url
    # An http(s) URL by the standard always has a host; credentials sit before an `@` in the
    # authority (which `\\` ends, as `/` does).
    if (
        not _HTTP.match(url)
        or _SPACE.search(url)
        or "@" in _AUTHORITY_END.split(url[url.index("//") + 2 :], maxsplit=1)[0]
        or not ada_url.check_url(url)
    ):
        raise RefusedInput(_("the {field} must be an http(s) link: {url}").format(
            field=field_name(field), url=repr(url[:60])))
    return url


def link_host(url: str) -> str:
    """The host an http link opens, without `www.`; "" when it has none."""
    try:
        return ada_url.URL(url).hostname.removeprefix("www.")
    except ValueError:
        return ""
