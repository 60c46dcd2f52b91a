"""Asking the provider about a pending generation, and learning from every answer.

Every completion refreshes the estimate the next polls are planned with (bot/engine/estimates.py).
Only a completion earlier than the window planned for it says something about the other jobs of
its model: those that have run at least as long may be done too, yet sleep towards a later check,
so they are looked at now. Any other completion wakes nobody: waking every job "submitted long
enough ago" on every completion spent waves of checks on jobs still running, and made the bot
1.59x worse than a fixed loop at equal cost on a cold start (issue #28). The schedule itself is
bot/engine/poll_policy.py.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Final

from bot.aimlapi.errors import ProviderError, UnknownGeneration
from bot.aimlapi.models import MODELS
from bot.aimlapi.types import GenerationStatus
from bot.engine.poll_policy import earlier_than_expected, fit_estimate, next_poll_delay
from bot.engine.work import Work
from bot.i18n import t
from bot.textutil import truncate_utf16
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)

# A failure the provider words as its content rules ("violates our policy", "flagged by
# moderation", MiniMax's "sensitive"): told as such, in the user's language.
_CONTENT_RULES: Final = re.compile(r"moderat|polic|sensitive|inappropriate|unsafe", re.I)

PULL_IN_SECONDS = 0.2  # the soonest a re-planned job is looked at


async def poll(w: Work, job: Job) -> Job | None:
    """PENDING: ask once; reschedule by the poll policy or move on to fetching.

    Past the job's deadline it still asks once more: a song that finished since the last look
    was made and paid for, and is delivered rather than reported as taking too long.
    """
    now = time.time()
    overdue = now > job.deadline_at
    assert job.generation_id is not None
    started = time.monotonic()
    try:
        result = await w.s.client.poll(job.generation_id)
    except UnknownGeneration as exc:
        await w.outcomes.fail(job, JobState.FAILED, exc.key, detail=repr(exc))
        return None
    except ProviderError as exc:
        w.s.metrics.provider_errors.labels("poll", type(exc).__name__).inc()
        if overdue:
            await w.outcomes.fail(job, JobState.TIMED_OUT, "error_timeout", detail=repr(exc))
            return None
        await w.outcomes.transient(
            job, f"poll: {exc!r}", retry_after=getattr(exc, "retry_after", None)
        )
        return None
    finally:
        w.s.metrics.provider_latency.labels("poll").observe(time.monotonic() - started)
    polls = job.poll_count + 1
    spec = MODELS[job.model]
    submitted = job.submitted_at or job.created_at
    if result.is_failed:
        # The provider's words, bounded: the whole message must stay under Telegram's
        # 4096 characters, or the user would never hear about the failure.
        text = truncate_utf16(result.error_text, 1000) if result.error_text else None
        # Our own diagnosis reads in the user's language; the provider's words ("Generation
        # failed", "Lyrics flagged by moderation") are English: they go to the log, and the
        # user reads the catalogue's reason for them (issue #25 item 11).
        key = "error_generation_failed"
        user_text = None
        if result.error_key:
            reason = t(result.error_key, job.user_lang)
            user_text = t("error_generation_failed_reason", job.user_lang, reason=reason)
        elif text and _CONTENT_RULES.search(text):
            key = "error_content_rejected"
        await w.outcomes.fail(job, JobState.FAILED, key, detail=text or "", user_text=user_text)
        return None
    if result.is_done and result.audio_url:
        # It finished between the last "still generating" answer (the job's `updated_at`, set
        # when that poll released it) and now: the middle is the unbiased guess. Taking `now`
        # would teach the estimate our own polling pace, and it could never learn that songs
        # come faster than we look.
        last_pending = job.updated_at if job.poll_count else submitted
        finished = (min(now, max(submitted, last_pending)) + now) / 2
        took = max(0.0, finished - submitted)
        w.s.metrics.generation_seconds.labels(job.model).observe(took)
        w.s.metrics.polls_per_job.labels(job.model).observe(polls)
        planned = await w.estimator.estimate(spec, job)  # before this completion is stored
        moved = await w.outcomes.move(
            job,
            JobState.FETCHING,
            audio_url=result.audio_url,
            completed_at=finished,
            poll_count=polls,
            result_duration=result.duration_seconds,
            credits_used=result.credits_used
            if result.credits_used is not None
            else job.credits_used,
            transient_errors=0,
        )
        if moved is not None:
            await _learn_from_completion(
                w, job.model, took, now, wake=earlier_than_expected(took, planned)
            )
        return moved
    if overdue:
        await w.outcomes.fail(job, JobState.TIMED_OUT, "error_timeout")
        return None
    estimate = await w.estimator.estimate(spec, job)
    base = w.s.config.poll_interval
    # Queued: not started yet, so not overdue either: never backed off (poll_policy.py).
    queued = result.status is GenerationStatus.QUEUED
    delay = next_poll_delay(now - submitted, estimate, base, queued=queued)
    if w.status.due(job, now):
        await w.status.show(job, expected=estimate.mean if estimate.samples else None)
    await w.outcomes.release(job, delay, poll_count=polls, transient_errors=0)
    return None


async def _learn_from_completion(
    w: Work, model: str, took: float, now: float, *, wake: bool
) -> None:
    """A generation of `model` took `took` seconds: learn it; if it came earlier than planned,
    re-plan the jobs that sleep beyond the next `base` seconds with what was just learnt."""
    w.estimator.invalidate(model)
    if not wake:
        return
    base = w.s.config.poll_interval
    spec = MODELS[model]
    history = await w.estimator.history(model)
    moved = 0
    for job_id, submitted, last, length, planned in await w.s.jobs.sleeping_checks(
        model, later_than=now + base
    ):
        estimate = fit_estimate(history, length, spec.typical_seconds)
        checked = max(submitted, min(last, now))
        at = max(
            now + PULL_IN_SECONDS, checked + next_poll_delay(checked - submitted, estimate, base)
        )
        if at < planned and await w.s.jobs.bring_forward(job_id, at=at):
            moved += 1
    if moved:
        log.info(
            "a %s generation took %.0fs: %d waiting checks brought forward", model, took, moved
        )
        # The runner may be asleep towards a later check; it re-reads the schedule only when
        # woken, and this worker goes on to fetch and deliver its own song first (seconds).
        w.s.engine.woken.set()
