"""Native importers: upstream registries read as they publish them, yielded as import rows.

Each module turns one upstream's records into the rows of knowledge.importer (entity_ids and
aliases included), so every upstream takes the one validation-and-merge path the CSV import
takes. An upstream quirk (a playlist given as a channel, an empty id) becomes a problem row of
its record; the rest go on. Each account's source is the upstream record (repository file at a
commit, or the item at a revision) with its date, titled "listed by NAME (…)".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

Rows = Iterator[tuple[int, dict[str, str]]]
LISTED = "listed by"  # the title of a source that is an upstream's listing (bot/render shows it)


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where the records come from: the revision read (a commit, when known) and its date."""

    revision: str | None = None
    published: date | None = None


def listing(
    name: str, what: str, url: str, published: date | None
) -> dict[str, str]:
    """The source columns of a row listed by an upstream."""
    return {
        "source_url": url,
        "source_title": f"{LISTED} {name} ({what})",
        "source_publisher": name,
        "source_published": published.isoformat() if published else "",
    }


def website(url: str) -> dict[str, str] | None:
    """The row of an official website; None for a site under a shared domain (adams.house.gov):
    the registry keys a website by its registrable domain, which is not that entity's alone."""
    from urllib.parse import urlsplit

    from bot.handles import parse_ref
    from bot.model import IsOfficialError

    try:
        key = parse_ref(url).ref.handle
    except IsOfficialError:
        return {"platform": "website", "url": url}  # the import reports what is wrong
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return {"platform": "website", "url": url} if host == key else None


def quirk(where: str, message: str) -> dict[str, str]:
    """A problem row: the upstream's record says something that is no account."""
    return {"__error__": f"{where}: {message}"}


def record_rows(where: str, make: Callable[[], Iterable[dict[str, str]]]) -> list[dict[str, str]]:
    """The rows of one upstream record, or one quirk when the record is not in the shape its
    format publishes (a list where a mapping belongs, a missing key): one bad record costs its
    own rows, never the rest of the file."""
    try:
        return list(make())
    except (AttributeError, KeyError, IndexError, TypeError) as error:
        return [quirk(where, f"not in the upstream's shape ({type(error).__name__}: {error})")]


def file_date(path: Path, given: date | None) -> date:
    """The date the listing is from: the one given, else the file's modification day."""
    return given or datetime.fromtimestamp(path.stat().st_mtime, UTC).date()


def git_revision(folder: Path) -> str | None:
    """The commit a git checkout is at (read from .git, no git needed), or None."""
    head = folder / ".git" / "HEAD"
    try:
        text = head.read_text().strip()
        if text.startswith("ref: "):
            return (folder / ".git" / text[5:]).read_text().strip()
        return text
    except OSError:
        return None


def readers() -> dict[str, Callable[[Path, Upstream], Rows]]:
    from knowledge.upstreams import congress_legislators, openstates, wikidata

    return {
        "congress-legislators": congress_legislators.rows,
        "openstates": openstates.rows,
        "wikidata": wikidata.rows,
    }
