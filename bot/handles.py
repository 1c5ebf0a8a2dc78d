"""Find the accounts a text names: profile links, @handles, `platform:handle`, bare domains.

Decisions on what is *not* an account (each gives nothing rather than a guess):
- a platform's own pages (x.com/home, /search, /i/…, youtube /watch, /shorts, instagram /p/…,
  facebook /groups/…, /events/…), short links (youtu.be, t.co, vm.tiktok.com, redd.it, lnkd.in)
  and Telegram invites (t.me/+…, t.me/joinchat/…): a link on a platform's host never becomes a
  `website` answer about the platform itself;
- e-mail addresses, including their domain;
- a bare `@name.tld` is a handle on an unnamed platform (`any`), not a website, except
  `@name.bsky.social` (Bluesky); a bare `name.tld` is a website.
Named: reddit users and subreddits (`r/…`), linkedin people and companies, Discord invite links
(servers get impersonated like accounts), Mastodon `@user@instance` and `https://instance/@user`.

Invisible characters (every Default_Ignorable code point: zero-width, bidi controls, Hangul
fillers) are removed before scanning, as a reader never sees them; an account whose name had
some inside is marked `invisible`, to be reported. Everything else in `written` is kept as typed,
for the lookalike matcher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from bot.domains import split_domain
from bot.i18n import _
from bot.model import AccountRef, InvalidHandle, IsOfficialError, NoAccountFound
from bot.platforms import ALIASES, ANY, YOUTUBE_CHANNEL, normalize_handle, platform_named
from bot.skeleton import is_invisible
from bot.urls import read_link

MAX_SCAN = 10_000  # characters of a message looked at; chat messages are shorter


@dataclass(frozen=True, slots=True)
class NamedAccount:
    ref: AccountRef  # normalised
    written: str  # the handle as the user wrote it (case and unicode preserved)
    platform_id: str | None = None  # numeric id when the form carries one
    invisible: bool = False  # invisible characters were inside the name as written


# A handle found in a link: what to normalise, and the platform's id when the link carries one.
@dataclass(frozen=True, slots=True)
class _Found:
    platform: str
    handle: str
    platform_id: str | None = None


# --- links --------------------------------------------------------------------------------------

Parser = Callable[[list[str], dict[str, list[str]]], "tuple[str, str | None] | None"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _nothing(segments: list[str], query: dict[str, list[str]]) -> None:
    """Short links and the like: they name a post, not an account."""
    return None


X_RESERVED = _words(
    "home explore search i intent settings messages notifications compose hashtag share login "
    "logout signup tos privacy rules about download account jobs oauth help en"
)


def _x(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    head = segments[0]
    if head == "intent":  # x.com/intent/follow?screen_name=NASA
        name = _first(query, "screen_name")
        return (name, _first(query, "user_id")) if name else None
    if head.casefold() in X_RESERVED:
        return None
    return head, None


YOUTUBE_RESERVED = _words(
    "watch results playlist feed shorts live embed redirect t about account premium music "
    "kids gaming hashtag post signin logout howyoutubeworks attribution_link"
)


def _youtube(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    head = segments[0]
    if head.startswith("@"):
        return head, None  # the @ tells a handle from a channel id
    if head == "channel" and len(segments) > 1:
        return segments[1], segments[1]
    if head in ("user", "c") and len(segments) > 1:
        name = segments[1].removeprefix("@")
        if YOUTUBE_CHANNEL.fullmatch(name):  # legacy names have at most 20 characters
            return name, name
        return "@" + name, None
    if head.casefold() in YOUTUBE_RESERVED or head in ("channel", "user", "c"):
        return None
    return "@" + head, None  # youtube.com/NASA: a legacy custom URL


FACEBOOK_RESERVED = _words(
    "groups events watch marketplace gaming help login sharer sharer.php share hashtag "
    "business settings permalink.php story.php photo.php photos video.php reel reels stories "
    "notes policies privacy ads dialog plugins l.php messages friends bookmarks search "
    "home.php fundraisers media live legal tr"
)
_ENDS_IN_ID = re.compile(r".*?-?([0-9]{6,20})")


def _facebook(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    head = segments[0]
    if head == "profile.php":
        fb_id = _first(query, "id")
        return (fb_id, fb_id) if fb_id else None
    if head in ("pages", "people", "p"):  # /pages/Name/123, /pages/category/x/Name-123, /p/Name-123
        for segment in reversed(segments[1:]):
            if match := _ENDS_IN_ID.fullmatch(segment):
                return match[1], match[1]
        return None
    if head == "pg" and len(segments) > 1:
        return segments[1], None
    if head.casefold() in FACEBOOK_RESERVED:
        return None
    if "-" in head and (match := _ENDS_IN_ID.fullmatch(head)):
        return head, match[1]  # an old page address, Name-123456: the key is the id
    return head, (head if head.isdigit() else None)


INSTAGRAM_RESERVED = _words(
    "p reel reels tv explore accounts direct about developer legal web emails challenge"
)


def _instagram(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    head = segments[0]
    if head in ("stories", "_u") and len(segments) > 1:
        return segments[1], None
    if head.casefold() in INSTAGRAM_RESERVED or head == "stories":
        return None
    return head, None


def _at_name(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    """TikTok and Threads: only /@name is an account."""
    head = segments[0]
    return (head, None) if head.startswith("@") and len(head) > 1 else None


TELEGRAM_RESERVED = _words(
    "joinchat addstickers addemoji addtheme share proxy socks iv login setlanguage bg "
    "confirmphone invoice c contact"
)


def _telegram(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    head = segments[0]
    if head in ("s", "boost") and len(segments) > 1:  # t.me/s/name is the web preview
        head = segments[1]
    if head.startswith("+") or head.casefold() in TELEGRAM_RESERVED:
        return None
    return head, None


def _bluesky(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    if segments[0] == "profile" and len(segments) > 1:
        return segments[1], (segments[1] if segments[1].startswith("did:") else None)
    return None


def _reddit(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    if segments[0] in ("u", "user", "r") and len(segments) > 1:
        return f"{segments[0]}/{segments[1]}", None
    return None


def _linkedin(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    if segments[0] in ("in", "company", "school", "showcase") and len(segments) > 1:
        return f"{segments[0]}/{segments[1]}", None
    return None


def _discord_invite(
    segments: list[str], query: dict[str, list[str]]
) -> tuple[str, str | None] | None:
    return f"invite/{segments[0]}", None


def _discord(segments: list[str], query: dict[str, list[str]]) -> tuple[str, str | None] | None:
    if segments[0] == "invite" and len(segments) > 1:
        return f"invite/{segments[1]}", None
    if segments[0] == "users" and len(segments) > 1:
        return segments[1], segments[1]
    return None


HOSTS: dict[str, tuple[str, Parser]] = {
    **dict.fromkeys(
        ["x.com", "twitter.com", "fxtwitter.com", "vxtwitter.com", "fixupx.com", "fixvx.com"],
        ("x", _x),
    ),
    "t.co": ("x", _nothing),
    "youtube.com": ("youtube", _youtube),
    "youtu.be": ("youtube", _nothing),
    **dict.fromkeys(["facebook.com", "fb.com", "fb.me", "m.me"], ("facebook", _facebook)),
    "fb.watch": ("facebook", _nothing),
    **dict.fromkeys(["instagram.com", "instagr.am"], ("instagram", _instagram)),
    **dict.fromkeys(["t.me", "telegram.me", "telegram.dog"], ("telegram", _telegram)),
    "tiktok.com": ("tiktok", _at_name),
    **dict.fromkeys(["vm.tiktok.com", "vt.tiktok.com"], ("tiktok", _nothing)),
    **dict.fromkeys(["threads.net", "threads.com"], ("threads", _at_name)),
    "bsky.app": ("bluesky", _bluesky),
    "reddit.com": ("reddit", _reddit),
    "redd.it": ("reddit", _nothing),
    "linkedin.com": ("linkedin", _linkedin),
    "lnkd.in": ("linkedin", _nothing),
    "discord.gg": ("discord", _discord_invite),
    **dict.fromkeys(["discord.com", "discordapp.com"], ("discord", _discord)),
}
# Subdomains that show the same pages (mobile, old layouts, linkedin's country sites).
_SAME_SITE = re.compile(r"(?:www|m|mobile|mbasic|web|touch|old|new|np|[a-z]{2})\.")
# Sites with /@name pages that are not Mastodon-style fediverse servers.
NOT_FEDIVERSE = frozenset({"medium.com", "substack.com"})


def _platform_host(host: str) -> tuple[str, Parser] | None:
    while host not in HOSTS and (match := _SAME_SITE.match(host)) and "." in host[match.end() :]:
        host = host[match.end() :]
    return HOSTS.get(host)


def _account_in_url(url: str) -> _Found | None:
    """The account a link names; None for a platform's own pages. InvalidHandle if malformed."""
    link = read_link(url)
    host, written_host, query = link.host, link.written_host, link.query
    segments = list(link.segments)
    if link.scheme == "tg":  # tg://resolve?domain=name
        name = _first(query, "domain")
        return _Found("telegram", name) if host == "resolve" and name else None
    if host.endswith((".t.me", ".telegram.me")):  # name.t.me
        return _Found("telegram", written_host.partition(".")[0])
    if host.endswith(".bsky.social"):
        return _Found("bluesky", written_host)
    known = _platform_host(host)
    if known:
        platform, parse = known
        found = parse(segments, query) if segments else None
        return _Found(platform, *found) if found else None
    domain = split_domain(host)
    if (
        segments
        and segments[0].startswith("@")
        and domain
        and domain.registrable not in NOT_FEDIVERSE
    ):
        user, _at, instance = segments[0][1:].partition("@")  # /@user, or /@user@home on a mirror
        return _Found("mastodon", f"{user}@{instance or written_host}")
    return _Found("website", written_host)


# --- text ---------------------------------------------------------------------------------------

_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufe00-\ufe0f"
    "\U000e0000-\U000e007f]"
)
_ALIAS = "|".join(sorted((re.escape(a) for a in ALIASES), key=len, reverse=True))
_URL_CHARS = r"[^\s<>\"'`()\[\]{}|]"  # a backslash stays: browsers read it as "/"
# Every alternative starts only where a word starts (the look-behinds), and every repetition is
# possessive: no backtracking, so scanning is linear even on long runs of junk.
_TOKEN = re.compile(
    rf"""
    (?P<url>(?<![\w.])(?i:https?|tg)://{_URL_CHARS}{{1,2000}}+)
  | (?P<email>(?<![\w.+@-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++)
  | (?<![\w.+@/-])@(?P<mastodon>[A-Za-z0-9_][A-Za-z0-9_.-]{{0,63}}+@[\w-]++(?:\.[\w-]++)++)
  | (?P<prefixed>(?<![\w.@/:+-])(?i:{_ALIAS})[ \t]*+:(?:[ \t]*+(?=@))?{_URL_CHARS}{{1,300}}+)
  | (?<![\w.@/:+-])/?(?P<reddit>[ur]/[A-Za-z0-9_-]{{2,21}}+)(?![\w/-])
  | (?P<host>(?<![\w.@/:+-])[\w-]{{1,63}}+(?:\.[\w-]{{1,63}}+)++(?:[/?#]{_URL_CHARS}*+)?)
  | (?<![\w.@/:+<-])@(?P<bare>[\w.·-]{{1,64}}+)(?![\w@])
    """,
    re.VERBOSE,
)
_ON_PLATFORM = re.compile(rf"[ \t]++on[ \t]++(?P<platform>(?i:{_ALIAS}))\b")
_TRAILING = ".,;:!?'\"»…-"
# Bare names that look like domains but are files people mention.
_FILE_SUFFIXES = frozenset({"py", "md", "sh", "rs", "pl", "so", "js", "ts", "txt", "json"})


def _prefixed(token: str) -> _Found:
    """`x:NASA`, `twitter: @NASA`, `website:bbc.co.uk`, `x:https://x.com/NASA`."""
    word, _colon, handle = token.partition(":")
    platform, handle = platform_named(word), handle.strip()
    if platform == "website" and ("/" in handle or ":" in handle or "\\" in handle):
        return _Found("website", read_link(handle).written_host or handle)
    if "://" in handle:
        found = _account_in_url(handle)
        if found is None or found.platform != platform:
            raise InvalidHandle(_("{handle} is no {platform} profile link").format(
                handle=repr(handle[:60]), platform=platform))
        return found
    return _Found(platform, handle)


def _host_token(token: str) -> _Found | None:
    """A link written without its scheme (`x.com/NASA`, `bbc.co.uk`); None for `readme.md`."""
    host = re.split(r"[/?#]", token, maxsplit=1)[0]
    domain = split_domain(host)
    if domain is None:
        return None
    if token == host and domain.suffix in _FILE_SUFFIXES and not domain.subdomain:
        return None
    return _account_in_url(token)


_NOT_HANDLES = frozenset({"everyone", "here"})  # chat mentions of a whole group


def _bare(token: str, text: str, end: int) -> _Found | None:
    """`@NASA`: a handle on any platform, unless `on instagram` follows or it is Bluesky's."""
    if token.casefold() in _NOT_HANDLES:
        return None
    if on := _ON_PLATFORM.match(text, end):
        return _Found(platform_named(on["platform"]), token)
    if token.casefold().endswith(".bsky.social"):
        return _Found("bluesky", token)
    return _Found(ANY, token)


def _found(match: re.Match[str], text: str) -> _Found | None:
    kind = match.lastgroup
    token = match[kind or 0].rstrip(_TRAILING)
    if kind == "url":
        return _account_in_url(token)
    if kind == "mastodon":
        return _Found("mastodon", token)
    if kind == "prefixed":
        return _prefixed(token)
    if kind == "reddit":
        return _Found("reddit", token)
    if kind == "host":
        return _host_token(token)
    if kind == "bare":
        return _bare(token, text, match.end())
    return None  # an e-mail address


_NAMESPACE = re.compile(r"^/?(?:u|user|in)/")  # reddit users, linkedin people: the name alone


def _named(found: _Found, invisible: bool = False) -> NamedAccount:
    """Normalise a found handle; InvalidHandle if the platform would not allow it."""
    key = normalize_handle(found.platform, found.handle)
    written = _NAMESPACE.sub("", found.handle.removeprefix("@"))
    return NamedAccount(AccountRef(found.platform, key), written, found.platform_id, invisible)


def _visible(text: str) -> tuple[str, Sequence[int]]:
    """text without its invisible characters, and where each kept character stood."""
    if text.isascii():
        return text, range(len(text))
    places = [i for i, char in enumerate(text) if not is_invisible(char)]
    return "".join(text[i] for i in places), places


def _scan(text: str) -> Iterator[NamedAccount]:
    raw = len(text[: MAX_SCAN * 2])
    text, places = _visible(text[: MAX_SCAN * 2])
    text = text[:MAX_SCAN]
    for match in _TOKEN.finditer(text):
        # Characters were dropped inside the name or right after it (a trailing Hangul filler).
        start, end = match.span()
        after = places[end] if end < len(places) else raw  # where the next visible one stood
        hidden = after - places[start] > end - start
        try:
            found = _found(match, text)
            if found is not None:
                yield _named(found, hidden)
        except IsOfficialError:
            continue  # a malformed handle in free text names nothing


def find_accounts(text: str) -> list[NamedAccount]:
    """Every account named in text, in order, each once; [] if none. Never raises on junk."""
    accounts: dict[AccountRef, NamedAccount] = {}
    for account in _scan(text):
        accounts.setdefault(account.ref, account)
    platform_keys = {ref.handle for ref in accounts if ref.platform != ANY}
    # `@nasa (x.com/NASA)` names one account, not two.
    return [
        account
        for account in accounts.values()
        if account.ref.platform != ANY or account.ref.handle not in platform_keys
    ]


_WHOLE_PREFIXED = re.compile(r"(?P<word>[A-Za-z][A-Za-z0-9]{0,30}):(?!//)\s*(?P<handle>.*)")


def parse_ref(text: str) -> NamedAccount:
    """Exactly one account, for a command's REF: `x:uriminzok`, a link, `@handle`, `handle`."""
    ref = _INVISIBLE.sub("", text).strip()
    if not ref or len(ref) > 2000:
        raise NoAccountFound(ref)
    if _WHOLE_PREFIXED.fullmatch(ref):  # an unknown platform word raises UnknownPlatform
        return _named(_prefixed(ref))
    if not re.search(r"\s", ref) and (ref[0].isalnum() or ref[0] in "@/"):
        found = _single(ref)
        if found is None:
            raise NoAccountFound(ref)
        return _named(found)
    accounts = find_accounts(ref)
    if not accounts:
        raise NoAccountFound(ref)
    if len(accounts) > 1:
        names = ", ".join(str(a.ref) for a in accounts[:5])
        raise InvalidHandle(_("{text} names {count} accounts ({accounts}): name one").format(
            text=repr(ref[:60]), count=len(accounts), accounts=names))
    return accounts[0]


def _single(ref: str) -> _Found | None:
    """One token: a link, `@user@instance`, `@handle`, `u/name`, `name.tld` or a bare name."""
    if "://" in ref or ("/" in ref.split("?")[0] and "." in ref.split("/")[0]):
        return _account_in_url(ref)
    if ref.startswith("@") and ref.count("@") == 2:
        return _Found("mastodon", ref[1:])
    if re.fullmatch(r"/?[ur]/[^/]+", ref):
        return _Found("reddit", ref.lstrip("/"))
    name = ref.removeprefix("@")
    if "@" in name:
        return None  # an e-mail address
    if not ref.startswith("@") and "." in name and split_domain(name):
        return _host_token(name)
    if name.casefold().endswith(".bsky.social"):
        return _Found("bluesky", name)
    return _Found(ANY, name)
