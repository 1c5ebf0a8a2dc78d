"""openstates/people: one YAML file per person, in a folder (the repository or any part of it).

One entity per person: its ocd-person id, the bioguide and wikidata ids among
other_identifiers, other_names as aliases; its accounts from ids (twitter, facebook,
instagram, youtube, mastodon) and the links noted "website". A YouTube `playlist?list=…` is
no channel: a problem of that person's record.
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

NAME = "openstates"
REPOSITORY = "https://github.com/openstates/people"
PLATFORMS = {
    "twitter": "x",
    "facebook": "facebook",
    "instagram": "instagram",
    "youtube": "youtube",
    "mastodon": "mastodon",
}
SCHEMES = ("bioguide", "wikidata")  # one value per person; other schemes may list several
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rows(path: Path, upstream: Upstream) -> Rows:
    folder = path if path.is_dir() else path.parent
    root = _repository_root(folder)
    revision = upstream.revision or git_revision(root) or "main"
    files = sorted(folder.rglob("*.yml")) if path.is_dir() else [path]
    for line, file in enumerate(files, start=1):
        where = file.relative_to(root).as_posix()
        try:
            person = _load(file)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            yield line, quirk(where, f"not readable: {str(error).splitlines()[0][:120]}")
            continue
        if not isinstance(person, dict) or not person.get("name"):
            yield line, quirk(where, "not a person (no name)")
            continue
        url = f"{REPOSITORY}/blob/{revision}/{where}"
        source = listing(NAME, where, url, file_date(file, upstream.published))
        for row in record_rows(where, partial(_person_rows, person, where, source)):
            yield line, row


def _person_rows(
    person: dict[str, Any], where: str, source: dict[str, str]
) -> Iterator[dict[str, str]]:
    base = _entity(person) | source
    for row in _accounts(person, where):
        yield base | row


def _repository_root(folder: Path) -> Path:
    """The folder holding data/ (the repository), so paths read as the repository's."""
    for candidate in (folder, *folder.parents):
        if (candidate / "data").is_dir() or (candidate / ".git").exists():
            return candidate
    return folder


def _load(file: Path) -> Any:
    with file.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_Loader)  # CSafeLoader or SafeLoader


def _entity(person: dict[str, Any]) -> dict[str, str]:
    identifiers = []
    ocd = str(person.get("id") or "")
    if ocd.startswith("ocd-person/"):
        identifiers.append(f"ocd-person:{ocd.removeprefix('ocd-person/')}")
    for other in person.get("other_identifiers") or []:
        scheme = str(other.get("scheme") or "")
        value = str(other.get("identifier") or "").strip()
        if scheme in SCHEMES and value:
            identifiers.append(f"{scheme}:{value}")
    name = str(person["name"]).strip()
    aliases = [str(n.get("name") or "").strip() for n in person.get("other_names") or []]
    return {
        "entity": name,
        "entity_ids": " ".join(dict.fromkeys(identifiers)),
        "aliases": "; ".join(a for a in aliases if a and ";" not in a),
        "verdict": "official",
    }


def _accounts(person: dict[str, Any], where: str) -> Iterator[dict[str, str]]:
    for key, value in (person.get("ids") or {}).items():
        platform = PLATFORMS.get(str(key))
        handle = str(value or "").strip()
        if platform is None:
            continue
        if not handle:
            yield quirk(where, f"empty {key} id")
        elif platform == "youtube" and handle.startswith(("playlist", "watch")):
            yield quirk(where, f"youtube {handle[:40]!r} is a playlist or video, not a channel")
        else:
            yield {"platform": platform, "handle": handle}
    for link in person.get("links") or []:
        if str(link.get("note") or "").lower() == "website" and link.get("url"):
            site = website(str(link["url"]).strip())
            if site:
                yield site
