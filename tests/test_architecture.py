"""Dependencies point inward: the core imports no platform SDK, database or HTTP library."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {
    "telegram",
    "discord",
    "sqlalchemy",
    "aiohttp",
    "asyncpg",
    "aiosqlite",
    "alembic",
    "knowledge",
    "adapters",
    "isofficial",
}
CORE = Path(__file__).resolve().parents[1] / "bot"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_nothing_from_the_outside() -> None:
    files = sorted(CORE.glob("**/*.py"))
    assert len(files) >= 5
    offenders = {f.name: imported_modules(f) & FORBIDDEN for f in files}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import sqlalchemy.orm\nfrom telegram import Bot\n")
    assert imported_modules(sample) >= {"sqlalchemy", "telegram"}
