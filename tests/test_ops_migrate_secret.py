"""Issue #24.10: `songbot migrate-db` never needs the database password in its arguments (readable
by every user in /proc/<pid>/cmdline while it runs): the target comes from SONGBOT_DATABASE_URL
(environment or .env) or `--to-file`, and a password in `--to` is refused in one line.

Every command runs through `songbot`'s own `main`, against the suite's PostgreSQL server (trust
authentication, so a URL with a password would connect and copy if it were let through).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support.jobs import sqlite_with_jobs
from tests.support.ops import restore_logging, run_main  # noqa: F401  (the fixture)
from tests.support.pg_server import PgServer

SECRET = "hunter2-db-secret"


def with_password(url: str) -> str:
    return url.replace("://songbot@", f"://songbot:{SECRET}@", 1)


def tables_in(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("form", ["userinfo", "query"])
async def test_a_password_given_with_to_is_refused_in_one_line(
    clean_env: Path,
    pg_server: PgServer,
    capsys: pytest.CaptureFixture[str],
    form: str,
) -> None:
    source = clean_env / "songbot.db"
    await sqlite_with_jobs(source)
    url = pg_server.empty_database()
    given = with_password(url) if form == "userinfo" else f"{url}?password={SECRET}"
    assert await run_main(["migrate-db", "--from", str(source), "--to", given]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "SONGBOT_DATABASE_URL" in lines[0] and "--to-file" in lines[0]
    assert SECRET not in captured.err + captured.out
    assert tables_in(url) == 0  # nothing was copied


async def test_the_target_comes_from_the_environment_or_dotenv(
    clean_env: Path,
    pg_server: PgServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = clean_env / "songbot.db"
    await sqlite_with_jobs(source)
    from_dotenv = pg_server.empty_database()
    (clean_env / ".env").write_text(f"SONGBOT_DATABASE_URL={with_password(from_dotenv)}\n")
    assert await run_main(["migrate-db", "--from", str(source)]) == 0
    assert "copied" in capsys.readouterr().out
    assert tables_in(from_dotenv) > 0

    from_environment = pg_server.empty_database()  # the environment wins over .env
    monkeypatch.setenv("SONGBOT_DATABASE_URL", with_password(from_environment))
    assert await run_main(["migrate-db", "--from", str(source)]) == 0
    assert tables_in(from_environment) > 0


async def test_the_target_comes_from_a_file(
    clean_env: Path,
    pg_server: PgServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = clean_env / "songbot.db"
    await sqlite_with_jobs(source)
    url = pg_server.empty_database()
    secret_file = clean_env / "database-url"
    secret_file.write_text(f"\n{with_password(url)}\n")
    secret_file.chmod(0o600)
    args = ["migrate-db", "--from", str(source), "--to-file", str(secret_file)]
    assert await run_main(args) == 0
    assert "copied" in capsys.readouterr().out
    assert tables_in(url) > 0


async def test_without_a_target_it_says_how_to_give_one(
    clean_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = clean_env / "songbot.db"
    await sqlite_with_jobs(source)
    assert await run_main(["migrate-db", "--from", str(source)]) == 1
    err = capsys.readouterr().err
    assert "SONGBOT_DATABASE_URL" in err and "--to-file" in err
