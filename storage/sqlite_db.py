"""SQLite, the default engine: pragmas, versioned migrations, and the single writer path.

Why one connection behind one `asyncio.Lock`: aiosqlite runs every call on one worker thread, so a
statement issued by one coroutine while another is half-way through `BEGIN … COMMIT` would silently
join (and see) that transaction. Serialising all access through the lock keeps every transaction
isolated inside the process; `BEGIN IMMEDIATE` plus `busy_timeout` does the same across processes.
Single-statement writes need no explicit `BEGIN`: SQLite takes the write lock when such a statement
starts, so `UPDATE … WHERE … RETURNING` is an atomic compare-and-set on its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from storage.db import (
    IN_TRANSACTION,
    MEMORY,
    ConstraintViolation,
    Database,
    Migration,
    Row,
    StorageError,
    Tx,
)
from storage.db import one_line as _one_line
from storage.dialect import SQLITE

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class SqliteTx:
    """The statements of one `BEGIN IMMEDIATE` on the shared connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[object] = (), /) -> int:
        cursor = await self.conn.execute(sql, params)
        return cursor.rowcount

    async def fetchall(self, sql: str, params: Sequence[object] = (), /) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def serialize_on(self, key: str, /) -> None:
        return  # BEGIN IMMEDIATE already holds the only write lock


class SqliteDatabase(Database):
    """One SQLite database: open it with `open_database(path)`, close it with `close()`."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()
        self._closed = False

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    async def open_file(
        cls, path: Path | str, *, busy_timeout_ms: int = 5000, migrate_to: int | None = None
    ) -> SqliteDatabase:
        """Create the folder, connect, set pragmas and migrate; every failure is a StorageError.

        `migrate_to` stops at that schema version (tests of the upgrade path use it).
        """
        name = str(path)
        if name != MEMORY:
            await asyncio.to_thread(_prepare_location, Path(name))
        try:
            conn = await aiosqlite.connect(
                name, isolation_level=None, timeout=busy_timeout_ms / 1000
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {name}: {_one_line(exc)}") from exc
        conn.row_factory = aiosqlite.Row
        db = cls(conn, name)
        try:
            await db._configure(busy_timeout_ms)
            await db._migrate(migrate_to)
        except BaseException as exc:
            await db._close_quietly()
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot use database {name}: {_one_line(exc)}") from exc
            raise
        return db

    async def _configure(self, busy_timeout_ms: int) -> None:
        await self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await self.conn.execute("PRAGMA foreign_keys = ON")
        if self.path != MEMORY:
            rows = list(await self.conn.execute_fetchall("PRAGMA journal_mode = WAL"))
            mode = str(rows[0][0]).lower() if rows else "?"
            if mode != "wal":
                log.warning("database %s: journal_mode is %s, not wal", self.path, mode)
            # Safe with WAL: a power cut may lose the last commits but never corrupts the file.
            await self.conn.execute("PRAGMA synchronous = NORMAL")

    async def _migrate(self, target: int | None) -> None:
        for migration in await self.migration_plan(target):
            await self._apply(migration)

    async def _apply(self, migration: Migration) -> None:
        statements = migration.statements()
        try:
            async with self.transaction() as tx:
                # Re-read under the write lock: another process may have migrated meanwhile.
                rows = await tx.fetchall("PRAGMA user_version")
                version = int(rows[0][0])
                if version >= migration.version:
                    return
                if version != migration.version - 1:
                    raise StorageError(
                        f"database {self.path} is at version {version}; "
                        f"cannot apply {migration.filename}"
                    )
                for statement in statements:
                    await tx.execute(statement)
                await tx.execute(f"PRAGMA user_version = {int(migration.version)}")
        except sqlite3.Error as exc:
            raise StorageError(
                f"migration {migration.filename} failed on {self.path}: {_one_line(exc)}"
            ) from exc
        log.info("database %s migrated to version %d", self.path, migration.version)

    # --- the access paths --------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """`BEGIN IMMEDIATE … COMMIT` (or `ROLLBACK` on any exception) under the writer lock."""
        self.check_not_in_transaction()
        async with self._lock:
            self._check_open()
            token = IN_TRANSACTION.set(self)
            try:
                try:
                    await self.conn.execute("BEGIN IMMEDIATE")
                except BaseException as exc:
                    # A cancelled BEGIN may still have run on the worker thread.
                    await _uncancellable(self.conn.rollback())
                    if isinstance(exc, sqlite3.OperationalError):
                        raise self._error("cannot start a transaction", exc) from exc
                    raise
                try:
                    yield SqliteTx(self.conn)
                except BaseException:
                    await _uncancellable(self.conn.rollback())
                    raise
                try:
                    await _uncancellable(self.conn.commit())
                except sqlite3.OperationalError as exc:
                    await _uncancellable(self.conn.rollback())
                    raise self._error("commit failed", exc) from exc
            finally:
                IN_TRANSACTION.reset(token)

    async def execute_write(self, sql: str, params: Sequence[object] = ()) -> int:
        """One write statement, atomic on its own; returns the number of rows changed."""
        self.check_not_in_transaction()
        async with self._lock:
            self._check_open()
            try:
                # No `async with`: closing the cursor would be a second round trip to aiosqlite's
                # thread, and a finished write's cursor holds nothing (it is freed with it).
                cursor = await self.conn.execute(sql, params)
                return cursor.rowcount
            except sqlite3.IntegrityError as exc:
                raise ConstraintViolation(f"database {self.path}: {_one_line(exc)}") from exc
            except sqlite3.OperationalError as exc:
                raise self._error("write failed", exc) from exc

    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Read (or write with RETURNING) under the lock, so no half-done transaction is seen."""
        self.check_not_in_transaction()
        async with self._lock:
            self._check_open()
            try:
                return list(await self.conn.execute_fetchall(sql, params))
            except sqlite3.IntegrityError as exc:
                raise ConstraintViolation(f"database {self.path}: {_one_line(exc)}") from exc
            except sqlite3.OperationalError as exc:
                raise self._error("query failed", exc) from exc

    # --- operations ----------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return int(str(await self.fetchval("PRAGMA user_version")))

    async def check_writable(self) -> None:
        """Prove a write would succeed (lock, journal, disk) without keeping it."""
        self.check_not_in_transaction()
        async with self._lock:
            self._check_open()
            try:
                try:
                    await self.conn.execute("BEGIN IMMEDIATE")
                    await self.conn.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('healthcheck', 'probe')"
                    )
                finally:
                    await _uncancellable(self.conn.rollback())
            except sqlite3.Error as exc:
                raise StorageError(
                    f"database {self.path} is not writable: {_one_line(exc)}"
                ) from exc

    async def backup(self, dest: Path) -> None:
        """A consistent copy via SQLite's online backup API; it appears whole or not at all."""
        dest = Path(dest)
        partial = dest.with_name(dest.name + ".partial")
        await asyncio.to_thread(_prepare_backup_target, dest, partial)
        self.check_not_in_transaction()
        async with self._lock:
            self._check_open()
            try:
                target = await aiosqlite.connect(str(partial))
            except sqlite3.Error as exc:
                raise StorageError(f"cannot write backup {dest}: {_one_line(exc)}") from exc
            try:
                await self.conn.backup(target)
                # A standalone file: no -wal/-shm beside it when it is opened later.
                await target.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error as exc:
                raise StorageError(f"backup to {dest} failed: {_one_line(exc)}") from exc
            finally:
                await target.close()
        await asyncio.to_thread(os.replace, partial, dest)

    async def close(self) -> None:
        """Let in-flight work finish, refresh the planner's statistics, close. Idempotent."""
        if self._closed:
            return
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                await self.conn.execute("PRAGMA optimize")
            except sqlite3.Error as exc:
                log.warning("database %s: PRAGMA optimize failed: %s", self.path, exc)
            await self.conn.close()

    async def _close_quietly(self) -> None:
        self._closed = True
        try:
            await self.conn.close()
        except Exception as exc:  # the open already failed; that error is the one to report
            log.debug("closing %s after a failed open: %s", self.path, exc)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"database {self.path} is closed")

    def _error(self, what: str, exc: BaseException) -> StorageError:
        return StorageError(f"database {self.path}: {what}: {_one_line(exc)}")


async def _uncancellable(awaitable: Awaitable[_T]) -> _T:
    """Finish a COMMIT/ROLLBACK even if our task is cancelled, then re-raise the cancellation.

    Why: giving up the lock with a transaction still open would make the next `BEGIN` fail.
    """
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                if task.cancelled():
                    raise
                result = task.result()
                cancelled = True
                break
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result


def _prepare_location(path: Path) -> None:
    """Create the folder and reject paths SQLite would fail on with a vaguer message."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the folder for database {path}: {exc.strerror or exc}"
        ) from exc
    if path.is_dir():
        raise StorageError(f"database path {path} is a directory, not a file")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StorageError(f"database folder {path.parent} is not writable")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(f"database file {path} is not readable and writable")
    tighten(path)
    if not path.exists():
        try:
            create_private(path)
        except OSError as exc:
            raise StorageError(f"cannot create database {path}: {exc.strerror or exc}") from exc


def tighten(path: Path) -> None:
    """Make an existing database and its -wal/-shm files 0600 (#24.8).

    Why: an older version created them with the umask's 0644, and SQLite gives new -wal/-shm
    files the database's own mode, so a loose database stays loose until it is tightened.
    """
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if each.stat().st_mode & 0o077:
                each.chmod(0o600)
                log.info("permissions of %s tightened to 0600", each)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot make %s private (0600): %s", each, exc.strerror or exc)


def create_private(path: Path) -> None:
    """Create `path` empty and readable by its owner only, unless it exists.

    Why: the database holds lyrics, names and chat ids; SQLite gives its -wal and -shm files
    the database file's permissions, so creating the file 0600 covers all three.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


def _prepare_backup_target(dest: Path, partial: Path) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        create_private(partial)
    except OSError as exc:
        raise StorageError(f"cannot write backup {dest}: {exc.strerror or exc}") from exc
