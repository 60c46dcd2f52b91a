"""Lyrics previews (/write) and the chat completions behind them.

Why in the database: a preview's buttons must still work after a restart, so its idea, title,
style and lyrics are rows, not memory. Why a call ledger: the daily limit on drafts is enforced in
the same INSERT that records the call (like the song quota in `storage/quota.py`), so a burst of
/write or 🔄 cannot overrun it, and the tokens each call used add up for `songbot stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from storage.db import Database, Row

# A user's counted chat completions in [start, end): (user_id, start, end).
CALLS_IN_SPAN: Final = (
    "SELECT COUNT(*) FROM lyrics_calls "
    "WHERE user_id = ? AND refunded = 0 AND created_at >= ? AND created_at < ?"
)
_DRAFT_COLUMNS: Final = (
    "id, chat_id, chat_type, topic_id, user_id, user_lang, request_message_id, "
    "preview_message_id, idea, target_model, title, style, lyrics, versions, job_id, created_at"
)


@dataclass(frozen=True, slots=True)
class LyricsDraft:
    id: int
    chat_id: int
    chat_type: str
    topic_id: int | None
    user_id: int
    user_lang: str | None
    request_message_id: int
    preview_message_id: int | None
    idea: str
    target_model: str
    title: str
    style: str
    lyrics: str
    versions: int
    job_id: int | None
    created_at: float

    @classmethod
    def from_row(cls, row: Row) -> LyricsDraft:
        return cls(*tuple(row))


@dataclass(frozen=True, slots=True)
class TokenTotals:
    calls_today: int
    tokens_today: int
    calls_total: int
    tokens_total: int


class DraftLimitReached(Exception):
    """The INSERT found the user's drafts for today used up; nothing was written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"daily lyrics limit of {limit} reached")
        self.limit = limit


class LyricsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- drafts --------------------------------------------------------------------------------

    async def create_draft(
        self,
        *,
        chat_id: int,
        chat_type: str,
        topic_id: int | None,
        user_id: int,
        user_lang: str,
        request_message_id: int,
        idea: str,
        target_model: str,
        now: float,
    ) -> tuple[LyricsDraft, bool]:
        """The draft for this request; (existing, False) when the update came twice."""
        rows = await self.db.write_returning(
            "INSERT INTO lyrics_drafts (chat_id, chat_type, topic_id, user_id, user_lang, "
            "request_message_id, idea, target_model, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (chat_id, request_message_id) DO NOTHING RETURNING {_DRAFT_COLUMNS}",
            (
                chat_id,
                chat_type,
                topic_id,
                user_id,
                user_lang,
                request_message_id,
                idea,
                target_model,
                now,
                now,
            ),
        )
        if rows:
            return LyricsDraft.from_row(rows[0]), True
        row = await self.db.fetchone(
            f"SELECT {_DRAFT_COLUMNS} FROM lyrics_drafts "
            "WHERE chat_id = ? AND request_message_id = ?",
            (chat_id, request_message_id),
        )
        assert row is not None
        return LyricsDraft.from_row(row), False

    async def get(self, draft_id: int) -> LyricsDraft | None:
        row = await self.db.fetchone(
            f"SELECT {_DRAFT_COLUMNS} FROM lyrics_drafts WHERE id = ?", (draft_id,)
        )
        return None if row is None else LyricsDraft.from_row(row)

    async def by_preview(self, chat_id: int, message_id: int) -> LyricsDraft | None:
        row = await self.db.fetchone(
            f"SELECT {_DRAFT_COLUMNS} FROM lyrics_drafts "
            "WHERE chat_id = ? AND preview_message_id = ? LIMIT 1",
            (chat_id, message_id),
        )
        return None if row is None else LyricsDraft.from_row(row)

    async def save_version(
        self, draft_id: int, *, title: str, style: str, lyrics: str, target_model: str, now: float
    ) -> None:
        await self.db.execute_write(
            "UPDATE lyrics_drafts SET title = ?, style = ?, lyrics = ?, target_model = ?, "
            "versions = versions + 1, updated_at = ? WHERE id = ?",
            (title, style, lyrics, target_model, now, draft_id),
        )

    async def set_preview(self, draft_id: int, message_id: int, now: float) -> None:
        await self.db.execute_write(
            "UPDATE lyrics_drafts SET preview_message_id = ?, updated_at = ? WHERE id = ?",
            (message_id, now, draft_id),
        )

    async def claim_for_song(self, draft_id: int, now: float) -> bool:
        """Mark the draft as being made into a song; False if a song was already made from it.

        The sentinel 0 holds the claim until `set_job` names the job (or `release` undoes it).
        """
        changed = await self.db.execute_write(
            "UPDATE lyrics_drafts SET job_id = 0, updated_at = ? WHERE id = ? AND job_id IS NULL",
            (now, draft_id),
        )
        return changed == 1

    async def set_job(self, draft_id: int, job_id: int, now: float) -> None:
        await self.db.execute_write(
            "UPDATE lyrics_drafts SET job_id = ?, updated_at = ? WHERE id = ?",
            (job_id, now, draft_id),
        )

    async def release(self, draft_id: int, now: float) -> None:
        await self.db.execute_write(
            "UPDATE lyrics_drafts SET job_id = NULL, updated_at = ? WHERE id = ? AND job_id = 0",
            (now, draft_id),
        )

    async def delete_stale_drafts(self, *, before: float, limit: int = 1000) -> int:
        """Retention (#24.14): drafts untouched since `before` go, ideas and lyrics with them;
        their calls stay in the ledger (`draft_id` becomes NULL) for limits and token totals."""
        return await self.db.execute_write(
            "DELETE FROM lyrics_drafts WHERE id IN "
            "(SELECT id FROM lyrics_drafts WHERE updated_at < ? LIMIT ?)",
            (before, limit),
        )

    # --- calls ---------------------------------------------------------------------------------

    async def reserve_call(
        self,
        *,
        user_id: int,
        draft_id: int | None,
        model: str,
        limit: int | None,
        day_start: float,
        day_end: float,
        now: float,
    ) -> int:
        """Record a chat completion about to be made; raises `DraftLimitReached` (atomically:
        the count and the INSERT are one statement) when `limit` calls were made today."""
        if limit is None:
            rows = await self.db.write_returning(
                "INSERT INTO lyrics_calls (user_id, draft_id, model, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (user_id, draft_id, model, now),
            )
        else:
            rows = await self.db.write_returning(
                "INSERT INTO lyrics_calls (user_id, draft_id, model, created_at) "
                f"SELECT ?, ?, ?, ? WHERE ({CALLS_IN_SPAN}) < ? RETURNING id",
                (user_id, draft_id, model, now, user_id, day_start, day_end, limit),
                serialize_on=f"user:{user_id}",
            )
        if not rows:
            assert limit is not None
            raise DraftLimitReached(limit)
        return int(rows[0][0])

    async def record_tokens(self, call_id: int, prompt: int, completion: int, total: int) -> None:
        """Tokens add up: one user action may take a second completion (a shortened rewrite)."""
        await self.db.execute_write(
            "UPDATE lyrics_calls SET prompt_tokens = prompt_tokens + ?, "
            "completion_tokens = completion_tokens + ?, total_tokens = total_tokens + ? "
            "WHERE id = ?",
            (prompt, completion, total, call_id),
        )

    async def refund_call(self, call_id: int) -> None:
        await self.db.execute_write(
            "UPDATE lyrics_calls SET refunded = 1 WHERE id = ?", (call_id,)
        )

    async def count_today(self, user_id: int, day_start: float, day_end: float) -> int:
        value = await self.db.fetchval(CALLS_IN_SPAN, (user_id, day_start, day_end))
        return int(str(value))

    async def token_totals(self, day_start: float, day_end: float) -> TokenTotals:
        row = await self.db.fetchone(
            "SELECT COUNT(*), COALESCE(SUM(total_tokens), 0), "
            "COALESCE(SUM(CASE WHEN created_at >= ? AND created_at < ? THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN created_at >= ? AND created_at < ? "
            "THEN total_tokens END), 0) FROM lyrics_calls",
            (day_start, day_end, day_start, day_end),
        )
        assert row is not None
        return TokenTotals(
            calls_today=int(row[2]),
            tokens_today=int(row[3]),
            calls_total=int(row[0]),
            tokens_total=int(row[1]),
        )
