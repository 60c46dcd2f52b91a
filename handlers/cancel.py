"""/cancel and the ❌ Cancel button: stop a pending song, and say what it means for the bill."""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from telegram import (
    Bot,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from bot.bot_data import SongbotContext
from bot.i18n import plain, t
from bot.intake.language import chat_language, user_language
from bot.progress.status import render_status, song_name
from bot.services import Services
from bot.telegram.callback_data import Action, pattern
from bot.telegram.helpers import reply_to, requester_id, topic_kwargs
from handlers.buttons import (
    answer,
)
from handlers.commands import Command
from storage.cancelling import cancel_job
from storage.jobs import Job
from storage.states import BEFORE_PAID_SUBMIT, JobState

log = logging.getLogger(__name__)

CANCELLABLE: Final = frozenset(
    {JobState.RECEIVED, JobState.PREPARING, JobState.SUBMITTING, JobState.PENDING}
)

# Made (and paid for) and on its way to the chat: too late to cancel, but not "nothing".
BEING_SENT: Final = frozenset({JobState.FETCHING, JobState.DELIVERING})


COMMANDS: Final = (Command("cancel", private=8, group=6),)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [
        CommandHandler("cancel", on_cancel, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(on_cancel_button, pattern=pattern(Action.CANCEL)),
    ]


def cancelled_text(job: Job, was: JobState, lang: str | None) -> str:
    """What a cancel means for the bill: nothing before the paid call, maybe something after."""
    key = "cancelled_not_started" if was in BEFORE_PAID_SUBMIT else "cancelled"
    return t(key, lang, song=song_name(job))


async def on_cancel(update: Update, context: SongbotContext) -> None:
    """Cancel the user's newest pending job in this chat."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    sending = False
    for job in await services.jobs.list_for_user(requester_id(message) or 0, limit=50):
        if job.chat_id != message.chat_id:
            continue
        sending = sending or JobState(job.state) in BEING_SENT
        if JobState(job.state) not in CANCELLABLE:
            continue
        if await _cancel(services, job):
            await message.reply_text(cancelled_text(job, JobState(job.state), lang), do_quote=True)
            await _mark_status_cancelled(context.bot, services, job)
            return
    # A song already made and on its way is not "nothing": the same answer as the ❌ (#25.6).
    key = "too_late_to_cancel" if sending else "nothing_to_cancel"
    await message.reply_text(t(key, lang), do_quote=True)


async def on_cancel_button(update: Update, context: SongbotContext) -> None:
    """❌ under a status message (or in /jobs): stop tracking the song; only its requester may."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    services = context.services
    chat = query.message.chat if query.message is not None else None
    lang = await user_language(services, query.from_user, chat)
    job = await services.jobs.get(int(query.data.rsplit(":", 1)[1]))
    if job is None or query.from_user.id != job.user_id:
        await answer(query, plain("not_your_job", lang))
        return
    was = JobState(job.state)
    if was not in CANCELLABLE or not await _cancel(services, job):
        await answer(query, plain("too_late_to_cancel", lang))
        return
    await answer(query, plain("cancelled_short", lang))
    pressed = query.message.message_id if query.message is not None else None
    if (
        pressed is not None
        and pressed == job.status_message_id
        and not await _shared(services, job)
    ):
        # The status message itself becomes the outcome, in the requester's language.
        await _edit_quietly(
            context.bot, job.chat_id, pressed, cancelled_text(job, was, job.user_lang)
        )
        return
    await _mark_status_cancelled(context.bot, services, job)
    if pressed is not None and chat is not None:
        await context.bot.send_message(
            chat_id=chat.id,
            text=cancelled_text(job, was, lang),
            reply_parameters=reply_to(pressed),
            **topic_kwargs(job.topic_id if job.chat_id == chat.id else None),
        )


async def _mark_status_cancelled(bot: Bot, services: Services, job: Job) -> None:
    """The status message stops offering ❌ and says it was cancelled."""
    fresh = await services.jobs.get(job.id)
    if fresh is None or fresh.status_message_id is None or await _shared(services, fresh):
        return
    text = render_status(fresh, lang=fresh.user_lang)
    await _edit_quietly(bot, fresh.chat_id, fresh.status_message_id, text)


async def _shared(services: Services, job: Job) -> bool:
    """A group's shared status board serves several jobs: it is not ours to rewrite."""
    return job.chat_type != "private" or await services.jobs.shares_status_message(job)


async def _edit_quietly(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text)
    except TelegramError as exc:  # gone or unchanged: the reply already told the user
        log.info("could not update the status message: %s", exc)


async def _cancel(services: Services, job: Job) -> bool:
    cancelled = await cancel_job(services.jobs, services.usage, job, now=time.time())
    if cancelled:
        # Its slot (or its place in line) is free for the next job, and a reference still being
        # converted for it stops now (the worker and its ffmpeg are cancelled).
        services.engine.cancelled(job.id, JobState(job.state))
    return cancelled
