"""Getting the finished song to the chat: download it now, make it playable, upload it.

Why download at once: the provider's links expire, and the minutes between completion and upload
are what the user waits for. Delivery is the step that must never happen twice; the CAS move to
`delivered` records the message, and a crash before it re-sends at most the same song once, which
`delivered_message_id` then prevents for good.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.aimlapi.errors import ProviderError
from bot.delivery.keep import keep_song
from bot.delivery.send import fetch_audio, make_playable, prepared, upload
from bot.engine.work import Work
from bot.errors import LocalFailure
from bot.telegram.flood import retry_after_seconds
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)


async def fetch(w: Work, job: Job) -> Job | None:
    """FETCHING: download now (links expire), convert to MP3 if needed."""
    # The "sending" edit can queue behind Telegram's flood limits; the download must not (the
    # link expires, and this lag is what the user waits for), so both run at once.
    status = asyncio.create_task(w.status.show(job))
    try:
        moved = await _fetch_audio(w, job)
    finally:
        await status  # cancelled with us if we are cancelled
    if moved is not None:
        # The status edit may have replaced a deleted status message after `moved` was
        # read: carry the new message id on, or delivery would edit/delete the old one.
        moved = await w.s.jobs.get(moved.id)
    return moved


async def _fetch_audio(w: Work, job: Job) -> Job | None:
    try:
        if job.result_path and not job.audio_url:
            audio = await make_playable(w.s.temp, job, Path(job.result_path), job.result_format)
        else:
            assert job.audio_url is not None
            audio = await fetch_audio(w.s.client, w.s.temp, job, job.audio_url)
    except ProviderError as exc:
        if getattr(exc, "retryable", False):
            await w.outcomes.transient(job, f"download: {exc!r}")
            return None
        await w.outcomes.fail_with(job, exc, detail=repr(exc))
        return None
    except LocalFailure as exc:
        await w.outcomes.fail(
            job, JobState.FAILED, exc.key, detail=exc.detail or repr(exc), refund=False
        )
        return None
    except FileNotFoundError as exc:
        if job.audio_url:
            # The temp dir vanished under the download: fetch again into a fresh one.
            await w.outcomes.transient(job, f"download: {exc!r}")
            return None
        await w.outcomes.fail(
            job, JobState.FAILED, "error_internal", detail=repr(exc), refund=False
        )
        return None
    now = time.time()
    if job.completed_at:
        w.s.metrics.delivery_lag_seconds.labels(job.model).observe(
            max(0.0, now - job.completed_at)
        )
    return await w.outcomes.move(
        job,
        JobState.DELIVERING,
        result_path=str(audio.path),
        result_bytes=audio.size,
        result_duration=audio.duration or job.result_duration,
        result_format=audio.format,
        fetched_at=now,
        transient_errors=0,
    )


async def deliver(w: Work, job: Job) -> Job | None:
    """DELIVERING: upload to the chat; record the message; clean up."""
    path = Path(job.result_path or "")
    if not job.result_path or not await asyncio.to_thread(path.is_file):
        if job.audio_url:
            log.warning("result file is gone; fetching again")
            return await w.outcomes.move(job, JobState.FETCHING, result_path=None)
        await w.outcomes.fail(
            job, JobState.FAILED, "error_internal", detail="result file missing", refund=False
        )
        return None
    await w.status.show(job)
    try:
        message, file_id = await upload(
            w.bot,
            job,
            prepared(job),
            lang=job.user_lang,
            temp=w.s.temp,
            public_url=w.s.config.public_url,
        )
    except RetryAfter as exc:
        await w.outcomes.transient(
            job, "telegram flood control", retry_after=retry_after_seconds(exc)
        )
        return None
    except Forbidden as exc:
        log.warning("chat %s is undeliverable (%s); job ends", job.chat_id, exc)
        await w.outcomes.undeliverable(job, exc)
        return None
    except BadRequest as exc:
        lowered = str(exc).lower()
        if "chat not found" in lowered:
            log.warning("chat %s not found; job ends", job.chat_id)
            await w.outcomes.undeliverable(job, exc)
            return None
        if "thread not found" in lowered and job.topic_id is not None:
            log.warning("topic %s is gone; delivering to the chat itself", job.topic_id)
            await w.outcomes.release(job, 0.0, topic_id=None)
            return None
        await w.outcomes.transient(job, f"sendAudio rejected: {exc}")
        return None
    except TelegramError as exc:
        await w.outcomes.transient(job, f"sendAudio: {exc!r}")
        return None
    now = time.time()
    # Into the library before the job says "delivered": whoever sees the job delivered (📚 under
    # the song, /songs) finds the song kept. A crash in between re-sends at most once, and the
    # library keeps the first copy (one row per job).
    await keep_song(w.s.songs, job, message, file_id)
    await w.outcomes.move(
        job,
        JobState.DELIVERED,
        delivered_message_id=message.message_id,
        delivered_file_id=file_id,
        delivered_at=now,
        outcome_sent_at=now,
    )
    w.s.metrics.deliveries.labels(job.model).inc()
    log.info("delivered as message %s", message.message_id)
    await w.outcomes.drop_status_message(job)
    w.s.temp.cleanup_job(job.key)
    w.estimator.invalidate(job.model)
    return None
