"""`isofficial run` as a real process against the fake Bot API: it answers, and SIGINT stops it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from fake_telegram import TOKEN, FakeTelegram, running_fake

ISOFFICIAL = Path(sys.executable).parent / "isofficial"
STARTUP_SECONDS = 60.0  # a fresh SQLite registry is created and seeded first


async def test_isofficial_run_answers_on_telegram_and_exits_cleanly_on_sigint(
    tmp_path: Path,
) -> None:
    async with running_fake(FakeTelegram()) as fake:
        env = {
            **os.environ,
            "ISOFFICIAL_TELEGRAM_TOKEN": TOKEN,
            "ISOFFICIAL_TELEGRAM_BASE_URL": f"{fake.url}/bot",
            "ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'registry.sqlite3'}",
        }
        env.pop("ISOFFICIAL_DISCORD_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            str(ISOFFICIAL), "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.expect("setMyCommands", timeout=STARTUP_SECONDS)
            ann = fake.user(2, "Ann", "ann")
            reply = await fake.ask(fake.private(ann), ann, "/check https://twitter.com/uriminzok")
            assert "x:uriminzok — unofficial" in reply.text, reply.text
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()[-2000:]
        assert TOKEN.split(":")[1] not in stderr.decode()
    assert not fake.problems, fake.problems
