"""The live link checker, loaded at its first check: it brings aiohttp and dnspython (a tenth
of a second at every start), and most runs of the command line never verify anything."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.model import AccountRef
from bot.ports import LinkChecker
from bot.verification import SiteLinks

if TYPE_CHECKING:
    from knowledge.fetcher import SafeFetcher
    from knowledge.verify.accounts import TxtLookup


class LiveOnFirstUse:
    """A LinkChecker: knowledge.verify.checker's LiveLinkChecker, made when first asked.

    fetcher None: a fresh safe fetcher for each check; txt None: the system's DNS; plc_directory
    None: the public PLC directory."""

    def __init__(
        self,
        fetcher: SafeFetcher | None = None,
        txt: TxtLookup | None = None,
        plc_directory: str | None = None,
    ) -> None:
        self._arguments = (fetcher, txt, plc_directory)
        self._live: LinkChecker | None = None

    async def check(self, ref: AccountRef, sites: Sequence[str]) -> SiteLinks:
        return await self._checker().check(ref, sites)

    def _checker(self) -> LinkChecker:
        if self._live is None:
            from knowledge.verify.accounts import PLC_DIRECTORY, dns_txt
            from knowledge.verify.checker import LiveLinkChecker

            fetcher, txt, plc_directory = self._arguments
            self._live = LiveLinkChecker(fetcher, txt or dns_txt, plc_directory or PLC_DIRECTORY)
        return self._live
