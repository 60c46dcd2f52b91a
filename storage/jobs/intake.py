"""Intake and moves: a job is written (`create`), looked up by its identities, moved between
states (`transition`), patched (`update`) and finally dropped (`delete_finished`).

Every state move is a compare-and-set on the expected state (and the lease owner, when the caller
holds one): the loser of any race learns it from the `False` return and does nothing. Intake
checks its limits inside the INSERT itself (storage/quota.py).
"""

from __future__ import annotations

from typing import Any, Final, Unpack

from storage.db import Database
from storage.jobs.rows import (
    NEW_JOB_COLUMNS,
    RETURNING,
    SELECT,
    Job,
    JobPatch,
    NewJob,
    assignments,
    placeholders,
    sql_value,
    state_values,
)
from storage.quota import (
    CHAT_SENDERS_USED_WITH_PENDING,
    CREDITS_AVAILABLE,
    FREE_USED_IN_SPAN,
    USED_WITH_PENDING,
    WAITING_JOBS,
    ChatSendersCap,
    ChatSendersCapReached,
    DailyQuota,
    PaymentRequired,
    QuotaExceeded,
    StarsGuard,
    WaitingCap,
    WaitingCapReached,
)
from storage.states import TERMINAL, JobState, check_transition

# NOTIFY channel (PostgreSQL): a job was accepted (payload NEW_JOB) or a slot freed (FREED);
# every replica's runner wakes, and walks its line only when the news can start something.
WORK_CHANNEL: Final = "songbot_work"
NEW_JOB: Final = "new"
FREED: Final = "freed"


class JobIntake:
    """The writes that bring a job in and move it; a part of `JobStore` (storage/jobs/store.py)."""

    db: Database

    # --- intake --------------------------------------------------------------------------------

    async def create(
        self,
        new: NewJob,
        *,
        quota: DailyQuota | None = None,
        waiting: WaitingCap | None = None,
        stars: StarsGuard | None = None,
        senders: ChatSendersCap | None = None,
    ) -> tuple[Job, bool]:
        """Insert, or return the existing job for the same (chat, request message) and False.

        With a `quota`, the limit is checked inside the INSERT itself (one statement, so one
        atomic step on every engine): of many concurrent requests against a limit of N, at most N
        are written, and `QuotaExceeded` is raised for the rest. A `waiting` cap is enforced
        the same way (`WaitingCapReached`). With `stars`, the INSERT also needs a free song of
        the day or a credit left, and reserves it in the same transaction (`PaymentRequired`):
        parallel requests can never spend one credit twice. `senders`: the bot-wide cap of chat
        requesters (`ChatSendersCapReached`), serialised on one key for all of them.
        """
        values: dict[str, object] = {
            name: sql_value(name, getattr(new, name)) for name in NEW_JOB_COLUMNS
        }
        values["state"] = JobState.RECEIVED.value
        values["updated_at"] = new.created_at
        columns = list(values)
        params: list[object] = list(values.values())
        # INSERT ... SELECT needs a WHERE before ON CONFLICT, even an always-true one.
        conditions = ["TRUE"]
        if quota is not None:
            conditions.append(f"{USED_WITH_PENDING} < ?")
            params.extend(quota.params())
        if waiting is not None:
            conditions.append(f"({WAITING_JOBS}) < ?")
            params.extend(waiting.params())
        if stars is not None:
            conditions.append(f"(({FREE_USED_IN_SPAN}) < ? OR ({CREDITS_AVAILABLE}) > 0)")
            params.extend([*stars.free_params(), stars.free_per_day, *stars.credit_params()])
        if senders is not None:
            conditions.append(f"({CHAT_SENDERS_USED_WITH_PENDING}) < ?")
            params.extend(senders.params())
        guard = " WHERE " + " AND ".join(conditions)
        insert = (
            f"INSERT INTO jobs ({', '.join(columns)}) SELECT {placeholders(columns)}{guard} "
            f"ON CONFLICT (chat_id, request_message_id) DO NOTHING {RETURNING}"
        )
        if stars is None:
            guarded = quota is not None or waiting is not None
            key = f"user:{new.user_id}" if guarded else None
            rows = await self.db.write_returning(
                insert, params, serialize_on="chat-senders" if senders is not None else key
            )
        else:
            rows = await self._insert_and_reserve(insert, params, stars, new.created_at)
        if rows:
            await self.db.notify(WORK_CHANNEL, NEW_JOB)
            return Job.from_row(rows[0]), True
        existing = await self.get_by_request(new.chat_id, new.request_message_id)
        if existing is not None:
            return existing, False
        if waiting is not None and await self._waiting(waiting.user_id) >= waiting.limit:
            raise WaitingCapReached(waiting)
        if quota is not None and await self._used_with_pending(quota) >= quota.limit:
            raise QuotaExceeded(quota)
        if senders is not None and await self.chat_senders_used(senders) >= senders.limit:
            raise ChatSendersCapReached(senders)
        if stars is not None:
            raise PaymentRequired(stars)
        if quota is not None:
            raise QuotaExceeded(quota)
        raise RuntimeError("duplicate job disappeared during intake")  # deleted in between

    async def _insert_and_reserve(
        self, insert: str, params: list[object], stars: StarsGuard, now: float
    ) -> list[Any]:
        """The guarded INSERT and the reservation it makes, in one `BEGIN IMMEDIATE`."""
        async with self.db.transaction() as tx:
            await tx.serialize_on(f"user:{stars.user_id}")
            rows = await tx.fetchall(insert, params)
            if not rows:
                return rows
            job_id = int(rows[0]["id"])
            await tx.execute(
                "INSERT INTO song_billing (job_id, user_id, kind, created_at) "
                f"SELECT ?, ?, CASE WHEN ({FREE_USED_IN_SPAN}) < ? THEN 'free' "
                "ELSE 'credit' END, ?",
                (job_id, stars.user_id, *stars.free_params(), stars.free_per_day, now),
            )
            await tx.execute(
                "INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at) "
                "SELECT user_id, 'reserve', -1, job_id, created_at FROM song_billing "
                "WHERE job_id = ? AND kind = 'credit'",
                (job_id,),
            )
            return rows

    async def _used_with_pending(self, quota: DailyQuota) -> int:
        sql = f"SELECT {USED_WITH_PENDING}"
        return int(str(await self.db.fetchval(sql, quota.params()[:-1])))

    async def chat_senders_used(self, cap: ChatSendersCap) -> int:
        """What counts against the chat requesters' cap today (the friendly early check)."""
        sql = f"SELECT {CHAT_SENDERS_USED_WITH_PENDING}"
        return int(str(await self.db.fetchval(sql, cap.params()[:-1])))

    async def _waiting(self, user_id: int) -> int:
        return int(str(await self.db.fetchval(WAITING_JOBS, (user_id,))))

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone(f"{SELECT} WHERE id = ?", (job_id,))
        return None if row is None else Job.from_row(row)

    async def get_by_request(self, chat_id: int, request_message_id: int) -> Job | None:
        row = await self.db.fetchone(
            f"{SELECT} WHERE chat_id = ? AND request_message_id = ?",
            (chat_id, request_message_id),
        )
        return None if row is None else Job.from_row(row)

    async def transition(
        self,
        job_id: int,
        src: JobState,
        dst: JobState,
        *,
        owner: str | None = None,
        now: float,
        **fields: Unpack[JobPatch],
    ) -> bool:
        """Compare-and-set `src -> dst`; True only if this call moved the job.

        Raises `IllegalTransition` (before any write) for a move not in the table. Moving to a
        terminal state also drops the lease and the next check and stamps `finished_at` (and
        `delivered_at` for `delivered`) unless given.
        """
        check_transition(src, dst)
        dst = JobState(dst)
        values = dict(fields)
        if dst in TERMINAL:
            if values.get("next_check_at") is not None:
                raise ValueError(f"a {dst} job has no next check")
            values["next_check_at"] = None
            values.setdefault("finished_at", now)
            if dst is JobState.DELIVERED:
                values.setdefault("delivered_at", now)
        clauses, params = assignments(values)
        extra = ", lease_owner = NULL, lease_until = NULL" if dst in TERMINAL else ""
        sql = (
            f"UPDATE jobs SET state = ?, updated_at = ?{extra}"
            f"{''.join(', ' + c for c in clauses)} WHERE id = ? AND state = ?"
        )
        args: list[object] = [dst.value, now, *params, job_id, JobState(src).value]
        if owner is not None:
            sql += " AND lease_owner = ?"
            args.append(owner)
        moved = await self.db.execute_write(sql, args) == 1
        if moved and dst in TERMINAL:
            await self.db.notify(WORK_CHANNEL, FREED)  # a slot is free, maybe on another replica
        return moved

    async def update(
        self,
        job_id: int,
        *,
        owner: str | None,
        now: float,
        state: JobState | None = None,
        **fields: Unpack[JobPatch],
    ) -> bool:
        """Change fields without moving the job; guarded by lease owner and `state` if given."""
        clauses, params = assignments(fields)
        sql = f"UPDATE jobs SET updated_at = ?{''.join(', ' + c for c in clauses)} WHERE id = ?"
        args: list[object] = [now, *params, job_id]
        if owner is not None:
            sql += " AND lease_owner = ?"
            args.append(owner)
        if state is not None:
            sql += " AND state = ?"
            args.append(JobState(state).value)
        return await self.db.execute_write(sql, args) == 1

    async def delete_finished(self, *, before: float, limit: int = 1000) -> int:
        """Retention: drop finished jobs older than `before` (the usage ledger keeps its rows)."""
        wanted = state_values(TERMINAL)
        return await self.db.execute_write(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs "
            f"WHERE state IN ({placeholders(wanted)}) AND finished_at < ? LIMIT ?)",
            [*wanted, before, limit],
        )
