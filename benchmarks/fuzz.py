"""The long fuzz run: tests/fuzzing.py's strategies on every text path, SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.fuzz --inputs 30000      # per path and database

Prints a table: inputs generated per path, crashes (an exception other than the one-line
refusal), internal errors (a reply saying something went wrong), lines left unanswered (the
command line's batch, fed through a real `isofficial check --json` process on raw stdin).
Unlike a test, a failure does not stop the run: it is counted and its first input printed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import (
    BROKEN,
    MODERATOR,
    STRANGER,
    check_answers,
    command_lines,
    console_replies,
    import_accounts_for_every_row,
    import_files,
    soup,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.core import Core
from knowledge.registry import SqlRegistry, open_registry

POSTGRES = os.environ.get(
    "ISOFFICIAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
EXE = Path(sys.executable).with_name("isofficial")


@dataclass
class Tally:
    path: str
    database: str
    inputs: int = 0
    crashes: int = 0
    internal: int = 0
    unanswered: int = 0
    seconds: float = 0.0
    first: list[str] = field(default_factory=list)

    def failed(self, shown: Any, error: BaseException) -> None:
        if BROKEN in str(error):
            self.internal += 1
        else:
            self.crashes += 1
        if not self.first:
            self.first.append(f"{shown!r}: {''.join(traceback.format_exception(error))[-600:]}")


def run_path(
    loop: asyncio.AbstractEventLoop,
    tally: Tally,
    strategy: st.SearchStrategy[Any],
    body: Callable[[Any], Awaitable[object]],
    inputs: int,
) -> None:
    """Generate inputs for one path with hypothesis, count every outcome, never stop early."""

    @settings(max_examples=inputs, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(value=strategy)
    def one(value: Any) -> None:
        tally.inputs += 1
        try:
            loop.run_until_complete(body(value))
        except Exception as error:  # counted, not raised: the run goes on
            tally.failed(value, error)

    start = time.perf_counter()
    one()
    tally.seconds = time.perf_counter() - start


async def _registry(url: str) -> SqlRegistry:
    return await open_registry(url)


def fuzz_database(url: str, name: str, inputs: int) -> list[Tally]:
    loop = asyncio.new_event_loop()
    registry = loop.run_until_complete(_registry(url))
    core = loop.run_until_complete(Core.start(registry))
    tallies = [Tally(path, name) for path in ("check", "chat commands", "import files")]
    try:
        run_path(loop, tallies[0], soup, lambda text: check_answers(core, text), inputs)
        run_path(
            loop, tallies[1], st.tuples(command_lines(), st.booleans()),
            lambda args: console_replies(core, args[0], MODERATOR if args[1] else STRANGER),
            inputs,
        )
        run_path(
            loop, tallies[2], import_files(),
            lambda file: import_accounts_for_every_row(registry, *file), max(1, inputs // 10),
        )
    finally:
        loop.run_until_complete(registry.close())
        loop.close()
    return tallies


def fuzz_cli(directory: Path, inputs: int) -> Tally:
    """One `isofficial check --json` process fed generated lines and raw bytes on stdin."""
    tally = Tally("command-line batch", "sqlite")
    lines: list[bytes] = []

    @settings(max_examples=inputs, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(line=st.one_of(soup.map(lambda s: s.encode("utf-8", "surrogatepass")),
                          st.binary(max_size=40)))
    def collect(line: bytes) -> None:
        line = line.replace(b"\n", b" ")
        if line.strip():
            lines.append(line)

    collect()
    batch = b"\n".join(lines) + b"\n"
    expected = _expected_queries(batch)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOFFICIAL_")}
    env["ISOFFICIAL_DATABASE_URL"] = f"sqlite+aiosqlite:///{directory / 'cli.db'}"
    start = time.perf_counter()
    done = subprocess.run([str(EXE), "check", "--json"], input=batch, capture_output=True,
                          env=env, timeout=3600, check=False)
    tally.seconds = time.perf_counter() - start
    tally.inputs = len(expected)
    try:
        text = done.stdout.decode("utf-8")  # JSON Lines end in \n only (U+2028 is text)
        answered = {json.loads(line)["query"] for line in text.split("\n") if line}
    except (UnicodeDecodeError, ValueError) as error:
        tally.failed("stdout", error)
        return tally
    tally.unanswered = sum(1 for query in expected if query not in answered)
    internal = [line for line in text.split("\n") if '"error": "internal error' in line]
    tally.internal = len(internal)
    tally.first.extend(internal[:1])
    if b"Traceback" in done.stderr or done.returncode not in (0, 1):
        tally.failed("stderr", RuntimeError(done.stderr.decode("utf-8", "replace")[-600:]))
    return tally


def _expected_queries(batch: bytes) -> list[str]:
    """The queries the command line reads from these stdin bytes (isofficial.check_cli._lines)."""
    queries = []
    for raw in io.BytesIO(batch):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            queries.append(raw.decode("utf-8", "replace").strip())
            continue
        if line:
            queries.append(line.removeprefix("\ufeff"))
    return queries


def table(tallies: list[Tally]) -> str:
    head = "| path | database | inputs | crashes | internal errors | unanswered | seconds |"
    rows = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for t in tallies:
        rows.append(f"| {t.path} | {t.database} | {t.inputs:,} | {t.crashes} | {t.internal} | "
                    f"{t.unanswered} | {t.seconds:.0f} |")
    total = sum(t.inputs for t in tallies)
    crashes = sum(t.crashes for t in tallies)
    bad = sum(t.internal + t.unanswered for t in tallies)
    rows.append(f"\n{total:,} inputs, {crashes} crashes, {bad} internal errors or unanswered")
    rows.extend(f"first failure ({t.path}, {t.database}): {t.first[0]}" for t in tallies
                if t.first)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=30_000, help="per path and database")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.dir or Path(scratch)
        tallies = fuzz_database(f"sqlite+aiosqlite:///{directory / 'fuzz.db'}", "sqlite",
                                args.inputs)
        if not args.sqlite_only:
            tallies += fuzz_postgres(args.inputs)
        tallies.append(fuzz_cli(directory, args.inputs))
    shown = table(tallies)
    print(shown)
    return shown


def fuzz_postgres(inputs: int) -> list[Tally]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES)
    name = f"isofficial_fuzz_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def execute(statement: str) -> None:
        server = await asyncpg.connect(admin)
        try:
            await server.execute(statement)
        finally:
            await server.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        db = url.set(database=name).render_as_string(hide_password=False)
        return fuzz_database(db, "postgresql", inputs)
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
