"""The input limits every edge applies: chat commands, the command line, import and both databases.

One set of rules, so SQLite (which stores anything) and PostgreSQL (which refuses NUL bytes and
over-long strings with a driver error) accept and refuse exactly the same things, and so an
export restores everything the bot ever accepted. Each refusal is one line naming the field.

- Lengths are in characters and match the columns of knowledge/tables.py.
- Text is stripped of surrounding whitespace (an import strips every cell, so a kept space would
  not survive a backup).
- NUL, other control characters, lone surrogates and U+FFFE/U+FFFF are refused; multi-line fields
  (notes, quotes, titles) keep line breaks and tabs, `\\r\\n` and a bare `\\r` read as `\\n`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.i18n import N_, _
from bot.model import Correction, Evidence, IsOfficialError, Report

MAX_ENTITY = 300  # entities.name
MAX_HANDLE = 300  # accounts.handle_key and handle_as_written
MAX_URL = 2000  # evidence.url
MAX_PLATFORM_ID = 100  # accounts.platform_id
MAX_BY = 200  # changes.by, reports.by
MAX_NOTE = 4000  # notes: about one chat message
MAX_TITLE = MAX_NOTE  # a source's title (a moderator's note may be one) and publisher
MAX_QUOTE = 4000
MAX_IMPORT_BYTES = 200 * 1024 * 1024  # one import file

# C0 and C1 controls, DEL, surrogates and the two noncharacters no text may hold.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile(r"\r\n?")


# The fields chat commands fill, in the asker's words (an import names its CSV column instead).
_FIELD: dict[str, str] = {
    "source url": N_("source url"),
    "source title": N_("source title"),
    "source publisher": N_("source publisher"),
    "source quote": N_("source quote"),
    "source link": N_("source link"),
    "link": N_("link"),
    "entity": N_("entity"),
    "note": N_("note"),
    "handle": N_("handle"),
    "platform id": N_("platform id"),
}


def field_name(field: str) -> str:
    return _(_FIELD[field]) if field in _FIELD else field


class RefusedInput(IsOfficialError):
    """A value outside the limits: the message names the field and the rule."""


def clean(field: str, value: str, limit: int, *, multiline: bool = False) -> str:
    """value stripped (line breaks made `\\n` when multiline), or RefusedInput saying why not."""
    text = value.strip()
    if multiline and "\r" in text:
        text = _LINE_BREAK.sub("\n", text).strip()
    forbidden = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN).search(text)
    if forbidden:
        code = f"U+{ord(forbidden[0]):04X}"
        raise RefusedInput(_("the {field} holds a control character ({code}): remove it").format(
            field=field_name(field), code=code))
    if len(text) > limit:
        raise RefusedInput(_("the {field} is longer than {limit} characters ({length})").format(
            field=field_name(field), limit=f"{limit:,}", length=f"{len(text):,}"))
    return text


def optional(field: str, value: str | None, limit: int, *, multiline: bool = False) -> str | None:
    """clean() for an optional value: None and blank both give None."""
    if value is None:
        return None
    return clean(field, value, limit, multiline=multiline) or None


def plain(text: str) -> bool:
    """Whether text holds no control character at all, line breaks and tabs included."""
    return _FORBIDDEN.search(text) is None


def printable(text: str) -> str:
    """text without the characters no field may hold: for what is only looked up, never stored
    (an autocomplete prefix), where a refusal would help nobody."""
    return _FORBIDDEN.sub("", text)


def who(name: str) -> str:
    """How the change log names someone, made storable: chat names are the users' own words."""
    return printable(name).strip()[:MAX_BY] or "unknown"


def checked_evidence(proof: Evidence) -> Evidence:
    return replace(
        proof,
        url=clean("source url", proof.url, MAX_URL),
        title=proof.title and clean("source title", proof.title, MAX_TITLE, multiline=True),
        publisher=optional("source publisher", proof.publisher, MAX_TITLE),
        quote=optional("source quote", proof.quote, MAX_QUOTE, multiline=True),
    )


def checked_correction(correction: Correction) -> Correction:
    """A verdict within the limits, or RefusedInput."""
    return replace(
        correction,
        entity=optional("entity", correction.entity, MAX_ENTITY),
        note=optional("note", correction.note, MAX_NOTE, multiline=True),
        handle_as_written=optional("handle", correction.handle_as_written, MAX_HANDLE),
        platform_id=optional("platform id", correction.platform_id, MAX_PLATFORM_ID),
        evidence=checked_evidence(correction.evidence) if correction.evidence else None,
    )


def checked_report(report: Report) -> Report:
    return replace(
        report,
        note=optional("note", report.note, MAX_NOTE, multiline=True),
        by=who(report.by),
    )
