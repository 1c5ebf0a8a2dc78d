"""Platform-neutral text for answers, sources and history. Adapters add markup and escaping."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domains import to_unicode
from bot.i18n import N_, _
from bot.model import (
    INVISIBLE,
    MIXED_SCRIPT,
    STARTER_DATA,
    AccountRef,
    Answer,
    Certainty,
    Change,
    Evidence,
    Lookalike,
    Nearby,
    Outcome,
    Reason,
    Report,
    Status,
    Strength,
)
from bot.platforms import profile_url
from bot.ports import FeedState
from bot.skeleton import odd_letters
from bot.verification import Verification
from bot.verify_text import history_line, verification_json, verification_line

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
    Status.OFFICIAL: N_("official account of {entity}"),
    Status.AFFILIATED: N_("affiliated with {entity}"),
    Status.UNOFFICIAL: N_("unofficial, not run by {entity}"),
    Status.PARODY: N_("parody of {entity}"),
    Status.IMPERSONATOR: N_("impersonator, not {entity}"),
    Status.COMPROMISED: N_("compromised account of {entity}"),
    Status.DEFUNCT: N_("defunct account of {entity}"),
    Status.UNKNOWN: N_("unknown: not in the registry"),
}


# Status words as people read them (commands still take the English words).
STATUS_NAME: dict[Status, str] = {
    Status.OFFICIAL: N_("official"),
    Status.AFFILIATED: N_("affiliated"),
    Status.UNOFFICIAL: N_("unofficial"),
    Status.PARODY: N_("parody"),
    Status.IMPERSONATOR: N_("impersonator"),
    Status.COMPROMISED: N_("compromised"),
    Status.DEFUNCT: N_("defunct"),
    Status.UNKNOWN: N_("unknown"),
}


def status_name(status: Status) -> str:
    return _(STATUS_NAME[status])


def day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else _("undated")


def headline(answer: Answer) -> str:
    """`✅ x:nasa — official account of NASA`; strong lookalikes, hidden or mixed-script letters
    lead with a red flag (a weak resemblance alone does not)."""
    flagged = answer.strong_lookalikes or answer.flags
    badge = LOOKALIKE_BADGE if flagged else BADGE[answer.status]
    meaning = _(_MEANING[answer.status]).format(entity=answer.entity or _("an unnamed entity"))
    return f"{badge} {answer.ref} — {meaning}"


# The reason's name as people read it (the JSON keeps the English word: contract).
_REASON_NAME: dict[Reason, str] = {
    Reason.HOMOGLYPH: N_("homoglyph"),
    Reason.TYPO: N_("typo"),
    Reason.AFFIX: N_("affix"),
    Reason.CROSS_PLATFORM: N_("cross-platform"),
}

# What each lookalike reason means, for people who don't know the word; a finer class (the
# lookalike's detail) has words of its own.
_REASON: dict[Reason, str] = {
    Reason.HOMOGLYPH: N_("look-alike characters"),
    Reason.TYPO: N_("a letter or two off"),
    Reason.AFFIX: N_("the name with something added"),
    Reason.CROSS_PLATFORM: N_("the official name, on another platform"),
}
_DETAIL: dict[str, str] = {
    "1-edit": N_("one letter off"),
    "2-edit": N_("two letters differ"),
    "insertion": N_("one letter added"),
    "leet": N_("digits written for letters"),
    "tld-swap": N_("another domain ending"),
    "part-dropped": N_("the name with its digits or last part left out"),
    "invisible": N_("the official name with an invisible character inside"),
    "separator": N_("the name with separators moved"),
}


# The scripts lookalikes borrow from, in words (ICU's names; a rarer script keeps its ICU name).
_SCRIPT: dict[str, str] = {
    "Latin": N_("Latin"),
    "Cyrillic": N_("Cyrillic"),
    "Greek": N_("Greek"),
    "Armenian": N_("Armenian"),
    "Georgian": N_("Georgian"),
    "Cherokee": N_("Cherokee"),
    "Arabic": N_("Arabic"),
    "Hebrew": N_("Hebrew"),
    "Han": N_("Han"),
    "Hangul": N_("Hangul"),
    "Hiragana": N_("Hiragana"),
    "Katakana": N_("Katakana"),
    "Thai": N_("Thai"),
    "Devanagari": N_("Devanagari"),
}


def script_name(script: str) -> str:
    """`Cyrillic`, or `styled Latin` (fullwidth, mathematical letters), in the asker's words."""
    styled = script.removeprefix("styled ")
    name = _(_SCRIPT[styled]) if styled in _SCRIPT else styled
    return name if styled == script else _("styled {script}").format(script=name)


def resemblance(lookalike: Lookalike) -> str:
    """The words for why an account looks like its target."""
    return _(_DETAIL.get(lookalike.detail) or _REASON[lookalike.reason])


def lookalike_line(lookalike: Lookalike, here: str = "") -> str:
    """`looks like x:nasa (NASA): affix — the name with something added; real account …`;
    a weak one says so first (`weak: … two letters differ`). The strength in words, no score.
    here: the platform of the account asked about."""
    target = lookalike.target
    where = _where(lookalike, here) if lookalike.cross_platform else ""
    url = profile_url(target)
    link = _("; real account: {url}").format(url=url) if url else ""
    line = _("looks like {account} ({entity}): {reason} — {resemblance}").format(
        account=target, entity=lookalike.entity, reason=_(_REASON_NAME[lookalike.reason]),
        resemblance=resemblance(lookalike))
    if lookalike.strength is Strength.WEAK:
        line = _("weak: {lookalike}").format(lookalike=line)
    return f"{line}{where}{link}"


def _where(lookalike: Lookalike, here: str) -> str:
    """For a target on another platform: whether the entity has an account where this one is."""
    if not here or here == lookalike.target.platform:
        return ""
    if lookalike.entity_here:
        return _("; {entity}'s {platform} account is another one").format(
            entity=lookalike.entity, platform=here)
    return _("; {entity} has no registered {platform} account").format(
        entity=lookalike.entity, platform=here)


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
        lines.append(_("contains an invisible character: it is not the account it looks like"))
    odd = odd_letters(shown_name(answer))
    if odd:
        marked = ", ".join(
            _("`{letter}` is {script}").format(letter=char, script=script_name(script))
            for char, script in odd)
        lines.append(_("written {name} — {letters}").format(name=shown_name(answer),
                                                           letters=marked))
    if MIXED_SCRIPT in answer.flags:
        lines.append(_("mixes Latin with Cyrillic or Greek letters: no real name does"))
    return lines


def nearby_line(nearby: Nearby) -> str:
    meaning = _(_MEANING[nearby.status]).format(entity=nearby.entity or _("an unnamed entity"))
    return _("registered nearby: {account} — {meaning}").format(account=nearby.ref, meaning=meaning)


def certainty_line(answer: Answer) -> str:
    if answer.certainty is Certainty.SOURCED:
        count = len(answer.evidence)
        sources = (_("{count} source") if count == 1 else _("{count} sources")).format(count=count)
        dates = [ev.published for ev in answer.evidence if ev.published]
        newest = _(", newest {date}").format(date=max(dates).isoformat()) if dates else ""
        return _("how sure: sourced ({sources}{newest}); {set_by}").format(
            sources=sources, newest=newest, set_by=set_by_line(answer))
    if answer.certainty is Certainty.UNSOURCED:
        return _("how sure: registered without a source; {set_by}").format(
            set_by=set_by_line(answer))
    if answer.certainty is Certainty.HEURISTIC:
        return _("how sure: not registered; resemblance found by the lookalike matcher")
    return _("how sure: nothing known about this account")


def set_by_line(answer: Answer) -> str:
    """When and by whom the verdict was set here: `verdict by @mona, 2026-12-01`, `set from
    the starter data, 2026-11-28`. Never "reviewed": nobody claims a review that did not happen."""
    when = day(answer.reviewed)
    by = answer.set_by
    if by is None:
        return _("verdict set {date}").format(date=when)
    if by == STARTER_DATA:
        return _("set from the starter data, {date}").format(date=when)
    if by.startswith("import:"):
        return _("imported from {source}, {date}").format(source=by.removeprefix("import:"),
                                                         date=when)
    shown = re.fullmatch(r"\S+ \((.+)\)", by)  # `telegram:42 (@mona)`: the name people know
    return _("verdict by {name}, {date}").format(name=shown.group(1) if shown else by, date=when)


def next_step(answer: Answer) -> list[str]:
    """What to do about an account nothing is known about: compare with what is registered near
    it, or report it."""
    if answer.status is not Status.UNKNOWN:
        return []
    return [*map(nearby_line, answer.nearby),
            _("know whose it is? /report {account} <status> [note] tells the moderators")
            .format(account=answer.ref)]


def unanswered_line(answers: Sequence[Answer]) -> str | None:
    """`and 2 more accounts: ask /check with fewer` when a message named more than the cap."""
    more = getattr(answers, "unanswered", 0)
    if not more:
        return None
    if more == 1:
        return _("and {count} more account: ask /check with fewer").format(count=more)
    return _("and {count} more accounts: ask /check with fewer").format(count=more)


def evidence_line(evidence: Evidence) -> str:
    """`2010-08-24 · Title — Publisher · https://…`; the link alone when it has neither."""
    when = evidence.published.isoformat() if evidence.published else _("undated")
    label = " — ".join(part for part in (evidence.title, evidence.publisher) if part)
    return f"{when} · {label} · {evidence.url}" if label else f"{when} · {evidence.url}"


def details(answer: Answer, full: bool = False) -> list[str]:
    """What follows the headline: why (the note; its first sentence unless full), warnings, how
    sure. Every adapter shows these, in a group, a DM or an embed."""
    lines = []
    if answer.aliases:
        lines.append(_("also known as {names}").format(names="; ".join(answer.aliases[:5])))
    if listed := listings(answer.evidence):
        lines.append(listed)
    if answer.note:
        lines.append(answer.note.strip() if full else gist(answer.note))
    lines += [f"⚠️ {line}" for line in flag_lines(answer)]
    lines += [
        f"{LOOKALIKE_BADGE if lk.strength is Strength.STRONG else '·'} "
        f"{lookalike_line(lk, answer.ref.platform)}"
        for lk in answer.lookalike_of
    ]
    lines += [f"⚠️ {notice}" for notice in answer.notices]
    if answer.verification is not None:
        lines.append(verification_line(answer.verification))
    lines.append(certainty_line(answer))
    lines += next_step(answer)
    return lines


def listings(evidence: Sequence[Evidence]) -> str | None:
    """`listed by congress-legislators, 2026-07-09; openstates, 2026-07-01`: the upstream
    registries whose listing is a source (their source's title says "listed by")."""
    listed = {
        ev.publisher: ev.published.isoformat() if ev.published else _("undated")
        for ev in evidence
        if ev.publisher and ev.title.startswith("listed by ")  # the title is stored data
    }
    if not listed:
        return None
    return _("listed by {registries}").format(
        registries="; ".join(f"{k}, {v}" for k, v in listed.items()))


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
        lines.append("  " + _("sources:"))
        lines += [f"    {evidence_line(ev)}" for ev in answer.evidence]
    if answer.mentions:
        lines.append("  " + _("recent mentions:"))
        lines += [f"    {evidence_line(ev)}" for ev in answer.mentions]
    return lines


def short_text(answers: Sequence[Answer]) -> str:
    more = unanswered_line(answers)
    lines = [line for answer in answers for line in short_lines(answer)]
    return "\n".join([*lines, more] if more else lines)


def full_text(answers: Sequence[Answer]) -> str:
    more = unanswered_line(answers)
    blocks = ["\n".join(full_lines(answer)) for answer in answers]
    return "\n\n".join([*blocks, more] if more else blocks)


def change_line(change: Change) -> str:
    """`2026-11-28 12:00 telegram:42: unknown -> impersonator (Gov of X) — note`"""
    entity = f" ({change.new_entity})" if change.new_entity else ""
    note = f" — {change.note}" if change.note else ""
    undo = " " + _("[undoes #{number}]").format(number=change.undoes) if change.undoes else ""
    source = f" · {change.evidence.url}" if change.evidence else ""
    return (
        f"#{change.id} {change.at:%Y-%m-%d %H:%M} {change.by}: "
        f"{status_name(change.old_status)} -> {status_name(change.new_status)}"
        f"{entity}{note}{undo}{source}"
    )


def history_text(
    ref: AccountRef, changes: Sequence[Change], verifications: Sequence[Verification] = ()
) -> str:
    """The change log, then the verifications, each newest first."""
    if not changes and not verifications:
        return _("{account}: no changes recorded").format(account=ref)
    heading = _("history of {account}, newest first:").format(account=ref)
    lines = [heading, *map(change_line, changes)]
    if verifications:
        lines += [_("verifications, newest first:"), *map(history_line, verifications)]
    return "\n".join(lines)


def report_queued(report: Report) -> str:
    """The reporter's confirmation, the same on every platform."""
    return _("Thanks, queued: moderators will review it.") + "\n" + report_text(report)


def report_text(report: Report) -> str:
    """`report #3: x:foo impersonator — note (by telegram:42 (@ann))`; a repeated report adds
    how often and by whom: `(3 times, by telegram:42 (@ann), discord:7 (bo))`."""
    note = f" — {report.note}" if report.note else ""
    who = ", ".join(report.everyone)
    if report.count > 1:
        by = _("{count} times, by {reporters}").format(count=report.count, reporters=who)
    else:
        by = _("by {reporters}").format(reporters=who)
    return _("report #{number}: {account} {status}{note} ({by})").format(
        number=report.id, account=report.ref, status=status_name(report.status), note=note, by=by)


def report_notice(report: Report) -> str:
    """What the moderators' chat gets for a new report."""
    return "📝 " + _("New {report}").format(report=report_text(report)) + "\n" + _(
        "Accept sets that verdict; Dismiss closes it.")


def report_outcome(report: Report, verdict: Answer | None) -> str:
    """What a reporter (and the moderators' chat) hears when a report is closed."""
    about = _("report #{number} ({account} {status})").format(
        number=report.id, account=report.ref, status=status_name(report.status))
    if report.outcome is Outcome.DISMISSED:
        if report.reason:
            return _("Your {report} was dismissed by the moderators: {reason}.").format(
                report=about, reason=report.reason)
        return _("Your {report} was dismissed by the moderators (no reason given).").format(
            report=about)
    now = " " + _("Now: {answer}").format(answer=headline(verdict)) if verdict else ""
    if report.outcome is Outcome.ACCEPTED:
        return _("Your {report} was accepted.").format(report=about) + now
    return _("The moderators decided your {report} otherwise.").format(report=about) + now


def closed_notice(report: Report) -> str:
    """What the moderators' chat gets when a report is dismissed."""
    return _("Report #{number} dismissed by {name}: {reason}").format(
        number=report.id, name=report.closed_by, reason=report.reason or _("no reason given"))


def verdict_notice(answer: Answer, by: str) -> str:
    """What the moderators' chat gets for each verdict change."""
    return "🔧 " + _("Verdict changed by {name}:").format(name=by) + "\n" + headline(answer)


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
        "reviewed_at": reviewed,  # when the verdict was set here (the name is kept: contract)
        "set_by": answer.set_by,
        "certainty": answer.certainty.value,
        "note": answer.note,
        "notices": list(answer.notices),
        "verification": verification_json(answer.verification),
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
        "entity_ids": list(answer.entity_ids),
        "aliases": list(answer.aliases),
    }


def error_json(query: str, message: str) -> dict[str, Any]:
    return {"query": query, "error": message}


def feed_line(feed: FeedState) -> str:
    """`https://… · last success 2026-11-28 12:00 · 12 items · last error: …`"""
    success = feed.last_success.strftime("%Y-%m-%d %H:%M") if feed.last_success else _("never")
    error = ""
    if feed.last_error:
        error = " · " + _("last error: {error}").format(error=feed.last_error)
    title = f"{feed.title} — " if feed.title else ""
    state = _("last success {date} · {count} items").format(date=success, count=feed.item_count)
    return f"{title}{feed.url} · {state}{error}"
