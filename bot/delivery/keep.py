"""A delivered song goes into its owner's library (issue #26.1).

Why at delivery and not from the jobs table: retention deletes jobs, and the library must keep
what the user received (title, lyrics, file_id, duration) until the user deletes it. Only a real
upload has a Telegram file_id to play and share; a song sent as a link (over 50 MB) is not kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from telegram import Message

from bot.textutil import job_title
from storage.jobs import Job
from storage.songs import NewSong, Song, SongStore

log = logging.getLogger(__name__)


async def keep_song(songs: SongStore, job: Job, message: Message, file_id: str | None) -> None:
    """Write the library row; a failure is logged, never a failed delivery (the song is out)."""
    if not file_id:
        return
    audio = message.audio
    try:
        kept: Song | None = await songs.add(
            NewSong(
                job_id=job.id,
                owner_id=job.user_id,
                owner_name=job.user_name,
                chat_id=job.chat_id,
                chat_type=job.chat_type,
                title=job_title(job),
                style=job.prompt,
                lyrics=job.lyrics,
                model=job.model,
                duration=_seconds(audio.duration) if audio is not None else job.result_duration,
                file_id=file_id,
                file_unique_id=audio.file_unique_id if audio is not None else None,
                created_at=time.time(),
            )
        )
    except Exception as exc:
        log.warning("song of job %s not kept in the library: %s", job.id, exc)
        return
    if kept is not None:
        log.info("song of job %s kept in the library as song %s", job.id, kept.id)


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
