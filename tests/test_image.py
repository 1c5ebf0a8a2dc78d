"""The container image's steps, without a Docker engine: the Dockerfile's one install command
builds a working app (migrations and starter data included), and what the Dockerfile and
compose.yaml run are real commands of that app."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from isofficial.cli import _parser

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def instructions(name: str) -> list[str]:
    """The arguments of every `name` instruction (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def exec_form(argument: str) -> list[str]:
    parsed = json.loads(argument)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The distribution installed from a clean build, as the image's install step does."""
    (install,) = [run for run in instructions("RUN") if "pip install" in run]
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", *shlex.split(install), "--no-deps", "--target", str(target)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return target


def run_installed(
    site: Path, tmp: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Python on the installed copy only (not this source tree), in an empty directory."""
    env = {**os.environ, **env, "PYTHONPATH": str(site),
           "ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'registry.sqlite3'}"}
    return subprocess.run([sys.executable, *args], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_image_installs_with_one_plain_pip_install() -> None:
    assert [run for run in instructions("RUN") if "pip" in run] == ["pip install ."]


def test_the_installed_app_upgrades_its_schema_and_answers(installed: Path, tmp_path: Path) -> None:
    where = run_installed(installed, tmp_path, "-c", "import bot; print(bot.__file__)")
    assert where.stdout.startswith(str(installed))
    upgrade = run_installed(installed, tmp_path, "-m", "isofficial.cli", "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = run_installed(installed, tmp_path, "-m", "isofficial.cli", "check", "--json",
                          "https://twitter.com/uriminzok")
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout.splitlines()[0])["status"] != "unknown"


def test_the_healthcheck_fails_when_nothing_answers(installed: Path, tmp_path: Path) -> None:
    (healthcheck,) = instructions("HEALTHCHECK")
    command = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-m"]
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    probe = run_installed(installed, tmp_path, *command[1:], ISOFFICIAL_OPS_PORT=str(port))
    assert probe.returncode == 1 and "unhealthy" in probe.stderr


def test_the_image_copies_every_package_and_runs_the_console_script() -> None:
    copied = {
        source for line in instructions("COPY") if "--from" not in line
        for source in line.split()[:-1]
    }
    found = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in found} | {PYPROJECT["project"]["readme"]} <= copied
    (entrypoint,) = instructions("ENTRYPOINT")
    assert exec_form(entrypoint) == ["isofficial"]
    assert "isofficial" in PYPROJECT["project"]["scripts"]
    (cmd,) = instructions("CMD")
    _parser().parse_args(exec_form(cmd))  # a usage error exits the test


def test_compose_runs_cli_commands_after_the_migration() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    bots = {name: s for name, s in services.items() if name not in ("postgres", "migrate")}
    assert bots
    _parser().parse_args(services["migrate"]["command"])
    for name, service in bots.items():
        _parser().parse_args(service.get("command", exec_form(instructions("CMD")[0])))
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        database = service["environment"]["ISOFFICIAL_DATABASE_URL"]
        assert database.startswith("postgresql+asyncpg://"), name
