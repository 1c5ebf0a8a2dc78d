"""Wikidata items: Special:EntityData JSON, the dumps' one-entity-per-line JSON, SPARQL results.

Claims read: P2002 X (qualifier P6552, the numeric user id), P2003 Instagram, P2013 Facebook,
P2397 YouTube channel, P4033 Mastodon, P3789 Telegram, P12361 Bluesky, P7085 TikTok, P856
official website. A deprecated statement is not the entity's: skipped. A statement with an end
time (P582) is a former account: defunct, with the date in its note. A dump (plain, .gz or
.bz2) is read one line at a time, so memory stays flat however long it is.
SPARQL results: `?item` (the entity), optional `?itemLabel`, and one variable per property,
named by its id (`?P2002`) or its platform (`?x`, `?instagram`, `?website`, ...).
"""

from __future__ import annotations

import bz2
import gzip
import json
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from knowledge.upstreams import Rows, Upstream, file_date, listing, quirk, website

NAME = "wikidata"
ITEM = "https://www.wikidata.org/wiki/"
ENTITY = "http://www.wikidata.org/entity/"
PROPERTIES = {
    "P2002": "x",
    "P2003": "instagram",
    "P2013": "facebook",
    "P2397": "youtube",
    "P4033": "mastodon",
    "P3789": "telegram",
    "P12361": "bluesky",
    "P7085": "tiktok",
    "P856": "website",
}
VARIABLES = {**PROPERTIES, **{p: p for p in PROPERTIES.values()}, "twitter": "x"}
END_TIME = "P582"
X_NUMERIC_ID = "P6552"


def rows(path: Path, upstream: Upstream) -> Rows:
    """Rows of every item in the file, whichever of the three formats it is in."""
    with _open(path) as stream:
        first = stream.readline()
        while first and not first.strip():
            first = stream.readline()
        if first.strip() in ("[", "[\n") or _is_entity(first):
            # a dump: "[", then one entity per line, each but the last with "," (or one entity
            # per line alone, as filtered dumps are): read line by line
            yield from _dump(_lines(first, stream), upstream)
            return
        try:
            document = json.loads(first + stream.read())
        except ValueError as error:
            yield 1, quirk(path.name, f"not JSON: {error}")
            return
    if isinstance(document, dict) and "results" in document:
        yield from _sparql(document, file_date(path, upstream.published))
    elif isinstance(document, dict) and isinstance(document.get("entities"), dict):
        for line, item in enumerate(document["entities"].values(), start=1):
            yield from _item(line, item, upstream)
    else:
        yield 1, quirk(path.name, "not Wikidata JSON (entities, a dump or SPARQL results)")


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _is_entity(line: str) -> bool:
    text = line.strip().removesuffix(",")
    if not text.startswith("{"):
        return False
    try:
        item = json.loads(text)
    except ValueError:
        return False
    return isinstance(item, dict) and "claims" in item and "id" in item


def _lines(first: str, stream: IO[str]) -> Iterator[str]:
    yield first
    yield from stream


def _dump(lines: Iterable[str], upstream: Upstream) -> Rows:
    for line, text in enumerate(lines, start=1):
        text = text.strip().removesuffix(",")
        if not text or text in ("[", "]"):
            continue
        try:
            item = json.loads(text)
        except ValueError:
            yield line, quirk(f"line {line}", "not a JSON entity")
            continue
        yield from _item(line, item, upstream)


def _item(line: int, item: dict[str, Any], upstream: Upstream) -> Rows:
    qid = str(item.get("id") or "")
    if not qid:
        yield line, quirk(f"entity #{line}", "no id")
        return
    url, published = _revision(item, upstream)
    base = {
        "entity": _label(item.get("labels") or {}) or qid,
        "entity_ids": f"wikidata:{qid}",
        "aliases": "; ".join(_aliases(item.get("aliases") or {})),
        **listing(NAME, qid, url, published),
    }
    claims = item.get("claims") or {}
    for prop, platform in PROPERTIES.items():
        for statement in claims.get(prop) or []:
            row = _statement(statement, platform, qid)
            if row is not None:
                yield line, base | row


def _revision(item: dict[str, Any], upstream: Upstream) -> tuple[str, date | None]:
    qid = item["id"]
    revision = item.get("lastrevid") or upstream.revision
    url = f"https://www.wikidata.org/w/index.php?title={qid}&oldid={revision}"
    modified = str(item.get("modified") or "")[:10]
    published = date.fromisoformat(modified) if modified else upstream.published
    return (url if revision else f"{ITEM}{qid}"), published


def _label(labels: dict[str, Any]) -> str:
    chosen = labels.get("en") or labels.get("mul") or next(iter(labels.values()), None)
    return str(chosen.get("value") or "") if isinstance(chosen, dict) else ""


def _aliases(aliases: dict[str, Any]) -> Iterator[str]:
    for alias in aliases.get("en") or []:
        value = str(alias.get("value") or "").strip()
        if value and ";" not in value:
            yield value


def _statement(statement: dict[str, Any], platform: str, qid: str) -> dict[str, str] | None:
    """The row of one statement; None when it is not the entity's (deprecated, no value)."""
    if statement.get("rank") == "deprecated":
        return None
    snak = statement.get("mainsnak") or {}
    if snak.get("snaktype", "value") != "value":  # "no value" / "unknown value": no account
        return None
    value = _value(snak)
    if not value:
        return quirk(qid, f"an empty {platform} statement")
    row = {"platform": platform, "verdict": "official"}
    if platform == "website":
        site = website(value)
        if site is None:
            return None
        row |= site
    else:
        row["handle"] = value
    qualifiers = statement.get("qualifiers") or {}
    ended = _time(qualifiers.get(END_TIME))
    if ended:
        row |= {"verdict": "defunct", "note": f"former account, until {ended}"}
    numeric = [_value(q) for q in qualifiers.get(X_NUMERIC_ID) or []]
    if platform == "x" and numeric and numeric[0]:
        row["platform_id"] = numeric[0]
    return row


def _value(snak: dict[str, Any]) -> str:
    if snak.get("snaktype", "value") != "value":
        return ""
    value = (snak.get("datavalue") or {}).get("value")
    return value.strip() if isinstance(value, str) else ""


def _time(snaks: list[dict[str, Any]] | None) -> str | None:
    """The day of a time qualifier (`+2020-05-01T00:00:00Z` -> 2020-05-01)."""
    for snak in snaks or []:
        value = (snak.get("datavalue") or {}).get("value")
        if isinstance(value, dict) and isinstance(value.get("time"), str):
            return str(value["time"]).lstrip("+")[:10]
    return None


def _sparql(document: dict[str, Any], published: date) -> Rows:
    bindings = (document.get("results") or {}).get("bindings") or []
    for line, binding in enumerate(bindings, start=1):
        item = str((binding.get("item") or {}).get("value") or "")
        qid = item.removeprefix(ENTITY)
        if not qid.startswith("Q"):
            yield line, quirk(f"result #{line}", "no ?item entity")
            continue
        label = str((binding.get("itemLabel") or {}).get("value") or qid)
        base = {
            "entity": label,
            "entity_ids": f"wikidata:{qid}",
            "verdict": "official",
            **listing(NAME, qid, f"{ITEM}{qid}", published),
        }
        for variable, cell in binding.items():
            platform = VARIABLES.get(variable, "")
            value = str((cell or {}).get("value") or "").strip()
            account = _where(platform, value) if platform and value else None
            if account:
                yield line, base | account


def _where(platform: str, value: str) -> dict[str, str] | None:
    return website(value) if platform == "website" else {"platform": platform, "handle": value}
