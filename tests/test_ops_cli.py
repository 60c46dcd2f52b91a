"""The operator commands `songbot check`, `jobs`, `stats` and `backup`, through `bot.ops.cli.main`.

`main` calls `asyncio.run`, so tests that also serve the fakes run it in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest

from bot.ops import check as check_module
from bot.ops.check import OK, Check
from bot.ops.cli import main
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from storage.db import load_migrations
from storage.jobs import JobStore
from storage.open_db import open_database
from storage.states import JobState
from storage.usage import UsageLedger
from tests.support.harness import bot_env
from tests.support.ops import new_job, restore_logging, run_main, secret_forms

# The newest schema version: every migration added must not need these tests edited.
LATEST = load_migrations()[-1].version

__all__ = ["restore_logging"]


def set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def codec_checked_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """`check`'s codec line without its self-test (two codec child processes, half a second of
    CPU): test_check_passes_against_working_services runs the real one, these tests are about
    other lines."""

    async def codec_ok() -> Check:
        return Check("ffmpeg", OK, "not checked here")

    monkeypatch.setattr(check_module, "_ffmpeg_check", codec_ok)


# -------------------------------------------------------------------------------------- check


async def test_check_passes_against_working_services(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "data" / "songbot.db")
    set_env(monkeypatch, {**env, "SONGBOT_USER_DAILY_LIMIT": "5"})
    assert await run_main(["check"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1]: line for line in out.splitlines()[1:-1]}
    assert set(lines) == {
        "config",
        "telegram",
        "webhook",
        "aimlapi",
        "models",
        "ffmpeg",
        "database",
        "inline",
        "mini-app",
    }
    assert all(line.split()[0] == "ok" for line in lines.values()), out
    assert "@SongTestBot" in lines["telegram"]
    # Inline mode (#26.2): off on the fake by default, with how to switch it on.
    assert "inline mode is off" in lines["inline"] and "BotFather /setinline" in lines["inline"]
    assert "created at first start" in lines["database"]
    assert "usable: " in lines["models"] and "music-01" in lines["models"]
    assert "not listed" not in lines["models"]
    assert "off (set SONGBOT_PUBLIC_URL" in lines["mini-app"]
    assert out.rstrip().endswith("All 9 checks passed.")
    assert not (clean_env / "data" / "songbot.db").exists(), "check must create nothing"
    # The key check is one free read of the request log, the models one free list: nothing
    # was submitted or charged.
    assert [r.path for r in fake_aimlapi.requests] == ["/v2/logs", "/v1/models"]
    for form in secret_forms(fake_telegram.token, fake_aimlapi.api_key):
        assert form not in out


async def test_check_warns_when_a_configured_model_is_no_longer_listed(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    fake_aimlapi.listed_models.discard("music-01")  # retired (#16.9)
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "data" / "songbot.db")
    set_env(monkeypatch, {**env, "SONGBOT_USER_DAILY_LIMIT": "5"})
    assert await run_main(["check"]) == 0  # a warning, not a failure
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.split()[1:2] == ["models"]]
    assert line.split()[0] == "warn"
    assert "configured but not listed: music-01" in line
    assert "usable: " in line and "minimax/music-cover" in line


async def test_check_flags_music01_missing_even_when_no_setting_names_it(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    # A chat's /model or `model:01` can still ask for music-01 when the bot's own reference
    # model is music-cover: its absence from GET /v1/models is worth a warning (#16.9).
    fake_aimlapi.listed_models.discard("music-01")
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "data" / "songbot.db")
    extra = {"SONGBOT_USER_DAILY_LIMIT": "5", "SONGBOT_REFERENCE_MODEL": "minimax/music-cover"}
    set_env(monkeypatch, {**env, **extra})
    assert await run_main(["check"]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.split()[1:2] == ["models"]]
    assert line.split()[0] == "warn"
    assert "music-01 is not listed (it may be retired)" in line
    assert "go to minimax/music-cover" in line and "configured but not listed" not in line


async def test_check_warns_when_anyone_can_spend_without_a_limit(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "songbot.db")
    set_env(monkeypatch, {**env, "SONGBOT_USER_DAILY_LIMIT": "0"})
    await run_main(["check"])
    out = capsys.readouterr().out
    limits = [line for line in out.splitlines() if " limits " in f" {line} "]
    assert len(limits) == 1 and limits[0].split()[0] == "warn", out
    assert "SONGBOT_USER_DAILY_LIMIT" in limits[0]
    set_env(monkeypatch, {"SONGBOT_ALLOWED_CHAT_IDS": "1001"})
    await run_main(["check"])
    assert " limits " not in capsys.readouterr().out


async def test_check_says_where_the_mini_app_is_and_what_groups_need(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "songbot.db")
    public = "https://songs.example.test"
    set_env(monkeypatch, {**env, "SONGBOT_PUBLIC_URL": public, "SONGBOT_USER_DAILY_LIMIT": "5"})

    async def app_line() -> str:
        assert await run_main(["check"]) == 0
        out = capsys.readouterr().out
        (line,) = [line for line in out.splitlines() if " mini-app " in f" {line} "]
        return line

    # No main Mini App in BotFather: the group link would open nothing, so a warning says how.
    line = await app_line()
    assert line.split()[0] == "warn"
    assert f"on at {public}/app/" in line and "Configure Mini App" in line
    fake_telegram.bot_user["has_main_web_app"] = True
    line = await app_line()
    assert line.split()[0] == "ok" and f"on at {public}/app/" in line


async def test_check_fails_on_rejected_token_and_key_without_printing_them(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "songbot.db")
    env["TELEGRAM_BOT_TOKEN"] = "999999:not-the-right-token"
    env["AIMLAPI_KEY"] = "sk-wrong/key+with=signs"
    env["SONGBOT_USER_DAILY_LIMIT"] = "5"  # the public-bot default: no spending warning
    set_env(monkeypatch, env)
    assert await run_main(["check", "--timeout", "10"]) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert "FAIL  telegram  the bot token was rejected" in out
    assert "FAIL  aimlapi   the API key was rejected" in out
    assert "2 of 6 checks failed." in out  # the model list (same key) only warns
    for form in secret_forms(env["TELEGRAM_BOT_TOKEN"], env["AIMLAPI_KEY"]):
        assert form not in out + captured.err


async def test_check_reports_unreachable_services(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "songbot.db")
    env["TELEGRAM_API_BASE_URL"] = "http://127.0.0.1:1"
    env["AIMLAPI_BASE_URL"] = "http://127.0.0.1:1"
    set_env(monkeypatch, env)
    assert await run_main(["check", "--timeout", "10"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  telegram  cannot reach http://127.0.0.1:1" in out
    assert "FAIL  aimlapi   http://127.0.0.1:1 did not confirm the key" in out


def test_check_reports_a_configuration_error(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIMLAPI_KEY", "k")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  config  TELEGRAM_BOT_TOKEN: is required but not set" in out


async def test_check_warns_when_the_webhook_is_not_registered_yet(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
) -> None:
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "songbot.db")
    env["SONGBOT_WEBHOOK_URL"] = "https://bot.example.com/hook"
    env["SONGBOT_WEBHOOK_SECRET"] = "s3cret-value"
    env["SONGBOT_USER_DAILY_LIMIT"] = "5"  # the public-bot default: no spending warning
    set_env(monkeypatch, env)
    assert await run_main(["check"]) == 0
    out = capsys.readouterr().out
    assert "warn  webhook   currently none; `songbot run` will register https://bot.example" in out
    assert "webhook; database" in out
    assert "(1 warning)" in out
    assert "s3cret-value" not in out


async def make_db(path: Path, *, migrate_to: int | None = None) -> None:
    db = await open_database(path, migrate_to=migrate_to)
    await db.close()


CURRENT = len(load_migrations())  # the schema version this songbot migrates to


@pytest.mark.parametrize(
    ("setup", "status", "text"),
    [
        ("current", "ok", f"writable, schema version {CURRENT} (current)"),
        ("older", "warn", f"applies migrations up to {CURRENT} at its next start"),
        ("newer", "FAIL", "newer than this songbot knows"),
        ("garbage", "FAIL", "not a usable SQLite database"),
    ],
)
async def test_check_database_states(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
    codec_checked_elsewhere: None,
    setup: str,
    status: str,
    text: str,
) -> None:
    path = clean_env / "songbot.db"
    if setup == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    else:
        await make_db(path, migrate_to=1 if setup == "older" else None)
        if setup == "newer":
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA user_version = 99")
    set_env(monkeypatch, bot_env(fake_telegram, fake_aimlapi, path))
    await run_main(["check"])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.split()[1:2] == ["database"])
    assert line.split()[0] == status, line
    assert text in line
    if setup == "older":  # check never migrates
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 1


# ------------------------------------------------------------------------ jobs, stats, backup


async def populate(path: Path) -> None:
    """Five jobs: two delivered, one failed, one pending, one received; usage for the paid."""
    db = await open_database(path)
    jobs, usage = JobStore(db), UsageLedger(db)
    try:
        plan = [
            (1, 1001, 1001, "delivered"),
            (2, 1001, 1001, "failed"),
            (3, -100500, 2002, "delivered"),
            (4, -100500, 2002, "pending"),
            (5, 1001, 1001, "received"),
        ]
        for n, chat, user, final in plan:
            job, _ = await jobs.create(new_job(n, chat=chat, user=user))
            now = job.created_at
            if final == "received":
                continue
            await jobs.transition(job.id, JobState.RECEIVED, JobState.SUBMITTING, now=now)
            if final == "failed":
                await jobs.transition(
                    job.id, JobState.SUBMITTING, JobState.FAILED, now=now, error_key="error_x"
                )
                continue
            await jobs.transition(
                job.id,
                JobState.SUBMITTING,
                JobState.PENDING,
                now=now,
                generation_id=f"gen-{n}",
                submitted_at=now,
            )
            await usage.record(job.id, user, chat, job.model, 100 * n, now=time.time())
            if final == "delivered":
                await jobs.transition(
                    job.id, JobState.PENDING, JobState.FETCHING, now=now, completed_at=now + 40
                )
                await jobs.transition(job.id, JobState.FETCHING, JobState.DELIVERING, now=now)
                await jobs.transition(job.id, JobState.DELIVERING, JobState.DELIVERED, now=now)
    finally:
        await db.close()


@pytest.fixture
async def populated(clean_env: Path) -> Path:
    path = clean_env / "songbot.db"
    await populate(path)
    return path


def test_jobs_lists_newest_first_with_filters(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "--db", str(populated)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["ID", "STATE", "MODEL", "CHAT", "USER"]
    assert [line.split()[0] for line in lines[1:]] == ["5", "4", "3", "2", "1"]
    assert lines[2].split()[1] == "pending"
    assert "error_x" in lines[4]

    assert main(["jobs", "--db", str(populated), "--state", "delivered"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["3", "1"]

    assert main(["jobs", "--db", str(populated), "--chat", "-100500", "--limit", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["4"]

    assert main(["jobs", "--db", str(populated), "--state", "cancelled"]) == 0
    assert capsys.readouterr().out.strip() == "no jobs"


def test_jobs_json_reads_sonbot_db_from_the_environment(
    populated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SONGBOT_DB", str(populated))
    assert main(["jobs", "--json", "--state", "failed"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1
    assert rows[0]["key"] == "sb-test-2"
    assert rows[0]["state"] == "failed"
    assert rows[0]["error"] == "error_x"
    assert "lyrics" not in rows[0]


def test_jobs_rejects_an_unknown_state(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["jobs", "--state", "exploded"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_stats_text_and_json(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(populated)]) == 0
    out = capsys.readouterr().out
    assert "generations  today 3  total 3  (refunded 0)" in out
    assert "credits      today 800  total 800" in out
    assert "delivered 2" in out and "failed 1" in out and "pending 1" in out
    assert "minimax/music-2.0" in out and "40.0s" in out
    assert main(["stats", "--db", str(populated), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["generations_total"] == 3
    assert data["credits_total"] == 800
    assert data["jobs_by_state"]["delivered"] == 2
    assert data["top_users"][0] == {"user_id": 2002, "name": "user2002", "generations": 2}


def test_missing_database_is_one_line_and_exit_1(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["jobs"], ["stats"], ["backup", str(clean_env / "b.db")]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no database at songbot.db" in err
    assert not (clean_env / "songbot.db").exists()


async def test_jobs_refuses_an_older_schema_without_migrating_it(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = clean_env / "songbot.db"
    await make_db(path, migrate_to=1)
    assert await run_main(["jobs", "--db", str(path)]) == 1
    assert f"schema version 1, older than this songbot's {CURRENT}" in capsys.readouterr().err
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1


async def test_backup_while_the_bot_writes(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Another connection (the running bot) keeps writing while the backup runs.
    live = await open_database(populated)
    store = JobStore(live)
    stop = asyncio.Event()

    async def writer() -> int:
        n = 100
        while not stop.is_set():
            await store.create(new_job(n, chat=1001, user=1001))
            n += 1
            await asyncio.sleep(0)
        return n - 100

    task = asyncio.create_task(writer())
    try:
        folder = populated.parent / "backups"
        folder.mkdir()
        assert await run_main(["backup", str(folder), "--db", str(populated)]) == 0
    finally:
        stop.set()
        written = await task
        await live.close()
    assert written > 0
    out = capsys.readouterr().out
    files = list(folder.glob("songbot-*.db"))
    assert len(files) == 1
    assert out.startswith(f"backup written: {files[0]} (")
    assert "integrity ok" in out
    with sqlite3.connect(files[0]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT
    assert 5 <= count <= 5 + written
    assert f"{count:,} jobs" in out
    assert not list(folder.glob("*.partial"))


def test_backup_to_a_file_and_never_onto_itself(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = populated.parent / "nested" / "copy.db"
    assert main(["backup", str(target), "--db", str(populated)]) == 0
    assert "5 jobs, integrity ok" in capsys.readouterr().out
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 5
    assert main(["backup", str(populated), "--db", str(populated)]) == 1
    assert "onto itself" in capsys.readouterr().err


def test_backup_to_a_folder_with_a_slash_creates_it_and_never_overwrites(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = populated.parent / "new-backups"
    assert main(["backup", f"{folder}/", "--db", str(populated)]) == 0
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 1 and files[0].startswith("songbot-") and files[0].endswith(".db")
    assert not [n for n in files if n.endswith(("-wal", "-shm", ".partial"))]
    capsys.readouterr()
    target = populated.parent / "copy.db"
    assert main(["backup", str(target), "--db", str(populated)]) == 0
    assert not list(populated.parent.glob("copy.db-*"))  # no -wal/-shm beside the copy
    before = target.stat().st_mtime_ns
    assert main(["backup", str(target), "--db", str(populated)]) == 1
    assert "not overwriting" in capsys.readouterr().err
    assert target.stat().st_mtime_ns == before


def test_an_empty_database_file_is_not_called_schema_version_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "songbot.db"
    empty.touch()
    for command in (["jobs"], ["stats"], ["backup", str(tmp_path / "b.db")]):
        assert main([*command, "--db", str(empty)]) == 1
        err = capsys.readouterr().err
        assert "schema version 0" not in err and "is empty" in err
