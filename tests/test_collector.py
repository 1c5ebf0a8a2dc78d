"""A lookalike index built whole makes no cyclic garbage collection pass (bot/collector.py):
at a million accounts the passes over its young tuples cost seconds."""

from __future__ import annotations

import gc
from typing import Any

from bot.kept import build_index
from bot.model import AccountRef, Correction, Status
from knowledge.memory import MemoryRegistry


async def test_an_index_is_built_with_the_collector_paused() -> None:
    registry = MemoryRegistry()
    for n in range(1_500):
        ref = AccountRef("x", f"office_{n}")
        await registry.apply(Correction(ref, Status.OFFICIAL, f"Office {n}"), by="test")
    passes: list[int] = []

    def heard(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    gc.collect()
    gc.callbacks.append(heard)
    try:
        started = await build_index(registry)
    finally:
        gc.callbacks.remove(heard)
    # One pass at most: the one due when the collector comes back on at the end.
    assert (len(started.index), len(passes) <= 1, gc.isenabled()) == (1_500, True, True)
    assert started.presence is not None and len(started.presence.registered) == 1_500
