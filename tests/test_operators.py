"""What operators meet: --version, where .env is read from (and the start-up log saying so),
`db upgrade` telling what it did, and a database newer than the program refused clearly."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from test_cli import EXE, env, run

import knowledge.migrations
from isofficial import version
from knowledge.database import head_revision

HEAD = ScriptDirectory(str(Path(knowledge.migrations.__file__).parent)).get_current_head()

__all__ = ["env"]  # fixture used by name


def test_version(env: dict[str, str]) -> None:
    done = run(env, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"isofficial {version()}"
    assert version() != "unknown"


def test_db_upgrade_says_what_it_did(env: dict[str, str]) -> None:
    first = run(env, "db", "upgrade")
    assert first.returncode == 0
    assert f"upgraded the registry schema: empty -> {HEAD}" in first.stderr
    again = run(env, "db", "upgrade")
    assert f"already up to date ({HEAD})" in again.stderr


def test_a_database_newer_than_the_program_is_refused_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run(env, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "reg.sqlite3") as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    done = run(env, "check", "x:nasa")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "isofficial: the database's schema (0099_from_the_future) is newer than this isofficial "
        f"knows (latest {HEAD}): install the newer isofficial that upgraded it"
    ]


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    assert head_revision() == HEAD


# What a check on an SQLite registry at the head never needs: each costs start-up time.
NOT_FOR_A_CHECK = ("alembic", "aiohttp", "dns", "asyncpg", "feedparser")
LOADED = """import sys
from isofficial.cli import main
status = main(sys.argv[1:])
print(sorted({name.split(".")[0] for name in sys.modules}))
sys.exit(status)
"""


def test_a_check_loads_no_migration_tool_web_client_or_postgresql_driver(
    env: dict[str, str],
) -> None:
    assert run(env, "db", "upgrade").returncode == 0
    done = subprocess.run(
        [sys.executable, "-c", LOADED, "check", "--json", "x:nasa"],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    answer, loaded = done.stdout.splitlines()
    assert json.loads(answer)["handle"] == "nasa"
    assert not set(NOT_FOR_A_CHECK) & set(json.loads(loaded.replace("'", '"')))
    upgraded = subprocess.run(  # a schema behind the head still gets Alembic and its upgrade
        [sys.executable, "-c", LOADED, "db", "upgrade"], capture_output=True, text=True,
        env=env | {"ISOFFICIAL_DATABASE_URL": env["ISOFFICIAL_DATABASE_URL"] + "-new"},
        timeout=120, check=True,
    )
    assert "alembic" in upgraded.stdout and f"empty -> {HEAD}" in upgraded.stderr


def test_dotenv_from_the_config_directory_or_the_working_one_and_the_log_names_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    del env["ISOFFICIAL_DATABASE_URL"]
    config = tmp_path / ".config" / "isofficial"
    config.mkdir(parents=True)
    (config / ".env").write_text(f"ISOFFICIAL_DATABASE_URL=sqlite+aiosqlite:///{tmp_path}/c.db\n")
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run([EXE, "db", "upgrade"], cwd=work, env=env, check=True, capture_output=True)
    assert (tmp_path / "c.db").is_file()  # the config directory's .env was read

    (work / ".env").write_text(f"ISOFFICIAL_DATABASE_URL=sqlite+aiosqlite:///{tmp_path}/w.db\n")
    done = subprocess.run([EXE, "run"], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert (tmp_path / "w.db").is_file()  # the working directory's wins
    assert done.returncode == 1 and "nothing to run" in done.stderr
    [started] = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert started["level"] == "info"
    assert started["message"] == (
        f"isofficial {version()}: settings from {config / '.env'}, {work / '.env'}"
    )
