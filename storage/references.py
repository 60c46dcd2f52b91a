"""Provider ids of uploaded references, keyed by Telegram's `file_unique_id` and purpose.

Why: the same voice note sent twice (or reused for a second song) need not be downloaded,
transcoded and uploaded again; entries carry `created_at` because provider ids expire.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class CachedReference:
    file_unique_id: str
    purpose: str
    voice_id: str | None
    instrumental_id: str | None
    created_at: float


class ReferenceCache:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(
        self, file_unique_id: str, purpose: str, *, now: float, max_age: float
    ) -> CachedReference | None:
        """The cached ids if they are younger than `max_age` seconds."""
        row = await self.db.fetchone(
            "SELECT file_unique_id, purpose, voice_id, instrumental_id, created_at "
            'FROM "references" WHERE file_unique_id = ? AND purpose = ? AND created_at > ?',
            (file_unique_id, purpose, now - max_age),
        )
        if row is None:
            return None
        return CachedReference(
            file_unique_id=str(row[0]),
            purpose=str(row[1]),
            voice_id=None if row[2] is None else str(row[2]),
            instrumental_id=None if row[3] is None else str(row[3]),
            created_at=float(row[4]),
        )

    async def put(
        self,
        file_unique_id: str,
        purpose: str,
        voice_id: str | None,
        instrumental_id: str | None,
        now: float,
    ) -> None:
        """Insert or replace (a fresh upload restarts the expiry clock)."""
        await self.db.execute_write(
            'INSERT INTO "references" (file_unique_id, purpose, voice_id, instrumental_id, '
            "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (file_unique_id, purpose) DO UPDATE "
            "SET voice_id = excluded.voice_id, instrumental_id = excluded.instrumental_id, "
            "created_at = excluded.created_at",
            (file_unique_id, purpose, voice_id, instrumental_id, now),
        )

    async def forget(self, file_unique_id: str, purpose: str) -> bool:
        """Drop an entry the provider no longer accepts."""
        changed = await self.db.execute_write(
            'DELETE FROM "references" WHERE file_unique_id = ? AND purpose = ?',
            (file_unique_id, purpose),
        )
        return changed == 1

    async def purge(self, *, older_than: float) -> int:
        return await self.db.execute_write(
            'DELETE FROM "references" WHERE created_at <= ?', (older_than,)
        )
