"""Asking the provider about a pending generation, and learning from every answer.

Each answer teaches something about all jobs of the same model, not just this one: a completion
after `g` seconds means every job running at least about as long may be done too, so those that
sleep towards a later check are looked at now; and the estimate the next polls are planned with
is refreshed at once (bot/engine/estimates.py). The schedule itself is bot/engine/poll_policy.py.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Final

from bot.aimlapi.errors import ProviderError, UnknownGeneration
from bot.aimlapi.models import MODELS
from bot.aimlapi.types import GenerationStatus
from bot.engine.poll_policy import next_poll_delay
from bot.engine.work import Work
from bot.i18n import t
from bot.textutil import truncate_utf16
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)

# A failure the provider words as its content rules ("violates our policy", "flagged by
# moderation", MiniMax's "sensitive"): told as such, in the user's language.
_CONTENT_RULES: Final = re.compile(r"moderat|polic|sensitive|inappropriate|unsafe", re.I)

PULL_IN_SECONDS = 0.2  # how soon the jobs a completion makes likely-done are looked at


async def poll(w: Work, job: Job) -> Job | None:
    """PENDING: ask once; reschedule by the poll policy or move on to fetching."""
    now = time.time()
    if now > job.deadline_at:
        await w.outcomes.fail(job, JobState.TIMED_OUT, "error_timeout")
        return None
    assert job.generation_id is not None
    started = time.monotonic()
    try:
        result = await w.s.client.poll(job.generation_id)
    except UnknownGeneration as exc:
        await w.outcomes.fail(job, JobState.FAILED, exc.key, detail=repr(exc))
        return None
    except ProviderError as exc:
        w.s.metrics.provider_errors.labels("poll", type(exc).__name__).inc()
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
            await _learn_from_completion(w, job.model, took, now)
        return moved
    estimate = await w.estimator.estimate(spec, job)
    base = w.s.config.poll_interval
    delay = next_poll_delay(now - submitted, estimate, base)
    if result.status is GenerationStatus.QUEUED:
        # Not started yet: the estimate (seconds of generating) has not begun to run, so
        # neither sleep towards its window nor back off; keep looking at the base pace.
        delay = min(delay, base)
    if w.status.due(job, now):
        await w.status.show(job, expected=estimate.mean if estimate.samples else None)
    await w.outcomes.release(job, delay, poll_count=polls, transient_errors=0)
    return None


async def _learn_from_completion(w: Work, model: str, took: float, now: float) -> None:
    """A generation of `model` took `took` seconds: re-plan everyone at once."""
    w.estimator.invalidate(model)
    base = w.s.config.poll_interval
    pulled = await w.s.jobs.pull_in_checks(
        model,
        submitted_by=now - took + base,
        later_than=now + base,
        at=now + PULL_IN_SECONDS,
    )
    if pulled:
        log.info(
            "a %s generation took %.0fs: %d waiting checks brought forward", model, took, pulled
        )
