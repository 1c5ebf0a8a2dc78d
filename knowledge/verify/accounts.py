"""The account's own side, where a platform shows it without a login: a Mastodon profile's
fields (and the instance's `verified_at`), a Bluesky handle on the site's domain (resolved both
ways), a website's own links."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

import dns.asyncresolver
import dns.exception

from bot.model import AccountRef
from bot.verification import Direction, LinkCheck
from knowledge.fetcher import FetchError, SafeFetcher
from knowledge.verify.links import on_site, page_links

# The DNS TXT strings at a name ("did=did:plc:…"); [] when it has none.
TxtLookup = Callable[[str], Awaitable[list[str]]]
PLC_DIRECTORY = "https://plc.directory"


async def dns_txt(name: str) -> list[str]:
    """TXT records through the system's resolver (dnspython)."""
    try:
        answer = await dns.asyncresolver.resolve(name, "TXT", lifetime=10)
    except dns.exception.DNSException:  # no such name, no TXT, no answer in time
        return []
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


async def mastodon_side(
    fetcher: SafeFetcher, ref: AccountRef, sites: Sequence[str]
) -> list[LinkCheck]:
    """Profile fields that link to a site; the instance's verified_at says the site links back."""
    user, _, instance = ref.handle.partition("@")
    url = f"https://{instance}/api/v1/accounts/lookup?acct={quote(user)}"
    try:
        profile = _json_object((await fetcher.fetch(url)).body)
    except (FetchError, ValueError) as error:
        return [_unread(site, Direction.ACCOUNT_TO_SITE, url, error) for site in sites]
    checks = []
    for field in profile.get("fields") or []:
        if not isinstance(field, dict):
            continue
        targets = [link.url for link in page_links(str(field.get("value") or ""), url)]
        for site in sites:
            if not any(on_site(target, site) for target in targets):
                continue
            verified = field.get("verified_at")
            if verified:
                how = f"Mastodon verified_at {str(verified)[:10]}: the instance found the link back"
                checks.append(LinkCheck(site, Direction.SITE_TO_ACCOUNT, True, how, url))
            how = "the Mastodon profile links to the site"
            checks.append(LinkCheck(site, Direction.ACCOUNT_TO_SITE, True, how, url))
    return checks


async def bluesky_side(
    fetcher: SafeFetcher,
    ref: AccountRef,
    sites: Sequence[str],
    txt: TxtLookup,
    plc_directory: str = PLC_DIRECTORY,
) -> list[LinkCheck]:
    """A handle on the site's own domain proves the domain's owner chose it, once the handle
    resolves to a DID (DNS `_atproto` TXT or https .well-known) whose document names it back."""
    handle = ref.handle
    checks = []
    for site in sites:
        if not (handle == site or handle.endswith("." + site)):
            continue
        checks.append(await _bluesky_both_ways(fetcher, handle, site, txt, plc_directory))
    return checks


async def _bluesky_both_ways(
    fetcher: SafeFetcher, handle: str, site: str, txt: TxtLookup, plc_directory: str
) -> LinkCheck:
    well_known = f"https://{handle}/.well-known/atproto-did"
    dids = {r.removeprefix("did=").strip() for r in await txt(f"_atproto.{handle}")}
    dids = {did for did in dids if did.startswith("did:")}
    ways = ["_atproto TXT"] if dids else []
    try:
        served = ((await fetcher.fetch(well_known)).body or b"").decode().strip()
        if served.startswith("did:"):
            dids.add(served)
            ways.append(".well-known/atproto-did")
    except (FetchError, UnicodeDecodeError):
        pass
    if len(dids) != 1:
        how = "the handle resolves to no DID" if not dids else "the handle resolves to two DIDs"
        return LinkCheck(site, Direction.SITE_TO_ACCOUNT, False, how, well_known)
    [did] = dids
    document_url = (
        f"https://{did.removeprefix('did:web:')}/.well-known/did.json"
        if did.startswith("did:web:")
        else f"{plc_directory.rstrip('/')}/{did}"
    )
    try:
        document = _json_object((await fetcher.fetch(document_url)).body)
    except (FetchError, ValueError) as error:
        return _unread(site, Direction.SITE_TO_ACCOUNT, document_url, error)
    names = {str(aka).lower() for aka in document.get("alsoKnownAs") or []}
    if f"at://{handle}" not in names:
        how = f"the handle resolves to {did}, whose DID document does not name it back"
        return LinkCheck(site, Direction.SITE_TO_ACCOUNT, False, how, document_url)
    how = f"Bluesky handle on the site's domain: {' and '.join(ways)} give {did}, naming it back"
    return LinkCheck(site, Direction.SITE_TO_ACCOUNT, True, how, well_known)


async def website_side(
    fetcher: SafeFetcher, ref: AccountRef, sites: Sequence[str]
) -> list[LinkCheck]:
    """A website account's home page: does it link to the official site (a claim only)?"""
    try:
        page = await read_home(fetcher, ref.handle)
    except FetchError as error:
        return [_unread(site, Direction.ACCOUNT_TO_SITE, f"https://{ref.handle}/", error)
                for site in sites]
    targets = [link.url for link in page_links(page[1], page[0])]
    return [
        LinkCheck(site, Direction.ACCOUNT_TO_SITE, True, "its home page links to the site", page[0])
        for site in sites
        if site != ref.handle and any(on_site(t, site) for t in targets)
    ]


async def read_home(fetcher: SafeFetcher, domain: str) -> tuple[str, bytes]:
    """(final URL, body) of a domain's home page: https first, then http."""
    try:
        fetched = await fetcher.fetch(f"https://{domain}/")
    except FetchError as secure_error:
        try:
            fetched = await fetcher.fetch(f"http://{domain}/")
        except FetchError:
            raise secure_error from None
    return fetched.url, fetched.body or b""


def _json_object(body: bytes | None) -> dict[str, Any]:
    """A JSON object; ValueError for anything else (a list, a page, junk)."""
    value = json.loads(body or b"")
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _unread(site: str, direction: Direction, url: str, error: Exception) -> LinkCheck:
    return LinkCheck(site, direction, None, f"could not read {url}: {error}", url)
