"""Verify: read the entity's official sites live, keep the dated result, and tell moderators
what it means (a link lost since the last check, accounts the site links to that the registry
lacks) as reports: a verification never changes a verdict by itself."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.i18n import _
from bot.model import AccountRef, IsOfficialError, Report, Status
from bot.ports import LinkChecker, Registry, VerificationStore
from bot.verification import SiteLinks, Verification, VerifyResult

log = logging.getLogger(__name__)

REPORTER = "verify"  # how reports from verification name their author
SCHEDULED = "scheduled re-verify"  # who the history says verified, for `run`'s rounds
MAX_SUGGESTIONS = 20  # accounts reported per verify, from the official sites' links
OPEN_REPORTS_READ = 500  # open reports looked through so one is not filed twice


@dataclass(frozen=True, slots=True)
class Verifier:
    registry: Registry
    store: VerificationStore
    checker: LinkChecker

    async def verify(self, ref: AccountRef, entity: str | None, by: str) -> VerifyResult:
        """Check ref against entity's official sites; IsOfficialError when there is nothing to
        check against."""
        if not entity:
            raise IsOfficialError(
                _("{account} has no entity: name the entity whose official site should link to it")
                .format(account=ref)
            )
        sites = await self.store.official_sites(entity)
        if not sites:
            raise IsOfficialError(
                _("{entity} has no registered official website to check against "
                  "(register one: verdict website:<domain> official --entity ...)")
                .format(entity=entity)
            )
        previous = (await self.store.latest([ref])).get(ref)
        found = await self.checker.check(ref, sites)
        verification = Verification(ref, datetime.now(UTC), found.checks, by)
        await self.store.record(verification)
        lost = _lost_sites(previous, verification)
        if lost:
            await self._flag_lost(verification, previous, lost)
        suggested = await self._suggest(ref, entity, found)
        return VerifyResult(verification, suggested, bool(lost))

    async def reverify(self, checked_before: datetime, limit: int) -> list[VerifyResult]:
        """Verify again the registered accounts last verified before checked_before."""
        outcomes = []
        for ref in await self.store.due(checked_before, limit):
            record = (await self.registry.find([ref])).get(ref)
            if record is None or not record.entity:
                continue  # withdrawn since: nothing to re-verify
            try:
                outcomes.append(await self.verify(ref, record.entity, SCHEDULED))
            except IsOfficialError as error:  # e.g. its entity's website was withdrawn
                log.warning("re-verifying %s: %s", ref, error)
        return outcomes

    async def latest(self, refs: Sequence[AccountRef]) -> dict[AccountRef, Verification]:
        return await self.store.latest(refs)

    async def _flag_lost(
        self, now: Verification, before: Verification | None, sites: list[str]
    ) -> None:
        record = (await self.registry.find([now.ref])).get(now.ref)
        since = f" on {before.checked:%Y-%m-%d}" if before else ""
        note = (
            f"link lost: {', '.join(sites)} linked to this account{since}, not on "
            f"{now.checked:%Y-%m-%d}; the verdict is unchanged until a moderator reviews it"
        )
        status = record.status if record else Status.UNKNOWN
        await self._report_once(Report(now.ref, status, REPORTER, note))

    async def _suggest(
        self, ref: AccountRef, entity: str, found: SiteLinks
    ) -> tuple[AccountRef, ...]:
        """Accounts the official sites link to that the registry lacks, each reported once."""
        candidates = {
            account: site
            for site, account in found.linked
            if account != ref and account.platform != "website"
        }
        site_refs = [AccountRef("website", site) for site in set(candidates.values())]
        known = await self.registry.find([*candidates, *site_refs])
        missing = [account for account in candidates if account not in known][:MAX_SUGGESTIONS]
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        for account in missing:
            note = (
                f"suggested by verify: linked from {candidates[account]}, an official site of "
                f"{entity} (checked {day}); not in the registry"
            )
            site = known.get(AccountRef("website", candidates[account]))
            status = site.status if site else Status.OFFICIAL  # as official as the site is
            await self._report_once(Report(account, status, REPORTER, note))
        return tuple(missing)

    async def _report_once(self, report: Report) -> None:
        open_ones = await self.registry.open_reports(OPEN_REPORTS_READ)
        if any(r.ref == report.ref and r.by == REPORTER for r in open_ones):
            return
        await self.registry.add_report(report)


def _lost_sites(before: Verification | None, now: Verification) -> list[str]:
    """Sites that linked to the account last time and were read without a link now (a site
    that could not be read is no loss: it is asked again next time)."""
    if before is None:
        return []
    return [site for site in before.linked_from if site in now.unlinked_from]
