"""Turning a Telegram voice note / audio / video into what the reference model accepts.

Runs in the background runner (state `preparing`), never on the update path:
getFile through PTB, then the body streamed straight to a file (bot/telegram/file_stream.py: the
file URL contains the bot token, so it is only used for that GET and never logged, stored or sent
anywhere else; nothing of the file is held in memory, issue #28) → ffmpeg to MP3 (an async
subprocess with a timeout) → measure the real duration → either upload it to music-01 (ids
cached by Telegram's `file_unique_id` + purpose, so the same voice note is uploaded once) or
inline it as a base64 data URI for music-cover. Temporary files live in the job's folder of
`services.temp` and are deleted as soon as they are used.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from telegram import Bot
from telegram.error import BadRequest

from bot.aimlapi.client import UPLOAD_PURPOSES
from bot.aimlapi.models import MODELS, ReferenceKind
from bot.delivery.media import MediaError, probe, to_mp3
from bot.errors import LocalFailure, ReferenceProblem
from bot.reference_kinds import ReferenceRefused
from bot.services import Services
from bot.telegram.file_stream import FileRefused, FileTooBig, stream_telegram_file
from bot.telegram.limits import MB, TELEGRAM_DOWNLOAD_LIMIT
from storage.jobs import Job

log = logging.getLogger(__name__)

# Provider ids are reused for a week, then uploaded again (their lifetime is undocumented; a
# generate that rejects a cached id also drops it, see `JobRunner._submit_sync`).
REFERENCE_CACHE_SECONDS: Final = 7 * 24 * 3600
DEFAULT_PURPOSE: Final = {"voice": "voice", "video_note": "voice"}
DOWNLOAD_TIMEOUT: Final = 120.0  # seconds to read up to 20 MB from the Bot API
CONVERT_TIMEOUT: Final = 180.0  # ffmpeg on up to 10 minutes of audio
MAX_REFERENCE_SECONDS: Final = 600.0  # conversion cap for a model that states no maximum
REFERENCE_BITRATE: Final = "192k"
# Job option that carries an inline reference from `_prepare` to `_request`, in memory only
# (a data URI can be megabytes: it is never written to the database).
INLINE_OPTION: Final = "_reference_base64"


# ffmpeg conversions of references at once, per bot: each costs ~15 MB (proportional, ~30 MB
# resident) on top of the bot, by far the largest share of a reference in flight (issue #28:
# six at once took the bot and its children from 70 MB to ~280 MB resident). Downloads, checks
# and uploads stay concurrent; only the conversion waits its turn (a second or two each).
MAX_CONVERSIONS: Final = 2
_slots: dict[int, asyncio.Semaphore] = {}  # by id(services); dropped with the services


def conversion_slot(services: Services) -> asyncio.Semaphore:
    """The bot's shared limit on reference conversions running at once (one per `Services`,
    so each bot, and each test's bot on its own event loop, has its own)."""
    key = id(services)
    slot = _slots.get(key)
    if slot is None:
        slot = _slots[key] = asyncio.Semaphore(MAX_CONVERSIONS)
        weakref.finalize(services, _slots.pop, key, None)
    return slot


@dataclass(frozen=True, slots=True)
class PreparedReference:
    """What the submit needs: music-01's ids, or the audio inline as a data URI."""

    voice_id: str | None = None
    instrumental_id: str | None = None
    inline: str | None = None
    cached: bool = False


def reference_purpose(job: Job) -> str:
    """The purpose chosen at intake (the user's word or a guess), else one from the media kind."""
    if job.reference_purpose in UPLOAD_PURPOSES:
        return job.reference_purpose
    return DEFAULT_PURPOSE.get(job.reference_kind or "", "song")


async def prepare_reference(services: Services, bot: Bot, job: Job) -> PreparedReference:
    """Download, convert, check and hand over the job's Telegram reference (see module doc)."""
    spec = MODELS[job.model]
    if job.reference_file_id is None or job.reference_file_unique_id is None:
        raise LocalFailure("error_internal", detail="job has no Telegram reference")
    if spec.reference not in (ReferenceKind.UPLOAD, ReferenceKind.URL_OR_BASE64):
        raise ReferenceProblem("error_model_reference_link_only", model=spec.id)
    purpose = reference_purpose(job)
    if spec.reference == ReferenceKind.UPLOAD:
        cached = await services.references.get(
            job.reference_file_unique_id, purpose, now=time.time(), max_age=REFERENCE_CACHE_SECONDS
        )
        if cached is not None and (cached.voice_id or cached.instrumental_id):
            log.info("reference cache hit (purpose %s): no download, no upload", purpose)
            return PreparedReference(cached.voice_id, cached.instrumental_id, cached=True)

    mp3 = await reference_audio(services, bot, job)
    try:
        if spec.reference == ReferenceKind.UPLOAD:
            uploaded = await services.client.upload_reference(mp3, purpose=purpose)
            await services.references.put(
                job.reference_file_unique_id,
                purpose,
                uploaded.voice_id,
                uploaded.instrumental_id,
                now=time.time(),
            )
            log.info(
                "reference uploaded (purpose %s): voice=%s instrumental=%s",
                purpose,
                bool(uploaded.voice_id),
                bool(uploaded.instrumental_id),
            )
            return PreparedReference(uploaded.voice_id, uploaded.instrumental_id)
        size = (await asyncio.to_thread(mp3.stat)).st_size
        if spec.reference_max_bytes is not None and size > spec.reference_max_bytes:
            raise ReferenceRefused(
                "error_reference_too_big",
                kind=job.reference_kind or "audio",
                size_mb=round(size / MB, 1),
                limit_mb=round(spec.reference_max_bytes / MB),
            )
        return PreparedReference(inline=await asyncio.to_thread(_data_uri, mp3))
    finally:
        await _remove(mp3)


async def reference_audio(services: Services, bot: Bot, job: Job) -> Path:
    """The job's reference as an MP3 in its temp folder, duration checked against the model.

    Raises `ReferenceProblem` (with the reply) for what the user can fix, `MediaError` when
    ffmpeg cannot read it, `TelegramError` (retried by the runner) when the download fails.
    """
    assert job.reference_file_id is not None
    spec = MODELS[job.model]
    kind = job.reference_kind or "audio"
    source = services.temp.path_for(job.key, ".ref.src")
    mp3 = services.temp.path_for(job.key, ".ref.mp3")
    try:
        try:
            telegram_file = await bot.get_file(job.reference_file_id)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                raise ReferenceRefused(
                    "error_reference_too_big",
                    kind=kind,
                    size_mb=round((job.reference_size or TELEGRAM_DOWNLOAD_LIMIT) / MB, 1),
                    limit_mb=TELEGRAM_DOWNLOAD_LIMIT // MB,
                ) from None
            raise ReferenceRefused(
                "error_reference_unavailable", kind=kind, detail=f"getFile: {exc}"
            ) from None
        size = telegram_file.file_size
        if size is not None and size > TELEGRAM_DOWNLOAD_LIMIT:
            raise ReferenceRefused(
                "error_reference_too_big",
                kind=kind,
                size_mb=round(size / MB, 1),
                limit_mb=TELEGRAM_DOWNLOAD_LIMIT // MB,
            )
        # Streamed to disk, never in memory. One deadline for the whole file (#17.8): a
        # per-read timeout alone lets a server that drips a byte at a time hold the job for ever.
        deadline = min(DOWNLOAD_TIMEOUT, services.config.job_timeout)
        try:
            async with asyncio.timeout(deadline):
                downloaded = await stream_telegram_file(
                    telegram_file,
                    source,
                    max_bytes=TELEGRAM_DOWNLOAD_LIMIT,
                    read_timeout=DOWNLOAD_TIMEOUT,
                )
        except TimeoutError:
            raise ReferenceRefused(
                "error_reference_unavailable",
                kind=kind,
                detail=f"download took longer than {deadline:g} s",
            ) from None
        except FileTooBig as exc:
            raise ReferenceRefused(
                "error_reference_too_big",
                kind=kind,
                size_mb=round(exc.seen / MB, 1),
                limit_mb=TELEGRAM_DOWNLOAD_LIMIT // MB,
            ) from None
        except FileRefused as exc:
            raise ReferenceRefused(
                "error_reference_unavailable", kind=kind, detail=str(exc)
            ) from None
        finally:
            del telegram_file  # its file_path is a URL with the token in it: keep it short-lived
        low, high = spec.reference_min_seconds, spec.reference_max_seconds
        # Audio documents carry no duration, and a few KB can decode to hours: read the header
        # before converting, and cap the conversion itself in case the header lies or is absent.
        declared = (await probe(source)).duration
        if high is not None and declared is not None and declared > high:
            raise ReferenceRefused(
                "error_reference_too_long", kind=kind, seconds=int(declared), maximum=int(high)
            )
        try:
            # The first audio stream of anything: a voice note's Opus, a video's soundtrack.
            async with conversion_slot(services):
                await to_mp3(
                    source,
                    mp3,
                    bitrate=REFERENCE_BITRATE,
                    timeout=CONVERT_TIMEOUT,
                    max_seconds=(high if high is not None else MAX_REFERENCE_SECONDS) + 1.0,
                )
        except MediaError as exc:
            if "matches no streams" in (exc.detail or ""):
                raise ReferenceRefused(
                    "error_reference_no_audio", kind=kind, detail=exc.detail
                ) from None
            raise
        info = await probe(mp3)
        if info.duration is None:
            raise MediaError(detail=f"converted {kind} reference has no readable duration")
        log.info(
            "reference %s: %d bytes downloaded, %.1f s of audio", kind, downloaded, info.duration
        )
        if low is not None and info.duration <= low:
            raise ReferenceRefused(
                "error_reference_too_short",
                kind=kind,
                seconds=int(info.duration),
                minimum=int(low),
            )
        if high is not None and info.duration > high:
            raise ReferenceRefused(
                "error_reference_too_long",
                kind=kind,
                seconds=int(info.duration),
                maximum=int(high),
            )
    except BaseException:
        await _remove(mp3)
        raise
    finally:
        await _remove(source)
    return mp3


def _data_uri(mp3: Path) -> str:
    """The MP3 as a data URI, with as few copies alive at once as Python allows (the bytes are
    dropped before the text is built): the model takes it inline in the JSON body."""
    encoded = base64.b64encode(mp3.read_bytes())
    return "data:audio/mpeg;base64," + encoded.decode("ascii")


async def _remove(path: Path) -> None:
    await asyncio.to_thread(path.unlink, True)
