"""Per-chat settings read from a store and kept a while: a switch made through another replica
is seen within the TTL, this process's own at once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")
ChatKey = tuple[str, str]  # (platform, chat id)


class ChatCache(Generic[V]):
    """The owner passes its TTL on each call (it may change it at run time)."""

    def __init__(self) -> None:
        self._values: dict[ChatKey, tuple[V, float]] = {}  # -> (value, valid until)

    async def read(self, key: ChatKey, load: Callable[[], Awaitable[V]], ttl: float) -> V:
        """The cached value while it is fresh, else load()'s, cached for the TTL."""
        cached = self._values.get(key)
        now = time.monotonic()
        if cached is not None and now < cached[1]:
            return cached[0]
        value = await load()
        self._values[key] = (value, now + ttl)
        return value

    def put(self, key: ChatKey, value: V, ttl: float) -> None:
        """This process's own change (ttl inf: no store keeps it, nothing to re-read)."""
        self._values[key] = (value, time.monotonic() + ttl)

    def drop(self, key: ChatKey) -> None:
        self._values.pop(key, None)

    def move(self, old: ChatKey, new: ChatKey) -> None:
        if old in self._values:
            self._values[new] = self._values.pop(old)
