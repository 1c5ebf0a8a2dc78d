"""Platform-neutral text for answers, sources and history. Adapters add markup and escaping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.model import (
    AccountRef,
    Answer,
    Certainty,
    Change,
    Evidence,
    Lookalike,
    Reason,
    Report,
    Status,
)
from bot.ports import FeedState

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
    """`✅ x:nasa — official account of NASA`; lookalikes lead with a red flag."""
    badge = LOOKALIKE_BADGE if answer.lookalike_of else BADGE[answer.status]
    meaning = _MEANING[answer.status].format(entity=answer.entity or "an unnamed entity")
    return f"{badge} {answer.ref} — {meaning}"


# What each lookalike reason means, for people who don't know the word.
_REASON: dict[Reason, str] = {
    Reason.HOMOGLYPH: "look-alike characters",
    Reason.TYPO: "a letter or two off",
    Reason.AFFIX: "the name with something added",
    Reason.CROSS_PLATFORM: "the official name, on another platform",
}


def lookalike_line(lookalike: Lookalike) -> str:
    """`looks like x:nasa (NASA): affix, score 0.90 — the name with something added`"""
    return (
        f"looks like {lookalike.target} ({lookalike.entity}): "
        f"{lookalike.reason.value}, score {lookalike.score:.2f} — {_REASON[lookalike.reason]}"
    )


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
    if answer.aliases:
        lines.append(f"also known as {'; '.join(answer.aliases[:5])}")
    if listed := listings(answer.evidence):
        lines.append(listed)
    if answer.note:
        lines.append(answer.note.strip() if full else gist(answer.note))
    lines += [f"{LOOKALIKE_BADGE} {lookalike_line(lk)}" for lk in answer.lookalike_of]
    lines += [f"⚠️ {notice}" for notice in answer.notices]
    lines.append(certainty_line(answer))
    return lines


def listings(evidence: Sequence[Evidence]) -> str | None:
    """`listed by congress-legislators, 2026-07-09; openstates, 2026-07-01`: the upstream
    registries whose listing is a source (their source's title says "listed by")."""
    listed = {
        ev.publisher: ev.published.isoformat() if ev.published else "undated"
        for ev in evidence
        if ev.publisher and ev.title.startswith("listed by ")
    }
    return "listed by " + "; ".join(f"{k}, {v}" for k, v in listed.items()) if listed else None


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
    return (
        f"report #{report.id}: {report.ref} {report.status.value}{note} (by {report.by})"
    )


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
        "entity_ids": list(answer.entity_ids),
        "aliases": list(answer.aliases),
    }


def error_json(query: str, message: str) -> dict[str, Any]:
    return {"query": query, "error": message}


def feed_line(feed: FeedState) -> str:
    """`https://… · last success 2026-11-28 12:00 · 12 items · last error: …`"""
    success = feed.last_success.strftime("%Y-%m-%d %H:%M") if feed.last_success else "never"
    error = f" · last error: {feed.last_error}" if feed.last_error else ""
    title = f"{feed.title} — " if feed.title else ""
    return f"{title}{feed.url} · last success {success} · {feed.item_count} items{error}"
