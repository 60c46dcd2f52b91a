"""What every button press needs: who pressed, where, in which language, and one way to answer.

Why these rules:
- Callback data comes from `bot/telegram/callback_data.py` only (`v1:<action>:<arg>`, within
  Telegram's 64 bytes, meaning the same after a restart: nothing is kept in memory).
- Every press is answered at once (the spinner stops), with at most 200 characters of plain text;
  a refusal longer than that goes to the chat as a normal reply.
- A double tap within a few seconds is taken as one press: a paid song must not be made twice
  by a jittery thumb.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
)

from bot.bot_data import SongbotContext
from bot.errors import SongbotError
from bot.i18n import plain
from bot.intake.access import Silent
from bot.intake.language import resolve_asker, user_language
from bot.services import Services
from bot.telegram import callback_data
from bot.telegram.helpers import reply_to, topic_kwargs
from bot.textutil import truncate_utf16, utf16_len
from storage.jobs import Job
from storage.settings import Requester

log = logging.getLogger(__name__)

ANSWER_LIMIT: Final = 200  # answerCallbackQuery text, characters


# A second press of the same button on the same song within this window is the same press.
REPEAT_WINDOW: Final[dict[str, float]] = {
    "again": 10.0,
    "vary": 10.0,
    "lyrics": 5.0,
    "resend": 5.0,
}


@dataclass(frozen=True, slots=True)
class Press:
    """One button press with what every handler needs."""

    query: CallbackQuery
    services: Services
    bot: Bot
    user: User
    chat: Chat
    message: Message | None  # the pressed message, if Telegram still lets us see it
    requester: Requester  # the presser's record and this chat's settings, read once per press
    lang: str
    arg: str

    @property
    def message_id(self) -> int | None:
        return self.query.message.message_id if self.query.message is not None else None

    def topic(self, job: Job | None = None) -> int | None:
        """The forum topic the pressed message is in (replies must land there too)."""
        if self.message is not None and self.message.is_topic_message:
            return self.message.message_thread_id
        if job is not None and job.chat_id == self.chat.id:
            return job.topic_id
        return None


async def read_press(update: Update, context: SongbotContext) -> Press | None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        if query is not None:
            await answer(query)
        return None
    services = context.services
    chat = query.message.chat
    # No settling here: a press under the bot's own message does not choose a group's language.
    asker = await resolve_asker(
        services, query.from_user.id, chat, query.from_user.language_code, settle=False
    )
    pressed = query.message if isinstance(query.message, Message) else None
    return Press(
        query=query,
        services=services,
        bot=context.bot,
        user=query.from_user,
        chat=chat,
        message=pressed,
        requester=asker.requester,
        lang=asker.lang,
        arg=query.data.rsplit(":", 1)[1],
    )


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Stop the button's spinner; never fails the handler (the query may be too old)."""
    if text is not None:
        text = truncate_utf16(text, ANSWER_LIMIT)
    try:
        await query.answer(text=text, show_alert=alert)
    except BadRequest as exc:
        log.info("callback answer refused: %s", exc)


def plain_text(html_text: str) -> str:
    """What an HTML catalogue message reads like as plain text (for callback answers)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


async def refuse(press: Press, error: SongbotError) -> None:
    """Say why not: as an alert when it fits, else as a reply in the chat."""
    if isinstance(error, Silent):
        await answer(press.query)
        return
    message = error.user_message(press.lang)
    short = plain_text(message)
    if utf16_len(short) <= ANSWER_LIMIT:
        await answer(press.query, short, alert=True)
        return
    await answer(press.query, plain("answer_refused", press.lang))
    await reply_to_press(press, message)


async def reply_to_press(press: Press, text: str, job: Job | None = None) -> Message:
    reply = reply_to(press.message_id)
    return await press.bot.send_message(
        chat_id=press.chat.id,
        text=text,
        reply_parameters=reply,
        **topic_kwargs(press.topic(job)),
    )


def repeated(press: Press, action: str, job_id: int) -> bool:
    """True for the second press of the same button on the same song within its window."""
    recent = press.services.memo.recent_presses  # bounded, entries expire after 60 s
    now = time.monotonic()
    key = (press.user.id, action, job_id)
    last = recent.get(key)
    if last is not None and now - last < REPEAT_WINDOW.get(action, 5.0):
        return True
    recent[key] = now
    return False


async def pressed_job(press: Press) -> Job | None:
    """The job the button names, if the presser may see it here; otherwise answer and None.

    A song's buttons work in the chat it was made in, and for its requester anywhere (a song
    re-sent from /jobs into a private chat).
    """
    job = await press.services.jobs.get(int(press.arg))
    if job is None or (job.chat_id != press.chat.id and job.user_id != press.user.id):
        await answer(press.query, plain("answer_not_found", press.lang))
        return None
    return job


async def job_press(update: Update, context: SongbotContext) -> tuple[Press, Job] | None:
    """A press on a song's button and its job, or None once the press has been answered."""
    press = await read_press(update, context)
    if press is None:
        return None
    job = await pressed_job(press)
    return None if job is None else (press, job)


async def song_press(
    update: Update,
    context: SongbotContext,
    action: str,
    *,
    has: Callable[[Job], object],
    missing_key: str,
) -> tuple[Press, Job] | None:
    """A press on a song's free button (📝, ▶️): the job, if it has what the button needs.

    Answers and returns None when the job is gone, lacks it (`missing_key`), or this is the
    second tap of a double tap (answered silently).
    """
    found = await job_press(update, context)
    if found is None:
        return None
    press, job = found
    if not has(job):
        await answer(press.query, plain(missing_key, press.lang))
        return None
    if repeated(press, action, job.id):
        await answer(press.query)
        return None
    return press, job


def fallback_handlers() -> list[BaseHandler[Update, Any, Any]]:
    """Our actions with data no handler accepts (a menu from an older version): stop the spinner.

    Register after every other callback handler.
    """
    return [CallbackQueryHandler(on_stale, pattern=callback_data.any_of_ours())]


async def on_stale(update: Update, context: SongbotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    services = context.services
    chat = query.message.chat if query.message is not None else None
    lang = await user_language(services, query.from_user, chat)
    await answer(query, plain("answer_stale", lang))
