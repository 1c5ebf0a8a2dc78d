"""When each step of `isofficial import` starts and ends, in one real run: the rows checked and
written, then the kept index built (by the import's building process, while the presence sets
are read here) or, when one is kept, the import's accounts merged into it, and saved. Prints
the steps' times since the start, then the command's own output.

    d=$(mktemp -d); XDG_CACHE_HOME=$d/c XDG_DATA_HOME=$d/d XDG_CONFIG_HOME=$d/g \\
        .venv/bin/python -m benchmarks.import_steps /tmp/scale/1000000-12/registry-00.csv

The steps are timed by wrapping the functions the command calls (nothing else changes); the
arguments are `isofficial import`'s.
"""

from __future__ import annotations

import functools
import inspect
import sys
import time
from collections.abc import Callable
from typing import Any

STARTED = time.perf_counter()


def stamp(step: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.2f} s] {step}", file=sys.stderr, flush=True)


def timed(owner: Any, name: str) -> None:
    """owner.name (a function, or a method called on its class) stamped as it starts and ends;
    a coroutine function's when its coroutine does."""
    step: Callable[..., Any] = getattr(owner, name)

    if inspect.iscoroutinefunction(step):
        @functools.wraps(step)
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            stamp(f"{name} starts")
            try:
                return await step(*args, **kwargs)
            finally:
                stamp(f"{name} ends")
    else:
        @functools.wraps(step)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            stamp(f"{name} starts")
            try:
                return step(*args, **kwargs)
            finally:
                stamp(f"{name} ends")

    setattr(owner, name, wrapped)


def main() -> None:
    import bot.building
    import bot.kept
    import bot.lookalike
    import bot.presence
    import isofficial.bootstrap
    import isofficial.cli
    import knowledge.importer

    timed(knowledge.importer, "import_rows")
    timed(isofficial.cli, "keep_index")
    timed(isofficial.bootstrap, "keep")  # the keep after the build: the file saved
    timed(bot.building.IndexBuilding, "index")
    timed(bot.building.IndexBuilding, "batch")  # the import's accounts, to merge into a kept index
    timed(bot.building.IndexBuilding, "_result")  # waiting for the building process and its file
    timed(bot.kept, "_merged")
    # Class methods, wrapped bound: the command calls them on the class.
    timed(bot.lookalike.LookalikeIndex, "from_arrays")
    timed(bot.presence.Presence, "load")
    sys.argv = ["isofficial", "import", *sys.argv[1:]]
    stamp("started")
    try:
        code = isofficial.cli.main()
    finally:
        stamp("done")
    sys.exit(code)


if __name__ == "__main__":  # the import's folding process imports this module again
    main()
