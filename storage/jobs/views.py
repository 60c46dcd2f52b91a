"""The job engine's and the chat's read queries on `jobs`: due times, the waiting line, slot
counts, lists, status boards and estimates.
A part of `JobStore` (storage/jobs/store.py)."""

from __future__ import annotations

from storage.db import Database
from storage.jobs.rows import SELECT, Job, placeholders, state_values
from storage.states import ACTIVE, RUNNING, JobState


class SlotCounts:
    """How many slots are held, in all and per user and chat (the three concurrency caps)."""

    __slots__ = ("by_chat", "by_user", "total")

    def __init__(self) -> None:
        self.total = 0
        self.by_user: dict[int, int] = {}
        self.by_chat: dict[int, int] = {}

    def add(self, user_id: int, chat_id: int, n: int = 1) -> None:
        self.total += n
        self.by_user[user_id] = self.by_user.get(user_id, 0) + n
        self.by_chat[chat_id] = self.by_chat.get(chat_id, 0) + n

    def copy(self) -> SlotCounts:
        twin = SlotCounts()
        twin.total, twin.by_user, twin.by_chat = self.total, dict(self.by_user), dict(self.by_chat)
        return twin

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SlotCounts):
            return NotImplemented
        return (self.total, self.by_user, self.by_chat) == (
            other.total,
            other.by_user,
            other.by_chat,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable


class JobViews:
    """Read views for the engine, chats and operators; a part of `JobStore`."""

    db: Database

    async def next_due_at(self) -> float | None:
        """When the earliest claimable job is due: its next check, or its lease expiry if later.
        Includes jobs this process holds. Waiting (`received`) jobs are not claimed but admitted
        (bot/engine/admission.py), so they are not counted here."""
        # Two cheap halves: the first unleased job in due order (jobs_due, stops at the first
        # hit), and the few leased ones (jobs_lease_owner), which are due when the lease ends.
        value = await self.db.fetchval(
            "SELECT MIN(t) FROM ("
            "SELECT * FROM (SELECT next_check_at AS t FROM jobs "
            "WHERE next_check_at IS NOT NULL AND lease_until IS NULL AND state != 'received' "
            "ORDER BY next_check_at LIMIT 1) AS first_free "
            f"UNION ALL SELECT {self.db.dialect.greatest('next_check_at', 'lease_until')} "
            "FROM jobs WHERE lease_owner IS NOT NULL AND state != 'received') AS due"
        )
        return None if value is None else float(str(value))

    async def waiting_line(self, *, limit: int) -> list[Job]:
        """Jobs waiting for a slot (`received`), in arrival order: the whole line
        in one query, so admission and every place in line come from the same snapshot."""
        rows = await self.db.fetchall(
            f"{SELECT} WHERE state = 'received' ORDER BY created_at, id LIMIT ?", (limit,)
        )
        return [Job.from_row(r) for r in rows]

    async def slot_counts(self) -> SlotCounts:
        """Jobs holding a slot, in total, per user and per chat, in one query."""
        wanted = state_values(RUNNING)
        rows = await self.db.fetchall(
            f"SELECT user_id, chat_id, COUNT(*) FROM jobs WHERE state IN ({placeholders(wanted)})"
            " GROUP BY user_id, chat_id",
            wanted,
        )
        counts = SlotCounts()
        for user_id, chat_id, n in rows:
            counts.add(int(user_id), int(chat_id), int(n))
        return counts

    async def unnotified_failures(self, *, since: float, limit: int = 100) -> list[Job]:
        """Failed / timed-out / interrupted jobs finished after `since` whose user was never told
        (`outcome_sent_at` unset): a crash hit between the state move and the message."""
        wanted = state_values({JobState.FAILED, JobState.TIMED_OUT, JobState.INTERRUPTED})
        rows = await self.db.fetchall(
            f"{SELECT} WHERE state IN ({placeholders(wanted)}) AND outcome_sent_at IS NULL "
            "AND finished_at >= ? ORDER BY finished_at LIMIT ?",
            [*wanted, since, limit],
        )
        return [Job.from_row(r) for r in rows]

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
