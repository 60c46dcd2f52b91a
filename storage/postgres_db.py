"""PostgreSQL, for several `songbot run` processes on one database (SONGBOT_DATABASE_URL).

Why psycopg 3 and its pool: one maintained driver with a real asyncio API, a connection pool that
reconnects on its own when the server comes back, server-side parameter binding, and LISTEN/NOTIFY
as an async iterator; its binary wheel carries libpq, so `pip install` needs no system package.

Concurrency: every call outside `transaction()` is one autocommit statement, atomic on its own
(`UPDATE … WHERE state = ? RETURNING` is a compare-and-set, as on SQLite). Where SQLite's single
writer made a count-then-insert safe, PostgreSQL's READ COMMITTED does not: those statements pass
`serialize_on`, an advisory transaction lock per user, so two replicas accepting requests of the
same user at the same moment still count each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import RowMaker
from psycopg.types.numeric import FloatLoader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from storage.db import (
    IN_TRANSACTION,
    ConstraintViolation,
    Database,
    Migration,
    Row,
    StorageError,
    Tx,
    one_line,
)
from storage.dialect import POSTGRESQL

log = logging.getLogger(__name__)

CONNECT_TIMEOUT: Final = 10.0
POOL_SIZE: Final = 10
# pg_advisory_xact_lock key of the migration step: replicas starting together migrate once.
_MIGRATION_LOCK: Final = 0x50_4E_47_00_01
_LISTEN_RETRY: Final = (0.5, 10.0)


def redact(url: str) -> str:
    """The URL as it may be printed: user, host, port and database, never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://…"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{parts.get('dbname') or ''}"


class _RowBase(tuple[Any, ...]):
    """A result row by position or by name, like sqlite3.Row (see `_rows`)."""

    _index: ClassVar[dict[str, int]] = {}
    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


_ROW_CLASSES: dict[tuple[str, ...], type[_RowBase]] = {}


def _rows(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[_RowBase]:
    names = tuple(col.name for col in cursor.description or ())
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = type(
            "Row", (_RowBase,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}}
        )
        _ROW_CLASSES[names] = cls
    return cls


class PgTx:
    """The statements of one transaction on one pooled connection."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[object] = (), /) -> int:
        cursor = await self.conn.execute(
            POSTGRESQL.driver_sql(sql), POSTGRESQL.driver_params(params)
        )
        return cursor.rowcount

    async def fetchall(self, sql: str, params: Sequence[object] = (), /) -> list[Row]:
        cursor = await self.conn.execute(
            POSTGRESQL.driver_sql(sql), POSTGRESQL.driver_params(params)
        )
        return list(await cursor.fetchall()) if cursor.description else []

    async def serialize_on(self, key: str) -> None:
        """Hold `key` until this transaction ends: others serialising on it wait."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    # SUM/AVG of integers are NUMERIC: read them as float, as SQLite gives them.
    conn.adapters.register_loader("numeric", FloatLoader)


class PostgresDatabase(Database):
    dialect = POSTGRESQL

    def __init__(self, pool: AsyncConnectionPool[Any], url: str) -> None:
        self.pool = pool
        self.url = url
        self.path = redact(url)
        self._closed = False
        self._listeners: list[asyncio.Task[None]] = []

    @property
    def shared(self) -> bool:
        return True

    @classmethod
    async def open_url(cls, url: str, *, migrate_to: int | None = None) -> PostgresDatabase:
        where = redact(url)
        try:
            conninfo_to_dict(url)
        except psycopg.Error:
            raise StorageError(
                f"SONGBOT_DATABASE_URL is not a valid PostgreSQL URL ({where})"
            ) from None
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            open=False,
            kwargs={"autocommit": True, "row_factory": _rows, "application_name": "songbot"},
            configure=_configure,
            timeout=CONNECT_TIMEOUT,
            name="songbot",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            await pool.close()
            raise StorageError(
                f"cannot connect to PostgreSQL at {where} (SONGBOT_DATABASE_URL): "
                f"{_reason(exc, url)}"
            ) from None
        db = cls(pool, url)
        try:
            await db._migrate(migrate_to)
        except BaseException:
            await pool.close()
            raise
        return db

    # --- migrations ----------------------------------------------------------------------------

    async def _migrate(self, target: int | None) -> None:
        for migration in await self.migration_plan(target):
            await self._apply(migration)

    async def _apply(self, migration: Migration) -> None:
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS songbot_schema (version integer NOT NULL)"
                )
                cursor = await conn.execute("SELECT max(version) FROM songbot_schema")
                found = await cursor.fetchone()
                version = int(found[0]) if found and found[0] is not None else 0
                if version >= migration.version:
                    return  # another replica migrated meanwhile
                if version != migration.version - 1:
                    raise StorageError(
                        f"database {self.path} is at version {version}; "
                        f"cannot apply {migration.filename}"
                    )
                await conn.execute(migration.sql.encode())  # several statements, no parameters
                await conn.execute("DELETE FROM songbot_schema")
                await conn.execute(
                    "INSERT INTO songbot_schema (version) VALUES (%s)", (migration.version,)
                )
        except psycopg.Error as exc:
            raise StorageError(
                f"migration {migration.filename} failed on {self.path}: {one_line(exc)}"
            ) from exc
        log.info("database %s migrated to version %d", self.path, migration.version)

    async def schema_version(self) -> int:
        exists = await self.fetchval("SELECT to_regclass('songbot_schema') IS NOT NULL")
        if not exists:
            return 0
        value = await self.fetchval("SELECT max(version) FROM songbot_schema")
        return 0 if value is None else int(str(value))

    # --- the access paths ----------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        self.check_not_in_transaction()
        self._check_open()
        token = IN_TRANSACTION.set(self)
        try:
            async with self._connection() as conn, conn.transaction():
                yield PgTx(conn)
        except psycopg.Error as exc:
            raise self._error("transaction failed", exc) from exc
        finally:
            IN_TRANSACTION.reset(token)

    async def execute_write(self, sql: str, params: Sequence[object] = ()) -> int:
        self.check_not_in_transaction()
        self._check_open()
        try:
            async with self._connection() as conn:
                cursor = await conn.execute(
                    POSTGRESQL.driver_sql(sql), POSTGRESQL.driver_params(params)
                )
                return cursor.rowcount
        except psycopg.Error as exc:
            raise self._error("write failed", exc) from exc

    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        self.check_not_in_transaction()
        self._check_open()
        try:
            async with self._connection() as conn:
                cursor = await conn.execute(
                    POSTGRESQL.driver_sql(sql), POSTGRESQL.driver_params(params)
                )
                return list(await cursor.fetchall()) if cursor.description else []
        except psycopg.Error as exc:
            raise self._error("query failed", exc) from exc

    async def write_returning(
        self, sql: str, params: Sequence[object] = (), *, serialize_on: str | None = None
    ) -> list[Row]:
        if serialize_on is None:
            return await self.fetchall(sql, params)
        async with self.transaction() as tx:
            assert isinstance(tx, PgTx)
            await tx.serialize_on(serialize_on)
            return await tx.fetchall(sql, params)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StorageError(
                f"database {self.path}: no connection to PostgreSQL: {one_line(exc)}"
            ) from exc

    # --- operations ----------------------------------------------------------------------------

    async def check_writable(self) -> None:
        try:
            async with self._connection() as conn, conn.transaction(force_rollback=True):
                await conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('healthcheck', 'probe') "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                )
        except (psycopg.Error, StorageError) as exc:
            raise StorageError(f"database {self.path} is not writable: {one_line(exc)}") from exc

    async def backup(self, dest: Path) -> None:
        raise StorageError(
            f"songbot backup copies SQLite files only; for PostgreSQL ({self.path}) use "
            f'pg_dump, e.g. pg_dump --format=custom --file={dest} "$SONGBOT_DATABASE_URL"'
        )

    async def notify(self, channel: str, payload: str = "") -> None:
        try:
            await self.execute_write("SELECT pg_notify(?, ?)", (channel, payload))
        except StorageError as exc:  # a wake-up is an optimisation; the timers still run
            log.debug("NOTIFY %s failed: %s", channel, exc)

    def subscribe(self, channel: str, callback: Callable[[str], None]) -> None:
        self._listeners.append(
            asyncio.create_task(self._listen(channel, callback), name=f"listen-{channel}")
        )

    async def _listen(self, channel: str, callback: Callable[[str], None]) -> None:
        """One dedicated connection per channel; reconnects with back-off if it drops."""
        delay = _LISTEN_RETRY[0]
        while not self._closed:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT)
                )
                async with conn:
                    await conn.execute(f"LISTEN {channel}")
                    delay = _LISTEN_RETRY[0]
                    callback("")  # anything sent while we were not listening
                    async for notice in conn.notifies():
                        callback(notice.payload)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                if self._closed:
                    return
                log.warning(
                    "LISTEN %s on %s lost (%s); retrying",
                    channel,
                    self.path,
                    _reason(exc, self.url),
                )
                await asyncio.sleep(delay)
                delay = min(_LISTEN_RETRY[1], delay * 2)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._listeners:
            task.cancel()
        for task in self._listeners:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.pool.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"database {self.path} is closed")

    def _error(self, what: str, exc: BaseException) -> StorageError:
        if isinstance(exc, psycopg.errors.IntegrityError):
            return ConstraintViolation(f"database {self.path}: {_reason(exc, self.url)}")
        return StorageError(f"database {self.path}: {what}: {_reason(exc, self.url)}")


def _reason(exc: BaseException, url: str) -> str:
    """One line from a driver error, with the password taken out if libpq repeated it."""
    text = one_line(exc)
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text
