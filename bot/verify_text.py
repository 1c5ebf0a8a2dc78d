"""How verifications read: in answers (check, /sources), in history and after /verify."""

from __future__ import annotations

from typing import Any

from bot.model import AccountRef
from bot.verification import Direction, LinkCheck, LinkState, Verification, VerifyResult

LINK_BADGE = "🔗"


def verification_line(verification: Verification) -> str:
    """`linked from nasa.gov (rel="me" link, checked 2026-12-01)`, or why not: one-way links
    are named as such, never as proof."""
    day = f"checked {verification.checked:%Y-%m-%d}"
    state = verification.state
    if state is LinkState.LINKED:
        linked = [_with_how(verification, site) for site in verification.linked_from]
        text = f"linked from {', '.join(linked)} ({day})"
    elif state is LinkState.ONE_WAY:
        sites = ", ".join(verification.claimed_sites)
        text = f"one-way: it links to {sites}, which does not link back ({day}): not proof"
    elif state is LinkState.NOT_LINKED:
        text = f"not linked from {', '.join(verification.unlinked_from)} ({day})"
    else:
        why = next((c.how for c in verification.checks if c.found is None), "nothing was read")
        text = f"not verified: {why} ({day})"
    unlinked = [s for s in verification.unlinked_from if s not in verification.linked_from]
    if state is LinkState.LINKED and unlinked:
        text += f"; not linked from {', '.join(unlinked)}"
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
    arrow = "site → account" if check.direction is Direction.SITE_TO_ACCOUNT else "account → site"
    found = {True: "found", False: "not found", None: "not read"}[check.found]
    return f"{check.site} {arrow}: {found} ({check.how}) · {check.url}"


def outcome_text(outcome: VerifyResult) -> str:
    """What verify answers: the conclusion, each look, and what was queued for moderators."""
    verification = outcome.verification
    lines = [f"{verification.ref}: {verification_line(verification)}"]
    lines += [f"  {check_line(check)}" for check in verification.checks]
    if outcome.lost:
        lines.append("  ⚠️ the link is gone since the last check: reported to moderators")
    if outcome.suggested:
        lines.append("  the official site also links to accounts the registry lacks (reported):")
        lines += [f"    {ref}" for ref in outcome.suggested]
    return "\n".join(lines)


def history_line(verification: Verification) -> str:
    """`2026-12-01 12:00 verify by telegram:42: 🔗 linked from nasa.gov (…)`"""
    return f"{verification.checked:%Y-%m-%d %H:%M} verify by {verification.by}: " + (
        verification_line(verification)
    )


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
