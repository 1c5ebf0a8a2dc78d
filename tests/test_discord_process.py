"""`isofficial run` as a real process against the fake Discord, stopped with SIGINT."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_discord import FakeDiscord

from adapters.discord.render import COLOUR
from bot.model import Status

ROOT = Path(__file__).parents[1]


def isofficial_command() -> list[str]:
    """The installed console script, or the same entry point from this checkout."""
    script = shutil.which("isofficial", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "isofficial.cli"]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.close()
    assert fake.failures == []


async def test_isofficial_run_serves_discord_until_sigint(fake: FakeDiscord,
                                                          tmp_path: Path) -> None:
    guild, alice = fake.add_guild("news"), fake.add_user("alice")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ISOFFICIAL_")}
    env.update(
        ISOFFICIAL_DISCORD_TOKEN=fake.token,
        ISOFFICIAL_DISCORD_API_BASE=fake.api_base,
        ISOFFICIAL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
        PYTHONPATH=str(ROOT),
    )
    process = await asyncio.create_subprocess_exec(
        *isofficial_command(), "run", cwd=tmp_path, env=env,  # tmp cwd: no stray .env
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_ready(timeout=120)
        exchange = await fake.slash("check", alice, guild, query="https://twitter.com/uriminzok")
        embed = (await exchange.reply())["embeds"][0]
        assert embed["footer"]["text"] == "x:uriminzok"
        assert embed["color"] == COLOUR[Status.UNOFFICIAL].value  # the founding case
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b"Traceback" not in stderr
