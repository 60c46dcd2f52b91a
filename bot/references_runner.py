"""Turning a Telegram voice note / audio / video into what the reference model accepts.

Runs in the background runner (state `preparing`), never on the update path. The Telegram file URL
contains the bot token, so it is only ever handed to PTB's own download and never logged or stored.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time

from telegram import Bot

from bot.aimlapi.models import MODELS, ReferenceKind
from bot.errors import ReferenceProblem
from bot.media import extract_audio, probe, to_mp3
from bot.services import Services
from storage.jobs import Job

log = logging.getLogger(__name__)

REFERENCE_CACHE_SECONDS = 7 * 24 * 3600  # provider ids are reused for a week, then re-uploaded
DEFAULT_PURPOSE = {"voice": "voice", "video_note": "voice"}


def reference_purpose(job: Job) -> str:
    """The user's `voice:`/`instrumental:`/`song:` word, else a guess from the kind of media."""
    if job.reference_purpose:
        return job.reference_purpose
    return DEFAULT_PURPOSE.get(job.reference_kind or "", "song")


async def prepare_reference(
    services: Services, bot: Bot, job: Job
) -> tuple[str | None, str | None, str | None]:
    """Return (voice_id, instrumental_id, reference_url_or_data_uri) for the job's model."""
    spec = MODELS[job.model]
    purpose = reference_purpose(job)
    assert job.reference_file_id is not None and job.reference_file_unique_id is not None
    if spec.reference == ReferenceKind.UPLOAD:
        cached = await services.references.get(
            job.reference_file_unique_id, purpose, now=time.time(), max_age=REFERENCE_CACHE_SECONDS
        )
        if cached is not None and (cached.voice_id or cached.instrumental_id):
            log.info("reference cache hit (%s)", purpose)
            return cached.voice_id, cached.instrumental_id, None

    source = services.temp.path_for(job.key, ".ref.src")
    telegram_file = await bot.get_file(job.reference_file_id)
    await telegram_file.download_to_drive(source)
    mp3 = services.temp.path_for(job.key, ".ref.mp3")
    if job.reference_kind in ("video", "video_note"):
        await extract_audio(source, mp3)
    else:
        await to_mp3(source, mp3)
    await asyncio.to_thread(source.unlink, True)
    info = await probe(mp3)
    duration = info.duration or 0.0
    low, high = spec.reference_min_seconds, spec.reference_max_seconds
    if low is not None and duration <= low:
        raise ReferenceProblem(
            "error_reference_too_short",
            kind=job.reference_kind or "audio",
            seconds=int(duration),
            minimum=int(low),
        )
    if high is not None and duration > high:
        raise ReferenceProblem(
            "error_reference_too_long",
            kind=job.reference_kind or "audio",
            seconds=int(duration),
            maximum=int(high),
        )

    if spec.reference == ReferenceKind.UPLOAD:
        uploaded = await services.client.upload_reference(mp3, purpose=purpose)
        await services.references.put(
            job.reference_file_unique_id,
            purpose,
            uploaded.voice_id,
            uploaded.instrumental_id,
            now=time.time(),
        )
        return uploaded.voice_id, uploaded.instrumental_id, None
    data = await asyncio.to_thread(mp3.read_bytes)
    if spec.reference_max_bytes is not None and len(data) > spec.reference_max_bytes:
        raise ReferenceProblem(
            "error_reference_too_big",
            size_mb=round(len(data) / 1_048_576, 1),
            limit_mb=round(spec.reference_max_bytes / 1_048_576),
        )
    encoded = base64.b64encode(data).decode("ascii")
    return None, None, f"data:audio/mpeg;base64,{encoded}"
