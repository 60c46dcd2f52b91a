"""The library (issue #26): every delivered song its owner keeps, whatever the job retention.

Why a table of its own and not `jobs`: retention deletes finished jobs (lyrics are personal data
nobody asked to keep), but a delivered song is the user's until they delete it. A row holds
what playing, sharing and remaking a song need (title, style, lyrics, model, Telegram file_id,
duration) and nothing of the job's bookkeeping. Deleting the row is the one delete: the list,
the inline results and the shared link all read it, so nothing else can still hand it out.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from storage.db import Database, Row

_COLUMNS: Final = (
    "id, job_id, owner_id, owner_name, chat_id, chat_type, title, style, lyrics, model, "
    "duration, file_id, file_unique_id, share_token, plays, created_at, updated_at"
)
# How many of a user's newest songs a search looks through (matched in Python: SQLite's lower()
# folds ASCII only, and a search must find "Привет" from "привет" on both engines).
SEARCH_WINDOW: Final = 2000
# How long a ✏️ Rename waits for the new name.
RENAME_SECONDS: Final = 600.0


@dataclass(frozen=True, slots=True)
class Song:
    id: int
    job_id: int | None
    owner_id: int
    owner_name: str
    chat_id: int
    chat_type: str
    title: str
    style: str
    lyrics: str | None
    model: str
    duration: float | None
    file_id: str
    file_unique_id: str | None
    share_token: str | None
    plays: int
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Row) -> Song:
        return cls(*tuple(row))

    def matches(self, words: Sequence[str]) -> bool:
        """Every word (already casefolded) is in the title or the lyrics."""
        haystack = f"{self.title}\n{self.lyrics or ''}".casefold()
        return all(word in haystack for word in words)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSong:
    job_id: int
    owner_id: int
    owner_name: str
    chat_id: int
    chat_type: str
    title: str
    style: str
    lyrics: str | None
    model: str
    duration: float | None
    file_id: str
    file_unique_id: str | None
    created_at: float


def search_words(text: str) -> list[str]:
    return [word.casefold() for word in text.split() if word.strip()]


def new_share_token() -> str:
    """An unguessable link secret (128 bits), unrelated to any id (#26.2)."""
    return secrets.token_urlsafe(16)


class SongStore:
    """All reads and writes of `songs` and `song_renames`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, new: NewSong) -> Song | None:
        """Keep a delivered song; a job delivered twice (a re-send) keeps its first row."""
        rows = await self.db.write_returning(
            f"INSERT INTO songs (job_id, owner_id, owner_name, chat_id, chat_type, title, style, "
            "lyrics, model, duration, file_id, file_unique_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (job_id) DO NOTHING RETURNING {_COLUMNS}",
            (
                new.job_id,
                new.owner_id,
                new.owner_name,
                new.chat_id,
                new.chat_type,
                new.title,
                new.style,
                new.lyrics,
                new.model,
                new.duration,
                new.file_id,
                new.file_unique_id,
                new.created_at,
                new.created_at,
            ),
        )
        return Song.from_row(rows[0]) if rows else None

    async def get(self, song_id: int) -> Song | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM songs WHERE id = ?", (song_id,))
        return None if row is None else Song.from_row(row)

    async def by_job(self, job_id: int) -> Song | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM songs WHERE job_id = ?", (job_id,))
        return None if row is None else Song.from_row(row)

    async def by_token(self, token: str) -> Song | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM songs WHERE share_token = ?", (token,)
        )
        return None if row is None else Song.from_row(row)

    async def page(
        self,
        *,
        owner_id: int | None = None,
        chat_id: int | None = None,
        words: Sequence[str] = (),
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[list[Song], bool]:
        """Newest first: a user's songs (`owner_id`) or a chat's (`chat_id`); with `words`, only
        songs whose title or lyrics hold every word. Returns the page and whether more follow."""
        if (owner_id is None) == (chat_id is None):
            raise ValueError("list by owner or by chat")
        column, key = ("owner_id", owner_id) if owner_id is not None else ("chat_id", chat_id)
        if not words:
            rows = await self.db.fetchall(
                f"SELECT {_COLUMNS} FROM songs WHERE {column} = ? "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (key, limit + 1, max(0, offset)),
            )
            songs = [Song.from_row(row) for row in rows]
            return songs[:limit], len(songs) > limit
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM songs WHERE {column} = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (key, SEARCH_WINDOW),
        )
        found = [song for song in map(Song.from_row, rows) if song.matches(words)]
        start = max(0, offset)
        return found[start : start + limit], len(found) > start + limit

    async def count(self, *, owner_id: int | None = None, chat_id: int | None = None) -> int:
        column, key = ("owner_id", owner_id) if owner_id is not None else ("chat_id", chat_id)
        return int(
            str(await self.db.fetchval(f"SELECT COUNT(*) FROM songs WHERE {column} = ?", (key,)))
        )

    async def rename(self, song_id: int, title: str, now: float) -> bool:
        changed = await self.db.execute_write(
            "UPDATE songs SET title = ?, updated_at = ? WHERE id = ?", (title, now, song_id)
        )
        return changed > 0

    async def delete(self, song_id: int) -> bool:
        """Gone everywhere at once: the list, inline results and its link read this row."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM song_renames WHERE song_id = ?", (song_id,))
            changed = await tx.execute("DELETE FROM songs WHERE id = ?", (song_id,))
        return changed > 0

    async def share(self, song_id: int, now: float) -> str | None:
        """The song's link secret, made on the first ask; None if the song is gone."""
        await self.db.execute_write(
            "UPDATE songs SET share_token = ?, updated_at = ? "
            "WHERE id = ? AND share_token IS NULL",
            (new_share_token(), now, song_id),
        )
        value = await self.db.fetchval("SELECT share_token FROM songs WHERE id = ?", (song_id,))
        return None if value is None else str(value)

    async def stop_sharing(self, song_id: int, now: float) -> None:
        """The old link dies for good: a later share makes a new secret."""
        await self.db.execute_write(
            "UPDATE songs SET share_token = NULL, updated_at = ? WHERE id = ?", (now, song_id)
        )

    async def count_play(self, song_id: int) -> None:
        await self.db.execute_write("UPDATE songs SET plays = plays + 1 WHERE id = ?", (song_id,))

    # --- ✏️ Rename: the user's next private text is the new name --------------------------------

    async def start_rename(self, user_id: int, song_id: int, now: float) -> None:
        await self.db.execute_write(
            "INSERT INTO song_renames (user_id, song_id, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET song_id = excluded.song_id, "
            "expires_at = excluded.expires_at",
            (user_id, song_id, now + RENAME_SECONDS),
        )

    async def take_rename(self, user_id: int, now: float) -> int | None:
        """The song a pending rename is for (and the rename is over), or None."""
        rows = await self.db.write_returning(
            "DELETE FROM song_renames WHERE user_id = ? RETURNING song_id, expires_at", (user_id,)
        )
        if not rows or float(rows[0][1]) < now:
            return None
        return int(rows[0][0])

    async def pending_rename(self, user_id: int, now: float) -> int | None:
        value = await self.db.fetchval(
            "SELECT song_id FROM song_renames WHERE user_id = ? AND expires_at >= ?",
            (user_id, now),
        )
        return None if value is None else int(str(value))
