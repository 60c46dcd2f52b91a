"""The operator's side of PostgreSQL: migrate-db, jobs/stats/backup on a URL, `run` refusing a bad
URL in one line (issue #20). Every command runs through `songbot`'s own `main`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from storage.open_db import open_database
from tests.support.harness import bot_env
from tests.support.jobs import sqlite_with_jobs
from tests.support.ops import restore_logging, run_main  # noqa: F401  (the fixture)
from tests.support.pg_server import PgServer

ROOT = Path(__file__).resolve().parent.parent


async def test_migrate_db_copies_then_jobs_reads_postgresql(
    clean_env: Path,
    pg_server: PgServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = clean_env / "songbot.db"
    await sqlite_with_jobs(source)
    url = pg_server.empty_database()
    assert await run_main(["migrate-db", "--from", str(source), "--to", url]) == 0
    out = capsys.readouterr().out
    assert "jobs" in out and "copied" in out
    assert await run_main(["migrate-db", "--from", str(source), "--to", url]) == 1
    assert "already has songbot data" in capsys.readouterr().err
    monkeypatch.setenv("SONGBOT_DATABASE_URL", url)
    assert await run_main(["jobs", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert await run_main(["backup", "/tmp/x.dump"]) == 1
    err = capsys.readouterr().err
    assert "pg_dump" in err and "songbot backup" in err


async def test_migrate_db_refuses_while_a_bot_runs_on_the_file(
    clean_env: Path,
    pg_server: PgServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from storage.instance_lock import InstanceLock, lock_path_for

    source = clean_env / "songbot.db"
    await sqlite_with_jobs(source)
    lock = InstanceLock(lock_path_for(source))
    assert lock.acquire()  # as a running bot holds it (flock: per open file, so we conflict)
    try:
        url = pg_server.empty_database()
        assert await run_main(["migrate-db", "--from", str(source), "--to", url]) == 1
        assert "stop it first" in capsys.readouterr().err
    finally:
        lock.release()


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mysql://u:topsecret@127.0.0.1/x", "must be a postgresql://"),
        ("postgresql://u:topsecret@127.0.0.1:1/x", "cannot connect to PostgreSQL"),
    ],
)
def test_run_with_a_bad_database_url_is_one_line_and_exit_2(
    tmp_path: Path, url: str, needle: str
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "AIMLAPI_KEY": "k",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
        "AIMLAPI_BASE_URL": "http://127.0.0.1:9",
        "SONGBOT_DATABASE_URL": url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "SONGBOT_DATABASE_URL" in lines[0], lines
    assert "topsecret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


async def test_check_looks_at_postgresql_when_the_url_is_set(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,  # noqa: F811
    pg_server: PgServer,
) -> None:
    url = pg_server.empty_database()
    env = bot_env(fake_telegram, fake_aimlapi, clean_env / "songbot.db")
    for key, value in {
        **env,
        "SONGBOT_DATABASE_URL": url,
        "SONGBOT_USER_DAILY_LIMIT": "5",
    }.items():
        monkeypatch.setenv(key, value)
    assert await run_main(["check"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.split()[1:2] == ["database"])
    assert "empty; the bot creates its tables" in line and "postgresql://" in line, out
    db = await open_database(url)  # what the first replica does
    await db.close()
    assert await run_main(["check"]) == 0
    out = capsys.readouterr().out
    assert "writable, schema version" in out and "(current)" in out
    assert not (clean_env / "songbot.db").exists()
