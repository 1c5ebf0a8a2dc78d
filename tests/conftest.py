"""Shared fixtures: registries on SQLite and on the real PostgreSQL server.

The real data the tests read is in tests/data (see its LICENSES.md), never outside the repository.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from knowledge.registry import SqlRegistry, open_registry

TEST_DATA = Path(__file__).parent / "data"
# The test servers listen on 127.0.0.1: the fetcher may read private addresses in tests (and in
# the processes they start); the tests of the address policy turn it back off explicitly.
os.environ["ISOFFICIAL_FETCH_ALLOW_PRIVATE"] = "true"
# Kept lookalike indexes (a file per database, in the user's cache directory) go to a directory
# of this test run, for the tests and the processes they start.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="isofficial-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)
POSTGRES_URL = os.environ.get(
    "ISOFFICIAL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("ISOFFICIAL_TEST_POSTGRES_URL is set to '': PostgreSQL tests disabled")
    url = make_url(POSTGRES_URL)
    name = f"isofficial_test_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    server = await asyncpg.connect(admin)
    try:
        await server.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'registry.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of each kind."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
async def registry(database_url: str) -> AsyncIterator[SqlRegistry]:
    """An empty SqlRegistry with its schema, on each database kind."""
    opened = await open_registry(database_url)
    yield opened
    await opened.close()
