"""The sources list (add, list, remove) and syncing one: its file read where it lies, or fetched
with the feeds' fetcher (size cap, timeouts, conditional GET: an unchanged file is not read)."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.model import IsOfficialError
from knowledge.database import writing
from knowledge.feeds.fetch import Fetcher, FetchLimits
from knowledge.importer import read_rows
from knowledge.sources.sync import SyncResult, sync_rows
from knowledge.sources.tables import sources
from knowledge.upstreams import Rows, Upstream, readers
from knowledge.upstreams.congress_legislators import CURRENT, SOCIAL

log = logging.getLogger(__name__)
ROW_FORMATS = ("csv", "json", "yaml")
FORMATS = (*ROW_FORMATS, "congress-legislators", "openstates", "wikidata")
SOURCE_LIMITS = FetchLimits(timeout=120, max_bytes=200_000_000)
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
_EVERY = re.compile(r"(\d+)\s*([mhd])")
_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}


class SourceError(IsOfficialError):
    """A source that cannot be added, found or read; its message is one line."""


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    location: str
    format: str
    every_minutes: int | None
    last_sync_at: datetime | None
    last_result: str | None
    last_error: str | None
    etag: str | None = None
    last_modified: str | None = None

    def line(self) -> str:
        every = f"every {self.every_minutes} min" if self.every_minutes else "by hand"
        synced = self.last_sync_at.strftime("%Y-%m-%d %H:%M") if self.last_sync_at else "never"
        result = f" · {self.last_result}" if self.last_result else ""
        error = f" · last error: {self.last_error}" if self.last_error else ""
        where = f"{self.name} · {self.format} · {self.location} · {every}"
        return f"{where} · synced {synced}{result}{error}"


def every_minutes(text: str | None) -> int | None:
    """`24h`, `30m`, `7d` as minutes; None for none."""
    if not text:
        return None
    match = _EVERY.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise SourceError(f"--every takes a period like 30m, 24h or 7d, not {text[:20]!r}")
    return int(match.group(1)) * _MINUTES[match.group(2)]


async def add_source(
    engine: AsyncEngine, name: str, location: str, fmt: str, every: str | None, by: str
) -> Source:
    if not _NAME.fullmatch(name):
        raise SourceError("a source name is lower-case letters, digits, . _ - (e.g. congress)")
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    remote = location.startswith(("http://", "https://"))
    if not remote and not Path(location).exists():
        raise SourceError(f"no such file or folder: {location[:200]}")
    if remote and fmt == "openstates":
        raise SourceError("an openstates source is a local folder (a clone of openstates/people)")
    values = {"name": name, "location": location, "format": fmt,
              "every_minutes": every_minutes(every), "added_by": by, "added_at": datetime.now(UTC)}
    try:
        async with writing(engine) as conn:
            await conn.execute(insert(sources).values(values))
    except IntegrityError:
        raise SourceError(f"there is a source named {name} already") from None
    return await get_source(engine, name)


async def get_source(engine: AsyncEngine, name: str) -> Source:
    async with engine.connect() as conn:
        row = (await conn.execute(select(sources).where(sources.c.name == name))).first()
    if row is None:
        raise SourceError(f"no source named {name[:100]!r} (see `isofficial sources list`)")
    return _source(row)


async def list_sources(engine: AsyncEngine) -> list[Source]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(sources).order_by(sources.c.name))
        return [_source(row) for row in rows]


async def remove_source(engine: AsyncEngine, name: str) -> None:
    """The source and its listings go; the accounts and evidence it brought stay."""
    await get_source(engine, name)
    async with writing(engine) as conn:
        await conn.execute(delete(sources).where(sources.c.name == name))


async def sync_source(
    engine: AsyncEngine, name: str, starter_by: str, limits: FetchLimits = SOURCE_LIMITS
) -> SyncResult | None:
    """Sync one source; None when its file is unchanged since the last sync (HTTP 304)."""
    source = await get_source(engine, name)
    try:
        with _workdir() as work:
            path = await _fetched(engine, source, work, limits)
            if path is None:
                return None
            rows = _rows(source.format, path)
            return await sync_rows(engine, name, rows, starter_by)
    except IsOfficialError as error:
        async with writing(engine) as conn:
            await conn.execute(
                update(sources).where(sources.c.name == name).values(last_error=str(error)[:500])
            )
        raise


async def due_sources(engine: AsyncEngine, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    due = []
    for source in await list_sources(engine):
        if source.every_minutes is None:
            continue
        last = source.last_sync_at
        if last is None or now - last >= timedelta(minutes=source.every_minutes):
            due.append(source.name)
    return due


async def run_source_scheduler(
    engine: AsyncEngine, stop: asyncio.Event, starter_by: str, check_every: float = 60
) -> None:
    """Sync each source when its period has passed, until stop is set (errors are recorded on
    the source and the others still sync)."""
    while not stop.is_set():
        for name in await due_sources(engine):
            try:
                await sync_source(engine, name, starter_by)
            except IsOfficialError as error:  # recorded on the source; the next round retries
                log.warning("source %s: sync failed: %s", name, error)
        try:
            await asyncio.wait_for(stop.wait(), timeout=check_every)
        except TimeoutError:
            continue


def _rows(fmt: str, path: Path) -> Rows:
    if fmt in ROW_FORMATS:
        return read_rows(path, fmt)
    return readers()[fmt](path, Upstream())


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="isofficial-source-") as work:
        yield Path(work)


async def _fetched(
    engine: AsyncEngine, source: Source, work: Path, limits: FetchLimits
) -> Path | None:
    """The source's file (or folder) to read: where it lies, or downloaded into work."""
    if not source.location.startswith(("http://", "https://")):
        return Path(source.location)
    if source.format == "congress-legislators":  # a folder URL: its two files
        base = source.location.rstrip("/") + "/"
        async with Fetcher.open(limits) as fetcher:
            for file in (CURRENT, SOCIAL):
                fetched = await fetcher.fetch(base + file)
                (work / file).write_bytes(fetched.body or b"")
        return work
    async with Fetcher.open(limits) as fetcher:
        fetched = await fetcher.fetch(source.location, source.etag, source.last_modified)
    if fetched.body is None:
        return None
    async with writing(engine) as conn:
        await conn.execute(
            update(sources)
            .where(sources.c.name == source.name)
            .values(etag=fetched.etag, last_modified=fetched.last_modified)
        )
    suffix = {"wikidata": ".json"}.get(source.format, f".{source.format}")
    path = work / f"{source.name}{suffix}"
    path.write_bytes(fetched.body)
    return path


def _source(row: Any) -> Source:
    return Source(row.name, row.location, row.format, row.every_minutes, row.last_sync_at,
                  row.last_result, row.last_error, row.etag, row.last_modified)
