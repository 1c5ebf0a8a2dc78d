"""Platforms, their aliases and their handle rules: the key an account is registered under.

Keys are what the registry compares, so every rule here decides when two written handles are the
same account. Decisions (each a platform's own rule unless said otherwise):

- Case: every platform's names are case-insensitive and keys are casefolded, except YouTube channel
  ids (`UC…`) and Discord invite codes, which are case-sensitive.
- Facebook ignores dots in usernames (`john.smith` is `johnsmith`), so the key drops them.
- Namespaces other than the platform's main one carry a prefix: reddit `r/python` (users are
  bare), linkedin `company/…`, `school/…`, `showcase/…` (people are bare), discord `invite/Code`.
- YouTube legacy `/user/` and `/c/` names share the handle key: YouTube turned them into handles.
- Bluesky: a bare name means `name.bsky.social`; DIDs (`did:plc:…`) are keys as they are.
- Mastodon: `user@instance`, the instance as its punycode host.
- Websites: the registrable domain (public-suffix rules), punycode ASCII, lowercase.
- No NFKC on handles: a fullwidth or Cyrillic letter in an X handle is an invalid handle, not NASA.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bot.domains import split_domain, to_ascii, to_unicode
from bot.i18n import N_, _
from bot.model import AccountRef, InvalidHandle, UnknownPlatform

PLATFORMS: tuple[str, ...] = (
    "x",
    "youtube",
    "facebook",
    "instagram",
    "telegram",
    "tiktok",
    "threads",
    "bluesky",
    "mastodon",
    "reddit",
    "linkedin",
    "discord",
    "website",
)
ANY = "any"  # a bare @handle whose platform the text does not name

ALIASES: dict[str, str] = {
    **{name: name for name in PLATFORMS},
    "twitter": "x",
    "tw": "x",
    "twtr": "x",
    "yt": "youtube",
    "fb": "facebook",
    "ig": "instagram",
    "insta": "instagram",
    "tg": "telegram",
    "tt": "tiktok",
    "bsky": "bluesky",
    "masto": "mastodon",
    "fedi": "mastodon",
    "fediverse": "mastodon",
    "site": "website",
    "web": "website",
    "domain": "website",
    ANY: ANY,
}


def platform_named(word: str) -> str:
    """The canonical platform for a name or alias, any case (`Twitter` -> `x`)."""
    name = ALIASES.get(word.strip().rstrip(":").casefold())
    if name is None:
        raise UnknownPlatform(_("unknown platform {word}: use one of {platforms}").format(
            word=repr(word[:30]), platforms=", ".join(PLATFORMS)))
    return name


# --- keys ---------------------------------------------------------------------------------------


def _handle_word(platform: str) -> str:
    """`x handle`, or just `handle` when the platform was not named."""
    return _("handle") if platform == ANY else _("{platform} handle").format(platform=platform)


def _invalid(platform: str, handle: str, rule: str) -> InvalidHandle:
    """The rule in the asker's words (its letters and signs are the platform's own); a rule
    with numbers in it comes translated already."""
    return InvalidHandle(_("{handle} is no valid {what}: {rule}").format(
        handle=repr(handle[:40]), what=_handle_word(platform), rule=_(rule)))


def _ascii_rule(platform: str, pattern: str, rule: str) -> Callable[[str], str]:
    """A key function: the whole handle must match `pattern`; the key is casefolded."""
    compiled = re.compile(pattern, re.ASCII)

    def key(handle: str) -> str:
        if not compiled.fullmatch(handle):
            raise _invalid(platform, handle, rule)
        return handle.casefold()

    return key


_x = _ascii_rule("x", r"[A-Za-z0-9_]{1,15}", N_("1-15 letters, digits or _"))
_instagram = _ascii_rule(
    "instagram", r"(?!\.)(?!.*\.\.)[A-Za-z0-9._]{1,30}(?<!\.)", N_("1-30 letters, digits, _ or .")
)
_threads = _ascii_rule(
    "threads", r"(?!\.)(?!.*\.\.)[A-Za-z0-9._]{1,30}(?<!\.)", N_("1-30 letters, digits, _ or .")
)
_tiktok = _ascii_rule("tiktok", r"[A-Za-z0-9._]{2,24}(?<!\.)", N_("2-24 letters, digits, _ or ."))
# Collectible usernames sold on Fragment may be 4 characters; ordinary ones are 5-32.
_telegram_name = _ascii_rule(
    "telegram",
    r"[A-Za-z][A-Za-z0-9_]{3,31}",
    N_("4-32 letters, digits or _, starting with a letter"),
)
_reddit_user = _ascii_rule("reddit", r"[A-Za-z0-9_-]{3,20}", N_("3-20 letters, digits, _ or -"))
_subreddit = _ascii_rule(
    "reddit", r"[A-Za-z0-9][A-Za-z0-9_]{1,20}", N_("3-21 letters, digits or _")
)
_discord_name = _ascii_rule(
    "discord", r"(?!.*\.\.)[A-Za-z0-9_.]{2,32}", N_("2-32 letters, digits, _ or .")
)
_mastodon_user = _ascii_rule(
    "mastodon", r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?", N_("letters, digits or _")
)

_DIGITS = re.compile(r"[0-9]{1,20}")
YOUTUBE_CHANNEL = re.compile(r"UC[A-Za-z0-9_-]{22}")
_DID = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[a-z0-9.-]{3,253})")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _unicode_name(platform: str, handle: str, length: tuple[int, int], extra: str) -> str:
    """Letters and digits of any script plus `extra`; NFC, casefolded (YouTube, LinkedIn)."""
    name = unicodedata.normalize("NFC", handle)
    low, high = length
    if not low <= len(name) <= high or not all(c.isalnum() or c in extra for c in name):
        rule = _("{low}-{high} letters, digits or {signs}").format(
            low=low, high=high, signs=" ".join(extra))
        raise _invalid(platform, handle, rule)
    return name.casefold()


def _host(platform: str, handle: str) -> str:
    """A domain name's punycode form, lowercase; every label valid and a public suffix."""
    host = to_ascii(handle)
    labels = host.split(".") if host else []
    if (
        not host
        or len(host) > 253
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        or split_domain(host) is None
    ):
        raise _invalid(platform, handle, N_("not a domain name"))
    return host


def _youtube(handle: str) -> str:
    if YOUTUBE_CHANNEL.fullmatch(handle):
        return handle  # channel ids are case-sensitive
    return _unicode_name("youtube", handle.removeprefix("@"), (3, 30), "._-·")


_FACEBOOK_PAGE_ID = re.compile(r"[A-Za-z0-9._-]+-([0-9]{6,20})", re.ASCII)


def _facebook(handle: str) -> str:
    """Usernames, numeric ids, and old page addresses (`Page-Name`, `Page-Name-123456`)."""
    if _DIGITS.fullmatch(handle):
        return handle
    if page := _FACEBOOK_PAGE_ID.fullmatch(handle):
        return page[1]  # the id names the page; the name before it may change
    # New usernames need 5 characters; older pages have shorter ones (facebook.com/NASA).
    if not re.fullmatch(r"[A-Za-z0-9._-]{2,100}", handle, re.ASCII):
        raise _invalid("facebook", handle, N_("2-100 letters, digits, . or - (or a numeric id)"))
    return handle.replace(".", "").casefold()


def _telegram(handle: str) -> str:
    if re.fullmatch(r"-?[0-9]{1,20}", handle):
        return handle  # a numeric user or chat id
    return _telegram_name(handle)


def _bluesky(handle: str) -> str:
    if handle.startswith("did:"):
        if not _DID.fullmatch(handle.casefold()):
            raise _invalid("bluesky", handle, N_("not a did:plc or did:web"))
        return handle.casefold()
    return _host("bluesky", handle if "." in handle else f"{handle}.bsky.social")


def _mastodon(handle: str) -> str:
    user, at, instance = handle.partition("@")
    if not at:
        raise _invalid("mastodon", handle, N_("write it as user@instance"))
    return f"{_mastodon_user(user)}@{_host('mastodon', instance)}"


def _reddit(handle: str) -> str:
    kind, slash, name = handle.partition("/")
    if not slash:
        return _reddit_user(handle)
    if kind.casefold() in ("u", "user"):
        return _reddit_user(name)
    if kind.casefold() == "r":
        return f"r/{_subreddit(name)}"
    raise _invalid("reddit", handle, N_("write a user name, u/name or r/subreddit"))


LINKEDIN_KINDS = ("in", "company", "school", "showcase")


def _linkedin(handle: str) -> str:
    kind, slash, name = handle.partition("/")
    if not slash:
        kind, name = "in", handle
    kind = kind.casefold()
    if kind not in LINKEDIN_KINDS:
        rule = _("write in/…, {kinds}").format(kinds=", ".join(LINKEDIN_KINDS[1:]))
        raise _invalid("linkedin", handle, rule)
    slug = _unicode_name("linkedin", name, (2, 100), "-_")
    return slug if kind == "in" else f"{kind}/{slug}"


def _discord(handle: str) -> str:
    if _DIGITS.fullmatch(handle):
        return handle  # a user or server id
    kind, slash, code = handle.partition("/")
    if slash and kind.casefold() == "invite":
        if not re.fullmatch(r"[A-Za-z0-9-]{2,32}", code, re.ASCII):
            raise _invalid("discord", handle, N_("not an invite code"))
        return f"invite/{code}"  # random invite codes are case-sensitive
    return _discord_name(handle)


def _website(handle: str) -> str:
    host = _host("website", handle)
    parts = split_domain(host)
    assert parts is not None  # _host checked it
    registrable = to_ascii(parts.registrable)
    if registrable is None:
        raise _invalid("website", handle, N_("not a domain name"))
    return registrable


def _any(handle: str) -> str:
    return _unicode_name(ANY, handle, (1, 64), "._-·")


_KEYS: dict[str, Callable[[str], str]] = {
    "x": _x,
    "youtube": _youtube,
    "facebook": _facebook,
    "instagram": _instagram,
    "telegram": _telegram,
    "tiktok": _tiktok,
    "threads": _threads,
    "bluesky": _bluesky,
    "mastodon": _mastodon,
    "reddit": _reddit,
    "linkedin": _linkedin,
    "discord": _discord,
    "website": _website,
    ANY: _any,
}


def normalize_handle(platform: str, handle: str) -> str:
    """The registry key of `handle` on `platform`; InvalidHandle says in one line what is wrong."""
    key = _KEYS.get(platform)
    if key is None:
        platform_named(platform)  # raises UnknownPlatform with the valid names
        raise UnknownPlatform(_("{alias} is an alias: use {platform}").format(
            alias=repr(platform), platform=repr(platform_named(platform))))
    written = handle.strip()
    if platform != "youtube":  # a YouTube `@` marks a handle, not a channel id
        written = written.removeprefix("@")
    if not written:
        raise InvalidHandle(_("empty {what}").format(what=_handle_word(platform)))
    return key(written)


# --- showing ------------------------------------------------------------------------------------


def display_handle(ref: AccountRef) -> str:
    """The human form: `@nasa`, `r/python`, `@user@instance`, a unicode domain."""
    platform, handle = ref.platform, ref.handle
    if platform == "website":
        return to_unicode(handle)
    if platform == "mastodon":
        user, _, instance = handle.partition("@")
        return f"@{user}@{to_unicode(instance)}"
    if platform == "reddit":
        return handle if handle.startswith("r/") else f"u/{handle}"
    if platform == "linkedin":
        return handle if "/" in handle else f"in/{handle}"
    if platform == "discord" and handle.startswith("invite/"):
        return f"discord.gg/{handle.removeprefix('invite/')}"
    if (
        _DIGITS.fullmatch(handle.lstrip("-"))
        or handle.startswith("did:")
        or (platform == "youtube" and YOUTUBE_CHANNEL.fullmatch(handle))
    ):
        return handle  # ids are not @-names
    return f"@{handle}"


def profile_url(ref: AccountRef) -> str:
    """The canonical profile URL; "" where the platform has none (Discord names, bare handles)."""
    platform, h = ref.platform, ref.handle
    numeric = bool(_DIGITS.fullmatch(h.lstrip("-")))
    match platform:
        case "x":
            return f"https://x.com/{h}"
        case "youtube":
            if YOUTUBE_CHANNEL.fullmatch(h):
                return f"https://www.youtube.com/channel/{h}"
            return f"https://www.youtube.com/@{h}"
        case "facebook":
            if numeric:
                return f"https://www.facebook.com/profile.php?id={h}"
            return f"https://www.facebook.com/{h}"
        case "instagram":
            return f"https://www.instagram.com/{h}/"
        case "telegram":
            return f"tg://user?id={h}" if numeric else f"https://t.me/{h}"
        case "tiktok":
            return f"https://www.tiktok.com/@{h}"
        case "threads":
            return f"https://www.threads.com/@{h}"
        case "bluesky":
            return f"https://bsky.app/profile/{h}"
        case "mastodon":
            user, _, instance = h.partition("@")
            return f"https://{instance}/@{user}"
        case "reddit":
            return f"https://www.reddit.com/{h if h.startswith('r/') else 'user/' + h}/"
        case "linkedin":
            return f"https://www.linkedin.com/{h if '/' in h else 'in/' + h}/"
        case "discord":
            if h.startswith("invite/"):
                return f"https://discord.gg/{h.removeprefix('invite/')}"
            return f"https://discord.com/users/{h}" if numeric else ""
        case "website":
            return f"https://{h}/"
    return ""
