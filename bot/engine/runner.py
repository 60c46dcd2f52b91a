"""The one background runner that owns all provider work and every job's way to an outcome.

How it keeps the promises:
- It sleeps until the earliest `next_check_at` (or a wake-up from a handler), claims due jobs in
  batches with a lease, and works each one in a bounded pool. A lease is renewed while held and
  released on stop, so a restart (or a second runner) takes over only what nobody is working on.
- A job enters `submitting` *before* the paid POST. If the process dies or the POST's outcome is
  unknown, the job is never re-submitted: it is reconciled through the provider's request log
  (`X-Client-Request-Id` = the job key) and either resumes polling or ends `interrupted`.
- Every step is a compare-and-set state transition; a cancelled job or a job taken over by another
  runner simply loses its next CAS and the worker stops.
- Every terminal failure sends exactly one outcome message; `outcome_sent_at` records it so a crash
  between the state change and the message is repaired at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.aimlapi.errors import (
    InvalidApiKey,
    InvalidRequest,
    OutOfCredits,
    ProviderError,
    RateLimited,
    SubmitOutcomeUnknown,
    UnknownGeneration,
)
from bot.aimlapi.models import MODELS, Endpoint
from bot.aimlapi.types import GenerationRequest
from bot.delivery.send import (
    TELEGRAM_UPLOAD_LIMIT,
    PreparedAudio,
    fetch_audio,
    make_playable,
    send_link,
    send_song,
)
from bot.engine.estimates import Estimator
from bot.engine.poll_policy import next_poll_delay
from bot.engine.prepare_reference import INLINE_OPTION, prepare_reference, reference_purpose
from bot.errors import LocalFailure, SongbotError, UserInputError
from bot.i18n import t, wait_length
from bot.ops.logging_setup import current_job_key
from bot.progress.status import StatusEditor, cancel_keyboard, render_status
from bot.services import Services
from bot.telegram.flood import retry_after_seconds
from bot.telegram.helpers import reply_to, topic_kwargs
from bot.textutil import truncate_utf16
from storage.db import StorageError
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)

MAX_TRANSIENT = 8  # consecutive transient failures of one step before giving up
WAITING_RECHECK = 2.0  # seconds between checks of a job waiting for a free slot (at the front)
WAITING_MAX = 30.0  # … and at most this far back in a long line
STATUS_GRACE = 60.0  # how long the handler's first status message may queue behind flood limits
IDLE_MAX_SLEEP = 60.0
TEMP_SWEEP_INTERVAL = 3600.0
TEMP_MAX_AGE = 6 * 3600.0
STORAGE_BACKOFF_MAX = 30.0  # seconds between attempts while the database refuses writes
_STORAGE_ERRORS = (StorageError, sqlite3.Error)


class JobRunner:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        owner: str | None = None,
        concurrency: int = 32,
        batch_size: int = 50,
    ) -> None:
        self.s = services
        self.bot = bot
        self.owner = owner or f"runner-{uuid.uuid4().hex[:12]}"
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.status = StatusEditor(bot)
        self.estimator = Estimator(services.jobs)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._cap_lock = asyncio.Lock()
        self._last_renew = 0.0
        self._last_sweep = time.time()
        self.last_tick = 0.0
        self.ticks = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="songbot-runner")

    def wake(self) -> None:
        self._wake.set()

    def alive(self, max_age: float) -> bool:
        return (
            self._task is not None
            and not self._task.done()
            and (time.time() - self.last_tick <= max_age)
        )

    async def stop(self, grace: float = 3.0) -> None:
        """Stop claiming, let in-flight steps finish briefly, then cancel and release leases."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        workers = list(self._workers.values())
        if workers:
            _, pending = await asyncio.wait(workers, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.s.jobs.release_all(owner=self.owner)

    # ------------------------------------------------------------------ main loop
    async def _run(self) -> None:
        try:
            await self._send_missing_outcomes()
        except Exception:
            log.exception("could not repair missing outcome messages")
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
        self._wake.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def _tick(self) -> None:
        now = time.time()
        self.last_tick = now
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
        free = self.concurrency - len(self._workers)
        if free <= 0:
            return
        jobs = await self.s.jobs.claim_due(
            owner=self.owner,
            now=now,
            lease_seconds=self.s.config.lease_seconds,
            limit=min(free, self.batch_size),
        )
        for job in jobs:
            self._workers[job.id] = asyncio.create_task(self._work(job), name=f"job-{job.id}")

    async def _sleep_until_due(self) -> None:
        # Clear first: a wake-up (or stop) that arrives while we compute the timeout must not
        # be lost, or stopping could wait a whole idle period.
        self._wake.clear()
        if self._stopping:
            return
        now = time.time()
        timeout = IDLE_MAX_SLEEP
        if len(self._workers) < self.concurrency:
            due = await self.s.jobs.next_due_at()
            if due is not None:
                timeout = max(0.0, min(timeout, due - now))
        if self._workers:
            timeout = min(timeout, self.s.config.lease_seconds / 3)
        if timeout <= 0:
            await asyncio.sleep(0)  # let workers run; their leases keep them out of the claim
            if self._workers and len(self._workers) >= self.concurrency:
                await asyncio.sleep(0.05)
            return
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _work(self, job: Job) -> None:
        token = current_job_key.set(job.key)
        try:
            current: Job | None = job
            while current is not None and not self._stopping:
                current = await self._step(current)
        except asyncio.CancelledError:
            raise
        except _STORAGE_ERRORS as exc:
            # Not the job's fault: it keeps its state and is picked up again after its lease.
            log.error("job step could not use the database; it resumes later: %s", exc)
        except Exception as exc:
            log.exception("job step failed unexpectedly")
            try:
                await self._transient(job, f"unexpected: {exc!r}")
            except _STORAGE_ERRORS as again:
                log.error("could not reschedule the job; it resumes later: %s", again)
        finally:
            current_job_key.reset(token)
            self._workers.pop(job.id, None)
            self._wake.set()

    async def _step(self, job: Job) -> Job | None:
        state = JobState(job.state)
        handler: dict[JobState, Callable[[Job], Awaitable[Job | None]]] = {
            JobState.RECEIVED: self._start,
            JobState.PREPARING: self._prepare,
            JobState.SUBMITTING: self._reconcile,
            JobState.PENDING: self._poll,
            JobState.FETCHING: self._fetch,
            JobState.DELIVERING: self._deliver,
        }
        step = handler.get(state)
        if step is None:
            return None
        return await step(job)

    # ------------------------------------------------------------------ helpers
    async def _move(self, job: Job, dst: JobState, **fields: Any) -> Job | None:
        """CAS to `dst`; returns the fresh job, or None if someone else changed it first."""
        won = await self.s.jobs.transition(
            job.id, JobState(job.state), dst, owner=self.owner, now=time.time(), **fields
        )
        if not won:
            log.info("job changed under us (%s → %s lost); leaving it", job.state, dst)
            return None
        return await self.s.jobs.get(job.id)

    async def _release(self, job: Job, delay: float, **fields: Any) -> None:
        now = time.time()
        await self.s.jobs.release(
            job.id, owner=self.owner, next_check_at=now + max(0.0, delay), now=now, **fields
        )

    async def _undeliverable(self, job: Job, exc: TelegramError) -> None:
        """The chat cannot receive the song (bot blocked or removed, chat gone): the job ends
        with nobody left to tell, and its files go."""
        await self._move(
            job,
            JobState.FAILED,
            error_key="error_undeliverable",
            error_detail=str(exc),
            outcome_sent_at=time.time(),
        )
        self.s.temp.cleanup_job(job.key)

    async def _transient(self, job: Job, detail: str, *, retry_after: float | None = None) -> None:
        """A step failed for a reason that may pass: back off, and give up after a while."""
        fresh = await self.s.jobs.get(job.id)
        if fresh is None or JobState(fresh.state) in _TERMINAL:
            return
        count = (fresh.transient_errors or 0) + 1
        if count > MAX_TRANSIENT or time.time() > fresh.deadline_at:
            await self._fail(fresh, JobState.FAILED, "error_provider_unavailable", detail=detail)
            return
        delay = retry_after if retry_after is not None else min(60.0, 2.0**count)
        delay += random.uniform(0, 0.5)
        log.warning(
            "transient problem (%d/%d), retrying in %.1fs: %s", count, MAX_TRANSIENT, delay, detail
        )
        await self._release(fresh, delay, transient_errors=count, error_detail=detail[:500])

    async def _update_status(self, job: Job, **render: Any) -> None:
        if job.status_message_id is None:
            if JobState(job.state) is JobState.RECEIVED:
                return  # the handler is still sending the first status message
            # In a burst the runner can claim a job before the handler's first status message
            # (queued behind the flood limiter) is out; sending our own would leave two.
            fresh = await self.s.jobs.get(job.id)
            if fresh is not None and fresh.status_message_id is not None:
                job = dataclasses.replace(job, status_message_id=fresh.status_message_id)
            elif time.time() - job.created_at < STATUS_GRACE:
                return
        if job.chat_type != "private":
            # Groups share one coalesced board per burst (bot/progress/boards.py).
            if job.status_message_id is not None:
                self.s.boards.touch(job.chat_id, job.status_message_id, job.user_lang)
            return
        current = await self.s.jobs.get(job.id)
        if current is None or current.state != job.state:
            return  # cancelled (or moved on) meanwhile: never paint a stale state over it
        keyboard = None
        if JobState(job.state) in _CANCELLABLE:
            keyboard = cancel_keyboard(job, job.user_lang)
        text = render_status(job, lang=job.user_lang, **render)
        try:
            message_id = await self.status.show(job, text, keyboard=keyboard)
        except Forbidden:
            return
        except BadRequest as exc:
            if "chat not found" not in str(exc).lower():
                log.warning("status update failed: %s", exc)
            return  # a vanished chat is logged once, when the delivery finds it
        except TelegramError as exc:
            log.warning("status update failed: %s", exc)
            return
        if message_id is not None and message_id != job.status_message_id:
            await self.s.jobs.update(
                job.id, owner=None, now=time.time(), status_message_id=message_id
            )

    async def _fail(
        self,
        job: Job,
        dst: JobState,
        key: str,
        *,
        detail: str = "",
        user_text: str | None = None,
        refund: bool = True,
    ) -> None:
        """End the job without a song and tell the user exactly once."""
        moved = await self._move(job, dst, error_key=key, error_detail=detail[:1000])
        if moved is None:
            return
        log.info("job ended %s: %s %s", dst.value, key, detail)
        self.s.metrics.failures.labels(job.model, key).inc()
        if refund:
            await self.s.usage.refund(job.id)
        await self._notify_outcome(moved, user_text=user_text)

    async def _fail_with(self, job: Job, exc: SongbotError, *, detail: str) -> None:
        """End the job with the error's own user message; nothing was charged for it."""
        await self._fail(
            job,
            JobState.FAILED,
            exc.key,
            detail=detail,
            user_text=exc.user_message(job.user_lang),
            refund=False,
        )

    async def _notify_outcome(self, job: Job, *, user_text: str | None = None) -> None:
        lang = job.user_lang
        try:
            text = user_text or t(job.error_key or "error_generic", lang, **_error_params(job))
        except (KeyError, IndexError):
            # A repaired outcome whose message needed parameters we no longer have.
            text = t("error_generic", lang)
        if await self.s.stars.released_credit(job.id):  # the migration-004 trigger gave it back
            text += "\n\n" + t("stars_credit_returned", lang)
        message = render_status(job, lang=lang, error_text=text)
        try:
            await self.bot.send_message(
                chat_id=job.chat_id,
                text=message,
                reply_parameters=reply_to(job.request_message_id),
                **topic_kwargs(job.topic_id),
            )
        except (Forbidden, BadRequest) as exc:
            log.warning("cannot tell the user about the outcome (%s); giving up", exc)
        except TelegramError as exc:
            log.warning("outcome message failed, will retry at next start: %s", exc)
            return
        await self.s.jobs.update(job.id, owner=None, now=time.time(), outcome_sent_at=time.time())
        await self._drop_status_message(job)
        self.status.forget(job.id)
        self.s.temp.cleanup_job(job.key)

    async def _drop_status_message(self, job: Job) -> None:
        if job.status_message_id is None:
            return
        if job.chat_type != "private":
            # The group board is shared with other requests: refresh it instead of deleting it.
            self.s.boards.touch(job.chat_id, job.status_message_id, job.user_lang)
            return
        with contextlib.suppress(TelegramError):
            await self.bot.delete_message(chat_id=job.chat_id, message_id=job.status_message_id)

    async def _send_missing_outcomes(self) -> None:
        """Repair: failures recorded in the DB whose message never went out (crash in between)."""
        for job in await self.s.jobs.unnotified_failures(since=time.time() - 86400):
            token = current_job_key.set(job.key)
            try:
                await self._notify_outcome(job)
            finally:
                current_job_key.reset(token)

    # ------------------------------------------------------------------ steps
    async def _start(self, job: Job) -> Job | None:
        """RECEIVED: wait for a free slot (caps), then prepare the reference or submit."""
        now = time.time()
        if now > job.deadline_at:
            await self._fail(job, JobState.TIMED_OUT, "error_timeout", refund=False)
            return None
        moved: Job | None = None
        async with self._cap_lock:
            position = await self._queue_position(job)
            if position == 0:
                needs_reference = (
                    job.reference_file_id is not None
                    and not job.refer_voice_id
                    and not job.refer_instrumental_id
                )
                if needs_reference:
                    return await self._move(job, JobState.PREPARING)
                moved = await self._move(
                    job,
                    JobState.SUBMITTING,
                    submit_started_at=now,
                    submit_attempts=job.submit_attempts + 1,
                )
        if position > 0:
            # Outside the lock (an edit can wait seconds behind Telegram's flood limits, and no
            # job could start meanwhile), and throttled: in a long line every start moves
            # everyone's position. Far back in line, look again less often (bench_updates.py).
            if self.status.due(job, now):
                await self._update_status(job, position=position)
            per_slot = max(1, self.s.config.max_jobs_total)
            await self._release(
                job, min(WAITING_MAX, WAITING_RECHECK * (1 + (position - 1) // per_slot))
            )
            return None
        if moved is None:
            return None
        return await self._submit(moved)

    async def _queue_position(self, job: Job) -> int:
        """0 when the job may start now; else its place in line behind the caps."""
        cfg = self.s.config
        over = (
            await self.s.jobs.count_running(user_id=job.user_id) >= cfg.max_jobs_per_user
            or await self.s.jobs.count_running(chat_id=job.chat_id) >= cfg.max_jobs_per_chat
            or await self.s.jobs.count_running() >= cfg.max_jobs_total
        )
        if not over:
            return 0
        return await self.s.jobs.queue_position(job) + 1

    async def _prepare(self, job: Job) -> Job | None:
        """PREPARING: download the Telegram reference, convert it, upload it (cached)."""
        await self._update_status(job)
        try:
            prepared = await prepare_reference(self.s, self.bot, job)
        except UserInputError as exc:
            await self._fail_with(job, exc, detail=exc.detail)
            return None
        except (RateLimited, ProviderError) as exc:
            if getattr(exc, "retryable", False):
                await self._transient(
                    job,
                    f"reference upload: {exc!r}",
                    retry_after=getattr(exc, "retry_after", None),
                )
                return None
            await self._fail_with(job, exc, detail=exc.detail)
            return None
        except LocalFailure as exc:
            await self._fail(job, JobState.FAILED, exc.key, detail=exc.detail, refund=False)
            return None
        except TelegramError as exc:
            await self._transient(job, f"reference download: {exc!r}")
            return None
        now = time.time()
        moved = await self._move(
            job,
            JobState.SUBMITTING,
            refer_voice_id=prepared.voice_id,
            refer_instrumental_id=prepared.instrumental_id,
            submit_started_at=now,
            submit_attempts=job.submit_attempts + 1,
        )
        if moved is None:
            self.s.temp.cleanup_job(job.key)  # cancelled while we prepared: drop its files
            return None
        if prepared.inline is not None:
            # In memory only: the data URI goes to `_request`, never into the database.
            options = {**(moved.options or {}), INLINE_OPTION: prepared.inline}
            moved = dataclasses.replace(moved, options=options)
        return await self._submit(moved)

    def _request(self, job: Job) -> GenerationRequest:
        options = dict(job.options or {})
        inline = options.pop(INLINE_OPTION, None)
        return GenerationRequest(
            model=job.model,
            prompt=job.prompt,
            lyrics=job.lyrics,
            instrumental=job.lyrics is None,
            reference_url=job.reference_url,
            reference_base64=inline if isinstance(inline, str) else None,
            refer_voice=job.refer_voice_id,
            refer_instrumental=job.refer_instrumental_id,
            options=options,
        )

    async def _submit(self, job: Job) -> Job | None:
        """SUBMITTING (fresh): the one paid call. Never repeated once it may have reached them."""
        spec = MODELS[job.model]
        request = self._request(job)
        if spec.endpoint == Endpoint.SYNC_REFERENCE:
            # A synchronous call takes a minute; async submits answer at once and the status
            # changes right after them (one edit instead of two, in bursts that matters).
            await self._update_status(job)
        started = time.monotonic()
        try:
            if spec.endpoint == Endpoint.SYNC_REFERENCE:
                return await self._submit_sync(job, request)
            submission = await self.s.client.submit(request, client_request_id=job.key)
        except SubmitOutcomeUnknown as exc:
            self.s.metrics.provider_errors.labels("submit", "unknown_outcome").inc()
            if spec.endpoint == Endpoint.SYNC_REFERENCE:
                await self._fail(
                    job, JobState.INTERRUPTED, "error_interrupted", detail=repr(exc), refund=False
                )
                return None
            log.warning("submit outcome unknown; will reconcile through the request log")
            await self._release(job, min(10.0, self.s.config.reconcile_grace / 4 + 1))
            return None
        except SongbotError as exc:
            return await self._submit_failed(job, exc)
        finally:
            self.s.metrics.provider_latency.labels("submit").observe(time.monotonic() - started)
        now = time.time()
        await self.s.usage.record(
            job.id, job.user_id, job.chat_id, job.model, submission.credits_used or 0.0, now=now
        )
        self.s.metrics.submissions.labels(job.model).inc()
        estimate = await self.estimator.estimate(spec, job)
        moved = await self._move(
            job,
            JobState.PENDING,
            generation_id=submission.generation_id,
            submitted_at=now,
            credits_used=submission.credits_used,
            next_check_at=now + next_poll_delay(0.0, estimate, self.s.config.poll_interval),
            transient_errors=0,
        )
        if moved is None:
            return None
        log.info("submitted: generation %s", submission.generation_id)
        await self._update_status(moved, expected=estimate.mean if estimate.samples else None)
        await self._release(moved, (moved.next_check_at or time.time()) - time.time())
        return None

    async def _submit_sync(self, job: Job, request: GenerationRequest) -> Job | None:
        """music-01: one long synchronous call that returns the audio itself.

        Never retried here: if the process dies during the call, `_reconcile` ends the job
        `interrupted` (the audio of a lost synchronous answer cannot be fetched later).
        """
        try:
            audio = await self.s.client.generate_sync(request, client_request_id=job.key)
        except InvalidRequest:
            # Maybe a cached reference id the provider no longer knows: upload afresh next time.
            if job.reference_file_unique_id:
                await self.s.references.forget(
                    job.reference_file_unique_id, reference_purpose(job)
                )
            raise
        now = time.time()
        await self.s.usage.record(job.id, job.user_id, job.chat_id, job.model, 0.0, now=now)
        self.s.metrics.submissions.labels(job.model).inc()
        raw = self.s.temp.path_for(job.key, f".raw.{audio.format}")
        await asyncio.to_thread(raw.write_bytes, audio.data)
        return await self._move(
            job,
            JobState.FETCHING,
            submitted_at=job.submit_started_at or now,
            completed_at=now,
            result_path=str(raw),
            result_format=audio.format,
            transient_errors=0,
        )

    async def _submit_failed(self, job: Job, exc: SongbotError) -> Job | None:
        """The provider refused before charging (or we never reached it)."""
        kind = type(exc).__name__
        self.s.metrics.provider_errors.labels("submit", kind).inc()
        if getattr(exc, "retryable", False):
            # A 429/5xx *response* or a connection that never opened: nothing was created.
            moved = await self._move(job, JobState.RECEIVED)
            if moved is not None:
                await self._transient(
                    moved,
                    f"submit refused: {exc!r}",
                    retry_after=getattr(exc, "retry_after", None),
                )
            return None
        if isinstance(exc, InvalidApiKey | OutOfCredits):
            log.error(
                "OPERATOR: the AI/ML API %s — check AIMLAPI_KEY and the account balance",
                "key was rejected"
                if isinstance(exc, InvalidApiKey)
                else "account is out of credits",
            )
        await self._fail_with(job, exc, detail=exc.detail or repr(exc))
        return None

    async def _reconcile(self, job: Job) -> Job | None:
        """SUBMITTING found on claim: the paid POST's outcome is unknown. Ask the request log."""
        spec = MODELS[job.model]
        if spec.endpoint == Endpoint.SYNC_REFERENCE:
            # The audio of a synchronous call that we did not receive cannot be fetched later.
            await self._fail(job, JobState.INTERRUPTED, "error_interrupted", refund=False)
            return None
        try:
            entry = await self.s.client.find_generation(job.key)
        except ProviderError as exc:
            await self._transient(
                job, f"reconcile: {exc!r}", retry_after=getattr(exc, "retry_after", None)
            )
            return None
        now = time.time()
        if entry is not None and entry.inference_id:
            if entry.status == "failed":
                await self._fail(
                    job,
                    JobState.FAILED,
                    "error_generation_failed",
                    detail="request log: failed",
                    refund=False,
                )
                return None
            log.info("reconciled: the lost submit went through as %s", entry.inference_id)
            await self.s.usage.record(
                job.id, job.user_id, job.chat_id, job.model, entry.credits or 0.0, now=now
            )
            estimate = await self.estimator.estimate(spec, job)
            started = job.submit_started_at or now
            moved = await self._move(
                job,
                JobState.PENDING,
                generation_id=entry.inference_id,
                submitted_at=started,
                credits_used=entry.credits,
                next_check_at=now
                + min(
                    self.s.config.poll_interval,
                    next_poll_delay(now - started, estimate, self.s.config.poll_interval),
                ),
            )
            if moved is not None:
                await self._release(moved, 0.0)
            return None
        since = job.submit_started_at or job.updated_at
        if now - since < self.s.config.reconcile_grace:
            await self._release(job, min(10.0, max(1.0, self.s.config.reconcile_grace / 4)))
            return None
        await self._fail(
            job,
            JobState.INTERRUPTED,
            "error_interrupted",
            detail="no trace in request log",
            refund=False,
        )
        return None

    async def _poll(self, job: Job) -> Job | None:
        """PENDING: ask once; reschedule by the poll policy or move on to fetching."""
        now = time.time()
        if now > job.deadline_at:
            await self._fail(job, JobState.TIMED_OUT, "error_timeout")
            return None
        assert job.generation_id is not None
        started = time.monotonic()
        try:
            result = await self.s.client.poll(job.generation_id)
        except UnknownGeneration as exc:
            await self._fail(job, JobState.FAILED, exc.key, detail=repr(exc))
            return None
        except ProviderError as exc:
            self.s.metrics.provider_errors.labels("poll", type(exc).__name__).inc()
            await self._transient(
                job, f"poll: {exc!r}", retry_after=getattr(exc, "retry_after", None)
            )
            return None
        finally:
            self.s.metrics.provider_latency.labels("poll").observe(time.monotonic() - started)
        polls = job.poll_count + 1
        spec = MODELS[job.model]
        if result.is_failed:
            # The provider's words, bounded: the whole message must stay under Telegram's
            # 4096 characters, or the user would never hear about the failure.
            text = truncate_utf16(result.error_text, 1000) if result.error_text else None
            # Our own diagnosis reads in the user's language; the provider's words as they are.
            reason = t(result.error_key, job.user_lang) if result.error_key else text
            await self._fail(
                job,
                JobState.FAILED,
                "error_generation_failed",
                detail=text or "",
                user_text=t("error_generation_failed_reason", job.user_lang, reason=reason)
                if reason
                else None,
            )
            return None
        if result.is_done and result.audio_url:
            submitted = job.submitted_at or job.created_at
            self.s.metrics.generation_seconds.labels(job.model).observe(max(0.0, now - submitted))
            self.s.metrics.polls_per_job.labels(job.model).observe(polls)
            return await self._move(
                job,
                JobState.FETCHING,
                audio_url=result.audio_url,
                completed_at=now,
                poll_count=polls,
                result_duration=result.duration_seconds,
                credits_used=result.credits_used
                if result.credits_used is not None
                else job.credits_used,
                transient_errors=0,
            )
        estimate = await self.estimator.estimate(spec, job)
        elapsed = now - (job.submitted_at or job.created_at)
        delay = next_poll_delay(elapsed, estimate, self.s.config.poll_interval)
        if self.status.due(job, now):
            await self._update_status(job, expected=estimate.mean if estimate.samples else None)
        await self._release(job, delay, poll_count=polls, transient_errors=0)
        return None

    async def _fetch(self, job: Job) -> Job | None:
        """FETCHING: download now (links expire), convert to MP3 if needed."""
        # The "sending" edit can queue behind Telegram's flood limits; the download must not (the
        # link expires, and this lag is what the user waits for), so both run at once.
        status = asyncio.create_task(self._update_status(job))
        try:
            moved = await self._fetch_audio(job)
        finally:
            await status  # cancelled with us if we are cancelled
        if moved is not None:
            # The status edit may have replaced a deleted status message after `moved` was
            # read: carry the new message id on, or delivery would edit/delete the old one.
            moved = await self.s.jobs.get(moved.id)
        return moved

    async def _fetch_audio(self, job: Job) -> Job | None:
        try:
            if job.result_path and not job.audio_url:
                from pathlib import Path

                audio = await make_playable(
                    self.s.temp, job, Path(job.result_path), job.result_format
                )
            else:
                assert job.audio_url is not None
                audio = await fetch_audio(self.s.client, self.s.temp, job, job.audio_url)
        except ProviderError as exc:
            if getattr(exc, "retryable", False):
                await self._transient(job, f"download: {exc!r}")
                return None
            await self._fail_with(job, exc, detail=repr(exc))
            return None
        except LocalFailure as exc:
            await self._fail(
                job, JobState.FAILED, exc.key, detail=exc.detail or repr(exc), refund=False
            )
            return None
        except FileNotFoundError as exc:
            if job.audio_url:
                # The temp dir vanished under the download: fetch again into a fresh one.
                await self._transient(job, f"download: {exc!r}")
                return None
            await self._fail(
                job, JobState.FAILED, "error_internal", detail=repr(exc), refund=False
            )
            return None
        now = time.time()
        if job.completed_at:
            self.s.metrics.delivery_lag_seconds.labels(job.model).observe(
                max(0.0, now - job.completed_at)
            )
        return await self._move(
            job,
            JobState.DELIVERING,
            result_path=str(audio.path),
            result_bytes=audio.size,
            result_duration=audio.duration or job.result_duration,
            result_format=audio.format,
            fetched_at=now,
            transient_errors=0,
        )

    async def _deliver(self, job: Job) -> Job | None:
        """DELIVERING: upload to the chat; record the message; clean up."""
        from pathlib import Path

        path = Path(job.result_path or "")
        if not job.result_path or not await asyncio.to_thread(path.is_file):
            if job.audio_url:
                log.warning("result file is gone; fetching again")
                return await self._move(job, JobState.FETCHING, result_path=None)
            await self._fail(
                job, JobState.FAILED, "error_internal", detail="result file missing", refund=False
            )
            return None
        await self._update_status(job)
        audio = PreparedAudio(
            path=path,
            size=job.result_bytes or 0,
            duration=job.result_duration,
            format=job.result_format or "mp3",
        )
        try:
            if audio.size > TELEGRAM_UPLOAD_LIMIT and job.audio_url:
                message = await send_link(
                    self.bot, job, job.audio_url, audio.size, lang=job.user_lang
                )
                file_id = None
            else:
                message = await send_song(
                    self.bot, job, audio, lang=job.user_lang, temp=self.s.temp
                )
                file_id = message.audio.file_id if message.audio else None
        except RetryAfter as exc:
            await self._transient(
                job, "telegram flood control", retry_after=retry_after_seconds(exc)
            )
            return None
        except Forbidden as exc:
            log.warning("chat %s is undeliverable (%s); job ends", job.chat_id, exc)
            await self._undeliverable(job, exc)
            return None
        except BadRequest as exc:
            lowered = str(exc).lower()
            if "chat not found" in lowered:
                log.warning("chat %s not found; job ends", job.chat_id)
                await self._undeliverable(job, exc)
                return None
            if "thread not found" in lowered and job.topic_id is not None:
                log.warning("topic %s is gone; delivering to the chat itself", job.topic_id)
                await self._release(job, 0.0, topic_id=None)
                return None
            await self._transient(job, f"sendAudio rejected: {exc}")
            return None
        except TelegramError as exc:
            await self._transient(job, f"sendAudio: {exc!r}")
            return None
        now = time.time()
        moved = await self._move(
            job,
            JobState.DELIVERED,
            delivered_message_id=message.message_id,
            delivered_file_id=file_id,
            delivered_at=now,
            outcome_sent_at=now,
        )
        self.s.metrics.deliveries.labels(job.model).inc()
        log.info("delivered as message %s", message.message_id)
        await self._drop_status_message(job)
        self.status.forget(job.id)
        self.s.temp.cleanup_job(job.key)
        self.estimator.invalidate(job.model)
        del moved
        return None


_TERMINAL = frozenset(
    {
        JobState.DELIVERED,
        JobState.FAILED,
        JobState.TIMED_OUT,
        JobState.CANCELLED,
        JobState.INTERRUPTED,
    }
)
_CANCELLABLE = frozenset(
    {JobState.RECEIVED, JobState.PREPARING, JobState.SUBMITTING, JobState.PENDING}
)


def _error_params(job: Job) -> dict[str, Any]:
    """Parameters some failure messages need (limits, model)."""
    return {
        "model": job.model,
        "waited": wait_length(job.deadline_at - job.created_at, job.user_lang),
    }
