"""How verifications read: in answers (check, /sources), in history and after /verify."""

from __future__ import annotations

from typing import Any

from bot.i18n import _
from bot.model import AccountRef
from bot.verification import Direction, LinkCheck, LinkState, Verification, VerifyResult

LINK_BADGE = "🔗"


def verification_line(verification: Verification) -> str:
    """`linked from nasa.gov (rel="me" link, checked 2026-12-01)`, or why not: one-way links
    are named as such, never as proof."""
    day = _("checked {date}").format(date=f"{verification.checked:%Y-%m-%d}")
    state = verification.state
    if state is LinkState.LINKED:
        linked = [_with_how(verification, site) for site in verification.linked_from]
        text = _("linked from {sites} ({checked})").format(sites=", ".join(linked), checked=day)
    elif state is LinkState.ONE_WAY:
        sites = ", ".join(verification.claimed_sites)
        text = _("one-way: it links to {sites}, which does not link back ({checked}): not proof"
                 ).format(sites=sites, checked=day)
    elif state is LinkState.NOT_LINKED:
        text = _("not linked from {sites} ({checked})").format(
            sites=", ".join(verification.unlinked_from), checked=day)
    else:
        why = next((c.how for c in verification.checks if c.found is None), None)
        text = _("not verified: {why} ({checked})").format(
            why=why or _("nothing was read"), checked=day)
    unlinked = [s for s in verification.unlinked_from if s not in verification.linked_from]
    if state is LinkState.LINKED and unlinked:
        text += _("; not linked from {sites}").format(sites=", ".join(unlinked))
    return f"{LINK_BADGE} {text}"


def _with_how(verification: Verification, site: str) -> str:
    how = next(
        c.how
        for c in verification.checks
        if c.site == site and c.found and c.direction is Direction.SITE_TO_ACCOUNT
    )
    return f"{site} ({how})"


def check_line(check: LinkCheck) -> str:
    """One look, for the full report: `nasa.gov → account: found (rel="me" link) · https://…`."""
    to_account = check.direction is Direction.SITE_TO_ACCOUNT
    arrow = _("site → account") if to_account else _("account → site")
    found = {True: _("found"), False: _("not found"), None: _("not read")}[check.found]
    return f"{check.site} {arrow}: {found} ({check.how}) · {check.url}"


def outcome_text(outcome: VerifyResult) -> str:
    """What verify answers: the conclusion, each look, and what was queued for moderators."""
    verification = outcome.verification
    lines = [f"{verification.ref}: {verification_line(verification)}"]
    lines += [f"  {check_line(check)}" for check in verification.checks]
    if outcome.lost:
        lines.append("  ⚠️ " + _("the link is gone since the last check: reported to moderators"))
    if outcome.suggested:
        lines.append("  " + _("the official site also links to accounts the registry lacks "
                              "(reported):"))
        lines += [f"    {ref}" for ref in outcome.suggested]
    return "\n".join(lines)


def history_line(verification: Verification) -> str:
    """`2026-12-01 12:00 verify by telegram:42: 🔗 linked from nasa.gov (…)`"""
    return _("{time} verify by {name}: {verification}").format(
        time=f"{verification.checked:%Y-%m-%d %H:%M}", name=verification.by,
        verification=verification_line(verification))


def verification_json(verification: Verification | None) -> dict[str, Any] | None:
    if verification is None:
        return None
    return {
        "state": verification.state.value,
        "checked_at": verification.checked.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "linked_from": list(verification.linked_from),
        "checks": [
            {
                "site": c.site,
                "direction": c.direction.value,
                "found": c.found,
                "how": c.how,
                "url": c.url,
            }
            for c in verification.checks
        ],
    }


def suggested_json(refs: tuple[AccountRef, ...]) -> list[dict[str, str]]:
    return [{"platform": ref.platform, "handle": ref.handle} for ref in refs]
