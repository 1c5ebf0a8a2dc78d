"""The chat grammar shared by text adapters: `/verdict` and `/report` arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.i18n import N_, _
from bot.model import IsOfficialError, Status
from bot.urls import http_link

_URL = re.compile(r"https?://\S+$", re.IGNORECASE)
VERDICT_USAGE = N_("Usage: /verdict <account> <status> [entity] [| note] [source url]")
REPORT_USAGE = N_("Usage: /report <account> <status> [note]")


@dataclass(frozen=True, slots=True)
class VerdictArgs:
    account: str
    status: Status
    entity: str | None
    note: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class ReportArgs:
    account: str
    status: Status
    note: str | None


def _split_head(args: str, usage: str) -> tuple[str, Status, str]:
    parts = args.strip().split(maxsplit=2)
    if len(parts) < 2:
        raise IsOfficialError(_(usage))
    rest = parts[2].strip() if len(parts) == 3 else ""
    return parts[0], Status.parse(parts[1]), rest


def parse_verdict(args: str) -> VerdictArgs:
    """`x:fakedprk impersonator Government of North Korea (DPRK) | fake page https://…`"""
    account, status, rest = _split_head(args, VERDICT_USAGE)
    url = None
    last = rest.rsplit(maxsplit=1)[-1] if rest else ""
    if _URL.match(last):
        url, rest = http_link(last, "source link"), rest[: -len(last)].strip()
    entity, _bar, note = (part.strip() for part in rest.partition("|"))
    return VerdictArgs(account, status, entity or None, note or None, url)


def parse_report(args: str) -> ReportArgs:
    account, status, rest = _split_head(args, REPORT_USAGE)
    return ReportArgs(account, status, rest or None)
