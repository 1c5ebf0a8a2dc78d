"""The live check (implements bot.ports.LinkChecker): each official site's home page is read for
links to the account (plain, relative, rel="me", through a redirector or a shortener), then the
account's own side where its platform shows it without a login."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

from bot.model import AccountRef
from bot.verification import Direction, LinkCheck, SiteLinks
from knowledge.fetcher import FetchError, SafeFetcher
from knowledge.verify.accounts import (
    PLC_DIRECTORY,
    TxtLookup,
    bluesky_side,
    dns_txt,
    mastodon_side,
    read_home,
    website_side,
)
from knowledge.verify.links import SHORTENERS, PageLink, accounts_in, page_links

MAX_SHORT_LINKS = 20  # shortened links followed per page


class LiveLinkChecker:
    """fetcher None: each check opens its own safe fetcher (DEFAULT_LIMITS, the system's DNS
    and CAs) and closes it after; tests and long rounds pass one to share."""

    def __init__(
        self,
        fetcher: SafeFetcher | None = None,
        txt: TxtLookup = dns_txt,
        plc_directory: str = PLC_DIRECTORY,
        shorteners: frozenset[str] = SHORTENERS,
    ) -> None:
        self.fetcher = fetcher
        self.txt = txt
        self.plc_directory = plc_directory
        self.shorteners = shorteners

    async def check(self, ref: AccountRef, sites: Sequence[str]) -> SiteLinks:
        if self.fetcher is not None:
            return await self._check(self.fetcher, ref, sites)
        async with SafeFetcher.open() as fetcher:
            return await self._check(fetcher, ref, sites)

    async def _check(
        self, fetcher: SafeFetcher, ref: AccountRef, sites: Sequence[str]
    ) -> SiteLinks:
        read = await asyncio.gather(*(self._site(fetcher, ref, site) for site in sites))
        checks = [check for check, _ in read]
        linked = tuple(
            (site, account)
            for (_, accounts), site in zip(read, sites, strict=True)
            for account in accounts
        )
        checks += await self._account_side(fetcher, ref, sites)
        return SiteLinks(tuple(checks), linked)

    async def _site(
        self, fetcher: SafeFetcher, ref: AccountRef, site: str
    ) -> tuple[LinkCheck, list[AccountRef]]:
        """Whether the site's home page links to ref, and every account it links to."""
        try:
            url, body = await read_home(fetcher, site)
        except FetchError as error:
            how = f"could not read {site}: {error}"
            return LinkCheck(site, Direction.SITE_TO_ACCOUNT, None, how, f"https://{site}/"), []
        links = await self._unshortened(fetcher, page_links(body, url))
        named = [(account, link) for link in links for account in accounts_in(link.url)]
        linked = list(dict.fromkeys(account for account, _ in named))
        if ref == AccountRef("website", site):  # a site cannot vouch for itself
            how = "it is the official site itself: read for the accounts it links to"
            return LinkCheck(site, Direction.SITE_TO_ACCOUNT, None, how, url), linked
        to_ref = [link for account, link in named if account == ref]
        check = LinkCheck(site, Direction.SITE_TO_ACCOUNT, bool(to_ref), _how(to_ref), url)
        return check, linked

    async def _unshortened(self, fetcher: SafeFetcher, links: list[PageLink]) -> list[PageLink]:
        """The links, plus where each shortened one leads."""
        short = [link for link in links if self._is_short(link.url)][:MAX_SHORT_LINKS]
        targets = await asyncio.gather(
            *(fetcher.final_url(link.url, self._is_short) for link in short),
            return_exceptions=True,
        )
        followed = [
            PageLink(target, link.rel_me, _host(link.url))
            for link, target in zip(short, targets, strict=True)
            if isinstance(target, str)
        ]
        return links + followed

    def _is_short(self, url: str) -> bool:
        return _host(url) in self.shorteners

    async def _account_side(
        self, fetcher: SafeFetcher, ref: AccountRef, sites: Sequence[str]
    ) -> list[LinkCheck]:
        if ref.platform == "mastodon":
            return await mastodon_side(fetcher, ref, sites)
        if ref.platform == "bluesky":
            return await bluesky_side(fetcher, ref, sites, self.txt, self.plc_directory)
        if ref.platform == "website":
            return await website_side(fetcher, ref, sites)
        return []  # other platforms show profiles only to logged-in readers


def _how(links: list[PageLink]) -> str:
    if not links:
        return "no link to the account"
    best = min(links, key=lambda link: (not link.rel_me, link.via is not None))
    kind = 'rel="me" link' if best.rel_me else "link"
    return f"{kind} via {best.via}" if best.via else kind


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
