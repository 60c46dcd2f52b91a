"""▶️ in /jobs: a delivered song sent again by its Telegram file_id (no download, no charge)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
)

from bot.delivery.send import song_caption, song_keyboard
from bot.i18n import plain, t
from bot.telegram.callback_data import Action, pattern
from bot.telegram.helpers import reply_to, topic_kwargs
from handlers.buttons import (
    answer,
    reply_to_press,
    song_press,
)

log = logging.getLogger(__name__)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [CallbackQueryHandler(on_resend, pattern=pattern(Action.RESEND))]


async def on_resend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a delivered song again by its Telegram file_id: no download, no upload, no charge."""
    found = await song_press(
        update, context, "resend", has=lambda j: j.delivered_file_id, missing_key="answer_no_file"
    )
    if found is None:
        return
    press, job = found
    assert job.delivered_file_id is not None  # `has` checked it
    await answer(press.query, plain("answer_resend", press.lang))
    reply = reply_to(press.message_id)
    try:
        await press.bot.send_audio(
            chat_id=press.chat.id,
            audio=job.delivered_file_id,
            caption=song_caption(job, press.lang),
            reply_markup=song_keyboard(job, press.lang),
            reply_parameters=reply,
            **topic_kwargs(press.topic()),
        )
    except BadRequest as exc:  # e.g. the file is gone on Telegram's side
        log.warning("re-sending job %s failed: %s", job.id, exc)
        await reply_to_press(press, t("resend_failed", press.lang))
