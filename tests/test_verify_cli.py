"""`isofficial verify` and the verification in `check` and `history`, through real subprocesses
on a real SQLite file (no test here reaches the network: the live reads are in test_verify)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from test_cli import env, run

from bot.model import AccountRef
from bot.verification import Direction, LinkCheck, Verification
from knowledge.registry import open_registry
from knowledge.verify.store import SqlVerificationStore

URIMINZOK = AccountRef("x", "uriminzok")
__all__ = ["env"]  # fixture used by name


async def record(url: str, verification: Verification) -> None:
    """Store a verification, creating the schema (the starter data comes with the first run)."""
    registry = await open_registry(url)
    try:
        await SqlVerificationStore(registry).record(verification)
    finally:
        await registry.close()


def test_verify_says_in_one_line_what_it_cannot_check(env: dict[str, str]) -> None:
    no_entity = run(env, "verify", "x:somebody_new")
    assert no_entity.returncode == 1
    assert no_entity.stderr.strip() == (
        "isofficial: x:somebody_new has no entity: name the entity whose official site "
        "should link to it"
    )


def test_check_and_history_show_a_stored_verification(env: dict[str, str]) -> None:
    checked = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    site_side = LinkCheck(
        "uriminzokkiri.com", Direction.SITE_TO_ACCOUNT, False, "no link to the account",
        "http://uriminzokkiri.com/",
    )
    asyncio.run(record(env["ISOFFICIAL_DATABASE_URL"], Verification(
        URIMINZOK, checked, (site_side,), "local:operator"
    )))
    [line] = [json.loads(x) for x in run(env, "check", "--json", "x:uriminzok").stdout.splitlines()]
    assert line["verification"]["state"] == "not-linked"
    assert line["verification"]["checked_at"] == "2026-12-01T09:30:00Z"
    history = run(env, "history", "x:uriminzok").stdout
    assert "2026-12-01 09:30 verify by local:operator: 🔗 not linked from uriminzokkiri.com" in (
        history
    )
