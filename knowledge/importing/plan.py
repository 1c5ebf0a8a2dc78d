"""A file's rows merged: into accounts (one per platform and handle) and entities (by name and id).

- Rows naming the same account merge when they agree on verdict and entity; when they disagree,
  every row of that account is a problem naming the others' lines.
- Rows whose entity shares an identifier with an earlier entity of the file are that entity:
  their name becomes an alias. Two values of one scheme for one entity is a problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from bot.model import AccountRecord, AccountRef, Evidence, ImportProblem, IsOfficialError
from knowledge.importing.rows import Planned, Proofs, check_row, planned, scheme_of, screened


@dataclass(slots=True)
class EntityPlan:
    """An entity as the file describes it."""

    name: str
    line: int  # where the file first names it
    identifiers: set[str] = field(default_factory=set)
    aliases: dict[str, None] = field(default_factory=dict)  # ordered set


@dataclass(slots=True)
class Plan:
    accounts: dict[AccountRef, Planned] = field(default_factory=dict)
    entities: dict[str, EntityPlan] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)


class _Entities:
    """The file's entities, found by name or by any of their identifiers."""

    def __init__(self) -> None:
        self.by_name: dict[str, EntityPlan] = {}
        self.by_id: dict[str, str] = {}

    def resolve(self, account: Planned, line: int) -> None:
        """Point the account at the file's entity it means; raises ValueError on a clash."""
        if account.entity is None:
            return
        if not (account.identifiers or account.aliases):  # most rows: the entity by its name
            if account.entity not in self.by_name:
                self.by_name[account.entity] = EntityPlan(account.entity, line)
            return
        named = {self.by_id[i] for i in account.identifiers if i in self.by_id}
        if len(named) > 1:
            raise ValueError(
                f"entity_ids name different entities of this file: {', '.join(sorted(named))}"
            )
        name = named.pop() if named else account.entity
        entity = self.by_name.get(name) or self.by_name.setdefault(name, EntityPlan(name, line))
        for identifier in account.identifiers - entity.identifiers:
            scheme = scheme_of(identifier)
            other = next((i for i in entity.identifiers if scheme_of(i) == scheme), None)
            if other is not None:
                raise ValueError(
                    f"{name} is {other} (line {entity.line}), not {identifier}: "
                    "two values of one scheme are two entities"
                )
        for identifier in account.identifiers:
            entity.identifiers.add(identifier)
            self.by_id[identifier] = name
        for alias in (account.entity, *account.aliases):
            if alias != name:
                entity.aliases[alias] = None
        account.entity = name


def plan_rows(rows: Iterable[tuple[int, dict[str, str]]]) -> Plan:
    """The accounts and entities the rows describe, merged, and the problems (conflicts too)."""
    plan = Plan()
    entities = _Entities()
    clashes: dict[AccountRef, list[tuple[int, dict[str, str], Planned]]] = {}
    proofs: Proofs = {}
    rows = rows if isinstance(rows, list) else list(rows)
    for (line, row), cells in zip(rows, screened(rows), strict=True):
        try:
            account = check_row(row, proofs) if cells is None else planned(cells, proofs)
            entities.resolve(account, line)
        except (IsOfficialError, ValueError) as error:
            plan.problems.append(ImportProblem(line, str(error), row))
            continue
        account.lines.append(line)
        ref = account.ref
        known = plan.accounts.get(ref)
        if clashes and ref in clashes:
            clashes[ref].append((line, row, account))
        elif known is None:
            plan.accounts[ref] = account
        elif (known.status, known.entity) == (account.status, account.entity):
            _merge(known, account)
        else:
            clashes[ref] = [(n, _row_of(known), known) for n in known.lines]
            clashes[ref].append((line, row, account))
            del plan.accounts[ref]
    for ref, listed in clashes.items():
        plan.problems.extend(_conflicts(ref, listed))
    plan.problems.sort(key=lambda p: p.line)
    plan.entities = entities.by_name
    return plan


def _merge(known: Planned, other: Planned) -> None:
    """Fold a row into the account it repeats."""
    known.lines.append(other.lines[0])
    known.rows += 1
    known.note = known.note or other.note
    known.platform_id = known.platform_id or other.platform_id
    new = {url: e for url, e in other.evidence.items() if url not in known.evidence}
    known.evidence.update(new)
    known.repeats += 0 if new else 1


def _row_of(account: Planned) -> dict[str, str]:
    return {
        "entity": account.entity or "",
        "platform": account.ref.platform,
        "handle": account.handle_as_written,
        "verdict": account.status.value,
    }


def _conflicts(
    ref: AccountRef, listed: Sequence[tuple[int, dict[str, str], Planned]]
) -> Iterator[ImportProblem]:
    for line, row, account in listed:
        others = [
            f"line {other_line}: {verdict_of(other)}"
            for other_line, _, other in listed
            if (other.status, other.entity) != (account.status, account.entity)
        ]
        more = f" and {len(others) - 3} more lines" if len(others) > 3 else ""
        shown = "; ".join(others[:3]) + more
        yield ImportProblem(
            line, f"conflict: {ref} is {verdict_of(account)} here, but {shown}", row
        )


def verdict_of(account: Planned | AccountRecord) -> str:
    return f"{account.status} for {account.entity}" if account.entity else str(account.status)


def first_source(account: Planned) -> Evidence | None:
    return next(iter(account.evidence.values()), None)
