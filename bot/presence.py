"""What there is to read about an account, known in memory: most checks name accounts that are
not registered, not mentioned in any feed and never verified, and need no read at all.

The sets are exact for the registry and the feeds as the change stream reports them
(Core.reload, the core's own writes): registered keys are added and removed; mentioned and
verified keys may hold a few more than there are (a superset costs a read, never an answer).
What registered and mentioned accounts read is cached, LRU, and dropped by the same stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from cachetools import LRUCache

from bot.model import AccountRecord, AccountRef
from bot.platforms import ANY, PLATFORMS
from bot.ports import Known, Registry, VerificationStore
from bot.registered import Keys, KeySet, keys_of, ref_key
from bot.search_keys import SearchKeys

CACHED_ACCOUNTS = 20_000  # what a check read, for this many accounts (a few KB each at most)
BATCH = 100_000


@dataclass
class Presence:
    registered: KeySet = field(default_factory=KeySet)
    mentioned: KeySet = field(default_factory=KeySet)  # a bare @handle's as `any:handle`
    verified: KeySet = field(default_factory=KeySet)
    search: SearchKeys = field(default_factory=SearchKeys)
    cache: LRUCache[AccountRef, Known] = field(
        default_factory=lambda: LRUCache(maxsize=CACHED_ACCOUNTS)
    )

    @classmethod
    async def load(
        cls, registry: Registry, verifications: VerificationStore | None = None
    ) -> Presence:
        """The sets of everything registered, mentioned and verified now: one narrow query
        each, streamed."""
        keys: list[str] = []
        handles: list[str] = []
        async for batch_keys, batch_handles in registry.registered_keys(BATCH):
            keys += batch_keys
            handles += batch_handles
        names = [name async for batch in registry.entity_names(BATCH) for name in batch]
        mentioned = [batch async for batch in registry.mentioned_keys(BATCH)]
        verified = []
        if verifications is not None:
            verified = [batch async for batch in verifications.verified_keys(BATCH)]
        return cls(
            KeySet.of_texts([keys]),
            KeySet.of_texts(mentioned),
            KeySet.of_texts(verified),
            SearchKeys.of(handles, names),
        )

    generation: int = 0  # counts the changes heard: a read older than one is not cached

    async def read_unlogged(
        self, registry: Registry, verifications: VerificationStore | None = None
    ) -> None:
        """The mentioned and verified keys read anew: feed items and verifications write no
        change rows, so a kept copy of these sets cannot be caught up."""
        self.mentioned = KeySet.of_texts([b async for b in registry.mentioned_keys(BATCH)])
        verified = []
        if verifications is not None:
            verified = [b async for b in verifications.verified_keys(BATCH)]
        self.verified = KeySet.of_texts(verified)

    def arrays(self) -> dict[str, Keys]:
        """Every set as a sorted array, named for a snapshot file (the cache is not kept)."""
        return {f"{name}.keys": kept.arrays()["keys"] for name, kept in self._sets().items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, Keys]) -> Presence:
        """The presence arrays() gave; the snapshot's change-log catch-up then brings it up
        to date through Core.reload."""
        sets = {name: KeySet.from_arrays({"keys": arrays[f"{name}.keys"]})
                for name in ("registered", "mentioned", "verified", "prefixes", "grams")}
        search = SearchKeys(sets.pop("prefixes"), sets.pop("grams"))
        return cls(sets["registered"], sets["mentioned"], sets["verified"], search)

    def _sets(self) -> dict[str, KeySet]:
        return {"registered": self.registered, "mentioned": self.mentioned,
                "verified": self.verified, "prefixes": self.search.prefixes,
                "grams": self.search.grams}

    def may_be_registered(self, ref: AccountRef) -> bool:
        return ref_key(ref) in self.registered

    def may_be_mentioned(self, ref: AccountRef) -> bool:
        """A mention under ref's platform, or of the bare @handle (any platform)."""
        bare = ref_key(AccountRef(ANY, ref.handle))
        return ref_key(ref) in self.mentioned or bare in self.mentioned

    def may_be_verified(self, ref: AccountRef) -> bool:
        return ref_key(ref) in self.verified

    def worth_reading(self, ref: AccountRef) -> bool:
        return self.may_be_registered(ref) or self.may_be_mentioned(ref)

    def keep(self, known: dict[AccountRef, Known], generation: int) -> None:
        """Cache what a check read, unless a change was heard since it began reading."""
        if generation == self.generation:
            self.cache.update(known)

    def mentions_now(self, ref: AccountRef, mentioned: bool) -> None:
        """Whether ref has mentions, read after a change was heard (a read of ref covers its
        bare handle's mentions too)."""
        if mentioned:
            self.mentioned.add(ref_key(ref))
        else:
            self.mentioned.discard(ref_key(ref))
            self.mentioned.discard(ref_key(AccountRef(ANY, ref.handle)))
        self.forget(ref)

    def registered_as(self, ref: AccountRef, record: AccountRecord | None) -> None:
        """ref is registered as record now (None: not at all), by this core or another."""
        if record is None:
            self.registered.discard(ref_key(ref))
        else:
            self.registered.add(ref_key(ref))
            self.search.add(ref.handle, [n for n in (record.entity, *record.aliases) if n])
        self.forget(ref)

    def registered_all(self, records: Sequence[tuple[AccountRef, AccountRecord | None]]
                       ) -> None:
        """registered_as() of distinct refs at once: each set merged once."""
        keys = keys_of(map(str, (ref for ref, _ in records)))
        registered = np.fromiter((record is not None for _, record in records), np.bool_,
                                 len(records))
        names = [n for _, record in records if record is not None
                 for n in (record.entity, *record.aliases) if n]
        added = SearchKeys.of([ref.handle for ref, record in records if record is not None],
                              names)
        self._merged(keys[registered], keys[~registered], added.prefixes.arrays()["keys"],
                     added.grams.arrays()["keys"])

    def added(self, additions: Additions) -> None:
        """An import's accounts and names registered (it removes none), at once."""
        keys, prefixes, grams = additions.columns()
        self._merged(keys, np.empty(0, np.int64), prefixes, grams)

    def _merged(self, registered: Keys, unregistered: Keys, prefixes: Keys, grams: Keys
                ) -> None:
        """Keys registered and unregistered, and search keys added: each set merged once."""
        self.registered.update(registered, unregistered)
        empty = np.empty(0, np.int64)
        self.search.prefixes.update(prefixes, empty)
        self.search.grams.update(grams, empty)
        self.generation += 1
        self.cache.clear()  # what forget() would drop, and a few more

    def verified_now(self, ref: AccountRef) -> None:
        self.verified.add(ref_key(ref))

    def forget(self, ref: AccountRef) -> None:
        """Drop ref's cached read; for a bare `any:` handle, every platform's (they share its
        mentions)."""
        self.generation += 1
        if ref.platform == ANY:
            for platform in PLATFORMS:
                self.cache.pop(AccountRef(platform, ref.handle), None)
        self.cache.pop(ref, None)


class Additions:
    """What an import adds to the presence sets, gathered part by part as it writes: the keys
    of its new accounts and the search keys of their handles and of the names it writes, as
    arrays (no account kept). Presence.added takes them once the import has committed."""

    def __init__(self) -> None:
        self._parts: list[tuple[Keys, Keys, Keys]] = []
        self._count = 0

    def __len__(self) -> int:
        """The accounts added."""
        return self._count

    def add(self, refs: Sequence[AccountRef], names: Iterable[str]) -> None:
        """New accounts, and entity names or aliases the import may have written (more is
        safe: a name too many costs a search a read, never an answer)."""
        search = SearchKeys.of([ref.handle for ref in refs], list(names))
        self._parts.append((keys_of(map(str, refs)), search.prefixes.arrays()["keys"],
                            search.grams.arrays()["keys"]))
        self._count += len(refs)

    def columns(self) -> tuple[Keys, Keys, Keys]:
        """Registered keys, handle prefixes and name grams, each of every part."""
        empty = np.empty(0, np.int64)
        return cast(tuple[Keys, Keys, Keys], tuple(
            np.concatenate([part[at] for part in self._parts] or [empty]) for at in range(3)))
