"""Preparing a job's reference and the one paid call that starts its generation.

The promise kept here: a job is in `submitting` *before* the paid POST goes out, with the
`X-Client-Request-Id` of this attempt, so whatever happens to the process or the connection the
provider's request log can later tell whether it created a generation (bot/engine/reconcile.py).
A refusal that certainly created nothing (a 429/503 answer, a connection that never opened) puts
the job back in line; nothing else is ever sent twice from here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from telegram.error import TelegramError

from bot.aimlapi.errors import (
    InvalidApiKey,
    InvalidRequest,
    ModelUnavailable,
    OutOfCredits,
    ProviderError,
    RateLimited,
    SubmitOutcomeUnknown,
)
from bot.aimlapi.models import MODELS, Endpoint
from bot.aimlapi.types import GenerationRequest
from bot.engine.holds import settle_after_lost_answer
from bot.engine.poll_policy import Estimate, next_poll_delay
from bot.engine.prepare_reference import (
    INLINE_OPTION,
    PreparedReference,
    prepare_reference,
    reference_purpose,
)
from bot.engine.reroute import follow_retirement, switch_to_fallback
from bot.engine.work import Work
from bot.errors import LocalFailure, SongbotError, UserInputError
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)


def first_state(job: Job) -> JobState:
    """Where a job goes when it takes its slot: fetch its reference first, or submit at once."""
    needs_reference = (
        job.reference_file_id is not None
        and not job.refer_voice_id
        and not job.refer_instrumental_id
    )
    return JobState.PREPARING if needs_reference else JobState.SUBMITTING


async def prepare(w: Work, job: Job) -> Job | None:
    """PREPARING: download the Telegram reference, convert it, upload it (cached)."""
    followed = await follow_retirement(w, job)
    if followed is None:
        return None
    job = followed
    await w.status.show(job)
    try:
        prepared = await _prepare_reference(w, job)
    except UserInputError as exc:
        await w.outcomes.fail_with(job, exc, detail=exc.detail)
        return None
    except ModelUnavailable as exc:  # music-01 retired: the same job, on its fallback
        again = await switch_to_fallback(w, job, exc)
        return None if again is None else await prepare(w, again)
    except (RateLimited, ProviderError) as exc:
        if getattr(exc, "retryable", False):
            await w.outcomes.transient(
                job, f"reference upload: {exc!r}", retry_after=getattr(exc, "retry_after", None)
            )
            return None
        await w.outcomes.fail_with(job, exc, detail=exc.detail)
        return None
    except LocalFailure as exc:
        await w.outcomes.fail(job, JobState.FAILED, exc.key, detail=exc.detail, refund=False)
        return None
    except TelegramError as exc:
        await w.outcomes.transient(job, f"reference download: {exc!r}")
        return None
    moved = await w.outcomes.move(
        job,
        JobState.SUBMITTING,
        refer_voice_id=prepared.voice_id,
        refer_instrumental_id=prepared.instrumental_id,
        submit_started_at=time.time(),
        submit_attempts=job.submit_attempts + 1,
    )
    if moved is None:
        w.s.temp.cleanup_job(job.key)  # cancelled while we prepared: drop its files
        return None
    if prepared.inline is not None:
        # In memory only: the data URI goes to `_request`, never into the database.
        options = {**(moved.options or {}), INLINE_OPTION: prepared.inline}
        moved = dataclasses.replace(moved, options=options)
    return await submit(w, moved)


async def _prepare_reference(w: Work, job: Job) -> PreparedReference:
    """The reference work itself, marked in `w.preparing` while it runs: the only stretch a
    cancel or a shutdown may cut short at once (nothing paid is under way; ffmpeg is killed)."""
    w.preparing.add(job.id)
    try:
        return await prepare_reference(w.s, w.bot, job)
    finally:
        w.preparing.discard(job.id)


def generation_request(job: Job) -> GenerationRequest:
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


async def submit(w: Work, job: Job) -> Job | None:
    """SUBMITTING (fresh): the one paid call of this attempt."""
    spec = MODELS[job.model]
    request = generation_request(job)
    if spec.endpoint == Endpoint.SYNC_REFERENCE:
        # A synchronous call takes a minute; async submits answer at once and the status
        # changes right after them (one edit instead of two, in bursts that matters).
        await w.status.show(job)
    started = time.monotonic()
    try:
        if spec.endpoint == Endpoint.SYNC_REFERENCE:
            return await _submit_sync(w, job, request)
        submission = await w.s.client.submit(
            request, client_request_id=job.client_request_id, still_wanted=_submitting(w, job)
        )
    except SubmitOutcomeUnknown as exc:
        w.s.metrics.provider_errors.labels("submit", "unknown_outcome").inc()
        if spec.endpoint == Endpoint.SYNC_REFERENCE:
            await w.outcomes.fail(
                job, JobState.INTERRUPTED, "error_interrupted", detail=repr(exc), refund=False
            )
            return None
        log.warning("submit outcome unknown; will reconcile through the request log")
        # Look at once: the request log usually has the row already (bot/engine/reconcile.py
        # waits and looks again when it does not).
        await w.outcomes.release(job, 1.0)
        fresh = await w.s.jobs.get(job.id)
        if fresh is not None and fresh.state == JobState.CANCELLED.value:
            # Cancelled during this POST (#24.7): the runner never takes it up again, so the
            # request log is asked here whether its credit was spent.
            await settle_after_lost_answer(w, fresh)
        return None
    except SongbotError as exc:
        return await _submit_failed(w, job, exc)
    finally:
        w.s.metrics.provider_latency.labels("submit").observe(time.monotonic() - started)
    w.s.metrics.submissions.labels(job.model).inc()
    now = time.time()
    moved, estimate = await begin_polling(
        w,
        job,
        generation_id=submission.generation_id,
        credits=submission.credits_used,
        submitted_at=now,
        now=now,
    )
    if moved is None:
        return None
    log.info("submitted: generation %s", submission.generation_id)
    await w.status.show(moved, expected=estimate.mean if estimate.samples else None)
    await w.outcomes.release(moved, (moved.next_check_at or time.time()) - time.time())
    return None


def _submitting(w: Work, job: Job) -> Callable[[], Awaitable[bool]]:
    """Whether the job is still being submitted, asked before a refused POST is sent again: a
    song cancelled meanwhile (#24.7) must not be made and charged by the retry."""

    async def still() -> bool:
        fresh = await w.s.jobs.get(job.id)
        return fresh is not None and fresh.state == JobState.SUBMITTING.value

    return still


async def begin_polling(
    w: Work,
    job: Job,
    *,
    generation_id: str,
    credits: float | None,
    submitted_at: float,
    now: float,
) -> tuple[Job | None, Estimate]:
    """A paid POST created `generation_id` (answered, or found in the request log): record the
    charge and move the job to `pending` with its first check from the poll policy, counted
    from `submitted_at` (for a lost answer: when the generation began, so a restart does not
    start the schedule over)."""
    await w.s.usage.record(job.id, job.user_id, job.chat_id, job.model, credits or 0.0, now=now)
    estimate = await w.estimator.estimate(MODELS[job.model], job)
    base = w.s.config.poll_interval
    delay = next_poll_delay(now - submitted_at, estimate, base)
    moved = await w.outcomes.move(
        job,
        JobState.PENDING,
        generation_id=generation_id,
        submitted_at=submitted_at,
        credits_used=credits,
        next_check_at=now + delay,
        transient_errors=0,
    )
    return moved, estimate


async def _submit_sync(w: Work, job: Job, request: GenerationRequest) -> Job | None:
    """music-01: one long synchronous call that returns the audio itself.

    Never retried here: if the process dies during the call, reconciliation ends the job
    `interrupted` (the audio of a lost synchronous answer cannot be fetched later).
    """
    try:
        audio = await w.s.client.generate_sync(
            request, client_request_id=job.client_request_id, still_wanted=_submitting(w, job)
        )
    except ModelUnavailable as exc:  # refused, so nothing was created or charged
        again = await switch_to_fallback(w, job, exc)
        return None if again is None else await prepare(w, again)
    except InvalidRequest:
        # Maybe a cached reference id the provider no longer knows: upload afresh next time.
        if job.reference_file_unique_id:
            await w.s.references.forget(job.reference_file_unique_id, reference_purpose(job))
        raise
    now = time.time()
    await w.s.usage.record(job.id, job.user_id, job.chat_id, job.model, 0.0, now=now)
    w.s.metrics.submissions.labels(job.model).inc()
    raw = w.s.temp.path_for(job.key, f".raw.{audio.format}")
    await asyncio.to_thread(raw.write_bytes, audio.data)
    return await w.outcomes.move(
        job,
        JobState.FETCHING,
        submitted_at=job.submit_started_at or now,
        completed_at=now,
        result_path=str(raw),
        result_format=audio.format,
        transient_errors=0,
    )


async def _submit_failed(w: Work, job: Job, exc: SongbotError) -> Job | None:
    """The provider refused before charging (or we never reached it)."""
    w.s.metrics.provider_errors.labels("submit", type(exc).__name__).inc()
    try:
        if getattr(exc, "retryable", False):
            # A 429/5xx *response* or a connection that never opened: nothing was created.
            moved = await w.outcomes.move(job, JobState.RECEIVED)
            if moved is not None:
                await w.outcomes.transient(
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
        await w.outcomes.fail_with(job, exc, detail=exc.detail or repr(exc))
        return None
    finally:
        # Cancelled while this refused POST was in flight (#24.7): the cancel could not know
        # whether the provider would charge, so the credit stayed held; now we know it did not.
        if await w.s.stars.release_uncharged(job.id, time.time()):
            log.info("the job ended while its submit was refused: its credit is released")
