"""Copy every row of one songbot database into another (SQLite → PostgreSQL, `songbot migrate-db`).

Why row by row through the repositories' own interface: both engines have the same numbered
schema, so a table's columns are the same on both sides and no conversion is needed beyond what
the drivers do. Jobs in flight are copied as they are, minus their leases (the process that held
them is stopped), so the first replica on the new database takes them on at once.

The order matters: `usage` before `song_billing`, so the trigger that marks a reserved credit as
used finds nothing to change (the copied billing rows already say what happened).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from storage.db import Database, StorageError

# Parents before children (foreign keys), usage before song_billing (see the docstring).
TABLES: Final = (
    "meta",
    "jobs",
    "usage",
    '"references"',
    "users",
    "chat_settings",
    "lyrics_drafts",
    "lyrics_calls",
    "star_purchases",
    "song_billing",
    "star_ledger",
    "star_payment_problems",
)
# Tables whose ids come from an identity/autoincrement counter that must continue after the copy.
_COUNTED: Final = (
    "jobs",
    "usage",
    "lyrics_drafts",
    "lyrics_calls",
    "star_purchases",
    "star_ledger",
)
_BATCH: Final = 500


class TargetNotEmpty(StorageError):
    """The target database already holds songbot data; nothing was copied."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int]
    leases_cleared: int

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def copy_database(source: Database, target: Database) -> CopyReport:
    """Copy all of `source` into the empty `target`, in one transaction on the target."""
    if await source.schema_version() != await target.schema_version():
        raise StorageError(
            f"{source.path} and {target.path} are at different schema versions; "
            "open both with this songbot first"
        )
    for table in TABLES:
        if table == "meta":
            continue
        found = await target.fetchval(f"SELECT COUNT(*) FROM {table}")
        if int(str(found)) > 0:
            name = table.strip('"')
            raise TargetNotEmpty(
                f"{target.path} already has songbot data ({found} rows in {name}); "
                "migrate into an empty database"
            )
    rows: dict[str, int] = {}
    async with target.transaction() as tx:
        for table in TABLES:
            names = await _columns(source, table)
            select = f"SELECT {', '.join(names)} FROM {table}"
            if table == "meta":
                select += " WHERE key != 'healthcheck'"
            data = await source.fetchall(select)
            marks = ", ".join("?" for _ in names)
            conflict = " ON CONFLICT (key) DO NOTHING" if table == "meta" else ""
            insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}){conflict}"
            for start in range(0, len(data), _BATCH):
                for row in data[start : start + _BATCH]:
                    await tx.execute(insert, tuple(row))
            rows[table.strip('"')] = len(data)
        cleared = await tx.execute(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL"
        )
        if target.dialect.name == "postgresql":
            for table in _COUNTED:
                await tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    return CopyReport(rows=rows, leases_cleared=cleared)


async def _columns(db: Database, table: str) -> list[str]:
    """The table's columns as `db` has them (the same on both engines at one version)."""
    if db.dialect.name == "sqlite":
        found = await db.fetchall(f"SELECT name FROM pragma_table_info('{table.strip(chr(34))}')")
    else:
        found = await db.fetchall(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table.strip('"'),),
        )
    return [f'"{r[0]}"' if r[0] in ("key", "references") else str(r[0]) for r in found]
