"""A bot replica over standard input/output, for the replica tests and benchmark.

`python tests/replica.py` builds the core as `isofficial run` does (settings from ISOFFICIAL_*),
follows registry changes made by other processes, prints {"ready": true}, then answers JSON lines
{"id": 1, "as": "telegram:7", "line": "/verdict x:acme official Acme"} with {"id": 1, "reply": ...},
every request concurrently, as an adapter serves many chats at once. `Replica` drives one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from itertools import count
from pathlib import Path
from typing import Any

from adapters.console import reply
from bot.core import Core
from bot.model import Asker
from isofficial.bootstrap import build_core
from isofficial.settings import Settings
from knowledge.notify import following_changes

SCRIPT = Path(__file__)
LINE_LIMIT = 1 << 24  # a history of thousands of changes is one long JSON line


async def _answer(core: Core, request: dict[str, Any]) -> None:
    platform, _, user_id = str(request.get("as", "local:operator")).partition(":")
    text = await reply(core, request["line"], Asker(platform, user_id))
    sys.stdout.write(json.dumps({"id": request["id"], "reply": text}) + "\n")
    sys.stdout.flush()


async def serve() -> None:
    settings = Settings()
    core = await build_core(settings)
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending: set[asyncio.Task[None]] = set()
    async with following_changes(settings.database_url, core.reload, core.index_change):
        print(json.dumps({"ready": True}), flush=True)
        while line := await reader.readline():
            task = asyncio.create_task(_answer(core, json.loads(line)))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)


class Replica:
    """One replica process and its conversation."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.waiting: dict[int, asyncio.Future[str]] = {}
        self.ids = count()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, env: Mapping[str, str]) -> Replica:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(SCRIPT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **env}, limit=LINE_LIMIT,
        )
        assert process.stdout is not None
        first = await process.stdout.readline()
        if json.loads(first or b"{}") != {"ready": True}:
            await process.wait()
            raise RuntimeError(f"replica did not start (exit {process.returncode})")
        return cls(process)

    async def ask(self, line: str, as_user: str = "local:operator") -> str:
        assert self.process.stdin is not None
        request_id = next(self.ids)
        answered = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = answered
        request = {"id": request_id, "as": as_user, "line": line}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        return str(await answered)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            self.waiting.pop(message["id"]).set_result(message["reply"])
        for answered in self.waiting.values():
            answered.set_exception(RuntimeError("the replica exited"))

    async def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        await self.process.wait()
        await self.reader


if __name__ == "__main__":
    asyncio.run(serve())
