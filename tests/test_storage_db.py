"""Database: opening, pragmas, migrations and the upgrade path, the writer path, backups."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

import storage.db as storage_db
from storage import Database, JobState, JobStore, Migration, StorageError, load_migrations
from storage.db import ConstraintViolation
from storage.jobs.rows import NEW_JOB_COLUMNS, sql_value
from storage.open_db import open_database
from tests.support.jobs import T0, make_new_job

LATEST = len(load_migrations())
INDEXES_002 = {
    "jobs_due",
    "jobs_state_created",
    "jobs_user_state",
    "jobs_user_created",
    "jobs_chat_state_created",
    "jobs_chat_created",
    "jobs_lease_owner",
    "jobs_model_completed",
    "jobs_generation_id",
    "usage_user_day",
    "usage_created",
    "references_created",
}


async def _names(db: Database, kind: str) -> set[str]:
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%'", (kind,)
    )
    return {str(r[0]) for r in rows}


# --- opening -----------------------------------------------------------------------------------


async def test_open_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "songbot.db"
    db = await open_database(path, busy_timeout_ms=1234)
    try:
        assert path.is_file()
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA busy_timeout") == 1234
        assert await db.fetchval("PRAGMA synchronous") == 1  # NORMAL
        assert await db.schema_version() == LATEST
        assert {"jobs", "chat_settings", "usage", "references", "users", "meta"} <= await _names(
            db, "table"
        )
        assert await _names(db, "index") >= INDEXES_002
    finally:
        await db.close()


async def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "songbot.db"
    db = await open_database(path)
    job, _ = await JobStore(db).create(make_new_job())
    await db.close()
    for _ in range(2):
        db = await open_database(path)
        try:
            assert await db.schema_version() == LATEST
            assert await JobStore(db).get(job.id) == job
        finally:
            await db.close()


async def test_migrations_are_numbered_from_one_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert len(migrations) >= 2
    assert migrations[0].filename == "001_initial.sql"
    assert migrations[1].filename == "002_indexes.sql"
    assert all(m.statements() for m in migrations)


def test_statement_splitting_follows_sqlite_tokens() -> None:
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT 'semi;colon');\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = 'y';\n"
        "  UPDATE a SET x = 'z';\n"
        "END;\n"
        "-- trailing comment\n"
    )
    statements = Migration(9, "x", sql).statements()
    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'semi;colon');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(StorageError, match="unterminated"):
        Migration(9, "bad", "CREATE TABLE b (x)").statements()


async def test_upgrade_from_version_1_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await open_database(path, migrate_to=1)
    try:
        assert await old.schema_version() == 1
        assert "jobs_due" not in await _names(old, "index")
        # Rows as version 1 holds them: today's JobStore reads and writes later columns too
        # (the song's title, migration 7), so they are written with version 1's columns.
        v1 = [str(r[0]) for r in await old.fetchall("SELECT name FROM pragma_table_info('jobs')")]
        for i in range(25):
            job = make_new_job(created_at=T0 + i)
            row = {c: sql_value(c, getattr(job, c)) for c in NEW_JOB_COLUMNS if c in v1}
            row.update(state="received", updated_at=job.created_at)
            await old.execute_write(
                f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )
        ids = [int(r[0]) for r in await old.fetchall("SELECT id FROM jobs ORDER BY id")]
        await old.execute_write(
            "UPDATE jobs SET state = 'cancelled', next_check_at = NULL WHERE id = ?", (ids[0],)
        )
        await old.execute_write(
            "INSERT INTO usage (job_id, user_id, chat_id, model, credits, created_at) "
            "VALUES (?, 42, 1, 'm', 5, ?)",
            (ids[1], T0),
        )
        before = [tuple(r) for r in await old.fetchall("SELECT * FROM jobs ORDER BY id")]
    finally:
        await old.close()

    new = await open_database(path)
    try:
        assert await new.schema_version() == LATEST
        assert await _names(new, "index") >= INDEXES_002
        store = JobStore(new)
        after = await new.fetchall(f"SELECT {', '.join(v1)} FROM jobs ORDER BY id")
        assert [tuple(r) for r in after] == before
        jobs = [await store.get(i) for i in ids]
        assert all(j is not None and j.title is None for j in jobs)
        assert jobs[0] is not None and jobs[0].state is JobState.CANCELLED
        assert await new.fetchval("SELECT COUNT(*) FROM usage") == 1
        assert await new.fetchval("PRAGMA integrity_check") == "ok"
    finally:
        await new.close()


async def test_failed_migration_rolls_back_completely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "songbot.db"
    await (await open_database(path)).close()  # created at the latest version
    real = load_migrations()
    broken = Migration(
        LATEST + 1,
        "broken",
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    monkeypatch.setattr(storage_db, "load_migrations", lambda engine="sqlite": [*real, broken])
    with pytest.raises(StorageError) as info:
        await open_database(path)
    message = str(info.value)
    assert broken.filename in message and str(path) in message and "\n" not in message
    monkeypatch.undo()
    db = await open_database(path)
    try:
        assert await db.schema_version() == LATEST
        assert "half_done" not in await _names(db, "table")
    finally:
        await db.close()


async def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StorageError, match="newer"):
        await open_database(path)


async def test_unusable_paths_are_one_line_startup_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an sqlite database, just some bytes " * 100)
    cases = [a_file / "songbot.db", tmp_path, garbage]
    for path in cases:
        with pytest.raises(StorageError) as info:
            await open_database(path)
        message = str(info.value)
        assert str(path) in message, message
        assert "\n" not in message


async def test_check_writable(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "songbot.db")
    try:
        await db.check_writable()
        assert await db.fetchval("SELECT COUNT(*) FROM meta") == 0  # the probe was rolled back
        await db.conn.execute("PRAGMA query_only = ON")
        with pytest.raises(StorageError, match="not writable"):
            await db.check_writable()
    finally:
        await db.close()


# --- the writer path ---------------------------------------------------------------------------


async def _insert_then_fail(db: Database) -> None:
    """A transaction whose body raises after a write: the write must not stay."""
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('b', '2')")
        _ = 1 / 0


async def test_transaction_commits_or_rolls_back(any_db: Database) -> None:
    db = any_db
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
    with pytest.raises(ZeroDivisionError):
        await _insert_then_fail(db)
    rows = await db.fetchall("SELECT key FROM meta ORDER BY key")
    assert [r[0] for r in rows] == ["a"]


async def test_transactions_are_isolated_under_concurrency(any_db: Database) -> None:
    """Read-modify-write in 200 concurrent transactions serialising on one key: no update is
    lost (SQLite serialises every transaction; PostgreSQL those with the same key)."""
    db = any_db
    await db.execute_write("INSERT INTO meta (key, value) VALUES ('n', '0')")

    async def bump() -> None:
        async with db.transaction() as conn:
            await conn.serialize_on("meta:n")
            rows = list(await conn.fetchall("SELECT value FROM meta WHERE key='n'"))
            await asyncio.sleep(0)  # give every other coroutine a chance to interleave
            await conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'n'", (str(int(rows[0][0]) + 1),)
            )

    await asyncio.gather(*(bump() for _ in range(200)))
    assert await db.fetchval("SELECT value FROM meta WHERE key = 'n'") == "200"


async def test_a_reader_never_sees_a_half_done_transaction(any_db: Database) -> None:
    db = any_db
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'uncommitted')")
            inside.set()
            await release.wait()
            raise RuntimeError("abort")

    task = asyncio.create_task(writer())
    await inside.wait()
    reader = asyncio.create_task(db.fetchval("SELECT COUNT(*) FROM meta"))
    await asyncio.sleep(0.05)
    if db.dialect.name == "sqlite":
        assert not reader.done()  # waits for the writer instead of peeking
    else:
        assert await reader == 0  # MVCC: the committed state, at once
    release.set()
    with pytest.raises(RuntimeError):
        await task
    assert await reader == 0


async def test_cancelled_transaction_rolls_back_and_frees_the_lock(any_db: Database) -> None:
    db = any_db
    started = asyncio.Event()

    async def slow() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ('c', '1')")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.fetchval("SELECT COUNT(*) FROM meta") == 0
    async with db.transaction() as conn:  # a fresh BEGIN works: nothing was left open
        await conn.execute("INSERT INTO meta (key, value) VALUES ('d', '1')")
    assert await db.fetchval("SELECT COUNT(*) FROM meta") == 1


async def test_nested_use_is_an_error_not_a_deadlock(any_db: Database) -> None:
    db = any_db
    with pytest.raises(RuntimeError, match=r"inside db\.transaction"):
        async with db.transaction():
            await asyncio.wait_for(db.fetchall("SELECT 1"), timeout=2)
    assert await db.fetchval("SELECT 1") == 1


async def test_busy_database_gives_a_storage_error_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    db = await open_database(path, busy_timeout_ms=200)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(StorageError, match="locked"):
            await db.execute_write("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        assert 0.15 < time.monotonic() - started < 5
        with pytest.raises(StorageError, match="locked"):
            async with db.transaction():
                pass
        blocker.execute("ROLLBACK")
        assert await db.execute_write("INSERT INTO meta (key, value) VALUES ('k', 'v')") == 1
    finally:
        blocker.close()
        await db.close()


async def test_foreign_keys_are_enforced(any_db: Database) -> None:
    db = any_db
    with pytest.raises(ConstraintViolation):
        await db.execute_write(
            "INSERT INTO usage (job_id, user_id, chat_id, model, created_at) "
            "VALUES (12345, 1, 1, 'm', 0)"
        )


# --- backup and close --------------------------------------------------------------------------


async def test_backup_is_a_complete_consistent_copy(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "live.db")
    try:
        store = JobStore(db)
        for _ in range(10):
            await store.create(make_new_job())
        dest = tmp_path / "backups" / "copy.db"
        await db.backup(dest)
        await store.create(make_new_job())  # after the backup: not in it
        assert not (tmp_path / "backups" / "copy.db.partial").exists()
        copy = await open_database(dest)
        try:
            assert await copy.fetchval("SELECT COUNT(*) FROM jobs") == 10
            assert await copy.schema_version() == LATEST
            assert await copy.fetchval("PRAGMA integrity_check") == "ok"
        finally:
            await copy.close()
        await db.backup(dest)  # overwriting an older backup works
        check = sqlite3.connect(dest)
        try:
            assert check.execute("SELECT COUNT(*) FROM jobs").fetchone() == (11,)
        finally:
            check.close()
    finally:
        await db.close()


async def test_close_is_idempotent_and_final() -> None:
    db = await open_database(":memory:")
    await db.close()
    await db.close()
    with pytest.raises(StorageError, match="closed"):
        await db.fetchall("SELECT 1")
    with pytest.raises(StorageError, match="closed"):
        await db.execute_write("SELECT 1")
