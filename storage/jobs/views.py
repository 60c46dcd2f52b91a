"""Read views of `jobs` for chats and operators: lists, status boards, history for estimates
and counts. A part of `JobStore` (storage/jobs/store.py)."""

from __future__ import annotations

from storage.db import Database
from storage.jobs.rows import SELECT, Job, placeholders, state_values
from storage.states import ACTIVE, JobState


class JobViews:
    """Read views for chats and operators; a part of `JobStore`."""

    db: Database

    async def list_for_user(
        self, user_id: int, *, limit: int = 10, active_only: bool = False
    ) -> list[Job]:
        """A user's most recent jobs, newest first."""
        return await self._list("user_id = ?", [user_id], limit, active_only)

    async def list_for_chat(
        self, chat_id: int, *, limit: int = 10, active_only: bool = False
    ) -> list[Job]:
        """A chat's most recent jobs, newest first."""
        return await self._list("chat_id = ?", [chat_id], limit, active_only)

    async def list_jobs(
        self, *, state: JobState | None = None, chat_id: int | None = None, limit: int = 50
    ) -> list[Job]:
        """Newest first, optionally filtered (admin views)."""
        where: list[str] = []
        args: list[object] = []
        if state is not None:
            where.append("state = ?")
            args.append(JobState(state).value)
        if chat_id is not None:
            where.append("chat_id = ?")
            args.append(chat_id)
        return await self._list(" AND ".join(where) or "TRUE", args, limit, False)

    async def _list(
        self, where: str, args: list[object], limit: int, active_only: bool
    ) -> list[Job]:
        if active_only:
            wanted = state_values(ACTIVE)
            where += f" AND state IN ({placeholders(wanted)})"
            args = [*args, *wanted]
        rows = await self.db.fetchall(
            f"{SELECT} WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ?", [*args, limit]
        )
        return [Job.from_row(r) for r in rows]

    async def recent_board(
        self, chat_id: int, topic_id: int | None, *, since: float
    ) -> int | None:
        """The status message of a request since `since` in this chat and topic still active."""
        value = await self.db.fetchval(
            "SELECT status_message_id FROM jobs WHERE chat_id = ? "
            "AND topic_id IS NOT DISTINCT FROM ? "
            "AND status_message_id IS NOT NULL "
            f"AND state IN ({placeholders(ACTIVE)}) AND created_at >= ? "
            "ORDER BY id DESC LIMIT 1",
            (chat_id, topic_id, *state_values(ACTIVE), since),
        )
        return value if isinstance(value, int) else None

    async def board_members(self, chat_id: int, message_id: int) -> list[tuple[str, JobState]]:
        """(requester name, state) of every job a status message speaks for, oldest first."""
        rows = await self.db.fetchall(
            "SELECT user_name, state FROM jobs WHERE chat_id = ? AND status_message_id = ? "
            "ORDER BY id",
            (chat_id, message_id),
        )
        return [(str(r["user_name"]), JobState(r["state"])) for r in rows]

    async def shares_status_message(self, job: Job) -> bool:
        """Whether another job of this chat speaks through the same status message."""
        others = await self.db.fetchval(
            "SELECT count(*) FROM jobs WHERE chat_id = ? AND status_message_id = ? AND id != ?",
            (job.chat_id, job.status_message_id, job.id),
        )
        return bool(others)

    async def generation_history(self, model: str, *, limit: int) -> list[tuple[int, float]]:
        """(lyrics length, seconds from submit to completed) of the newest generations."""
        rows = await self.db.fetchall(
            "SELECT length(coalesce(lyrics, '')) AS n, completed_at - submitted_at AS secs "
            "FROM jobs WHERE model = ? AND completed_at IS NOT NULL AND submitted_at IS NOT NULL "
            "AND generation_id IS NOT NULL ORDER BY completed_at DESC LIMIT ?",
            (model, limit),
        )
        return [
            (int(r["n"]), float(r["secs"]))
            for r in rows
            if r["secs"] is not None and r["secs"] > 0
        ]

    async def counts_by_state(self) -> dict[str, int]:
        """Every state, zero included, so metrics always export all series."""
        counts = {s.value: 0 for s in JobState}
        for row in await self.db.fetchall("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
            counts[str(row[0])] = int(row[1])
        return counts
