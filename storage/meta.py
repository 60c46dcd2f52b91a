"""Small durable facts about the bot itself, one row each in the `meta (key, value)` table.

Why: a fact learnt once at run time (for example "the provider no longer serves music-01") must
survive a restart, or every restart would rediscover it at the cost of a refused call per job.
Plain SQL with `?` placeholders and `ON CONFLICT` only, so it runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from storage.db import Database


class MetaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        value = await self.db.fetchval("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def with_prefix(self, prefix: str) -> dict[str, str]:
        """Every row whose key starts with `prefix` (which must not contain `%` or `_`)."""
        if "%" in prefix or "_" in prefix:
            raise ValueError("a meta key prefix may not contain LIKE wildcards")
        rows = await self.db.fetchall(
            "SELECT key, value FROM meta WHERE key LIKE ? ORDER BY key", (prefix + "%",)
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def add(self, key: str, value: str) -> bool:
        """Write `key` unless it exists; True only for the call that wrote it (first wins)."""
        changed = await self.db.execute_write(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (key, value),
        )
        return changed == 1

    async def remove(self, key: str) -> bool:
        changed = await self.db.execute_write("DELETE FROM meta WHERE key = ?", (key,))
        return changed == 1
