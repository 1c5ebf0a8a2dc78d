"""What an import has written so far, kept compactly, so that a part's reads ask the registry only
about accounts and entities it may hold (issue 12).

On SQLite the import holds the write lock from its first statement: the registry holds what it
held then and what the import wrote since. When a table held few rows then (at most READ_AT: a
new registry's starter data), their keys are read once, and the set of those and of the
import's own says which of a part's refs or names to look up. A part of a new file usually
looks up none, so the main thread checks it while the part before is still being written,
instead of waiting for those writes to read nothing. A larger registry is asked about every
ref and name, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.model import AccountRef
from bot.registered import Keys, keys_of
from bot.stable_hash import stable_hashes
from knowledge.tables import accounts, entities

# Rows read at the start at most: milliseconds, so that even a file of a few rows, whose own
# lookups would cost less than the read, pays nothing to speak of.
READ_AT = 10_000


class KeyRuns:
    """A set of 64-bit keys added in batches, as sorted runs: a run no longer than the one
    added after it is merged with it, so a lookup searches a few runs (log2 of the batches)
    and a key is merged about as often. 8 bytes a key."""

    def __init__(self) -> None:
        self._runs: list[Keys] = []

    def add(self, keys: Keys) -> None:
        if not len(keys):
            return
        run = np.sort(keys)
        while self._runs and len(self._runs[-1]) <= len(run):
            run = np.sort(np.concatenate([self._runs.pop(), run]), kind="stable")  # a merge
        self._runs.append(run)

    def holds(self, keys: Keys) -> npt.NDArray[np.bool_]:
        found = np.zeros(len(keys), dtype=np.bool_)
        for run in self._runs:
            at = np.searchsorted(run, keys).clip(max=len(run) - 1)
            found |= run[at] == keys
        return found


class Written:
    """The accounts and entities registered when an import began and those it wrote since,
    for a table of at most READ_AT rows then (None for a larger one: every lookup goes to the
    registry)."""

    def __init__(self, accounts: KeyRuns | None, entities: KeyRuns | None) -> None:
        self._accounts = accounts
        self._entities = entities

    @classmethod
    async def since(cls, conn: AsyncConnection) -> Written:
        """What conn's transaction, which nothing else writes beside, will write from now."""
        accounts_now = select(accounts.c.platform + ":" + accounts.c.handle_key)
        return cls(await _keys_of(conn, accounts, accounts_now),
                   await _keys_of(conn, entities, select(entities.c.name)))

    def refs_to_read(self, refs: Sequence[AccountRef]) -> list[AccountRef]:
        """The refs the registry may hold (a 64-bit hash collision: one read too many)."""
        if self._accounts is None:
            return list(refs)
        held = self._accounts.holds(keys_of(map(str, refs)))
        return [ref for ref, maybe in zip(refs, held.tolist(), strict=True) if maybe]

    def names_to_read(self, names: Iterable[str]) -> set[str]:
        """The entity names the registry may hold."""
        wanted = list(set(names))
        if self._entities is None:
            return set(wanted)
        held = self._entities.holds(stable_hashes(wanted))
        return {name for name, maybe in zip(wanted, held.tolist(), strict=True) if maybe}

    def wrote(self, refs: Sequence[AccountRef], names: Iterable[str]) -> None:
        """These accounts and entities may be in the registry now."""
        if self._accounts is not None:
            self._accounts.add(keys_of(map(str, refs)))
        if self._entities is not None:
            self._entities.add(stable_hashes(list(set(names))))


async def _keys_of(
    conn: AsyncConnection, table: Table, keys: Select[tuple[str]]
) -> KeyRuns | None:
    """The set of the table's keys (texts, hashed as Written hashes them), if it is small."""
    rows = await conn.scalar(select(func.max(table.c.id))) or 0  # at least the count: one read
    if rows > READ_AT:
        return None
    found = KeyRuns()
    if rows:
        found.add(stable_hashes(list(await conn.scalars(keys))))
    return found

