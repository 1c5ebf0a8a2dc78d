"""The file's entities matched with the registered ones.

- The same identifier is the same entity (its name in the file becomes an alias).
- Without one: an entity whose already-registered accounts all belong to one registered entity,
  with the same verdicts, is that entity under another name: it merges, and the merge is listed.
- Two values of one scheme are two entities: an entity that would take one is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRecord, AccountRef, ImportProblem
from knowledge.database import any_of, insert_new
from knowledge.importing.plan import EntityPlan, Plan
from knowledge.importing.rows import Planned, scheme_of
from knowledge.tables import entities, entity_aliases, entity_identifiers


@dataclass(slots=True)
class Matched:
    """What the entities of a file add to the registered ones, by the registered name."""

    identifiers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    aliases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    merges: list[tuple[int, str]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # entities of the file refused whole


async def match_entities(
    conn: AsyncConnection,
    plan: Plan,
    existing: dict[AccountRef, AccountRecord],
    may_hold: set[str] | None = None,
) -> Matched:
    """Rename the plan's accounts to the registered entity each means; what else to write.
    may_hold: the plan's entity names the registry may hold (None: every name is looked up)."""
    wanted = {i for e in plan.entities.values() for i in e.identifiers}
    owners = await _owners(conn, wanted)
    to_read = set(plan.entities) if may_hold is None else may_hold
    registered = await _registered_ids(conn, {*to_read, *owners.values()})
    # A new entity under its own name, none of its accounts registered, has nothing to match
    # (most of a new file): its accounts are not gathered.
    to_match = [e for e in plan.entities.values()
                if existing or e.identifiers or e.aliases or e.name in registered]
    accounts_of = _accounts_of(plan, {e.name for e in to_match})
    if existing:
        registered.update(await _registered_ids(conn, _sharing(accounts_of, existing)))
    known_aliases = await _aliases(conn, registered)
    matched = Matched()
    for entity in to_match:
        mine = accounts_of.get(entity.name, [])
        if not (entity.identifiers or entity.aliases or entity.name in registered
                or any(a.ref in existing for a in mine)):
            continue
        target, reason = _target(entity, mine, owners, registered, existing)
        if target is None:
            matched.refused.add(entity.name)
            plan.problems.extend(ImportProblem(n, reason) for a in mine for n in a.lines)
            continue
        clash = _scheme_clash(entity, target, registered.get(target, set()))
        if clash:
            matched.refused.add(entity.name)
            plan.problems.extend(ImportProblem(n, clash) for a in mine for n in a.lines)
            continue
        if target != entity.name:
            if entity.name not in known_aliases.get(target, set()):  # new news only
                merge = f'"{entity.name}" taken as "{target}" ({reason})'
                matched.merges.append((entity.line, merge))
            for account in mine:
                account.entity = target
        new_ids = entity.identifiers - registered.get(target, set())
        if new_ids:
            matched.identifiers[target] |= new_ids
        names = {entity.name, *entity.aliases} - {target}
        if names:
            matched.aliases[target] |= names
    for name in matched.refused:
        for account in accounts_of.get(name, []):
            del plan.accounts[account.ref]
    plan.problems.sort(key=lambda p: p.line)
    matched.merges.sort()
    return matched


def _accounts_of(plan: Plan, names: set[str]) -> dict[str, list[Planned]]:
    """The plan's accounts of each of these entities."""
    found: dict[str, list[Planned]] = {}
    if names:
        for account in plan.accounts.values():
            if account.entity in names:
                found.setdefault(account.entity, []).append(account)
    return found


def _target(
    entity: EntityPlan,
    accounts: list[Planned],
    owners: dict[str, str],
    registered: dict[str, set[str]],
    existing: dict[AccountRef, AccountRecord],
) -> tuple[str | None, str]:
    """The registered entity the file's entity is (or its own name), and why; None: a conflict."""
    by_id = {owners[i]: i for i in sorted(entity.identifiers) if i in owners}
    if len(by_id) > 1:
        named = ", ".join(f"{i} is {name}" for name, i in by_id.items())
        return None, f"conflict: {entity.name}'s identifiers name different entities ({named})"
    if by_id:
        name, identifier = by_id.popitem()
        return name, f"same {identifier}"
    if entity.name in registered:
        return entity.name, ""
    shared = [(a, existing[a.ref]) for a in accounts if a.ref in existing]
    holders = {record.entity for _, record in shared}
    same_verdicts = all(a.status == record.status for a, record in shared)
    if len(holders) == 1 and None not in holders and same_verdicts:
        count = len(shared)
        return shared[0][1].entity, f"{count} shared account{'s' if count > 1 else ''}"
    return entity.name, ""


def _scheme_clash(entity: EntityPlan, target: str, theirs: set[str]) -> str | None:
    schemes = {scheme_of(i): i for i in theirs}
    for identifier in sorted(entity.identifiers - theirs):
        other = schemes.get(scheme_of(identifier))
        if other is not None:
            return (
                f"conflict: {entity.name} is {identifier} here, but {target} is registered "
                f"as {other}: two values of one scheme are two entities"
            )
    return None


def _sharing(
    accounts_of: dict[str, list[Planned]], existing: dict[AccountRef, AccountRecord]
) -> set[str]:
    """The registered entities holding the file's accounts."""
    return {
        record.entity
        for mine in accounts_of.values()
        for account in mine
        if (record := existing.get(account.ref)) is not None and record.entity is not None
    }


async def _owners(conn: AsyncConnection, identifiers: Iterable[str]) -> dict[str, str]:
    """The registered entity's name of each identifier already known (by the key's index)."""
    by_scheme: dict[str, list[str]] = defaultdict(list)
    for identifier in sorted(set(identifiers)):
        scheme, _, value = identifier.partition(":")
        by_scheme[scheme].append(value)
    owners: dict[str, str] = {}
    query = select(entity_identifiers.c.value, entities.c.name).select_from(
        entity_identifiers.join(entities)
    )
    for scheme, values in by_scheme.items():
        found = query.where(
            entity_identifiers.c.scheme == scheme,
            any_of(conn, entity_identifiers.c.value, values),
        )
        for value, name in await conn.execute(found):
            owners[f"{scheme}:{value}"] = name
    return owners


async def _registered_ids(conn: AsyncConnection, names: Iterable[str]) -> dict[str, set[str]]:
    """The identifiers of each registered entity among names (every registered name is a key)."""
    found: dict[str, set[str]] = {}
    names = set(names)
    if not names:
        return found
    query = (
        select(entities.c.name, entity_identifiers.c.scheme, entity_identifiers.c.value)
        .select_from(entities.outerjoin(entity_identifiers))
    )
    named = query.where(any_of(conn, entities.c.name, list(names)))
    for name, scheme, value in await conn.execute(named):
        ids = found.setdefault(name, set())
        if scheme is not None:
            ids.add(f"{scheme}:{value}")
    return found


async def _aliases(conn: AsyncConnection, names: Iterable[str]) -> dict[str, set[str]]:
    """The registered aliases of each entity among names."""
    found: dict[str, set[str]] = defaultdict(set)
    names = set(names)
    if not names:
        return found
    query = select(entities.c.name, entity_aliases.c.alias).select_from(
        entities.join(entity_aliases)
    )
    named = query.where(any_of(conn, entities.c.name, list(names)))
    for name, alias in await conn.execute(named):
        found[name].add(alias)
    return found


async def write_entities(conn: AsyncConnection, matched: Matched, ids: dict[str, int]) -> int:
    """The new identifiers and aliases; returns how many rows."""
    id_rows = [
        (ids[name], scheme_of(i), i.partition(":")[2])
        for name, identifiers in matched.identifiers.items()
        for i in sorted(identifiers)
    ]
    alias_rows = [
        (ids[name], alias)
        for name, aliases in matched.aliases.items()
        for alias in sorted(aliases)
    ]
    await insert_new(conn, entity_identifiers, ("entity_id", "scheme", "value"), id_rows)
    await insert_new(conn, entity_aliases, ("entity_id", "alias"), alias_rows)
    return len(id_rows) + len(alias_rows)
