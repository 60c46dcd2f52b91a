"""The jobs repository: intake, leases, state moves and the runner's queries.

Why leases: the runner claims due jobs by writing its owner name and an expiry in the same atomic
statement that selects them, so two runners (or a runner and its restarted self) never work one
job at once; a crashed runner's jobs come back once its lease expires. Every state move is a
compare-and-set on the expected state (and the lease owner, when the caller holds one): the loser
of any race learns it from the `False` return and does nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection
from typing import Any, Final

from storage.db import Database
from storage.job_rows import (
    _NEW_JOB_COLUMNS,
    _RETURNING,
    _SELECT,
    _assignments,
    _placeholders,
    _sql_value,
    _state_values,
)
from storage.job_rows import (
    JOB_COLUMNS as JOB_COLUMNS,
)
from storage.job_rows import (
    KEY_PATTERN as KEY_PATTERN,
)
from storage.job_rows import (
    UPDATABLE_COLUMNS as UPDATABLE_COLUMNS,
)
from storage.job_rows import (
    Increment as Increment,
)
from storage.job_rows import (
    Job as Job,
)
from storage.job_rows import (
    NewJob as NewJob,
)
from storage.job_rows import (
    new_job_key as new_job_key,
)
from storage.quota import (
    CREDITS_AVAILABLE,
    FREE_USED_IN_SPAN,
    USED_WITH_PENDING,
    WAITING_JOBS,
    DailyQuota,
    PaymentRequired,
    QuotaExceeded,
    StarsGuard,
    WaitingCap,
    WaitingCapReached,
)
from storage.states import ACTIVE, RUNNING, TERMINAL, WORKING, JobState, check_transition

# NOTIFY channel (PostgreSQL): a job was accepted or a slot freed; every replica's runner wakes.
WORK_CHANNEL: Final = "songbot_work"


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


class JobStore:
    """All reads and writes of `jobs`; see the module docstring for the concurrency rules."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- intake --------------------------------------------------------------------------------

    async def create(
        self,
        new: NewJob,
        *,
        quota: DailyQuota | None = None,
        waiting: WaitingCap | None = None,
        stars: StarsGuard | None = None,
    ) -> tuple[Job, bool]:
        """Insert, or return the existing job for the same (chat, request message) and False.

        With a `quota`, the limit is checked inside the INSERT itself (one statement, so one
        atomic step on every engine): of many concurrent requests against a limit of N, at most N
        are written, and `QuotaExceeded` is raised for the rest. A `waiting` cap is enforced
        the same way (`WaitingCapReached`). With `stars`, the INSERT also needs a free song of
        the day or a credit left, and reserves it in the same transaction (`PaymentRequired`):
        parallel requests can never spend one credit twice.
        """
        values: dict[str, object] = {
            name: _sql_value(name, getattr(new, name)) for name in _NEW_JOB_COLUMNS
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
        guard = " WHERE " + " AND ".join(conditions)
        insert = (
            f"INSERT INTO jobs ({', '.join(columns)}) SELECT {_placeholders(columns)}{guard} "
            f"ON CONFLICT (chat_id, request_message_id) DO NOTHING {_RETURNING}"
        )
        if stars is None:
            guarded = quota is not None or waiting is not None
            rows = await self.db.write_returning(
                insert, params, serialize_on=f"user:{new.user_id}" if guarded else None
            )
        else:
            rows = await self._insert_and_reserve(insert, params, stars, new.created_at)
        if rows:
            await self.db.notify(WORK_CHANNEL)
            return Job.from_row(rows[0]), True
        existing = await self.get_by_request(new.chat_id, new.request_message_id)
        if existing is not None:
            return existing, False
        if waiting is not None and await self._waiting(waiting.user_id) >= waiting.limit:
            raise WaitingCapReached(waiting)
        if quota is not None and await self._used_with_pending(quota) >= quota.limit:
            raise QuotaExceeded(quota)
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

    async def _waiting(self, user_id: int) -> int:
        return int(str(await self.db.fetchval(WAITING_JOBS, (user_id,))))

    # --- lookups -------------------------------------------------------------------------------

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone(f"{_SELECT} WHERE id = ?", (job_id,))
        return None if row is None else Job.from_row(row)

    async def get_by_key(self, key: str) -> Job | None:
        row = await self.db.fetchone(f"{_SELECT} WHERE key = ?", (key,))
        return None if row is None else Job.from_row(row)

    async def get_by_request(self, chat_id: int, request_message_id: int) -> Job | None:
        row = await self.db.fetchone(
            f"{_SELECT} WHERE chat_id = ? AND request_message_id = ?",
            (chat_id, request_message_id),
        )
        return None if row is None else Job.from_row(row)

    async def get_by_generation_id(self, generation_id: str) -> Job | None:
        row = await self.db.fetchone(
            f"{_SELECT} WHERE generation_id = ? ORDER BY id DESC LIMIT 1", (generation_id,)
        )
        return None if row is None else Job.from_row(row)

    # --- leases --------------------------------------------------------------------------------

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
            wanted = _state_values(states)
            if not wanted:
                return []
            state_filter = f" AND state IN ({_placeholders(wanted)})"
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
            f"{_RETURNING}",
            params,
        )
        jobs = [Job.from_row(r) for r in rows]
        jobs.sort(key=lambda j: (j.next_check_at or 0.0, j.id))
        return jobs

    async def release(
        self, job_id: int, *, owner: str, next_check_at: float, now: float, **fields: object
    ) -> bool:
        """Drop our lease and say when to look at the job again (plus any same-state fields)."""
        clauses, params = _assignments(fields)
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
            f"AND id IN ({_placeholders(ids)})",
            [until, owner, *ids],
        )

    async def renew_lease(self, job_id: int, *, owner: str, until: float) -> bool:
        return (
            await self.db.execute_write(
                "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                (until, job_id, owner),
            )
            == 1
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

    # --- moves ---------------------------------------------------------------------------------

    async def transition(
        self,
        job_id: int,
        src: JobState,
        dst: JobState,
        *,
        owner: str | None = None,
        now: float,
        **fields: object,
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
        clauses, params = _assignments(values)
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
            await self.db.notify(WORK_CHANNEL)  # a slot is free, maybe on another replica
        return moved

    async def update(
        self,
        job_id: int,
        *,
        owner: str | None,
        now: float,
        state: JobState | None = None,
        **fields: object,
    ) -> bool:
        """Change fields without moving the job; guarded by lease owner and `state` if given."""
        clauses, params = _assignments(fields)
        sql = f"UPDATE jobs SET updated_at = ?{''.join(', ' + c for c in clauses)} WHERE id = ?"
        args: list[object] = [now, *params, job_id]
        if owner is not None:
            sql += " AND lease_owner = ?"
            args.append(owner)
        if state is not None:
            sql += " AND state = ?"
            args.append(JobState(state).value)
        return await self.db.execute_write(sql, args) == 1

    # --- the runner's queries ------------------------------------------------------------------

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
            f"{_SELECT} WHERE state = 'received' ORDER BY created_at, id LIMIT ?", (limit,)
        )
        return [Job.from_row(r) for r in rows]

    async def slot_counts(self) -> SlotCounts:
        """Jobs holding a slot, in total, per user and per chat, in one query."""
        wanted = _state_values(RUNNING)
        rows = await self.db.fetchall(
            f"SELECT user_id, chat_id, COUNT(*) FROM jobs WHERE state IN ({_placeholders(wanted)})"
            " GROUP BY user_id, chat_id",
            wanted,
        )
        counts = SlotCounts()
        for user_id, chat_id, n in rows:
            counts.add(int(user_id), int(chat_id), int(n))
        return counts

    async def start_waiting(
        self,
        job_id: int,
        dst: JobState,
        *,
        owner: str,
        lease_until: float,
        now: float,
        **fields: object,
    ) -> Job | None:
        """A waiting job takes its slot: leased to `owner` and moved out of `received` in one
        statement, so no claim and no second admission can take it in between."""
        check_transition(JobState.RECEIVED, dst)
        clauses, params = _assignments(fields)
        rows = await self.db.write_returning(
            "UPDATE jobs SET state = ?, lease_owner = ?, lease_until = ?, updated_at = ?"
            f"{''.join(', ' + c for c in clauses)} WHERE id = ? AND state = 'received' "
            f"AND (lease_until IS NULL OR lease_until <= ?) {_RETURNING}",
            [JobState(dst).value, owner, lease_until, now, *params, job_id, now],
        )
        return Job.from_row(rows[0]) if rows else None

    async def lease(self, job_id: int, *, owner: str, until: float, now: float) -> Job | None:
        """Lease one job whose lease is free or expired (e.g. a waiting job about to time out)."""
        rows = await self.db.write_returning(
            "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ? "
            f"AND (lease_until IS NULL OR lease_until <= ?) {_RETURNING}",
            (owner, until, job_id, now),
        )
        return Job.from_row(rows[0]) if rows else None

    async def pull_in_checks(
        self, model: str, *, submitted_by: float, later_than: float, at: float
    ) -> int:
        """Pending generations of `model` submitted by `submitted_by` whose next check is after
        `later_than` are looked at `at` instead: one just finished after as long, so they may
        have too. Returns how many were brought forward."""
        return await self.db.execute_write(
            "UPDATE jobs SET next_check_at = ? WHERE state = 'pending' AND model = ? "
            "AND submitted_at <= ? AND next_check_at > ? AND lease_owner IS NULL",
            (at, model, submitted_by, later_than),
        )

    async def find_orphans(self, *, now: float, limit: int = 100) -> list[Job]:
        """Jobs left mid-step (preparing/submitting/fetching/delivering) with no live lease."""
        wanted = _state_values(WORKING)
        rows = await self.db.fetchall(
            f"{_SELECT} WHERE state IN ({_placeholders(wanted)}) "
            "AND (lease_until IS NULL OR lease_until <= ?) ORDER BY created_at LIMIT ?",
            [*wanted, now, limit],
        )
        return [Job.from_row(r) for r in rows]

    async def count_running(
        self,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        include_waiting: bool = False,
    ) -> int:
        """Jobs holding a slot (preparing … delivering), for the concurrency caps; with
        `include_waiting`, also those still queued (`received`), i.e. every unfinished job."""
        wanted = _state_values(ACTIVE if include_waiting else RUNNING)
        sql = f"SELECT COUNT(*) FROM jobs WHERE state IN ({_placeholders(wanted)})"
        args: list[object] = list(wanted)
        if user_id is not None:
            sql += " AND user_id = ?"
            args.append(user_id)
        if chat_id is not None:
            sql += " AND chat_id = ?"
            args.append(chat_id)
        return int(str(await self.db.fetchval(sql, args)))

    async def unnotified_failures(self, *, since: float, limit: int = 100) -> list[Job]:
        """Failed / timed-out / interrupted jobs finished after `since` whose user was never told
        (`outcome_sent_at` unset): a crash hit between the state move and the message."""
        wanted = _state_values({JobState.FAILED, JobState.TIMED_OUT, JobState.INTERRUPTED})
        rows = await self.db.fetchall(
            f"{_SELECT} WHERE state IN ({_placeholders(wanted)}) AND outcome_sent_at IS NULL "
            "AND finished_at >= ? ORDER BY finished_at LIMIT ?",
            [*wanted, since, limit],
        )
        return [Job.from_row(r) for r in rows]

    async def queue_position(self, job: Job, *, per_chat: bool = False) -> int:
        """How many waiting (`received`) jobs were created before this one: 0 means next."""
        sql = (
            "SELECT COUNT(*) FROM jobs WHERE state = 'received' "
            "AND (created_at < ? OR (created_at = ? AND id < ?))"
        )
        args: list[object] = [job.created_at, job.created_at, job.id]
        if per_chat:
            sql += " AND chat_id = ?"
            args.append(job.chat_id)
        return int(str(await self.db.fetchval(sql, args)))

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
            wanted = _state_values(ACTIVE)
            where += f" AND state IN ({_placeholders(wanted)})"
            args = [*args, *wanted]
        rows = await self.db.fetchall(
            f"{_SELECT} WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ?", [*args, limit]
        )
        return [Job.from_row(r) for r in rows]

    # --- status boards and estimates ------------------------------------------------------

    async def recent_board(
        self, chat_id: int, topic_id: int | None, *, since: float
    ) -> int | None:
        """The status message of a request since `since` in this chat and topic still active."""
        value = await self.db.fetchval(
            "SELECT status_message_id FROM jobs WHERE chat_id = ? "
            "AND topic_id IS NOT DISTINCT FROM ? "
            "AND status_message_id IS NOT NULL "
            f"AND state IN ({_placeholders(ACTIVE)}) AND created_at >= ? "
            "ORDER BY id DESC LIMIT 1",
            (chat_id, topic_id, *_state_values(ACTIVE), since),
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

    async def avg_generation_seconds(
        self, model: str, *, limit: int = 50
    ) -> tuple[float, float, int] | None:
        """(mean, population stddev, n) of provider time over the model's latest completions."""
        rows = await self.db.fetchall(
            "SELECT completed_at - submitted_at FROM jobs "
            "WHERE model = ? AND completed_at IS NOT NULL AND submitted_at IS NOT NULL "
            "AND completed_at >= submitted_at ORDER BY completed_at DESC LIMIT ?",
            (model, limit),
        )
        samples = [float(r[0]) for r in rows]
        if not samples:
            return None
        return statistics.fmean(samples), statistics.pstdev(samples), len(samples)

    async def delete_finished(self, *, before: float, limit: int = 1000) -> int:
        """Retention: drop finished jobs older than `before` (the usage ledger keeps its rows)."""
        wanted = _state_values(TERMINAL)
        return await self.db.execute_write(
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs "
            f"WHERE state IN ({_placeholders(wanted)}) AND finished_at < ? LIMIT ?)",
            [*wanted, before, limit],
        )
