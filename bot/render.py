"""Platform-neutral text for answers, sources and history. Adapters add markup and escaping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domains import to_unicode
from bot.model import (
    INVISIBLE,
    MIXED_SCRIPT,
    AccountRef,
    Answer,
    Certainty,
    Change,
    Evidence,
    Lookalike,
    Nearby,
    Reason,
    Report,
    Status,
    Strength,
)
from bot.platforms import profile_url
from bot.ports import FeedState
from bot.skeleton import odd_letters

BADGE: dict[Status, str] = {
    Status.OFFICIAL: "✅",
    Status.AFFILIATED: "☑️",
    Status.UNOFFICIAL: "⚠️",
    Status.PARODY: "🎭",
    Status.IMPERSONATOR: "⛔",
    Status.COMPROMISED: "🚨",
    Status.DEFUNCT: "🪦",
    Status.UNKNOWN: "❔",
}
LOOKALIKE_BADGE = "🚩"

# How each status reads in a sentence; {entity} is the entity's name.
_MEANING: dict[Status, str] = {
    Status.OFFICIAL: "official account of {entity}",
    Status.AFFILIATED: "affiliated with {entity}",
    Status.UNOFFICIAL: "unofficial, not run by {entity}",
    Status.PARODY: "parody of {entity}",
    Status.IMPERSONATOR: "impersonator, not {entity}",
    Status.COMPROMISED: "compromised account of {entity}",
    Status.DEFUNCT: "defunct account of {entity}",
    Status.UNKNOWN: "unknown: not in the registry",
}


def day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "undated"


def headline(answer: Answer) -> str:
    """`✅ x:nasa — official account of NASA`; strong lookalikes, hidden or mixed-script letters
    lead with a red flag (a weak resemblance alone does not)."""
    flagged = answer.strong_lookalikes or answer.flags
    badge = LOOKALIKE_BADGE if flagged else BADGE[answer.status]
    meaning = _MEANING[answer.status].format(entity=answer.entity or "an unnamed entity")
    return f"{badge} {answer.ref} — {meaning}"


# What each lookalike reason means, for people who don't know the word; a finer class (the
# lookalike's detail) has words of its own.
_REASON: dict[Reason, str] = {
    Reason.HOMOGLYPH: "look-alike characters",
    Reason.TYPO: "a letter or two off",
    Reason.AFFIX: "the name with something added",
    Reason.CROSS_PLATFORM: "the official name, on another platform",
}
_DETAIL: dict[str, str] = {
    "1-edit": "one letter off",
    "2-edit": "two letters differ",
    "insertion": "one letter added",
    "leet": "digits written for letters",
    "tld-swap": "another domain ending",
    "part-dropped": "the name with its digits or last part left out",
    "invisible": "the official name with an invisible character inside",
    "separator": "the name with separators moved",
}


def resemblance(lookalike: Lookalike) -> str:
    """The words for why an account looks like its target."""
    return _DETAIL.get(lookalike.detail) or _REASON[lookalike.reason]


def lookalike_line(lookalike: Lookalike, here: str = "") -> str:
    """`looks like x:nasa (NASA): affix — the name with something added; real account …`;
    a weak one says so first (`weak: … two letters differ`). The strength in words, no score.
    here: the platform of the account asked about."""
    target = lookalike.target
    where = _where(lookalike, here) if lookalike.cross_platform else ""
    url = profile_url(target)
    link = f"; real account: {url}" if url else ""
    weak = "weak: " if lookalike.strength is Strength.WEAK else ""
    return (
        f"{weak}looks like {target} ({lookalike.entity}): "
        f"{lookalike.reason.value} — {resemblance(lookalike)}{where}{link}"
    )


def _where(lookalike: Lookalike, here: str) -> str:
    """For a target on another platform: whether the entity has an account where this one is."""
    if not here or here == lookalike.target.platform:
        return ""
    if lookalike.entity_here:
        return f"; {lookalike.entity}'s {here} account is another one"
    return f"; {lookalike.entity} has no registered {here} account"


def shown_name(answer: Answer) -> str:
    """The name as a reader sees it (a website decoded from xn--), odd letters marked."""
    name = answer.written or answer.ref.handle
    if answer.ref.platform == "website" and "xn--" in name:
        name = to_unicode(name)
    return name


def flag_lines(answer: Answer) -> list[str]:
    """What the written name itself shows: invisible characters, letters of other scripts."""
    lines = []
    if INVISIBLE in answer.flags:
        lines.append("contains an invisible character: it is not the account it looks like")
    odd = odd_letters(shown_name(answer))
    if odd:
        marked = ", ".join(f"`{char}` is {script}" for char, script in odd)
        lines.append(f"written {shown_name(answer)} — {marked}")
    if MIXED_SCRIPT in answer.flags:
        lines.append("mixes Latin with Cyrillic or Greek letters: no real name does")
    return lines


def nearby_line(nearby: Nearby) -> str:
    meaning = _MEANING[nearby.status].format(entity=nearby.entity or "an unnamed entity")
    return f"registered nearby: {nearby.ref} — {meaning}"


def next_step(answer: Answer) -> str | None:
    """What to do about an unknown account: report it to the moderators."""
    if answer.status is not Status.UNKNOWN:
        return None
    return f"to report it: /report {answer.ref} impersonator (or unofficial, parody…)"


def certainty_line(answer: Answer) -> str:
    if answer.certainty is Certainty.SOURCED:
        count = len(answer.evidence)
        sources = f"{count} source" + ("s" if count != 1 else "")
        dates = [ev.published for ev in answer.evidence if ev.published]
        newest = f", newest {max(dates).isoformat()}" if dates else ""
        return f"how sure: sourced ({sources}{newest}), reviewed {day(answer.reviewed)}"
    if answer.certainty is Certainty.UNSOURCED:
        return f"how sure: registered without a source, reviewed {day(answer.reviewed)}"
    if answer.certainty is Certainty.HEURISTIC:
        return "how sure: not registered; resemblance found by the lookalike matcher"
    return "how sure: nothing known about this account"


def evidence_line(evidence: Evidence) -> str:
    """`2010-08-24 · Title — Publisher · https://…`; the link alone when it has neither."""
    when = evidence.published.isoformat() if evidence.published else "undated"
    label = " — ".join(part for part in (evidence.title, evidence.publisher) if part)
    return f"{when} · {label} · {evidence.url}" if label else f"{when} · {evidence.url}"


def details(answer: Answer, full: bool = False) -> list[str]:
    """What follows the headline: why (the note; its first sentence unless full), warnings, how
    sure. Every adapter shows these, in a group, a DM or an embed."""
    lines = []
    if answer.note:
        lines.append(answer.note.strip() if full else gist(answer.note))
    lines += [f"⚠️ {line}" for line in flag_lines(answer)]
    lines += [
        f"{LOOKALIKE_BADGE if lk.strength is Strength.STRONG else '·'} "
        f"{lookalike_line(lk, answer.ref.platform)}"
        for lk in answer.lookalike_of
    ]
    lines += [f"⚠️ {notice}" for notice in answer.notices]
    lines += [nearby_line(nearby) for nearby in answer.nearby]
    lines.append(certainty_line(answer))
    return lines


def gist(note: str, limit: int = 200) -> str:
    """A note's first sentence, short enough for a group chat."""
    first = re.split(r"(?<=[.!?])\s", note.strip(), maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def short_lines(answer: Answer) -> list[str]:
    """What a group sees: verdict, why (the note's first sentence), warnings, how sure. No links."""
    return [headline(answer), *(f"  {line}" for line in details(answer))]


def full_lines(answer: Answer) -> list[str]:
    """What a DM or the console sees: everything, the whole note, every source and date."""
    lines = [headline(answer), *(f"  {line}" for line in details(answer, full=True))]
    if step := next_step(answer):
        lines.append(f"  {step}")
    if answer.evidence:
        lines.append("  sources:")
        lines += [f"    {evidence_line(ev)}" for ev in answer.evidence]
    if answer.mentions:
        lines.append("  recent mentions:")
        lines += [f"    {evidence_line(ev)}" for ev in answer.mentions]
    return lines


def short_text(answers: Sequence[Answer]) -> str:
    return "\n".join(line for answer in answers for line in short_lines(answer))


def full_text(answers: Sequence[Answer]) -> str:
    return "\n\n".join("\n".join(full_lines(answer)) for answer in answers)


def change_line(change: Change) -> str:
    """`2026-11-28 12:00 telegram:42: unknown -> impersonator (Gov of X) — note`"""
    entity = f" ({change.new_entity})" if change.new_entity else ""
    note = f" — {change.note}" if change.note else ""
    undo = f" [undoes #{change.undoes}]" if change.undoes else ""
    source = f" · {change.evidence.url}" if change.evidence else ""
    return (
        f"#{change.id} {change.at:%Y-%m-%d %H:%M} {change.by}: "
        f"{change.old_status.value} -> {change.new_status.value}{entity}{note}{undo}{source}"
    )


def history_text(ref: AccountRef, changes: Sequence[Change]) -> str:
    if not changes:
        return f"{ref}: no changes recorded"
    return "\n".join([f"history of {ref}, newest first:", *map(change_line, changes)])


def report_queued(report: Report) -> str:
    """The reporter's confirmation, the same on every platform."""
    return f"Thanks, queued: moderators will review it.\n{report_text(report)}"


def report_text(report: Report) -> str:
    note = f" — {report.note}" if report.note else ""
    return f"report #{report.id}: {report.ref} {report.status.value}{note} (by {report.by})"


def split_message(text: str, limit: int) -> list[str]:
    """Pieces under `limit` characters, split at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single overlong line: hard-split it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            candidate = line
        current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def lookalike_json(lookalike: Lookalike) -> dict[str, Any]:
    return {
        "platform": lookalike.target.platform,
        "handle": lookalike.target.handle,
        "entity": lookalike.entity,
        "reason": lookalike.reason.value,
        "score": round(lookalike.score, 3),
        "strength": lookalike.strength.value,
        "cross_platform": lookalike.cross_platform,
        "entity_here": lookalike.entity_here,
        "detail": lookalike.detail or None,
        "url": profile_url(lookalike.target) or None,
    }


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    row: dict[str, Any] = {
        "url": evidence.url,
        "title": evidence.title,
        "published": evidence.published.isoformat() if evidence.published else None,
    }
    if evidence.publisher:
        row["publisher"] = evidence.publisher
    if evidence.quote:
        row["quote"] = evidence.quote
    return row


def answer_json(answer: Answer) -> dict[str, Any]:
    """The `check --json` line of INTERFACE.md (plus certainty, note and notices)."""
    reviewed = answer.reviewed.strftime("%Y-%m-%dT%H:%M:%SZ") if answer.reviewed else None
    return {
        "query": answer.query,
        "platform": answer.ref.platform,
        "handle": answer.ref.handle,
        "status": answer.status.value,
        "entity": answer.entity,
        "lookalike_of": [lookalike_json(lk) for lk in answer.lookalike_of],
        "evidence": [evidence_json(ev) for ev in answer.evidence],
        "mentions": [evidence_json(ev) for ev in answer.mentions],
        "reviewed_at": reviewed,
        "certainty": answer.certainty.value,
        "note": answer.note,
        "notices": list(answer.notices),
        "flags": list(answer.flags),
        "nearby": [
            {
                "platform": n.ref.platform,
                "handle": n.ref.handle,
                "status": n.status.value,
                "entity": n.entity,
            }
            for n in answer.nearby
        ],
    }


def error_json(query: str, message: str) -> dict[str, Any]:
    return {"query": query, "error": message}


def feed_line(feed: FeedState) -> str:
    """`https://… · last success 2026-11-28 12:00 · 12 items · last error: …`"""
    success = feed.last_success.strftime("%Y-%m-%d %H:%M") if feed.last_success else "never"
    error = f" · last error: {feed.last_error}" if feed.last_error else ""
    title = f"{feed.title} — " if feed.title else ""
    return f"{title}{feed.url} · last success {success} · {feed.item_count} items{error}"
