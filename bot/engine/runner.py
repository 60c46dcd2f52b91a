"""The one background engine that owns all provider work and every job's way to an outcome.

How it keeps the promises:
- Waiting jobs take slots by admission (bot/engine/admission.py): one walk down the line in
  arrival order within the per-user, per-chat and total caps, run whenever a slot may have freed
  (a job ended or moved on, a new request, a cancel) and once a second as a safety net. A freed
  slot is taken within one loop turn, not at some waiting job's next timer.
- Everything else sleeps until the earliest `next_check_at` (or a wake-up), is claimed in batches
  with a lease, and is worked in a bounded pool. Leases are renewed while held and released on
  stop; a new sole instance releases its dead predecessor's at once (bot/app.py).
- A job enters `submitting` *before* the paid POST; an unknown outcome is reconciled through
  the provider's request log (bot/engine/reconcile.py), never blindly re-sent.
- Every step is a compare-and-set state transition; a cancelled job or one taken over by another
  runner simply loses its next CAS and the worker stops.
- Every terminal failure sends exactly one outcome message (bot/engine/outcomes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Final

from telegram import Bot

from bot.engine.admission import Caps, admit, worth_a_walk
from bot.engine.deliver import deliver, fetch
from bot.engine.estimates import Estimator
from bot.engine.holds import settle_at_start
from bot.engine.outcomes import Outcomes
from bot.engine.poll import poll
from bot.engine.reconcile import reconcile
from bot.engine.status_updates import StatusUpdates
from bot.engine.submit import first_state, prepare, submit
from bot.engine.work import Work
from bot.ops.logging_setup import current_job_key
from bot.services import Services
from storage.db import StorageError
from storage.jobs import Job, JobPatch, SlotCounts
from storage.states import ACTIVE, JobState

log = logging.getLogger(__name__)

IDLE_MAX_SLEEP: Final = 60.0
ADMIT_EVERY: Final = 1.0  # seconds between safety-net admission walks while jobs wait
LINE_LIMIT: Final = 5000  # waiting jobs read per walk; later ones keep their turn
TEMP_SWEEP_INTERVAL: Final = 3600.0
TEMP_MAX_AGE: Final = 6 * 3600.0
STORAGE_BACKOFF_MAX: Final = 30.0  # seconds between attempts while the database refuses writes
_STORAGE_ERRORS: Final = (StorageError, sqlite3.Error)
_CLAIMED: Final = frozenset(ACTIVE - {JobState.RECEIVED})  # waiting jobs go through admission

Step = Callable[[Work, Job], Awaitable[Job | None]]
_STEPS: Final[dict[JobState, Step]] = {
    JobState.PREPARING: prepare,
    JobState.SUBMITTING: reconcile,  # found on claim: the last POST's outcome is unknown
    JobState.PENDING: poll,
    JobState.FETCHING: fetch,
    JobState.DELIVERING: deliver,
}


class JobRunner:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        concurrency: int = 32,
        batch_size: int = 50,
    ) -> None:
        self.s = services
        self.bot = bot
        # The signals and the heartbeat (bot/engine_link.py), made before the services.
        self.link = services.engine
        self.owner = self.link.owner
        self.concurrency = concurrency
        self.batch_size = batch_size
        status = StatusUpdates(services, bot)
        self.work = Work(
            s=services,
            bot=bot,
            owner=self.owner,
            status=status,
            outcomes=Outcomes(services, bot, self.owner, status),
            estimator=Estimator(services.jobs),
        )
        # A worker ended since the last tick: its job may have freed a slot, or only be
        # waiting for its next poll (see `_worth_walking`).
        self._worker_ended = False
        # What the last walk left: the slots held after its starts, and whether it ran out of
        # free workers with jobs still ready to start.
        self._held_after_walk: SlotCounts | None = None
        self._walk_ran_out_of_room = False
        self._last_admit = 0.0
        self._line_waiting = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._keys: dict[int, str] = {}  # job id -> key, for the workers in `_workers`
        self._last_renew = 0.0
        self._last_sweep = time.time()
        self.ticks = 0
        self.link.on_cancel(self._cancelled)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="songbot-runner")

    def _cancelled(self, job_id: int, was: JobState) -> None:
        """A job was cancelled (`EngineLink.cancelled`, which has already woken the loop for its
        slot): stop a worker still preparing it, so its download or ffmpeg run (#17.4) ends now
        instead of running to its caps for nothing. Only in `preparing`: nothing paid is under
        way there, and the cancel's compare-and-set proves the worker has not moved on to the
        paid POST.
        """
        task = self._workers.get(job_id)
        if was is not JobState.PREPARING or task is None or task.done():
            return
        if job_id not in self.work.preparing:
            return  # between the reference and the move on: nothing left to stop
        key = self._keys.get(job_id)
        log.info("job cancelled while preparing; stopping its worker")
        task.cancel()
        if key is not None:
            task.add_done_callback(lambda _t: self.s.temp.cleanup_job(key))

    async def stop(self, grace: float = 3.0) -> None:
        """Stop claiming, let in-flight steps finish briefly, then cancel and release leases."""
        self._stopping = True
        self.link.woken.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A worker preparing a reference has nothing paid in flight and may be deep in an ffmpeg
        # run: stop it now (ffmpeg is killed, the job resumes from `preparing` at the next
        # start) instead of letting it run through the grace period.
        for job_id, task in self._workers.items():
            if job_id in self.work.preparing:
                task.cancel()
        workers = list(self._workers.values())
        if workers:
            _, pending = await asyncio.wait(workers, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await self.work.status.close()
        with contextlib.suppress(Exception):
            await self.s.jobs.release_all(owner=self.owner)

    # ------------------------------------------------------------------ main loop
    async def _run(self) -> None:
        self.link.running = True
        try:
            await self._loop()
        finally:
            self.link.running = False  # ended or cancelled: the health page says so

    async def _loop(self) -> None:
        try:
            await self.work.outcomes.send_missing()
        except Exception:
            log.exception("could not repair missing outcome messages")
        try:
            await settle_at_start(self.work)  # credits held by songs cancelled mid-POST (#24.7)
        except Exception:
            log.exception("could not settle the credits of songs cancelled during a submit")
        storage_failures = 0
        while not self._stopping:
            try:
                await self._tick()
            except _STORAGE_ERRORS as exc:
                # Disk full, read-only, locked past the busy timeout: one clear line per
                # attempt, with a growing pause, instead of a traceback every second.
                storage_failures += 1
                delay = min(STORAGE_BACKOFF_MAX, 2.0 ** (storage_failures - 1))
                log.error("database unusable, jobs wait (retry in %.0fs): %s", delay, exc)
                await self._pause(delay)
                continue
            except Exception:
                log.exception("runner tick failed")
                await asyncio.sleep(1.0)
                continue
            if storage_failures:
                log.warning("database usable again; jobs resume")
                storage_failures = 0
            await self._sleep_until_due()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up for `stop()`."""
        self.link.woken.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.link.woken.wait(), timeout=seconds)

    async def _tick(self) -> None:
        now = time.time()
        self.link.last_tick = now
        self.ticks += 1
        self.s.metrics.runner_tick.set(now)
        if now - self._last_sweep >= TEMP_SWEEP_INTERVAL:
            # Bound leftovers of cancelled or crashed steps in a long-running process.
            self._last_sweep = now
            swept = await asyncio.to_thread(self.s.temp.sweep, TEMP_MAX_AGE)
            if swept:
                log.info("removed %d stale temporary files", swept)
        if self._workers and now - self._last_renew >= self.s.config.lease_seconds / 3:
            self._last_renew = now
            await self.s.jobs.renew_leases(
                owner=self.owner,
                until=now + self.s.config.lease_seconds,
                job_ids=list(self._workers),  # not a job whose worker died on a DB error
            )
        added = self.link.take_added()
        if added:
            self._line_waiting = True  # they wait in line at least until the next walk
        ended, self._worker_ended = self._worker_ended, False
        if (
            self.link.admit_wanted
            or (self._line_waiting and now - self._last_admit >= ADMIT_EVERY)
            or ((added or ended) and await self._worth_walking(added, ended=ended))
        ):
            await self._admit(now)
        free = self.concurrency - len(self._workers)
        if free <= 0:
            return
        jobs = await self.s.jobs.claim_due(
            owner=self.owner,
            now=now,
            lease_seconds=self.s.config.lease_seconds,
            limit=min(free, self.batch_size),
            states=_CLAIMED,
        )
        for job in jobs:
            self._spawn(job, _STEPS.get(JobState(job.state)))

    async def _worth_walking(self, added: list[Job | None], *, ended: bool) -> bool:
        """Whether the line could start something it could not at the last walk (see
        `admission.worth_a_walk`), from one small count query instead of the whole line."""
        if self.concurrency - len(self._workers) <= 0:
            return False
        if ended and self._walk_ran_out_of_room:
            return True
        last = self._held_after_walk
        if not ended and last is not None and last.total >= self.s.config.max_jobs_total:
            return False  # full at the last walk, and nothing here has ended since: no query
        held = await self.s.jobs.slot_counts()
        freed = ended and held != self._held_after_walk
        return worth_a_walk(added, held, self._caps(), freed=freed)

    def _caps(self) -> Caps:
        cfg = self.s.config
        return Caps(cfg.max_jobs_per_user, cfg.max_jobs_per_chat, cfg.max_jobs_total)

    async def _admit(self, now: float) -> None:
        """Start every waiting job that fits the caps, and tell the rest their place."""
        self.link.admit_wanted = False
        self._last_admit = now
        line = await self.s.jobs.waiting_line(limit=LINE_LIMIT)
        self._line_waiting = bool(line)
        if not line:
            return
        cfg = self.s.config
        caps = self._caps()
        ready = [j for j in line if (j.next_check_at or 0.0) <= now or now > j.deadline_at]
        held = await self.s.jobs.slot_counts()
        room = self.concurrency - len(self._workers)
        plan = admit(ready, held, caps, now=now, room=room)
        self._walk_ran_out_of_room = len(plan.start) >= room and bool(plan.places)
        self._held_after_walk = held.copy()
        for job in plan.start:
            self._held_after_walk.add(job.user_id, job.chat_id)
        for job in plan.expired:
            leased = await self.s.jobs.lease(
                job.id, owner=self.owner, until=now + cfg.lease_seconds, now=now
            )
            if leased is not None:
                self._spawn(leased, _expire)
        for job in plan.start:
            dst = first_state(job)
            fields: JobPatch = {}
            if dst is JobState.SUBMITTING:
                fields = {"submit_started_at": now, "submit_attempts": job.submit_attempts + 1}
            started = await self.s.jobs.start_waiting(
                job.id,
                dst,
                owner=self.owner,
                lease_until=now + cfg.lease_seconds,
                now=now,
                **fields,
            )
            if started is not None:
                self._spawn(started, submit if dst is JobState.SUBMITTING else prepare)
        # Places of the jobs still waiting, from the same snapshot (backed-off ones included).
        places = dict(plan.places)
        blocked = len(places)
        ready_ids = {j.id for j in ready}
        for job in line:
            if job.id not in ready_ids:
                blocked += 1
                places[job.id] = (job, blocked)
        self.work.status.positions(places)

    def _spawn(self, job: Job, step: Step | None) -> None:
        if step is None or job.id in self._workers:
            return
        self._workers[job.id] = asyncio.create_task(self._work(job, step), name=f"job-{job.id}")
        self._keys[job.id] = job.key

    async def _sleep_until_due(self) -> None:
        # Clear first: a wake-up (or stop) that arrives while we compute the timeout must not
        # be lost, or stopping could wait a whole idle period.
        self.link.woken.clear()
        if self._stopping or self.link.pending or self._worker_ended:
            return
        now = time.time()
        timeout = IDLE_MAX_SLEEP
        if len(self._workers) < self.concurrency:
            due = await self.s.jobs.next_due_at()
            if due is not None:
                timeout = max(0.0, min(timeout, due - now))
        if self._workers:
            timeout = min(timeout, self.s.config.lease_seconds / 3)
        if self._line_waiting:
            timeout = min(timeout, ADMIT_EVERY)
        if timeout <= 0:
            await asyncio.sleep(0)  # let workers run; their leases keep them out of the claim
            if self._workers and len(self._workers) >= self.concurrency:
                await asyncio.sleep(0.05)
            return
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.link.woken.wait(), timeout=timeout)

    async def _work(self, job: Job, step: Step) -> None:
        token = current_job_key.set(job.key)
        try:
            current: Job | None = await step(self.work, job)
            while current is not None and not self._stopping:
                follow = _STEPS.get(JobState(current.state))
                if follow is None:
                    break
                current = await follow(self.work, current)
        except asyncio.CancelledError:
            raise
        except _STORAGE_ERRORS as exc:
            # Not the job's fault: it keeps its state and is picked up again after its lease.
            log.error("job step could not use the database; it resumes later: %s", exc)
        except Exception as exc:
            log.exception("job step failed unexpectedly")
            try:
                await self.work.outcomes.transient(job, f"unexpected: {exc!r}")
            except _STORAGE_ERRORS as again:
                log.error("could not reschedule the job; it resumes later: %s", again)
        finally:
            current_job_key.reset(token)
            self._workers.pop(job.id, None)
            self._keys.pop(job.id, None)
            # A job that ended may have freed a slot: the next tick walks the line if it did.
            self._worker_ended = True
            self.link.woken.set()


async def _expire(w: Work, job: Job) -> Job | None:
    """A job that waited in line past its deadline ends `timed_out` (nothing was charged).

    One that waited because the music service kept refusing to start it ends with the same
    reason as when the retries run out first (`outcomes.transient`), so one failure reads the
    same whichever check saw it, in every language (issue #25 item 17)."""
    if job.transient_errors:
        await w.outcomes.fail(job, JobState.FAILED, "error_provider_unavailable", refund=False)
        return None
    await w.outcomes.fail(job, JobState.TIMED_OUT, "error_timeout", refund=False)
    return None
