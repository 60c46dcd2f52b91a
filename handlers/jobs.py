"""/jobs: your pending songs and your last ten, with ▶️ re-send and ❌ cancel buttons.

▶️ re-sends a delivered song, and also a song Telegram kept refusing whose audio was kept.
"""

from __future__ import annotations

import time
from typing import Any, Final

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    filters,
)

from bot.bot_data import SongbotContext
from bot.i18n import ago as words_ago
from bot.i18n import plain, t
from bot.intake.language import chat_language
from bot.telegram.callback_data import Action, build, for_job
from bot.telegram.helpers import requester_id
from bot.textutil import job_title, truncate_utf16
from handlers.cancel import CANCELLABLE
from handlers.commands import Command
from handlers.resend import is_unsent
from storage.jobs import Job
from storage.states import JobState

JOBS_RECENT: Final = 10  # finished songs /jobs lists


COMMANDS: Final = (Command("jobs", private=6, group=4),)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [CommandHandler("jobs", on_jobs, filters=filters.UpdateType.MESSAGE)]


JOBS_ACTIVE: Final = 10  # pending songs /jobs lists


JOB_TITLE_LIMIT: Final = 40


BUTTON_TITLE_LIMIT: Final = 28


STATE_ICONS: Final[dict[JobState, str]] = {
    JobState.RECEIVED: "⏳",
    JobState.PREPARING: "🎙",
    JobState.SUBMITTING: "🎵",
    JobState.PENDING: "🎵",
    JobState.FETCHING: "📤",
    JobState.DELIVERING: "📤",
    JobState.DELIVERED: "✅",
    JobState.FAILED: "⚠️",  # ❌ means cancel only (issue #25 item 14)
    JobState.TIMED_OUT: "⌛",
    JobState.CANCELLED: "🚫",
    JobState.INTERRUPTED: "⚠️",
}


def ago(seconds: float, lang: str | None) -> str:
    """Like "5 minutes ago", in the user's language (CLDR's words and plural forms)."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return t("ago_now", lang)
    return words_ago(seconds, lang)


def render_jobs(
    jobs: list[Job], lang: str | None, now: float
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /jobs list and its buttons (▶️ re-send a delivered song, ❌ cancel a pending one)."""
    lines = [t("jobs_title", lang)]
    rows: list[list[InlineKeyboardButton]] = []
    for number, job in enumerate(jobs, start=1):
        state = JobState(job.state)
        if state is JobState.FAILED and job.delivered_message_id is not None:
            state = JobState.DELIVERED  # a kept song that went out on a later 📤 (#16.6)
        title = job_title(job, JOB_TITLE_LIMIT)
        lines.append(
            t(
                "jobs_line",
                lang,
                n=number,
                icon=STATE_ICONS.get(state, "•"),
                title=title,
                state=t(f"state_{state.value}", lang),
                model=job.model,
                when=ago(now - job.created_at, lang),
            )
        )
        short = truncate_utf16(title, BUTTON_TITLE_LIMIT)
        if (state is JobState.DELIVERED and job.delivered_file_id) or is_unsent(job):
            label = plain("button_resend", lang, n=number, title=short)
            rows.append(
                [InlineKeyboardButton(label, callback_data=for_job(Action.RESEND, job.id))]
            )
        elif state in CANCELLABLE:
            label = plain("button_cancel_job", lang, n=number, title=short)
            rows.append(
                [InlineKeyboardButton(label, callback_data=for_job(Action.CANCEL, job.id))]
            )
    if rows:
        lines.append(t("jobs_hint", lang))
    # /jobs is the queue; what was delivered is kept in the library (#26.1).
    rows.append(
        [InlineKeyboardButton(plain("button_library", lang), callback_data=build(Action.SONGS, 0))]
    )
    # Never an empty keyboard: Telegram refuses `inline_keyboard: []` (#25.3).
    return "\n\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


async def on_jobs(update: Update, context: SongbotContext) -> None:
    """Your pending songs and your last ten; in a group only the ones made in that group."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    mine = await services.jobs.list_for_user(requester_id(message) or 0, limit=200)
    if message.chat.type != "private":
        mine = [job for job in mine if job.chat_id == message.chat_id]
    active = [job for job in mine if not job.is_terminal][:JOBS_ACTIVE]
    finished = [job for job in mine if job.is_terminal][:JOBS_RECENT]
    if not active and not finished:
        await message.reply_text(t("jobs_empty", lang), do_quote=True)
        return
    text, keyboard = render_jobs(active + finished, lang, time.time())
    await message.reply_text(text, reply_markup=keyboard, do_quote=True)
