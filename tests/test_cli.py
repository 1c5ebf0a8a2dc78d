"""The `isofficial` command line end to end, through real subprocesses on a real SQLite file."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from bot.model import AccountRef

TEST_DATA = Path(__file__).resolve().parent / "data"
EXE = str(Path(sys.executable).with_name("isofficial"))
DPRK = "Government of North Korea (DPRK)"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ISOFFICIAL_")}
    return clean | {
        "ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'reg.sqlite3'}",
        "HOME": str(tmp_path),
    }


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [EXE, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_the_founding_case_on_a_fresh_registry(env: dict[str, str]) -> None:
    done = run(env, "check", "https://twitter.com/uriminzok")
    assert done.returncode == 0, done.stderr
    assert "unofficial" in done.stdout and DPRK in done.stdout
    assert "2010-08-24" in done.stdout and "softpedia.com" in done.stdout


def test_check_json_has_the_interface_shape(env: dict[str, str]) -> None:
    done = run(env, "check", "--json", "is https://twitter.com/uriminzok official?")
    [line] = json_lines(done.stdout)
    assert {
        "query",
        "platform",
        "handle",
        "status",
        "entity",
        "lookalike_of",
        "evidence",
        "mentions",
        "reviewed_at",
    } <= set(line)
    assert (line["platform"], line["handle"], line["status"], line["entity"]) == (
        "x",
        "uriminzok",
        "unofficial",
        DPRK,
    )
    evidence = line["evidence"]
    assert isinstance(evidence, list)
    assert {"url", "title", "published"} <= set(evidence[0])
    assert "2010-08-24" in {ev["published"] for ev in evidence}


def test_a_script_asking_one_query_at_a_time_gets_each_answer_before_the_next(
    env: dict[str, str],
) -> None:
    # Answers to piped queries are written a batch at a time, but never held back while the
    # asker waits: each answer here arrives before the next query is written.
    with subprocess.Popen([EXE, "check", "--json"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, env=env, text=True) as process:
        assert process.stdin is not None and process.stdout is not None
        for query, status in [("x:uriminzok", "unofficial"), ("", None),
                              ("facebook.com/uriminzokkiri", "impersonator"),
                              ("x:uriminzok", "unofficial")]:
            process.stdin.write(query + "\n")
            process.stdin.flush()
            if status:  # a blank line is no query: nothing to wait for
                ready, _, _ = select.select([process.stdout], [], [], 60)
                assert ready, "no answer while the asker waits"
                assert json.loads(process.stdout.readline())["status"] == status
        process.stdin.close()
        assert process.stdout.read() == ""
        assert process.wait(timeout=60) == 0


def test_many_piped_queries_are_answered_in_order(env: dict[str, str]) -> None:
    queries = [f"x:uriminzok{n}" for n in range(150)] + ["x:uriminzok"]  # past FLUSH_EVERY
    done = run(env, "check", "--json", stdin="\n".join(queries))  # no newline at the end
    assert [line["handle"] for line in json_lines(done.stdout)] == [q[2:] for q in queries]


def test_check_reads_stdin_and_reports_queries_without_accounts(env: dict[str, str]) -> None:
    done = run(
        env, "check", "--json", stdin="x:uriminzok\nno account here\nfacebook.com/uriminzokkiri\n"
    )
    assert done.returncode == 1
    lines = json_lines(done.stdout)
    assert [line.get("status") for line in lines] == ["unofficial", None, "impersonator"]
    assert "error" in lines[1] and lines[1]["query"] == "no account here"


def test_verdict_history_undo(env: dict[str, str]) -> None:
    done = run(
        env,
        "verdict",
        "x:fakedprk",
        "impersonator",
        "--entity",
        DPRK,
        "--source",
        "https://example.org/fake",
        "--note",
        "copies KCNA",
        "--by",
        "alice",
    )
    assert done.returncode == 0, done.stderr
    history = run(env, "history", "x:fakedprk").stdout
    assert "local:alice" in history and "unknown -> impersonator" in history
    assert run(env, "undo", "x:fakedprk").returncode == 0
    assert "unknown" in json_lines(run(env, "check", "--json", "x:fakedprk").stdout)[0]["status"]


def test_bad_input_gets_one_line_and_a_status(env: dict[str, str]) -> None:
    banana = run(env, "verdict", "x:fakedprk", "banana")
    assert banana.returncode == 1 and "unknown status 'banana'" in banana.stderr
    nothing = run(env, "check", "hello there")
    assert nothing.returncode == 1 and "no account found" in nothing.stdout
    usage = run(env, "frobnicate")
    assert usage.returncode == 2
    junk = run(env, "check", "\u200b\u202e🙂" * 1700)
    assert junk.returncode == 1


def test_a_broken_database_url_is_one_clear_line(env: dict[str, str]) -> None:
    done = run(env | {"ISOFFICIAL_DATABASE_URL": "nosuchdb://x"}, "check", "x:nasa")
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1


def test_import_reports_conflicts_and_writes_nothing(env: dict[str, str]) -> None:
    source = TEST_DATA / "registry_congress.csv"
    done = run(env, "import", str(source))
    assert done.returncode == 1
    assert "RogerMarshallMD".lower() in done.stderr.lower()
    assert "nothing written" in done.stderr
    assert (
        json_lines(run(env, "check", "--json", "x:SenatorBaldwin").stdout)[0]["status"] == "unknown"
    )
    skipped = run(env, "import", str(source), "--skip-invalid")
    assert skipped.returncode == 1
    [line] = json_lines(run(env, "check", "--json", "x:SenatorBaldwin").stdout)
    assert (line["status"], line["entity"]) == ("official", "Tammy Baldwin")


def test_an_import_keeps_the_lookalike_index_for_the_next_check(
    env: dict[str, str], tmp_path: Path
) -> None:
    kept = tmp_path / "index.bin"
    env |= {"ISOFFICIAL_INDEX_FILE": str(kept)}
    source = TEST_DATA / "registry_congress.csv"
    assert run(env, "import", str(source), "--skip-invalid").returncode == 1  # a few conflicts
    written = kept.stat().st_mtime_ns  # kept by the import, with the senators in it
    log = tmp_path / "reg.sqlite3-wal"  # folded into the database when the import closed it
    assert not log.exists() or log.stat().st_size == 0
    [line] = json_lines(run(env, "check", "--json", "x:SenatorBaldwln").stdout)
    assert [lk["entity"] for lk in line["lookalike_of"]][:1] == ["Tammy Baldwin"]
    assert kept.stat().st_mtime_ns == written  # loaded, not built again (a build is kept anew)
    off = json_lines(run(env | {"ISOFFICIAL_INDEX_FILE": "off"}, "check", "--json",
                         "x:SenatorBaldwln").stdout)
    assert off == [line]


def test_export_is_importable_again(env: dict[str, str], tmp_path: Path) -> None:
    run(
        env,
        "verdict",
        "x:fakedprk",
        "impersonator",
        "--entity",
        DPRK,
        "--source",
        "https://example.org/fake",
    )
    dump = tmp_path / "dump.csv"
    assert run(env, "export", "--output", str(dump)).returncode == 0
    other = env | {"ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}"}
    done = run(other, "import", str(dump))
    assert done.returncode == 0, done.stderr
    before = run(env, "check", "--json", "x:fakedprk", "x:uriminzok").stdout
    after = run(other, "check", "--json", "x:fakedprk", "x:uriminzok").stdout
    assert without_provenance(before) == without_provenance(after)


def without_provenance(out: str) -> list[dict[str, object]]:
    """When and by whom a verdict was set belong to each registry (here: a moderator, there: the
    import), not to the exported data."""
    local = {"reviewed_at", "set_by"}
    return [{k: v for k, v in line.items() if k not in local} for line in json_lines(out)]


def test_chat_as_moderator_and_as_user(env: dict[str, str]) -> None:
    operator = run(
        env,
        "chat",
        stdin=f"/verdict x:fakedprk impersonator {DPRK}\n/check x:fakedprk\n",
    )
    assert "saved" in operator.stdout and "impersonator" in operator.stdout
    user = run(
        env, "chat", "--as", "telegram:7", stdin="/verdict x:other impersonator X\n@uriminzok\n"
    )
    assert "only moderators" in user.stdout and "unofficial" in user.stdout


def test_run_without_tokens_says_what_to_set(env: dict[str, str]) -> None:
    done = run(env, "run")
    assert done.returncode == 1 and "ISOFFICIAL_TELEGRAM_TOKEN" in done.stderr


async def test_processes_starting_together_seed_the_registry_once(
    database_url: str, tmp_path: Path
) -> None:
    """Replicas started at once on an empty database: every one answers, none seeds twice."""
    import asyncio

    from knowledge.registry import open_registry

    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOFFICIAL_")}
    env |= {"ISOFFICIAL_DATABASE_URL": database_url, "HOME": str(tmp_path)}
    processes = [
        await asyncio.create_subprocess_exec(
            EXE,
            "check",
            "--json",
            "x:uriminzok",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [await process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, results
    assert all(b'"unofficial"' in out for out, _ in results)
    registry = await open_registry(database_url)
    try:
        assert await registry.count() == 4  # the starter accounts, once
        history = await registry.history(AccountRef("x", "uriminzok"))
        assert len(history) == 1
    finally:
        await registry.close()


def test_upstreams_sources_and_a_backup_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    """One run of each new command (their rules are tested in test_upstreams, test_sources and
    test_backup): exit codes, messages on the right stream, no traceback."""
    upstream = TEST_DATA / "upstream" / "congress-legislators"
    done = run(env, "import", str(upstream), "--format", "congress-legislators")
    assert done.returncode == 1  # the upstream's own error is reported, the rest imported
    assert "facebook:rogermarshallmd" in done.stderr and "wrote 1732 rows" in done.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text("entity,platform,handle,verdict\nAnn Example,x,annexample,official\n")
    assert run(env, "sources", "add", "roster", str(roster), "--format", "csv").returncode == 0
    synced = run(env, "sources", "sync", "roster")
    assert "added 1, changed 0, retired 0" in synced.stdout, synced.stderr
    backup = tmp_path / "backup.jsonl"
    assert run(env, "export", "--format", "backup", "-o", str(backup)).returncode == 0
    other = env | {"ISOFFICIAL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}"}
    restored = run(other, "import", str(backup))
    assert restored.returncode == 0 and "restored" in restored.stderr
    assert "source_listings" in restored.stderr and "changes" in restored.stderr
