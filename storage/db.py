"""The database the repositories talk to: SQLite (the default) or PostgreSQL, one interface.

Why an interface of our own: the repositories (storage/jobs/ and friends) write each query once;
`open_database` (storage/open_db.py) picks the engine from the target (a file path, or a
`postgresql://` URL), and the few real SQL differences come from `db.dialect`
(storage/dialect.py). Reads and single-statement writes go through `fetchall` / `execute_write` /
`write_returning`; anything that must be one atomic step of several statements runs inside
`transaction()`, on the `Tx` it yields.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.resources
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from storage.dialect import Dialect, EngineName

MEMORY: Final = ":memory:"
_MIGRATION_NAME: Final = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_URL: Final = re.compile(r"^postgres(ql)?://", re.IGNORECASE)
# Which Database (if any) the current task holds a transaction on: turns a would-be deadlock
# (calling `db.fetchall` inside `db.transaction()`) into a clear error.
IN_TRANSACTION: contextvars.ContextVar[Database | None] = contextvars.ContextVar(
    "songbot_storage_in_transaction", default=None
)


class StorageError(Exception):
    """The database cannot be used; the message is one line an operator can act on."""


class ConstraintViolation(StorageError):
    """A write broke a CHECK, UNIQUE or foreign key: a bug of the caller, not of the disk."""


class Row(Protocol):
    """A result row: by position (`row[0]`) or by column name (`row["id"]`)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def keys(self) -> list[str]: ...


class Tx(Protocol):
    """The statements of one open transaction (see `Database.transaction`)."""

    async def execute(self, sql: str, params: Sequence[object] = (), /) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def fetchall(self, sql: str, params: Sequence[object] = (), /) -> list[Row]: ...

    async def serialize_on(self, key: str, /) -> None:
        """Transactions that serialise on the same `key` (e.g. one user's quota) run one at a
        time; SQLite's single writer already does that for every transaction."""
        ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def filename(self) -> str:
        return f"{self.version:03d}_{self.name}.sql"

    def statements(self) -> list[str]:
        """Split on statement boundaries the way SQLite's own tokenizer sees them."""
        out: list[str] = []
        chunk = ""
        for line in self.sql.splitlines(keepends=True):
            chunk += line
            if sqlite3.complete_statement(chunk):
                out.append(chunk.strip())
                chunk = ""
        rest = "\n".join(
            ln for ln in chunk.splitlines() if ln.strip() and not ln.strip().startswith("--")
        )
        if rest.strip():
            raise StorageError(f"migration {self.filename} ends with an unterminated statement")
        return out


def load_migrations(engine: EngineName = "sqlite") -> list[Migration]:
    """Read `storage/migrations/<engine>/NNN_name.sql`, and `common/` for the numbers both engines
    spell alike; numbers must run 1, 2, 3, …

    Both engines have the same numbered migrations (tests/test_storage_engines.py holds them
    to the same tables and columns); only the DDL that differs is written twice.
    """
    root = importlib.resources.files("storage") / "migrations"
    found: list[Migration] = []
    for folder in (root / engine, root / "common"):
        for entry in folder.iterdir():
            match = _MIGRATION_NAME.match(entry.name)
            if match is None:
                continue
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StorageError(
                f"migrations must be numbered 001, 002, … without gaps; found {migration.filename}"
            )
    if not found:
        raise StorageError(f"no migrations found in storage/migrations/{engine}")
    return found


def is_postgres_url(target: Path | str) -> bool:
    return isinstance(target, str) and _URL.match(target) is not None


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class Database(ABC):
    """One database; `open_database(target)` (storage/open_db.py) opens it, `close()` closes."""

    dialect: Dialect
    # What to call it in messages: the file path, or the URL without its password.
    path: str

    @property
    def shared(self) -> bool:
        """Whether several `songbot run` processes may use this database at once."""
        return False

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """`BEGIN … COMMIT` (or `ROLLBACK` on any exception): the statements run on the `Tx`
        are one atomic step, serialised against every other writer of the same rows. Use
        only the yielded `Tx` inside; keep the body short (no network calls)."""

    @abstractmethod
    async def execute_write(self, sql: str, params: Sequence[object] = ()) -> int:
        """One write statement, atomic on its own; returns the number of rows changed."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Read (or write with RETURNING); never sees a half-done transaction."""

    async def write_returning(
        self, sql: str, params: Sequence[object] = (), *, serialize_on: str | None = None
    ) -> list[Row]:
        """One `INSERT/UPDATE/DELETE … RETURNING` statement: an atomic compare-and-set.

        `serialize_on`: a count-then-write guard (a daily limit) must not run beside another of
        the same key; SQLite's one writer ensures it, PostgreSQL takes a lock (postgres_db.py).
        """
        return await self.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """The first row, or None; give the query a `LIMIT 1` when more could match."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[object] = ()) -> object:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    @abstractmethod
    async def schema_version(self) -> int: ...

    async def migration_plan(self, target: int | None) -> list[Migration]:
        """The migrations to apply to reach `target` (None: the latest), in order."""
        migrations = await asyncio.to_thread(load_migrations, self.dialect.name)
        latest = migrations[-1].version
        goal = latest if target is None else target
        if not 0 <= goal <= latest:
            raise StorageError(f"cannot migrate to version {goal}; known versions: 0..{latest}")
        current = await self.schema_version()
        if current > latest:
            raise StorageError(
                f"database {self.path} has schema version {current}, newer than this songbot "
                f"knows ({latest}); upgrade songbot or restore a backup"
            )
        return [m for m in migrations if current < m.version <= goal]

    @abstractmethod
    async def check_writable(self) -> None:
        """Prove a write would succeed without keeping it (StorageError if not)."""

    @abstractmethod
    async def backup(self, dest: Path) -> None:
        """A consistent copy at `dest` (StorageError where the engine has its own tools)."""

    @abstractmethod
    async def close(self) -> None:
        """Let in-flight work finish, then close. Idempotent."""

    # --- several processes (PostgreSQL); SQLite has one process, so these do nothing ---------

    async def notify(self, channel: str, payload: str = "") -> None:
        """Wake every process listening on `channel` (new work, a freed slot)."""
        return

    def subscribe(self, channel: str, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` (on the event loop) on every notification on `channel`, and
        with "" after (re)connecting: anything may have been sent while nobody listened."""
        return

    def check_not_in_transaction(self) -> None:
        if IN_TRANSACTION.get() is self:
            raise RuntimeError(
                "Database method called inside db.transaction(); use the Tx it yields"
            )
