"""The SQL registry on SQLite and on the real PostgreSQL server: the Registry port's behaviour."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from datetime import date
from pathlib import Path

import aiosqlite
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, column, func, insert, make_url, select, table, text
from sqlalchemy.exc import IntegrityError

import knowledge.feeds.tables  # noqa: F401  (its tables join the metadata the migrations make)
from bot.model import (
    AccountRef,
    Correction,
    Evidence,
    IsOfficialError,
    NoSuchReport,
    NothingToUndo,
    Outcome,
    Report,
    Status,
)
from knowledge import reads
from knowledge.compiled import OneHop, fetch_on, inline_reader
from knowledge.database import writing
from knowledge.importer import import_rows, read_rows
from knowledge.memory import MemoryRegistry
from knowledge.registry import SqlChatPreferences, SqlRegistry, open_registry
from knowledge.tables import accounts, chat_preferences, metadata

NASA = AccountRef("x", "nasa")
ARTICLE = Evidence(
    "https://example.org/2010/08/24/dprk",
    "DPRK says fans run the accounts",
    "Example News",
    date(2010, 8, 24),
    "run by fans in China and Japan",
)
STATEMENT = Evidence("https://example.org/statement", "Statement", None, None, None)


def official(
    ref: AccountRef = NASA, entity: str = "NASA", proof: Evidence | None = None
) -> Correction:
    return Correction(ref, Status.OFFICIAL, entity, proof, handle_as_written=ref.handle.upper())


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("not a url", "cannot be parsed"),
        ("postgresql://bot:pw@db/isofficial", "unsupported database URL postgresql://"),
        ("sqlite:///registry.sqlite3", "unsupported database URL sqlite://"),
        ("nosuchdb://x", "unsupported database URL nosuchdb://"),
    ],
)
async def test_a_bad_database_url_says_which_urls_work(url: str, why: str) -> None:
    with pytest.raises(IsOfficialError, match=why) as raised:
        await open_registry(url)
    assert "postgresql+asyncpg://" in str(raised.value) and "pw" not in str(raised.value)


async def test_schema_matches_tables_and_reopening_keeps_data(database_url: str) -> None:
    first = await open_registry(database_url)
    await first.apply(official(), by="test")
    async with first.engine.connect() as conn:
        differences = await conn.run_sync(_schema_differences)
    await first.close()
    again = await open_registry(database_url)  # migrations already applied: a no-op
    assert await again.count() == 1
    await again.close()
    assert differences == []


def _schema_differences(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize(("query", "index"), [
    ("SELECT id FROM accounts WHERE platform_id = '42'", "ix_accounts_platform_id"),
    ("SELECT c.id FROM changes c WHERE NOT EXISTS (SELECT 1 FROM changes u WHERE u.undoes = c.id)",
     "ix_changes_undoes"),
])
async def test_indexes_of_mostly_empty_columns_hold_values_only_and_serve_lookups(
    registry: SqlRegistry, query: str, index: str
) -> None:
    async with registry.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            definition = await conn.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = :index"), {"index": index})
            await conn.execute(text("SET LOCAL enable_seqscan = off"))  # tables this small
            plan = [row[0] for row in await conn.execute(text(f"EXPLAIN {query}"))]
        else:
            definition = await conn.scalar(text(
                "SELECT sql FROM sqlite_master WHERE name = :index"), {"index": index})
            plan = [row[-1] for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {query}"))]
    assert definition is not None and "IS NOT NULL" in definition
    assert any(index in step for step in plan), plan


async def test_sqlite_file_and_its_directory_are_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "registry.sqlite3"
    registry = await open_registry(f"sqlite+aiosqlite:///{path}")
    assert await registry.is_empty()
    await registry.close()
    assert path.exists()


async def test_apply_then_find(registry: SqlRegistry) -> None:
    record, change = await registry.apply(official(proof=ARTICLE), by="telegram:42")
    found = await registry.find([NASA, AccountRef("x", "nobody")])
    assert found == {NASA: record}
    assert record.status is Status.OFFICIAL and record.entity == "NASA"
    assert record.handle_as_written == "NASA" and record.evidence == (ARTICLE,)
    assert record.reviewed is not None and record.reviewed.tzinfo is not None
    assert (change.old_status, change.new_status) == (Status.UNKNOWN, Status.OFFICIAL)
    assert (change.by, change.evidence, change.new_entity) == ("telegram:42", ARTICLE, "NASA")
    assert not await registry.is_empty() and await registry.count() == 1


async def test_reads_see_what_another_process_committed(database_url: str) -> None:
    """Another process's registry on the same database: its write is read at once, never a
    stale snapshot (SQLite reads share one autocommit connection)."""
    reader, writer = await open_registry(database_url), await open_registry(database_url)
    try:
        assert await reader.find([NASA]) == {}
        assert (await reader.read([NASA]))[NASA].record is None
        record, _ = await writer.apply(official(), by="telegram:42")
        assert await reader.find([NASA]) == {NASA: record}
        assert (await reader.read([NASA]))[NASA].record == record  # one hop on SQLite
        await writer.undo(NASA, by="telegram:42")
        assert await reader.find([NASA]) == {}
        assert (await reader.read([NASA]))[NASA].record is None
    finally:
        await reader.close()
        await writer.close()


async def test_a_read_in_one_hop_is_what_sqlalchemy_reads(registry: SqlRegistry) -> None:
    """SQLite's one-hop read (SQL compiled once, run on the driver) types every value as
    SQLAlchemy's execute does: the same records, evidence dates, aware review times."""
    youtube = AccountRef("youtube", "nasa")
    record, _ = await registry.apply(official(proof=ARTICLE), by="telegram:42")
    await registry.apply(official(youtube, proof=STATEMENT), by="seed")
    refs = [NASA, youtube, AccountRef("x", "nobody")]
    async with registry.one_hop_statements() as heard:
        read = await registry.read(refs)
    async with registry.reading() as conn:
        assert read == await reads.read_known(fetch_on(conn), refs, 5)
    assert read[NASA].record == record and read[NASA].record.evidence == (ARTICLE,)
    assert record.reviewed is not None and record.reviewed.tzinfo is not None
    assert len(heard) == (1 if registry.engine.dialect.name == "sqlite" else 0)


async def test_a_registry_on_an_sqlite_file_reads_on_the_loop_thread(sqlite_url: str) -> None:
    registry = await open_registry(sqlite_url)
    try:
        record, _ = await registry.apply(official(proof=ARTICLE), by="telegram:42")
        assert (await registry.read([NASA]))[NASA].record == record
        async with registry.reading():
            one_hop = registry._one_hop
        assert one_hop is not None and one_hop.inline is not None
    finally:
        await registry.close()


async def test_a_read_of_a_busy_sqlite_file_waits_off_the_event_loop(tmp_path: Path) -> None:
    """While another connection holds the file, the inline read would fail at once: it takes
    the hop instead, waits in aiosqlite's thread, and the loop goes on meanwhile. (A file in
    rollback-journal mode, where an exclusive lock keeps readers out; in WAL that is rare.)"""
    path = str(tmp_path / "busy.sqlite3")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (n INTEGER)")
    holder.execute("INSERT INTO t VALUES (7)")
    driver = await aiosqlite.connect(path, timeout=5)
    one_hop = OneHop(driver, make_url("sqlite://").get_dialect()(), inline_reader(path))
    statement = select(column("n")).select_from(table("t"))
    try:
        assert [row.n for row in await one_hop(statement, {})] == [7]
        holder.execute("BEGIN EXCLUSIVE")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        asyncio.get_running_loop().call_later(0.3, holder.rollback)  # lets go of the file
        assert [row.n for row in await one_hop(statement, {})] == [7]
        ticker.cancel()
        assert ticks >= 10  # the loop ran while the read waited
    finally:
        one_hop.close()
        await driver.close()
        holder.close()


async def test_find_many_refs_across_platforms(registry: SqlRegistry) -> None:
    refs = [AccountRef(p, f"name{i}") for p in ("x", "youtube", "facebook") for i in range(700)]
    for ref in refs[::50]:
        await registry.apply(official(ref, entity=f"E {ref}"), by="seed")
    found = await registry.find(refs)
    assert sorted(found) == sorted(refs[::50])
    assert all(found[ref].entity == f"E {ref}" for ref in found)


async def test_a_correction_keeps_what_it_does_not_say(registry: SqlRegistry) -> None:
    await registry.apply(official(proof=ARTICLE), by="a")
    await registry.remember_platform_id(NASA, "11348282")
    record, change = await registry.apply(
        Correction(NASA, Status.COMPROMISED, evidence=STATEMENT, note="hacked"), by="b"
    )
    assert (record.entity, record.platform_id, record.handle_as_written) == (
        "NASA",
        "11348282",
        "NASA",
    )
    assert record.evidence == (ARTICLE, STATEMENT) and record.note == "hacked"
    assert (change.old_status, change.new_status, change.old_entity) == (
        Status.OFFICIAL,
        Status.COMPROMISED,
        "NASA",
    )


async def test_evidence_with_the_same_url_is_replaced_not_doubled(registry: SqlRegistry) -> None:
    await registry.apply(official(proof=ARTICLE), by="a")
    retitled = Evidence(ARTICLE.url, "Corrected title")
    record, _ = await registry.apply(official(proof=retitled), by="b")
    assert record.evidence == (retitled,)


async def test_history_is_newest_first_and_per_account(registry: SqlRegistry) -> None:
    other = AccountRef("youtube", "nasa")
    await registry.apply(official(), by="a")
    await registry.apply(official(other), by="x")
    await registry.apply(Correction(NASA, Status.DEFUNCT, note="closed"), by="b")
    history = await registry.history(NASA)
    assert [(c.by, c.new_status, c.note) for c in history] == [
        ("b", Status.DEFUNCT, "closed"),
        ("a", Status.OFFICIAL, None),
    ]
    assert history[0].id > history[1].id and history[0].at >= history[1].at
    assert await registry.history(AccountRef("x", "nobody")) == []


async def test_undo_restores_every_field_and_walks_back(registry: SqlRegistry) -> None:
    created, _ = await registry.apply(official(proof=ARTICLE), by="a")
    await registry.apply(
        Correction(NASA, Status.IMPERSONATOR, "Someone", STATEMENT, "fake", "NaSa"), by="b"
    )
    restored, change = await registry.undo(NASA, by="mod")
    assert restored == created  # evidence set, note, entity, handle, reviewed time: all as before
    assert (await registry.find([NASA]))[NASA] == created
    assert (change.old_status, change.new_status, change.undoes) == (
        Status.IMPERSONATOR,
        Status.OFFICIAL,
        (await registry.history(NASA))[1].id,
    )
    gone, change = await registry.undo(NASA, by="mod")
    assert gone is None and change.new_status is Status.UNKNOWN
    assert await registry.find([NASA]) == {} and await registry.is_empty()
    with pytest.raises(NothingToUndo):
        await registry.undo(NASA, by="mod")
    assert len(await registry.history(NASA)) == 4  # undos are changes too, nothing erased


async def test_undo_after_a_new_change_undoes_that_one(registry: SqlRegistry) -> None:
    await registry.apply(official(), by="a")
    await registry.apply(Correction(NASA, Status.DEFUNCT), by="b")
    await registry.undo(NASA, by="mod")
    await registry.apply(Correction(NASA, Status.PARODY), by="c")
    record, _ = await registry.undo(NASA, by="mod")
    assert record is not None and record.status is Status.OFFICIAL


async def test_nothing_to_undo_for_an_unknown_account(registry: SqlRegistry) -> None:
    with pytest.raises(NothingToUndo, match="x:nasa"):
        await registry.undo(NASA, by="mod")


async def test_protected_batches_hold_only_official_and_affiliated(registry: SqlRegistry) -> None:
    for i in range(25):
        await registry.apply(official(AccountRef("x", f"gov{i}"), f"Gov {i}"), by="seed")
    await registry.apply(Correction(AccountRef("x", "fan"), Status.UNOFFICIAL, "Gov 1"), by="s")
    await registry.apply(Correction(AccountRef("x", "aff"), Status.AFFILIATED, "Gov 2"), by="s")
    batches = [batch async for batch in registry.protected(batch=10)]
    assert [len(b) for b in batches] == [10, 10, 6]
    pairs = {(ref, entity) for batch in batches for ref, entity, _written in batch}
    assert (AccountRef("x", "aff"), "Gov 2") in pairs and (
        AccountRef("x", "gov7"),
        "Gov 7",
    ) in pairs
    assert AccountRef("x", "fan") not in {ref for ref, _ in pairs}


async def test_platform_id_only_for_registered_accounts(registry: SqlRegistry) -> None:
    await registry.remember_platform_id(NASA, "1")
    assert await registry.is_empty()
    await registry.apply(official(), by="a")
    await registry.remember_platform_id(NASA, "11348282")
    assert (await registry.find([NASA]))[NASA].platform_id == "11348282"


async def test_reports_queue(registry: SqlRegistry) -> None:
    first = await registry.add_report(Report(NASA, Status.IMPERSONATOR, "telegram:7", "fake"))
    second = await registry.add_report(Report(AccountRef("x", "b"), Status.PARODY, "discord:9"))
    assert first.id is not None and first.at is not None and second.id != first.id
    assert await registry.open_reports() == [second, first]
    assert await registry.open_reports(limit=1) == [second]


async def test_one_account_per_platform_and_key(registry: SqlRegistry) -> None:
    await registry.apply(official(), by="a")
    await registry.apply(official(entity="NASA again"), by="b")
    assert await registry.count() == 1
    with pytest.raises(IntegrityError):
        async with writing(registry.engine) as conn:
            await conn.execute(
                insert(accounts).values(
                    platform="x", handle_key="nasa", handle_as_written="x", status="official"
                )
            )


async def test_a_failed_write_leaves_nothing_half_written(registry: SqlRegistry) -> None:
    before, _ = await registry.apply(official(proof=ARTICLE), by="a")
    # The account row is updated first, then the evidence insert fails (title NOT NULL):
    untitled = Evidence("https://example.org/x", None)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        await registry.apply(Correction(NASA, Status.PARODY, "Parody", untitled, "n"), by="b")
    with pytest.raises(IntegrityError):
        await registry.apply(official(AccountRef("x", "esa"), "ESA", untitled), by="b")
    assert await registry.find([NASA, AccountRef("x", "esa")]) == {NASA: before}
    assert [c.by for c in await registry.history(NASA)] == ["a"]
    assert await registry.history(AccountRef("x", "esa")) == []
    assert await registry.count() == 1


@pytest.mark.postgres
async def test_concurrent_applies_on_postgres_lose_nothing(postgres_url: str) -> None:
    registries = [await open_registry(postgres_url) for _ in range(4)]
    statuses = [Status.OFFICIAL, Status.PARODY, Status.DEFUNCT, Status.AFFILIATED]
    refs = [NASA, AccountRef("x", "esa")]

    async def writer(n: int) -> None:
        for i in range(10):
            status = statuses[(n + i) % 4]
            for ref in refs:
                proof = Evidence(f"https://example.org/{n}/{i}", "t")
                await registries[n].apply(Correction(ref, status, f"E{n}", proof), by=f"w{n}")

    await asyncio.gather(*(writer(n) for n in range(4)))
    registry = registries[0]
    for ref in refs:
        history = await registry.history(ref)
        assert len(history) == 40
        # every change starts from the state the previous one left: none was lost
        for older, newer in zip(reversed(history), list(reversed(history))[1:], strict=False):
            assert (newer.old_status, newer.old_entity) == (older.new_status, older.new_entity)
        record = (await registry.find([ref]))[ref]
        assert len(record.evidence) == 40
        assert (record.status, record.entity) == (history[0].new_status, history[0].new_entity)
    async with registry.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(accounts)) == 2
    for opened in registries:
        await opened.close()


# --- reports resolved by verdicts, search, chat preferences ---


async def test_a_verdict_resolves_the_accounts_open_reports(registry: SqlRegistry) -> None:
    help_desk, other = AccountRef("x", "nasa_help"), AccountRef("x", "other")
    for who in ("telegram:7", "discord:9"):
        await registry.add_report(Report(help_desk, Status.IMPERSONATOR, who))
    kept = await registry.add_report(Report(other, Status.PARODY, "telegram:7"))
    await registry.apply(Correction(help_desk, Status.IMPERSONATOR, "NASA"), by="telegram:42")
    assert await registry.open_reports() == [kept]
    later = await registry.add_report(Report(help_desk, Status.OFFICIAL, "telegram:8"))
    assert await registry.open_reports() == [later, kept]  # a new report needs a new review


SEARCHABLE = [
    (AccountRef("x", "nasa"), "NASA"),
    (AccountRef("x", "nasa_kids"), "NASA"),
    (AccountRef("youtube", "UCLA_BEfRrMf6VkxTgnS_HQ"), "NASA"),
    (AccountRef("telegram", "nasanews"), None),
    (AccountRef("x", "esa"), "European Space Agency"),
    (AccountRef("telegram", "spacenews"), "Space News"),
    (AccountRef("x", "n%a_b"), "Percent 100%"),
    (AccountRef("website", "example.org"), "Example"),
]


async def searchable(registry: SqlRegistry | MemoryRegistry) -> None:
    for ref, entity in SEARCHABLE:
        status = Status.OFFICIAL if entity else Status.UNOFFICIAL
        await registry.apply(Correction(ref, status, entity), by="test")


async def test_search_handle_prefixes_first_then_entity_names(registry: SqlRegistry) -> None:
    await searchable(registry)
    refs = [str(ref) for ref, _ in await registry.search("nasa")]
    assert refs == ["x:nasa", "x:nasa_kids", "telegram:nasanews", "youtube:UCLA_BEfRrMf6VkxTgnS_HQ"]
    assert await registry.search("SPACE") == [
        (AccountRef("telegram", "spacenews"), "Space News"),  # handle, then name prefix (same)
        (AccountRef("x", "esa"), "European Space Agency"),  # name contains
    ]
    [(channel, _)] = await registry.search("ucla_b")  # a channel id keeps its case
    assert channel == AccountRef("youtube", "UCLA_BEfRrMf6VkxTgnS_HQ")
    assert [str(r) for r, _ in await registry.search("na", platform="telegram")] == [
        "telegram:nasanews"
    ]
    assert await registry.search("nasa", limit=2) == [
        (AccountRef("x", "nasa"), "NASA"),
        (AccountRef("x", "nasa_kids"), "NASA"),
    ]
    assert [str(r) for r, _ in await registry.search("n%")] == ["x:n%a_b"]  # no wildcards
    assert [str(r) for r, _ in await registry.search("100%")] == ["x:n%a_b"]
    assert await registry.search("nobody") == []


@pytest.mark.parametrize("typed", ["", "n", "na", "nasa_", "e", "ex", "s", "a", "ws", "%", "_"])
async def test_search_agrees_with_the_memory_registry(registry: SqlRegistry, typed: str) -> None:
    reference = MemoryRegistry()
    await searchable(registry)
    await searchable(reference)
    for limit in (1, 3, 25):
        assert await registry.search(typed, limit) == await reference.search(typed, limit)
        for platform in ("x", "telegram"):
            assert await registry.search(typed, limit, platform) == await reference.search(
                typed, limit, platform
            )


async def test_chat_preferences_survive_reopening(database_url: str) -> None:
    first = await open_registry(database_url)
    preferences = SqlChatPreferences(first.engine)
    assert not await preferences.autocheck("telegram", "-100500")  # never said: off
    await preferences.set_autocheck("telegram", "-100500", True, "telegram:2 (@ann)")
    await preferences.set_autocheck("discord", "-100500", False, "discord:9")
    await first.close()

    again = await open_registry(database_url)
    preferences = SqlChatPreferences(again.engine)
    assert await preferences.autocheck("telegram", "-100500")
    assert not await preferences.autocheck("discord", "-100500")  # chats are per platform
    await preferences.set_autocheck("telegram", "-100500", False, "telegram:1 (@mod)")
    assert not await preferences.autocheck("telegram", "-100500")
    async with again.engine.connect() as conn:
        rows = (await conn.execute(select(chat_preferences).order_by("platform"))).all()
    await again.close()
    assert [(r.platform, r.autocheck, r.changed_by) for r in rows] == [
        ("discord", False, "discord:9"),
        ("telegram", False, "telegram:1 (@mod)"),
    ]
    assert all(r.changed_at.tzinfo is not None for r in rows)


# --- the reports queue and chat settings (migration 0005), on both databases ---


async def test_reports_merge_close_with_outcomes_and_are_dismissed(registry: SqlRegistry) -> None:
    help_desk, other = AccountRef("x", "nasa_help"), AccountRef("x", "other")
    first = await registry.add_report(Report(help_desk, Status.IMPERSONATOR, "telegram:7", "keys"))
    again = await registry.add_report(Report(help_desk, Status.IMPERSONATOR, "telegram:7"))
    third = await registry.add_report(Report(help_desk, Status.IMPERSONATOR, "discord:9"))
    assert first.id == again.id == third.id and (first.count, third.count) == (1, 3)
    assert third.reporters == ("telegram:7", "discord:9") and third.note == "keys"
    assert third.reporter_keys == ("telegram:7", "discord:9")
    claim = await registry.add_report(Report(help_desk, Status.OFFICIAL, "telegram:8"))
    parody = await registry.add_report(Report(other, Status.PARODY, "telegram:7"))
    assert claim.id != first.id  # another suggestion is another report

    await registry.apply(Correction(help_desk, Status.IMPERSONATOR, "NASA"), by="telegram:42")
    accepted, decided = await registry.report(first.id or 0), await registry.report(claim.id or 0)
    assert accepted is not None and accepted.outcome is Outcome.ACCEPTED
    assert decided is not None and decided.outcome is Outcome.DECIDED
    assert decided.closed_by == "telegram:42" and decided.reason == "verdict: impersonator"

    closed = await registry.close_report(parody.id or 0, Outcome.DISMISSED, "mod", "satire")
    assert (closed.outcome, closed.closed_by, closed.reason) == (Outcome.DISMISSED, "mod", "satire")
    assert await registry.open_reports() == []
    with pytest.raises(NoSuchReport):
        await registry.close_report(parody.id or 0, Outcome.DISMISSED, "mod", None)


async def test_chat_settings_follow_a_chat_to_its_new_id(registry: SqlRegistry) -> None:
    preferences = SqlChatPreferences(registry.engine)
    await preferences.set_language("telegram", "-5", "ko", "telegram:1")
    await preferences.set_autocheck("telegram", "-5", True, "telegram:1")
    await preferences.move_chat("telegram", "-5", "-1005")
    assert await preferences.language("telegram", "-1005") == "ko"
    assert await preferences.autocheck("telegram", "-1005")
    assert await preferences.language("telegram", "-5") is None
    assert not await preferences.autocheck("telegram", "-5")
    await preferences.set_language("discord", "9", None, "discord:2")  # a new row: auto-check off
    assert not await preferences.autocheck("discord", "9")


async def test_the_key_streams_give_every_key_once_in_batches(registry: SqlRegistry) -> None:
    """registered_keys and entity_names, batch by batch past a removed account's gap (SQLite
    reads them as joined strings by rowid): every account, entity name and alias once."""
    rows = "entity,platform,handle,verdict,source_url,aliases\n" + "".join(
        f"Office {n},x,office_{n},official,https://example.org/{n},Desk {n};Bureau {n}\n"
        for n in range(7)
    )
    result = await import_rows(registry, read_rows(io.StringIO(rows), "csv"), by="test")
    assert result.written == 7
    await registry.undo(AccountRef("x", "office_3"), by="test")
    keys = [pair async for refs, handles in registry.registered_keys(2)
            for pair in zip(refs, handles, strict=True)]
    names = [name async for batch in registry.entity_names(2) for name in batch]
    assert sorted(keys) == sorted((f"x:office_{n}", f"office_{n}") for n in range(7) if n != 3)
    expected = [f"{kind} {n}" for n in range(7) for kind in ("Office", "Desk", "Bureau")]
    assert sorted(names) == sorted(expected)
