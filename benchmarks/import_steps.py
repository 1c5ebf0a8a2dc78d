"""When each step of `isofficial import` starts and ends, in one real run: the rows checked and
written, then the kept index built (the folded accounts gathered, the index built, the presence
sets read) and saved. Prints the steps' times since the start, then the command's own output.

    d=$(mktemp -d); XDG_CACHE_HOME=$d/c XDG_DATA_HOME=$d/d XDG_CONFIG_HOME=$d/g \\
        .venv/bin/python -m benchmarks.import_steps /tmp/scale/1000000-12/registry-00.csv

The steps are timed by wrapping the functions the command calls (nothing else changes); the
arguments are `isofficial import`'s.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

STARTED = time.perf_counter()


def stamp(step: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.2f} s] {step}", file=sys.stderr, flush=True)


def timed_async(owner: Any, name: str) -> None:
    step: Callable[..., Awaitable[Any]] = getattr(owner, name)

    @functools.wraps(step)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        stamp(f"{name} starts")
        try:
            return await step(*args, **kwargs)
        finally:
            stamp(f"{name} ends")

    setattr(owner, name, wrapped)


def timed(owner: Any, name: str, *, classmethod_: bool = False) -> None:
    step = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        stamp(f"{name} starts")
        try:
            return step(*args[1:] if classmethod_ else args, **kwargs)
        finally:
            stamp(f"{name} ends")

    setattr(owner, name, classmethod(wrapped) if classmethod_ else wrapped)


def main() -> None:
    import bot.folding
    import bot.lookalike
    import bot.presence
    import isofficial.bootstrap
    import isofficial.cli
    import knowledge.importer

    timed_async(knowledge.importer, "import_rows")
    timed_async(isofficial.cli, "keep_index")
    timed_async(isofficial.bootstrap, "keep")  # the keep after the build: the file saved
    timed(bot.folding.Folding, "batch")
    timed(bot.lookalike.LookalikeIndex, "of_batch", classmethod_=True)
    load = bot.presence.Presence.load.__func__  # type: ignore[attr-defined]

    async def presence_load(cls: type, *args: Any, **kwargs: Any) -> Any:
        stamp("Presence.load starts")
        try:
            return await load(cls, *args, **kwargs)
        finally:
            stamp("Presence.load ends")

    bot.presence.Presence.load = classmethod(presence_load)  # type: ignore[method-assign, assignment]
    sys.argv = ["isofficial", "import", *sys.argv[1:]]
    stamp("started")
    try:
        code = isofficial.cli.main()
    finally:
        stamp("done")
    sys.exit(code)


if __name__ == "__main__":  # the import's folding process imports this module again
    main()
