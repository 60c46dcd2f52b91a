"""▶️ / 📤: a song sent again without making it again (no provider call, no charge).

Two kinds: a delivered song goes again by its Telegram file_id (no download, no upload); a song
Telegram kept refusing (#16.6) was kept on disk (`Outcomes._keep_unsent`) and is uploaded from
there. Both are found from the database alone, so the buttons work after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from telegram import (
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
)

from bot.bot_data import SongbotContext
from bot.delivery.keep import keep_song
from bot.delivery.send import inline_mode_on, prepared, song_caption, song_keyboard, upload
from bot.engine.outcomes import UPLOAD_FAILED
from bot.i18n import plain, t
from bot.telegram.callback_data import Action, for_job, pattern
from bot.telegram.helpers import reply_to, topic_kwargs
from handlers.buttons import (
    Press,
    answer,
    reply_to_press,
    song_press,
)
from storage.jobs import Job
from storage.kept_songs import KeptSongs
from storage.states import JobState

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [CallbackQueryHandler(on_resend, pattern=pattern(Action.RESEND))]


def is_unsent(job: Job) -> bool:
    """A song that was made and kept, but that Telegram never took (#16.6)."""
    return (
        job.state is JobState.FAILED
        and job.error_key == UPLOAD_FAILED
        and bool(job.result_path)
        and job.delivered_message_id is None
    )


async def on_resend(update: Update, context: SongbotContext) -> None:
    """Send a song again: by its Telegram file_id, or a kept song by uploading it."""
    found = await song_press(
        update,
        context,
        "resend",
        has=lambda j: j.delivered_file_id or is_unsent(j),
        missing_key="answer_no_file",
    )
    if found is None:
        return
    press, job = found
    if job.delivered_file_id is None:
        await _upload_kept(press, job)
        return
    if _is_failure_message(press, job):
        # The kept song went already (an old client still showing 📤): say so, once more.
        await answer(press.query, plain("answer_resend_done", press.lang))
        await _mark_sent(press)
        return
    await answer(press.query, plain("answer_resend", press.lang))
    reply = reply_to(press.message_id)
    try:
        await press.bot.send_audio(
            chat_id=press.chat.id,
            audio=job.delivered_file_id,
            caption=song_caption(job, press.lang),
            reply_markup=song_keyboard(
                dataclasses.replace(job, chat_id=press.chat.id),
                press.lang,
                inline=inline_mode_on(press.bot),
                public_url=press.services.config.public_url,
            ),
            reply_parameters=reply,
            **topic_kwargs(press.topic()),
        )
    except BadRequest as exc:  # e.g. the file is gone on Telegram's side
        log.warning("re-sending job %s failed: %s", job.id, exc)
        await reply_to_press(press, t("resend_failed", press.lang))


async def _upload_kept(press: Press, job: Job) -> None:
    """Upload a kept song; on success record the delivery, so it never goes twice and later
    re-sends use the file_id."""
    services = press.services
    audio = prepared(job)
    if not await asyncio.to_thread(audio.path.is_file):  # swept after SONGBOT_KEEP_UNSENT_DAYS
        await answer(press.query, plain("answer_unsent_gone", press.lang))
        return
    if job.id in services.memo.resending:  # an upload of it is under way: a tap still answers
        await answer(press.query, plain("answer_sending_again", press.lang))
        return
    services.memo.resending.add(job.id)
    try:
        await answer(press.query, plain("answer_sending_again", press.lang))
        # Into the chat the button was pressed in: as a reply to the request when that is the
        # job's chat, else to the pressed message (e.g. /jobs in a private chat).
        here = press.chat.id == job.chat_id
        target = dataclasses.replace(
            job,
            chat_id=press.chat.id,
            request_message_id=job.request_message_id if here else (press.message_id or 0),
            topic_id=press.topic(job),
        )
        try:
            message, file_id = await upload(
                press.bot,
                target,
                audio,
                lang=press.lang,
                temp=services.temp,
                public_url=services.config.public_url,
            )
        except TelegramError as exc:
            log.warning("uploading the kept song of job %s failed again: %s", job.id, exc)
            with contextlib.suppress(TelegramError):
                await reply_to_press(press, t("resend_upload_failed", press.lang), job)
            return
        # Delivered from now on (#24.1): /jobs, the reports and the retention see a delivered
        # song; its charge stays as it was (never refunded), so nothing is billed again.
        await KeptSongs(services.db).delivered(
            job.id, message_id=message.message_id, file_id=file_id, now=time.time()
        )
        services.metrics.deliveries.labels(job.model).inc()
        await keep_song(services.songs, job, message, file_id)  # now it is the user's (#26)
        log.info("kept song of job %s delivered as message %s", job.id, message.message_id)
        await asyncio.to_thread(_remove, audio.path)
        services.temp.cleanup_job(job.key)  # the cover drawn for the upload
        if _is_failure_message(press, job):
            await _mark_sent(press)
    finally:
        services.memo.resending.discard(job.id)


def _is_failure_message(press: Press, job: Job) -> bool:
    """The pressed message is the failure message of a kept song (its only button is 📤 for it,
    or none once closed: a tap from a client still showing it), not a list such as /jobs."""
    if job.error_key != UPLOAD_FAILED or press.message is None or press.chat.id != job.chat_id:
        return False
    replied = press.message.reply_to_message
    if replied is None or replied.message_id != job.request_message_id:
        return False  # e.g. /jobs, which replies to the /jobs command
    markup = press.message.reply_markup
    if markup is None:
        return True
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    return data == [for_job(Action.RESEND, job.id)]


async def _mark_sent(press: Press) -> None:
    """The failure message stops saying ❌ and offering 📤 once the song is out (#25.7)."""
    if press.message is None:
        return
    try:
        await press.message.edit_text(t("resend_done", press.lang), reply_markup=None)
    except BadRequest as exc:
        log.info("the failure message keeps its text: %s", exc)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
