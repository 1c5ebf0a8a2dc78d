"""Dated verifications on SQL, and in memory for tests: implements bot.ports.VerificationStore."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select

from bot.model import PROTECTED, AccountRef
from bot.verification import Direction, LinkCheck, Verification
from knowledge import reads
from knowledge.database import writing
from knowledge.memory import MemoryRegistry
from knowledge.notify import announce
from knowledge.registry import SqlRegistry, chunks
from knowledge.tables import accounts, entities, verifications

WEBSITE = "website"


class SqlVerificationStore:
    """On the registry's database; `latest`, read on every check, shares the registry's reading
    connection (one autocommit connection on SQLite)."""

    def __init__(self, registry: SqlRegistry) -> None:
        self.registry = registry
        self.engine = registry.engine

    async def official_sites(self, entity: str) -> list[str]:
        query = (
            select(accounts.c.handle_key)
            .join(entities)
            .where(entities.c.name == entity, accounts.c.platform == WEBSITE)
            .where(accounts.c.status.in_([s.value for s in PROTECTED]))
            .order_by(accounts.c.handle_key)
        )
        async with self.engine.connect() as conn:
            return list((await conn.scalars(query)).all())

    async def record(self, verification: Verification) -> None:
        async with writing(self.engine) as conn:
            await conn.execute(insert(verifications).values(_row(verification)))
            await announce(conn, [verification.ref])  # answers elsewhere show it

    def verified_keys(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        return reads.verified_keys(self.engine, batch)

    async def latest(self, refs: Sequence[AccountRef]) -> dict[AccountRef, Verification]:
        found: dict[AccountRef, Verification] = {}
        async with self.registry.reading() as conn:
            if len(refs) == 1:  # the usual check: one statement, built once
                params = {"platform": refs[0].platform, "key": refs[0].handle}
                row = (await conn.execute(_LATEST_ONE, params)).first()
                return {refs[0]: _verification(row)} if row else {}
            for chunk in chunks(list(set(refs)), 500):
                newest = _newest_ids(chunk)
                rows = await conn.execute(
                    select(verifications).where(verifications.c.id.in_(newest))
                )
                found.update({v.ref: v for v in map(_verification, rows)})
        return found

    async def history(self, ref: AccountRef) -> list[Verification]:
        query = (
            select(verifications)
            .where(verifications.c.platform == ref.platform)
            .where(verifications.c.handle_key == ref.handle)
            .order_by(verifications.c.id.desc())
        )
        async with self.engine.connect() as conn:
            return [_verification(row) for row in await conn.execute(query)]

    async def due(self, before: datetime, limit: int = 100) -> list[AccountRef]:
        newest = (
            select(
                verifications.c.platform,
                verifications.c.handle_key,
                func.max(verifications.c.checked_at).label("last"),
            )
            .group_by(verifications.c.platform, verifications.c.handle_key)
            .subquery()
        )
        query = (
            select(newest.c.platform, newest.c.handle_key)
            .where(newest.c.last < before)
            .order_by(newest.c.last)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [AccountRef(p, h) for p, h in await conn.execute(query)]


_LATEST_ONE = (
    select(verifications)
    .where(verifications.c.platform == bindparam("platform"))
    .where(verifications.c.handle_key == bindparam("key"))
    .order_by(verifications.c.id.desc())
    .limit(1)
)


def _newest_ids(refs: Sequence[AccountRef]) -> Any:
    """The id of the newest verification of each of refs."""
    by_platform: dict[str, list[str]] = {}
    for ref in refs:
        by_platform.setdefault(ref.platform, []).append(ref.handle)
    where = or_(
        *(
            and_(verifications.c.platform == p, verifications.c.handle_key.in_(keys))
            for p, keys in by_platform.items()
        )
    )
    return (
        select(func.max(verifications.c.id))
        .where(where)
        .group_by(verifications.c.platform, verifications.c.handle_key)
    )


def _row(verification: Verification) -> dict[str, Any]:
    return {
        "platform": verification.ref.platform,
        "handle_key": verification.ref.handle,
        "checked_at": verification.checked,
        "by": verification.by[:200],
        "state": verification.state.value,
        "checks": [check_json(c) for c in verification.checks],
    }


def check_json(check: LinkCheck) -> dict[str, Any]:
    return {
        "site": check.site,
        "direction": check.direction.value,
        "found": check.found,
        "how": check.how,
        "url": check.url,
    }


def _verification(row: Any) -> Verification:
    checks = tuple(
        LinkCheck(c["site"], Direction(c["direction"]), c["found"], c["how"], c["url"])
        for c in row.checks
    )
    return Verification(AccountRef(row.platform, row.handle_key), row.checked_at, checks, row.by)


class MemoryVerificationStore:
    """The same, in memory, beside a MemoryRegistry (whose websites are the official sites)."""

    def __init__(self, registry: MemoryRegistry) -> None:
        self.registry = registry
        self.kept: list[Verification] = []

    async def official_sites(self, entity: str) -> list[str]:
        return sorted(
            r.ref.handle
            for r in self.registry.records.values()
            if r.entity == entity and r.ref.platform == WEBSITE and r.status in PROTECTED
        )

    async def record(self, verification: Verification) -> None:
        self.kept.append(verification)

    async def verified_keys(self, batch: int = 100_000) -> AsyncIterator[list[str]]:
        keys = list(dict.fromkeys(str(v.ref) for v in self.kept))
        for start in range(0, len(keys), batch):
            yield keys[start : start + batch]

    async def latest(self, refs: Sequence[AccountRef]) -> dict[AccountRef, Verification]:
        wanted = set(refs)
        return {v.ref: v for v in self.kept if v.ref in wanted}  # later ones overwrite

    async def history(self, ref: AccountRef) -> list[Verification]:
        return [v for v in reversed(self.kept) if v.ref == ref]

    async def due(self, before: datetime, limit: int = 100) -> list[AccountRef]:
        newest = {v.ref: v.checked for v in self.kept}
        late = sorted((at, ref) for ref, at in newest.items() if at < before)
        return [ref for _, ref in late[:limit]]
