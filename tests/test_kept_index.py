"""The kept lookalike index: a core started from the file and the change log since answers
exactly as a core that read the whole registry, after adds, changes, removals and restarts;
a file that cannot be trusted is noticed and rebuilt. Real data (tests/data), real files."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import numpy as np
import pytest
from lookalike_cases import Official, cases, officials

from bot import kept as kept_code
from bot.core import Core
from bot.kept import OVERLAP, from_kept, kept_arrays
from bot.lookalike import LookalikeIndex
from bot.model import OPERATOR, AccountRecord, AccountRef, Correction, Lookalike, Status
from bot.ports import KeptArrays
from knowledge import index_file
from knowledge.index_file import IndexFile
from knowledge.memory import MemoryRegistry
from knowledge.registry import SqlRegistry, open_registry

URL = "memory://kept-index-test"


@pytest.fixture(scope="module")
def protected() -> list[Official]:
    return officials()


def kept_file(tmp_path: Path, url: str = URL) -> IndexFile:
    return IndexFile(tmp_path / "index.bin", url)


def seeded(protected: list[Official]) -> MemoryRegistry:
    """The first two thirds of the officials, as an import leaves them (no change yet)."""
    registry = MemoryRegistry()
    for o in protected[: len(protected) * 2 // 3]:
        registry.records[o.ref] = AccountRecord(o.ref, Status.OFFICIAL, o.entity, o.written)
    return registry


async def changed(registry: MemoryRegistry, protected: list[Official], step: int) -> None:
    """Adds, entity changes, removals and undos, different for each step."""
    third = len(protected) // 3
    for o in protected[2 * third + step :: 7][:60]:  # new officials
        added = Correction(o.ref, Status.OFFICIAL, o.entity, handle_as_written=o.written)
        await registry.apply(added, "t")
    for o in protected[step : 2 * third : 23][:40]:  # another entity: the platforms' masks move
        await registry.apply(Correction(o.ref, Status.AFFILIATED, f"{o.entity} staff"), "t")
    for o in protected[step + 3 : 2 * third : 29][:40]:  # no longer protected
        await registry.apply(Correction(o.ref, Status.UNOFFICIAL, o.entity), "t")
    for o in protected[step + 5 : 2 * third : 97][:10]:  # removed, then back as it was
        await registry.apply(Correction(o.ref, Status.UNOFFICIAL, o.entity), "t")
        await registry.undo(o.ref, "t")


def queries(protected: list[Official]) -> list[tuple[AccountRef, str]]:
    """Impostors of every class, and every official asked about on another platform."""
    found = [(case.query, case.written) for case in cases(protected, 40)]
    found += [(AccountRef("instagram" if o.ref.platform == "x" else "x", o.ref.handle), o.written)
              for o in protected[::5]]
    return found


Found = list[tuple[Lookalike, ...]]


def answers(index: LookalikeIndex, asked: list[tuple[AccountRef, str]]) -> Found:
    return [index.find(ref, written, limit=5) for ref, written in asked]


async def test_a_kept_index_caught_up_answers_like_a_fresh_build(
    tmp_path: Path, protected: list[Official], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    registry, kept = seeded(protected), kept_file(tmp_path)
    first = await Core.start(registry, kept=kept)  # no file yet: built, then kept
    assert kept.path.exists() and "no kept lookalike index" in caplog.text
    await changed(registry, protected, 0)
    await first.reload([c.ref for c in registry.changes])
    second = await Core.start(registry, kept=kept)  # a restart: the file and the changes since
    assert "kept lookalike index loaded" in caplog.text
    await changed(registry, protected, 1)
    await second.keep_index()  # as a clean shutdown does
    await changed(registry, protected, 2)
    caplog.clear()
    third = await Core.start(registry, kept=kept)
    assert "kept lookalike index loaded" in caplog.text and "rebuilding" not in caplog.text

    fresh = await Core.start(registry)
    asked = queries(protected)
    assert len(third.index) == len(fresh.index) > len(protected) * 2 // 3
    expected = answers(fresh.index, asked)
    assert sum(map(bool, expected)) > len(asked) // 2  # the queries do find lookalikes
    assert answers(third.index, asked) == expected
    assert answers(first.index, asked[:300]) != expected[:300]  # the first one missed steps 1-2


async def imported(registry: MemoryRegistry, officials: list[Official]) -> None:
    for o in officials:
        added = Correction(o.ref, Status.OFFICIAL, o.entity, handle_as_written=o.written)
        await registry.apply(added, "import")


@pytest.mark.parametrize("bulk", [1, 10**9], ids=["in bulk", "one by one"])
async def test_a_kept_index_caught_up_in_bulk_answers_like_a_fresh_build(
    tmp_path: Path, protected: list[Official], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch, bulk: int,
) -> None:
    """Imports' worth of changes (many new officials, entities moved, accounts removed and back)
    caught up as one batch merged into the kept arrays, with restarts in between: the same
    answers and the same accounts known registered as a fresh build."""
    monkeypatch.setattr("bot.kept.BULK", bulk)
    caplog.set_level(logging.INFO)
    registry, kept = seeded(protected), kept_file(tmp_path)
    await Core.start(registry, kept=kept)
    third = len(protected) // 3
    await imported(registry, protected[2 * third : 2 * third + third // 2])
    await changed(registry, protected, 0)
    second = await Core.start(registry, kept=kept)  # a restart after an import
    await imported(registry, protected[2 * third + third // 2 :])
    await changed(registry, protected, 1)
    await second.keep_index()  # as `isofficial import` keeps it
    await changed(registry, protected, 2)
    last = await Core.start(registry, kept=kept)
    assert "kept lookalike index loaded" in caplog.text and "rebuilding" not in caplog.text

    fresh = await Core.start(registry)
    asked = queries(protected)
    assert len(last.index) == len(fresh.index) > len(protected) * 9 // 10
    assert answers(last.index, asked) == answers(fresh.index, asked)
    assert last.presence is not None and fresh.presence is not None
    every = [o.ref for o in protected] + [ref for ref, _ in asked]
    registered = [fresh.presence.may_be_registered(ref) for ref in every]
    assert [last.presence.may_be_registered(ref) for ref in every] == registered
    assert registered.count(False) > 100 and registered.count(True) > len(protected) // 2


async def test_checks_answer_alike_from_the_kept_index_and_from_a_fresh_build(
    tmp_path: Path, protected: list[Official]
) -> None:
    registry, kept = seeded(protected), kept_file(tmp_path)
    await Core.start(registry, kept=kept)
    await changed(registry, protected, 0)
    restarted, fresh = await Core.start(registry, kept=kept), await Core.start(registry)
    for case in list(cases(protected, 15)):
        assert await restarted.check(case.message, OPERATOR) == await fresh.check(
            case.message, OPERATOR
        ), case.message


def test_arrays_give_back_the_same_index_after_removals_and_second_accounts() -> None:
    index = LookalikeIndex()
    for i in range(300):
        index.add(AccountRef("x", f"official{i:04d}"), f"Entity {i % 40}")
    index.add(AccountRef("instagram", "nasa"), "NASA")
    index.add(AccountRef("instagram", "nasahq"), "NASA")  # a second account on one platform
    index.add(AccountRef("x", "nasa"), "NASA")
    for i in range(0, 300, 7):
        index.remove(AccountRef("x", f"official{i:04d}"))
    index.add(AccountRef("x", "official0014"), "Entity back")
    index.remove(AccountRef("instagram", "nasa"))
    again = LookalikeIndex.from_arrays(index.arrays())
    asked = [AccountRef("x", f"offlcial{i:04d}") for i in range(300)]
    asked += [AccountRef("instagram", "nasa_support"), AccountRef("youtube", "nasa")]
    assert len(again) == len(index)
    for ref in asked:
        assert again.find(ref, limit=10) == index.find(ref, limit=10), ref
    found = again.find(AccountRef("instagram", "nasa_support"), limit=10)
    assert any(lk.entity_here for lk in found)  # instagram:nasahq is still NASA's
    again.remove(AccountRef("instagram", "nasahq"))
    assert not any(lk.entity_here for lk in again.find(AccountRef("instagram", "nasa_support")))


def test_a_kept_index_is_read_only_and_still_takes_changes(tmp_path: Path) -> None:
    index = LookalikeIndex.built([(AccountRef("x", "vitalikbuterin"), "Vitalik", None)])
    kept = kept_file(tmp_path)
    kept.save(KeptArrays(kept_arrays(index, None), 1, "mark", "code"))
    loaded = kept.load()
    assert loaded is not None
    assert all(not a.flags.writeable for a in loaded.arrays.values())  # views of the map
    mapped = from_kept(loaded.arrays)[0]
    mapped.add(AccountRef("x", "nasa_official"), "NASA")
    mapped.remove(AccountRef("x", "vitalikbuterin"))
    assert mapped.find(AccountRef("x", "vitalikbutenn")) == ()
    assert [lk.entity for lk in mapped.find(AccountRef("x", "nasa_offical"))] == ["NASA"]


def _flip_a_data_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-200] ^= 0x10
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not an index at all\n" * 10)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [(_flip_a_data_byte, "checksum mismatch"), (_truncate, "bytes, expected"),
     (_garbage, "not a lookalike index file"), (lambda p: p.write_bytes(b""), "empty file")],
)
async def test_a_damaged_file_is_noticed_and_rebuilt(
    tmp_path: Path, protected: list[Official], caplog: pytest.LogCaptureFixture,
    spoil: object, reason: str,
) -> None:
    registry, kept = seeded(protected), kept_file(tmp_path)
    await Core.start(registry, kept=kept)
    await changed(registry, protected, 0)
    assert callable(spoil)
    spoil(kept.path)
    caplog.set_level(logging.INFO)
    rebuilt = await Core.start(registry, kept=kept)
    assert reason in caplog.text and "rebuilding" in caplog.text
    asked = queries(protected)[::4]
    assert answers(rebuilt.index, asked) == answers((await Core.start(registry)).index, asked)
    assert kept.load() is not None  # and kept again, whole


async def test_a_file_of_another_database_history_format_or_code_is_not_trusted(
    tmp_path: Path, protected: list[Official], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    registry = seeded(protected)
    await changed(registry, protected, 0)
    here, elsewhere = kept_file(tmp_path), kept_file(tmp_path, "memory://another")
    await Core.start(registry, kept=here)

    # Another database's file at this path (one ISOFFICIAL_INDEX_FILE for two, by mistake).
    await Core.start(seeded(protected), kept=elsewhere)
    assert "built for another database" in caplog.text
    await Core.start(registry, kept=here)  # rebuilt and kept again

    # The same database, another history: a restored backup, a database made anew.
    other = seeded(protected)
    await changed(other, protected, 1)
    caplog.clear()
    core = await Core.start(other, kept=here)
    assert "of another history" in caplog.text
    asked = queries(protected)[::4]
    assert answers(core.index, asked) == answers((await Core.start(other)).index, asked)

    # A change id the database does not have (the file is newer than the database).
    await Core.start(registry, kept=here)
    caplog.clear()
    await Core.start(seeded(protected), kept=here)
    assert "of another history" in caplog.text

    # A file of an older format; one the indexing code of another version built.
    monkeypatch.setattr(index_file, "FORMAT", index_file.FORMAT + 1)
    caplog.clear()
    await Core.start(registry, kept=here)
    assert "this version reads" in caplog.text
    monkeypatch.setattr("bot.kept.code_digest", lambda: "another version")
    caplog.clear()
    await Core.start(registry, kept=here)
    assert "built by other code" in caplog.text


def test_the_code_digest_covers_every_module_the_index_code_imports() -> None:
    """A kept file is trusted only if the code that made it is this code: a module the index
    code computes with and the digest leaves out would let an older file through."""
    bot = Path(kept_code.__file__).parent
    types_only = {"model.py", "ports.py", "i18n.py", "verification.py", "guard_model.py"}
    computes_nothing = {"collector.py"}  # pauses the garbage collector, no more
    seen: set[str] = set()
    waiting = list(kept_code._INDEX_CODE)
    while waiting:
        name = waiting.pop()
        seen.add(name)
        for node in ast.walk(ast.parse((bot / name).read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
                imported = f"{node.module.split('.')[1]}.py"  # type: ignore[union-attr]
                if imported not in seen | types_only | computes_nothing:
                    assert imported in kept_code._INDEX_CODE, f"{name} imports {imported}"
                    waiting.append(imported)


async def test_many_changes_since_the_file_rebuild_it_rather_than_reload_them(
    tmp_path: Path, protected: list[Official], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.kept.SAVE_AFTER", 10)
    registry, kept = seeded(protected), kept_file(tmp_path)
    await Core.start(registry, kept=kept)
    await changed(registry, protected, 0)  # about 160 accounts
    monkeypatch.setattr("bot.kept.REBUILD_SHARE", 0.01)
    caplog.set_level(logging.INFO)
    core = await Core.start(registry, kept=kept)
    assert "changed since the kept lookalike index: rebuilding it" in caplog.text
    loaded = kept.load()
    assert loaded is not None and loaded.change_id == core.index_change == len(registry.changes)


async def senators_changed_after_a_kept_start(
    registry: SqlRegistry, kept: IndexFile
) -> list[str]:
    """40 senators' names: 30 registered, the index kept, then 10 more and the first removed."""
    names = [f"senator{i:03d}smith" for i in range(40)]
    for name in names[:30]:
        await registry.apply(Correction(AccountRef("x", name), Status.OFFICIAL, name), "t")
    await Core.start(registry, kept=kept)
    for name in names[30:]:
        await registry.apply(Correction(AccountRef("x", name), Status.OFFICIAL, name), "t")
    await registry.apply(Correction(AccountRef("x", names[0]), Status.UNOFFICIAL, "x"), "t")
    return names


async def test_sql_registries_keep_the_index_across_starts(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite and PostgreSQL: the change log's reads (changed_since, change_mark) on SQL."""
    registry = await open_registry(database_url)
    try:
        kept = kept_file(tmp_path, database_url)
        names = await senators_changed_after_a_kept_start(registry, kept)
        caplog.set_level(logging.INFO)
        core = await Core.start(registry, kept=kept)
        assert "kept lookalike index loaded: 39 accounts" in caplog.text
        assert await registry.newest_change() == 41 == core.index_change
        newest, refs = await registry.changed_since(30)
        assert newest == 41
        assert sorted(refs) == sorted(AccountRef("x", n) for n in [names[0], *names[30:]])
        assert await registry.change_mark(30) == await registry.change_mark(30) is not None
        assert await registry.change_mark(30) != await registry.change_mark(31)
        assert await registry.change_mark(42) is None and await registry.change_mark(0)
        fresh = await Core.start(registry)
        asked = [AccountRef("x", name.replace("smith", "smlth")) for name in names]
        assert [core.index.find(r) for r in asked] == [fresh.index.find(r) for r in asked]
        targets = [{lk.target.handle for lk in core.index.find(r, limit=50)} for r in asked]
        assert names[0] not in targets[0] and names[39] in targets[39]
    finally:
        await registry.close()


async def test_sql_registries_catch_up_in_bulk(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite and PostgreSQL: an import's changes read and merged into the kept index as one
    batch (adds, an entity moved, a removal) answer as a fresh build."""
    monkeypatch.setattr("bot.kept.BULK", 1)
    registry = await open_registry(database_url)
    try:
        kept = kept_file(tmp_path, database_url)
        names = await senators_changed_after_a_kept_start(registry, kept)
        moved = Correction(AccountRef("x", names[1]), Status.AFFILIATED, "Senate staff")
        await registry.apply(moved, "t")
        caplog.set_level(logging.INFO)
        core = await Core.start(registry, kept=kept)
        assert "kept lookalike index loaded: 39 accounts" in caplog.text
        fresh = await Core.start(registry)
        asked = [AccountRef(p, name.replace("smith", "smlth")) for name in names
                 for p in ("x", "instagram")]
        assert [core.index.find(r) for r in asked] == [fresh.index.find(r) for r in asked]
        assert core.index.find(asked[2])[0].entity == "Senate staff"
    finally:
        await registry.close()


async def test_what_a_check_knows_in_memory_is_kept_and_caught_up_too(
    tmp_path: Path, protected: list[Official]
) -> None:
    """An account registered while no core ran, under a verdict the lookalike index never holds
    (parody), is known registered by a core started from the file: the presence sets are kept
    with the index and follow the change log, and feed mentions are read anew."""
    registry, kept = seeded(protected), kept_file(tmp_path)
    await Core.start(registry, kept=kept)
    parody = AccountRef("x", "notreallynasa58")
    await registry.apply(Correction(parody, Status.PARODY, "NASA fans", note="a parody"), "t")
    restarted = await Core.start(registry, kept=kept)
    assert restarted.presence is not None and restarted.presence.may_be_registered(parody)
    [answer] = await restarted.check(str(parody), OPERATOR)
    assert answer.status is Status.PARODY and answer.entity == "NASA fans"


def _mapped_kb(path: Path) -> int:
    """Resident KB of this process's maps of path (Linux: /proc/self/smaps)."""
    resident, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if line[:1].isdigit() or line[:1] in "abcdef":  # a mapping's first line
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            resident += int(line.split()[1])
    return resident


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux's smaps reads RSS")
def test_loading_checks_the_whole_file_without_making_its_map_resident(tmp_path: Path) -> None:
    # The checksum reads every byte; read through the map, a 10M-account index (2.7 GB) would
    # all count in the checking process's RSS.
    kept = kept_file(tmp_path)
    arrays = {"big": np.arange(1 << 21, dtype=np.int64)}  # 16 MB
    kept.save(KeptArrays(arrays, 7, "mark", "code"))
    loaded = kept.load()
    assert loaded is not None and loaded.change_id == 7
    assert _mapped_kb(kept.path) < 1024  # the header's pages, not the 16 MB
    assert int(loaded.arrays["big"][-1]) == (1 << 21) - 1  # and the data reads from the map


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux's smaps reads RSS")
def test_a_loaded_index_copies_its_columns_only_when_written(tmp_path: Path) -> None:
    # Copied at load, the columns of 10M accounts would be some 300 MB of RSS, read from the map.
    accounts = [(AccountRef("x", f"official{i:06d}"), f"E{i}", None) for i in range(100_000)]
    kept = kept_file(tmp_path)
    kept.save(KeptArrays(kept_arrays(LookalikeIndex.built(accounts), None), 1, "mark", "code"))
    loaded = kept.load()
    assert loaded is not None
    index, _ = from_kept(loaded.arrays)
    assert _mapped_kb(kept.path) < 1024  # of 3 MB of columns (all of them, read by a copy)
    assert [lk.target.handle for lk in index.find(AccountRef("x", "offcial012345"))] == [
        "official012345"]
    same, before = AccountRef("x", "official000007"), _mapped_kb(kept.path)
    index.update(same, AccountRecord(same, Status.OFFICIAL, "E7", "official000007"))  # as held
    assert _mapped_kb(kept.path) - before < 2048 and index.rows() == 100_000  # of 4 MB
    index.remove(AccountRef("x", "official012345"))  # written: the alive column copied first
    index.add(AccountRef("x", "official999999"), "E")
    assert index.find(AccountRef("x", "offcial012345")) == ()
    assert len(index) == 100_000


async def test_a_kept_index_mostly_of_removed_rows_is_rebuilt_compact(
    tmp_path: Path, protected: list[Official], caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every change leaves the account's old row behind (ids are never reused); a running core
    keeps them, and a start whose file holds more dead rows than live ones builds anew."""
    monkeypatch.setattr("bot.kept.SAVE_AFTER", 100)
    caplog.set_level(logging.INFO)
    registry, kept = seeded(protected), kept_file(tmp_path)
    core = await Core.start(registry, kept=kept)
    alive = len(core.index)
    moved = protected[: alive : 3]  # a third of the accounts change entity, round after round
    for round_ in range(4):
        for o in moved:
            await registry.apply(Correction(o.ref, Status.OFFICIAL, f"{o.entity} {round_}"), "t")
        await core.keep_index()
    assert core.index.rows() == alive + 4 * len(moved) and len(core.index) == alive
    caplog.clear()
    restarted = await Core.start(registry, kept=kept)
    assert "removed accounts' rows: rebuilding it" in caplog.text
    assert restarted.index.rows() == len(restarted.index) == alive
    caplog.clear()
    again = await Core.start(registry, kept=kept)  # the compact build was kept
    assert "kept lookalike index loaded" in caplog.text
    assert again.index.rows() - alive <= OVERLAP  # only the changes re-read from before the id
    asked = queries(protected)[::3]
    assert answers(again.index, asked) == answers((await Core.start(registry)).index, asked)
