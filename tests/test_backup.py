"""A backup that restores: every table out, into a fresh install (starter data present) or an
empty database, and out again identical; a previous version's export restored; starter-data
updates reaching an existing install without touching what moderators changed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import TEST_DATA

from bot.guard import GuardOptions
from bot.model import AccountRef, Correction, Evidence, IsOfficialError, Report, Status
from isofficial.bootstrap import STARTER_BY, open_sql_registry, update_starter_data
from isofficial.settings import Settings
from knowledge.backup import restore_backup, write_backup
from knowledge.database import writing
from knowledge.exporter import export_rows, write_csv
from knowledge.feeds.store import add_feed
from knowledge.guard import SqlGuardStore
from knowledge.importer import import_rows, read_rows
from knowledge.registry import SqlChatPreferences, SqlRegistry, open_registry
from knowledge.starter_update import update_starter

URIMINZOK = AccountRef("x", "uriminzok")


def other(sqlite_url: str, name: str) -> str:
    """Another SQLite database beside the first."""
    return sqlite_url.rsplit("/", 1)[0] + f"/{name}.sqlite3"


async def backup_of(registry: SqlRegistry) -> list[str]:
    out = io.StringIO()
    await write_backup(registry.engine, out)
    return out.getvalue().splitlines()


def by_table(lines: list[str]) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for line in lines[1:]:
        tables.setdefault(json.loads(line)["table"], []).append(line)
    return tables


async def a_lived_in_registry(url: str) -> SqlRegistry:
    """Starter data, an upstream with ids and aliases, a moderator's verdict, a report, a feed and
    a chat setting."""
    registry = await open_sql_registry(Settings(database_url=url))
    rows = read_rows(TEST_DATA / "registry_europarl.csv")
    await import_rows(registry, rows, by="import:europarl", skip_invalid=True)
    text = "entity,platform,handle,verdict,entity_ids,aliases\n"
    text += "NASA,x,nasa,official,wikidata:Q23548,National Aeronautics and Space Administration\n"
    await import_rows(registry, read_rows(io.StringIO(text), "csv"), by="import:nasa")
    proof = Evidence("https://example.org/statement", "A statement", "Example", None, None)
    await registry.apply(
        Correction(URIMINZOK, Status.PARODY, "Government of North Korea (DPRK)", proof,
                   note="a moderator's reading"),
        by="telegram:42",
    )
    await registry.add_report(Report(AccountRef("x", "nasa"), Status.PARODY, "telegram:7", "?"))
    await add_feed(registry.engine, "https://example.org/feed.xml")
    await SqlChatPreferences(registry.engine).set_autocheck("telegram", "-100", True, "tg:1")
    guard = SqlGuardStore(registry.engine)
    await guard.set_options("telegram", "-100", GuardOptions(True, True, "-200"), "tg:1")
    await guard.allow("telegram", "-100", "77", "tg:1")
    return registry


async def test_export_fresh_install_import_export_is_identical(
    sqlite_url: str, database_url: str, tmp_path: Path
) -> None:
    source = await a_lived_in_registry(sqlite_url)
    lines = await backup_of(source)
    await source.close()
    assert {"changes", "reports", "feeds", "chat_preferences", "entity_aliases",
            "entity_identifiers", "guard_settings", "guard_allowed"} <= set(by_table(lines))
    path = tmp_path / "backup.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = database_url if database_url != sqlite_url else other(sqlite_url, "target")
    fresh = await open_sql_registry(Settings(database_url=target))  # starter data present
    await restore_backup(fresh.engine, path, STARTER_BY)
    assert by_table(await backup_of(fresh)) == by_table(lines)
    history = await fresh.history(URIMINZOK)
    assert [c.by for c in history][:2] == ["telegram:42", STARTER_BY]  # original who, and when
    with pytest.raises(IsOfficialError, match="fresh install or an empty database"):
        await restore_backup(fresh.engine, path, STARTER_BY)  # not over a registry in use
    await fresh.close()
    empty = await open_registry(other(sqlite_url, "empty"))
    await restore_backup(empty.engine, path, STARTER_BY)
    assert by_table(await backup_of(empty)) == by_table(lines)
    await empty.close()


async def test_a_previous_versions_export_restores_into_a_fresh_install(
    sqlite_url: str, tmp_path: Path
) -> None:
    source = await a_lived_in_registry(sqlite_url)
    out = io.StringIO()
    await write_csv(export_rows(source), out)
    accounts = {r.ref: r for r in (await source.find([URIMINZOK])).values()}
    count = await source.count()
    await source.close()
    old_columns = "entity,platform,handle,url,verdict,source_url,note,source_title,"
    old_columns += "source_publisher,source_published,source_quote,platform_id"
    old = [",".join(row[:12]) for row in _csv(out.getvalue())]  # the columns before 0004
    assert old[0] == old_columns
    old_text = "\n".join(old) + "\n"
    fresh = await open_sql_registry(Settings(database_url=other(sqlite_url, "fresh")))
    plain = await import_rows(fresh, read_rows(io.StringIO(old_text), "csv"), by="import")
    assert plain.problems  # the starter data conflicts with the moderator's later verdict
    async with writing(fresh.engine) as conn:
        from knowledge.backup import clear_fresh

        await clear_fresh(conn, STARTER_BY)  # what `import --restore` does first
    restored = await import_rows(fresh, read_rows(io.StringIO(old_text), "csv"), by="import")
    assert restored.problems == [] and await fresh.count() == count
    assert (await fresh.find([URIMINZOK]))[URIMINZOK].status is accounts[URIMINZOK].status
    await fresh.close()


def _csv(text: str) -> list[list[str]]:
    import csv

    rows = list(csv.reader(io.StringIO(text)))
    return [[_quoted(cell) for cell in row] for row in rows]


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n') else cell


async def test_starter_updates_reach_an_install_but_not_what_moderators_changed(
    sqlite_url: str,
) -> None:
    registry = await open_sql_registry(Settings(database_url=sqlite_url))
    assert await update_starter_data(registry) == 0  # the shipped data is already there
    older = "- entity: Government of North Korea (DPRK)\n  platform: x\n  handle: uriminzok\n"
    older += "  verdict: unofficial\n  note: an older note\n"
    older += "- entity: Government of North Korea (DPRK)\n  platform: youtube\n"
    older += "  handle: uriminzokkiri\n  verdict: unofficial\n  note: an older note\n"
    assert await update_starter(registry, read_rows(io.StringIO(older), "yaml"), STARTER_BY) == 2
    youtube = AccountRef("youtube", "uriminzokkiri")
    await registry.apply(Correction(youtube, Status.IMPERSONATOR, None, note="mod"), by="mod")
    changed = await update_starter_data(registry)  # as on the next start, after an upgrade
    assert changed == 1
    found = await registry.find([URIMINZOK, youtube])
    assert found[URIMINZOK].note != "an older note" and found[URIMINZOK].evidence
    assert (found[youtube].status, found[youtube].note) == (Status.IMPERSONATOR, "mod")
    assert next(c.by for c in await registry.history(URIMINZOK)) == STARTER_BY
    await registry.close()
