"""Autocomplete for account and entity options: prefix search over what the registry protects.

The Registry port has no search, so this keeps a sorted copy of the protected accounts (capped)
and adds what moderators set through Discord.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from itertools import islice

from bot.ports import Registry

MAX_LOADED = 100_000  # accounts read at start; a registry search method would lift this cap
CHOICE_LIMIT = 25  # Discord shows at most 25 choices


def _prefixed(keys: list[tuple[str, str]], typed: str) -> list[str]:
    """Values whose key starts with typed, in key order, each once."""
    start = bisect_left(keys, (typed,))
    found: dict[str, None] = {}
    for key, value in islice(keys, start, None):
        if not key.startswith(typed) or len(found) == CHOICE_LIMIT:
            break
        found[value] = None
    return list(found)


class AccountSuggestions:
    def __init__(self) -> None:
        self._accounts: list[tuple[str, str]] = []  # (search key, "platform:handle")
        self._entities: list[tuple[str, str]] = []  # (lower-case name, name)

    @classmethod
    async def load(cls, registry: Registry) -> AccountSuggestions:
        suggestions = cls()
        async for batch in registry.protected():
            for ref, entity in batch:
                suggestions.add(str(ref), entity, keep_sorted=False)
            if len(suggestions._accounts) >= 2 * MAX_LOADED:
                break
        suggestions._accounts.sort()
        suggestions._entities = sorted(set(suggestions._entities))
        return suggestions

    def add(self, ref: str, entity: str | None, *, keep_sorted: bool = True) -> None:
        keys = [(ref, ref), (ref.partition(":")[2], ref)]
        named = [(entity.lower(), entity)] if entity else []
        if not keep_sorted:
            self._accounts += keys
            self._entities += named
            return
        for key in keys:
            insort(self._accounts, key)
        for pair in named:
            if pair not in self._entities:
                insort(self._entities, pair)

    def accounts(self, typed: str) -> list[str]:
        return _prefixed(self._accounts, typed.strip().lower().lstrip("@"))

    def entities(self, typed: str) -> list[str]:
        return _prefixed(self._entities, typed.strip().lower())
