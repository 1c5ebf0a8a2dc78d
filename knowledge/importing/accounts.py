"""Planned accounts against the registered ones: new, grown (new sources), unchanged, or refused.

An import adds accounts and sources; it never changes a verdict already in the registry. A row
whose account is registered with another verdict, entity, note or platform id is a problem
("use `isofficial verdict`"); a platform id for an account registered without one is added.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRecord, AccountRef, ImportProblem
from knowledge.importing.plan import Plan, verdict_of
from knowledge.importing.rows import Planned
from knowledge.registry import account_ids, find_in
from knowledge.tables import accounts


async def registered(
    conn: AsyncConnection, refs: list[AccountRef]
) -> dict[AccountRef, AccountRecord]:
    """The records of the refs already registered (cheap when few are: ids first)."""
    if not refs or await conn.scalar(select(accounts.c.id).limit(1)) is None:
        return {}
    return await find_in(conn, list(await account_ids(conn, refs)))


def against_registry(
    plan: Plan, existing: dict[AccountRef, AccountRecord]
) -> tuple[list[Planned], list[Planned], int]:
    """Split planned accounts into new, registered-but-with-new-sources, and rows already there."""
    new: list[Planned] = []
    grown: list[Planned] = []
    unchanged = 0
    for ref, account in plan.accounts.items():
        record = existing.get(ref)
        if record is None:
            new.append(account)
        elif reason := _registry_conflict(account, record):
            plan.problems.extend(ImportProblem(line, reason) for line in account.lines)
        elif set(account.evidence) - {e.url for e in record.evidence} or _new_id(account, record):
            grown.append(account)
        else:
            unchanged += account.rows
    plan.problems.sort(key=lambda p: p.line)
    return new, grown, unchanged


def _registry_conflict(account: Planned, record: AccountRecord) -> str | None:
    clash = (
        (account.status, account.entity) != (record.status, record.entity)
        or (account.note is not None and account.note != record.note)
        or None is not record.platform_id != account.platform_id is not None
    )
    if not clash:
        return None
    return (
        f"conflict: {account.ref} is {verdict_of(account)} here, but registered as "
        f"{verdict_of(record)}{_differing(account, record)}; an import changes no verdict "
        "(use `isofficial verdict`)"
    )


def _new_id(account: Planned, record: AccountRecord) -> bool:
    """The import knows the platform's id of an account registered without one."""
    return account.platform_id is not None and record.platform_id is None


def _differing(account: Planned, record: AccountRecord) -> str:
    if (account.status, account.entity) != (record.status, record.entity):
        return ""
    return " with another note" if account.note != record.note else " with another platform id"
