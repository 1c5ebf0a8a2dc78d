"""unitedstates/congress-legislators: legislators-current.yaml + legislators-social-media.yaml.

One entity per legislator (bioguide and wikidata ids, official full name); its accounts from
the social-media file (twitter with its numeric twitter_id, facebook, youtube with youtube_id,
instagram, mastodon) and the current term's official website (unless under a shared domain:
most are `name.house.gov`, which the registry cannot tell from house.gov).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from knowledge.upstreams import (
    Rows,
    Upstream,
    file_date,
    git_revision,
    listing,
    quirk,
    record_rows,
    website,
)

NAME = "congress-legislators"
REPOSITORY = "https://github.com/unitedstates/congress-legislators"
CURRENT = "legislators-current.yaml"
SOCIAL = "legislators-social-media.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rows(path: Path, upstream: Upstream) -> Rows:
    folder = path if path.is_dir() else path.parent
    revision = upstream.revision or git_revision(folder) or "main"
    people = {p["id"]["bioguide"]: p for p in _load(folder / CURRENT) if _bioguide(p)}
    social_url = f"{REPOSITORY}/blob/{revision}/{SOCIAL}"
    current_url = f"{REPOSITORY}/blob/{revision}/{CURRENT}"
    social_date = file_date(folder / SOCIAL, upstream.published)
    current_date = file_date(folder / CURRENT, upstream.published)
    line = 0
    for line, record in enumerate(_load(folder / SOCIAL), start=1):
        bioguide = _bioguide(record)
        person = people.pop(bioguide, None) if bioguide else None
        if person is None:
            yield line, quirk(f"{SOCIAL} #{line}", f"no current legislator {bioguide or '?'}")
            continue
        sources = (listing(NAME, SOCIAL, social_url, social_date),
                   listing(NAME, CURRENT, current_url, current_date))
        where = f"{SOCIAL} #{line}"
        for row in record_rows(where, partial(_person_rows, person, record, where, sources)):
            yield line, row
    for extra, person in enumerate(people.values(), start=line + 1):  # no social media
        website = _website(person)
        if website:
            source = listing(NAME, CURRENT, current_url, current_date)
            yield extra, _entity(person) | source | website


def _person_rows(
    person: dict[str, Any],
    record: dict[str, Any],
    where: str,
    sources: tuple[dict[str, str], dict[str, str]],
) -> Iterator[dict[str, str]]:
    """One legislator's accounts (from social media) and current website."""
    entity = _entity(person)
    social, current = sources
    for row in _accounts(record.get("social") or {}, where):
        yield entity | social | row
    website = _website(person)
    if website:
        yield entity | current | website


def _load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=_Loader)  # CSafeLoader or SafeLoader
    return [item for item in data or [] if isinstance(item, dict)]


def _bioguide(record: dict[str, Any]) -> str | None:
    ids = record.get("id") or {}
    return str(ids["bioguide"]) if ids.get("bioguide") else None


def _entity(person: dict[str, Any]) -> dict[str, str]:
    ids = person["id"]
    names = person.get("name") or {}
    full = names.get("official_full") or f"{names.get('first', '')} {names.get('last', '')}"
    identifiers = [f"bioguide:{ids['bioguide']}"]
    if ids.get("wikidata"):
        identifiers.append(f"wikidata:{ids['wikidata']}")
    return {"entity": full.strip(), "entity_ids": " ".join(identifiers), "verdict": "official"}


def _website(person: dict[str, Any]) -> dict[str, str] | None:
    """The current (last) term's official website."""
    terms = person.get("terms") or []
    url = str(terms[-1].get("url") or "") if terms else ""
    return website(url) if url else None


def _accounts(social: dict[str, Any], where: str) -> Iterator[dict[str, str]]:
    simple = {"twitter": "x", "facebook": "facebook", "instagram": "instagram"}
    for key, platform in simple.items():
        if key in social:
            handle = str(social[key] or "").strip()
            if not handle:
                yield quirk(where, f"empty {key}")
                continue
            row = {"platform": platform, "handle": handle}
            if key == "twitter" and social.get("twitter_id"):
                row["platform_id"] = str(social["twitter_id"])
            yield row
    if social.get("mastodon"):
        yield {"platform": "mastodon", "handle": str(social["mastodon"])}
    channel = str(social.get("youtube_id") or "").strip()
    user = str(social.get("youtube") or "").strip()
    if channel or user:
        url = f"https://www.youtube.com/channel/{channel}" if channel else ""
        yield {"platform": "youtube", "handle": user or channel, "url": url}
