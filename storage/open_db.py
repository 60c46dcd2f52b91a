"""Open the database a target names: a SQLite file (or `:memory:`), or a `postgresql://` URL.

Why a module of its own: both engines (storage/sqlite_db.py, storage/postgres_db.py) build on
storage/db.py, so the factory that picks between them cannot live there without an import
circle. Here it sits above all three, and each engine is still imported only when the target
asks for it.
"""

from __future__ import annotations

from pathlib import Path

from storage.db import Database, is_postgres_url


async def open_database(
    target: Path | str, *, busy_timeout_ms: int = 5000, migrate_to: int | None = None
) -> Database:
    """A SQLite file (or `:memory:`), or a PostgreSQL server for a `postgresql://` URL.

    Every failure is a StorageError; `migrate_to` stops at that schema version. The engine
    is chosen here, by the target, and imported only then: nothing registers itself on
    import, and a SQLite run never loads psycopg.
    """
    if is_postgres_url(target):
        from storage.postgres_db import PostgresDatabase

        return await PostgresDatabase.open_url(str(target), migrate_to=migrate_to)
    from storage.sqlite_db import SqliteDatabase

    return await SqliteDatabase.open_file(
        target, busy_timeout_ms=busy_timeout_ms, migrate_to=migrate_to
    )
