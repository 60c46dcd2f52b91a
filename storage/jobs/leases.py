"""What the engine claims and leases: which runner works a job now, when it is looked at again,
and the reads the scheduler decides on (due times, the waiting line, held slots).

Why leases: the runner claims due jobs by writing its owner name and an expiry in the same atomic
statement that selects them, so two runners (two replicas, or a runner and its restarted self)
never work one job at once; a crashed runner's jobs come back once its lease expires, or at once
when its replica stops beating (storage/instances.py).
A part of `JobStore` (storage/jobs/store.py).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Unpack

from storage.db import Database
from storage.jobs.rows import (
    RETURNING,
    SELECT,
    Job,
    JobPatch,
    ReleasePatch,
    assignments,
    placeholders,
    state_values,
)
from storage.states import RUNNING, JobState, check_transition


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


class JobLeases:
    """What the engine claims and leases, and the reads its scheduler decides on (due times,
    the waiting line, held slots, failures still to tell); a part of `JobStore`."""

    db: Database

    async def claim_due(
        self,
        *,
        owner: str,
        now: float,
        lease_seconds: float,
        limit: int,
        states: Collection[JobState] | None = None,
    ) -> list[Job]:
        """Atomically lease up to `limit` jobs whose check is due and whose lease is free/expired.

        Orphans (a job left mid-step by a crash) come back here once their lease has expired and
        their `next_check_at` has passed; their state (e.g. `submitting`) tells the runner so.
        Returned oldest-due first.
        """
        if limit <= 0:
            return []
        state_filter = ""
        params: list[object] = [owner, now + lease_seconds, now, now]
        if states is not None:
            wanted = state_values(states)
            if not wanted:
                return []
            state_filter = f" AND state IN ({placeholders(wanted)})"
            params.extend(wanted)
        params.append(limit)
        rows = await self.db.write_returning(
            # `updated_at` stays: a lease is not a change of the job, and the poll step reads
            # it as the time of the last "still generating" answer (bot/engine/poll.py).
            "UPDATE jobs SET lease_owner = ?, lease_until = ?, claims = claims + 1 "
            "WHERE id IN ("
            "SELECT id FROM jobs WHERE next_check_at <= ? "
            "AND (lease_until IS NULL OR lease_until <= ?)"
            f"{state_filter} ORDER BY next_check_at LIMIT ?{self.db.dialect.skip_locked}) "
            f"{RETURNING}",
            params,
        )
        jobs = [Job.from_row(r) for r in rows]
        jobs.sort(key=lambda j: (j.next_check_at or 0.0, j.id))
        return jobs

    async def release(
        self,
        job_id: int,
        *,
        owner: str,
        next_check_at: float,
        now: float,
        **fields: Unpack[ReleasePatch],
    ) -> bool:
        """Drop our lease and say when to look at the job again (plus any same-state fields)."""
        clauses, params = assignments(fields)
        rows = await self.db.execute_write(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, next_check_at = ?, "
            f"updated_at = ?{''.join(', ' + c for c in clauses)} "
            "WHERE id = ? AND lease_owner = ? AND next_check_at IS NOT NULL",
            [next_check_at, now, *params, job_id, owner],
        )
        return rows == 1

    async def renew_leases(
        self, *, owner: str, until: float, job_ids: Collection[int] | None = None
    ) -> int:
        """Extend the leases `owner` holds (the runner's heartbeat); returns how many.

        With `job_ids`, only those: a job whose worker died must not be kept leased forever.
        """
        if job_ids is None:
            return await self.db.execute_write(
                "UPDATE jobs SET lease_until = ? WHERE lease_owner = ?", (until, owner)
            )
        ids = list(job_ids)
        if not ids:
            return 0
        return await self.db.execute_write(
            "UPDATE jobs SET lease_until = ? WHERE lease_owner = ? "
            f"AND id IN ({placeholders(ids)})",
            [until, owner, *ids],
        )

    async def release_all(self, *, owner: str, next_check_at: float | None = None) -> int:
        """Graceful shutdown: hand every job back; with `next_check_at`, make them due by then."""
        if next_check_at is None:
            return await self.db.execute_write(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                (owner,),
            )
        return await self.db.execute_write(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, "
            f"next_check_at = {self.db.dialect.least('next_check_at', '?')} "
            "WHERE lease_owner = ? AND next_check_at IS NOT NULL",
            (next_check_at, owner),
        )

    async def release_every_lease(self, *, now: float) -> int:
        """Start-up of the sole instance: every lease is a dead predecessor's; hand them all
        back and make their jobs due now, so nothing waits for a lease to expire."""
        return await self.db.execute_write(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, "
            f"next_check_at = {self.db.dialect.least('next_check_at', '?')} "
            "WHERE lease_owner IS NOT NULL AND next_check_at IS NOT NULL",
            (now,),
        )

    async def start_waiting(
        self,
        job_id: int,
        dst: JobState,
        *,
        owner: str,
        lease_until: float,
        now: float,
        **fields: Unpack[JobPatch],
    ) -> Job | None:
        """A waiting job takes its slot: leased to `owner` and moved out of `received` in one
        statement, so no claim and no second admission can take it in between."""
        check_transition(JobState.RECEIVED, dst)
        clauses, params = assignments(fields)
        rows = await self.db.write_returning(
            "UPDATE jobs SET state = ?, lease_owner = ?, lease_until = ?, updated_at = ?"
            f"{''.join(', ' + c for c in clauses)} WHERE id = ? AND state = 'received' "
            f"AND (lease_until IS NULL OR lease_until <= ?) {RETURNING}",
            [JobState(dst).value, owner, lease_until, now, *params, job_id, now],
        )
        return Job.from_row(rows[0]) if rows else None

    async def lease(self, job_id: int, *, owner: str, until: float, now: float) -> Job | None:
        """Lease one job whose lease is free or expired (e.g. a waiting job about to time out)."""
        rows = await self.db.write_returning(
            "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ? "
            f"AND (lease_until IS NULL OR lease_until <= ?) {RETURNING}",
            (owner, until, job_id, now),
        )
        return Job.from_row(rows[0]) if rows else None

    async def sleeping_checks(
        self, model: str, *, later_than: float
    ) -> list[tuple[int, float, float, int, float]]:
        """Pending generations of `model`, unleased, whose next check is after `later_than`:
        (id, submitted_at, last released at, lyrics length, next check), for re-planning."""
        rows = await self.db.fetchall(
            "SELECT id, submitted_at, updated_at, length(coalesce(lyrics, '')) AS n, "
            "next_check_at FROM jobs WHERE state = 'pending' AND model = ? "
            "AND submitted_at IS NOT NULL AND next_check_at > ? AND lease_owner IS NULL",
            (model, later_than),
        )
        return [
            (
                int(r["id"]),
                float(r["submitted_at"]),
                float(r["updated_at"]),
                int(r["n"]),
                float(r["next_check_at"]),
            )
            for r in rows
        ]

    async def bring_forward(self, job_id: int, *, at: float) -> bool:
        """Check a pending, unleased job at `at` if that is sooner than planned."""
        count = await self.db.execute_write(
            "UPDATE jobs SET next_check_at = ? WHERE id = ? AND state = 'pending' "
            "AND next_check_at > ? AND lease_owner IS NULL",
            (at, job_id, at),
        )
        return count > 0

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
