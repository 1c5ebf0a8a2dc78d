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

from collections.abc import Callable, Iterable, Sequence
from itertools import compress
from typing import TypeVar

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
T = TypeVar("T")


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

    def to_read(
        self, refs: Sequence[AccountRef], names: Iterable[str]
    ) -> tuple[list[AccountRef], set[str]]:
        """The refs and entity names of a part that the registry may hold (a 64-bit hash
        collision: one read too many); then the part's own count as written. A part writes no
        other account, and no entity name but its own and registered ones; one it does not
        write costs a later part a read, never a read missed. Each is hashed once."""
        def ref_keys(found: list[AccountRef]) -> Keys:
            return keys_of(map(str, found))

        return (_to_read(self._accounts, list(refs), ref_keys),
                set(_to_read(self._entities, list(set(names)), stable_hashes)))


def _to_read(runs: KeyRuns | None, items: list[T], keys: Callable[[list[T]], Keys]) -> list[T]:
    """The items whose keys runs may hold (all, without runs); then runs hold them all."""
    if runs is None:
        return items
    found = keys(items)
    held = runs.holds(found).tolist()
    runs.add(found)
    return list(compress(items, held))


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

