"""Everyone's commands (/start, /help, /jobs, /cancel), the ❌ Cancel button, and the command menu.

Why together: they share the catalogue texts and the job lookups, and the menu registered with
`setMyCommands` must list exactly what is handled here and in `handlers/settings.py`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    TypeHandler,
    filters,
)

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Raw, t
from bot.intake.language import chat_language, user_language
from bot.intake.parser import MAX_TOTAL_LENGTH
from bot.progress.status import render_status
from bot.services import Services, get_services
from bot.telegram.helpers import topic_kwargs
from bot.textutil import safe_title, truncate_utf16
from handlers import callbacks
from handlers.callbacks import answer
from handlers.settings import model_lines, plain
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)

PRIVATE_COMMANDS: Final = ("start", "help", "song", "model", "jobs", "cancel", "language")
GROUP_COMMANDS: Final = ("song", "help", "model", "jobs", "cancel")
JOBS_RECENT: Final = 10  # finished songs /jobs lists
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
    JobState.FAILED: "❌",
    JobState.TIMED_OUT: "⌛",
    JobState.CANCELLED: "🚫",
    JobState.INTERRUPTED: "⚠️",
}
_CANCELLABLE: Final = frozenset(
    {JobState.RECEIVED, JobState.PREPARING, JobState.SUBMITTING, JobState.PENDING}
)
# Cancelled before the paid call went out: nothing can have been charged.
_NOT_STARTED: Final = frozenset({JobState.RECEIVED, JobState.PREPARING})


def observers() -> list[BaseHandler[Update, Any, Any]]:
    # block=True: the observer is two attribute writes; a task of its own per update cost more.
    return [TypeHandler(Update, _seen)]


async def _seen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record that updates arrive (health) before the real handlers run."""
    metrics = context.application.bot_data.get("metrics")
    if metrics is not None:
        metrics.last_update.set(time.time())


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("start", on_start, filters=only_new),
        CommandHandler("help", on_help, filters=only_new),
        CommandHandler("jobs", on_jobs, filters=only_new),
        CommandHandler("cancel", on_cancel, filters=only_new),
    ]


def callback_handlers() -> list[BaseHandler[Update, Any, Any]]:
    """Every button: ❌ Cancel, the song buttons, /jobs and the menus, then stale ones."""
    return [
        CallbackQueryHandler(on_cancel_button, pattern=r"^v1:cancel:\d{1,18}$"),
        *callbacks.handlers(),
        *callbacks.fallback_handlers(),
    ]


async def register_commands(bot: Bot) -> None:
    """Fill Telegram's command menu for private chats and groups, in every catalogue language."""
    for lang in LANGUAGES:
        code = None if lang == DEFAULT_LANGUAGE else lang
        for names, scope in (
            (PRIVATE_COMMANDS, BotCommandScopeAllPrivateChats()),
            (GROUP_COMMANDS, BotCommandScopeAllGroupChats()),
        ):
            await bot.set_my_commands(
                [BotCommand(name, plain(f"cmd_{name}", lang)) for name in names],
                scope=scope,
                language_code=code,
            )


# ---- /start and /help ----------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome with one example that works as-is (in <code>, so a tap copies it)."""
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(get_services(context), message)
    await message.reply_text(
        t("start", lang, bot=context.bot.username or "songbot"), do_quote=True
    )


def render_help(services: Services, lang: str | None, bot_username: str) -> str:
    """Every /song form, the models and what each needs, the limits and the group rules."""
    config = services.config
    limits = t(
        "help_limits",
        lang,
        max_chars=MAX_TOTAL_LENGTH,
        per_user=config.max_jobs_per_user,
        minutes=max(1, round(config.job_timeout / 60)),
    )
    if config.user_daily_limit > 0:
        limits += "\n" + t("help_daily_limit", lang, limit=config.user_daily_limit)
    parts = [
        t("help_forms", lang, bot=bot_username),
        t("help_models", lang, lines_html=Raw(model_lines(lang))),
        limits,
        t("help_buttons", lang),
        t("help_groups", lang, bot=bot_username),
    ]
    return "\n\n".join(parts)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    services = get_services(context)
    lang = await chat_language(services, message)
    text = render_help(services, lang, context.bot.username or "songbot")
    await message.reply_text(text, do_quote=True)


# ---- /jobs -----------------------------------------------------------------------------------


def ago(seconds: float, lang: str | None) -> str:
    """Like "5 min ago", in the user's language; abbreviations avoid plural forms."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return t("ago_now", lang)
    if seconds < 3600:
        return t("ago_minutes", lang, n=int(seconds // 60))
    if seconds < 86400:
        return t("ago_hours", lang, n=int(seconds // 3600))
    return t("ago_days", lang, n=int(seconds // 86400))


def render_jobs(jobs: list[Job], lang: str | None, now: float) -> tuple[str, InlineKeyboardMarkup]:
    """The /jobs list and its buttons (▶️ re-send a delivered song, ❌ cancel a pending one)."""
    lines = [t("jobs_title", lang)]
    rows: list[list[InlineKeyboardButton]] = []
    for number, job in enumerate(jobs, start=1):
        state = JobState(job.state)
        title = safe_title(job.prompt, job.lyrics, JOB_TITLE_LIMIT)
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
        if state is JobState.DELIVERED and job.delivered_file_id:
            label = plain("button_resend", lang, n=number, title=short)
            rows.append([InlineKeyboardButton(label, callback_data=f"v1:resend:{job.id}")])
        elif state in _CANCELLABLE:
            label = plain("button_cancel_job", lang, n=number, title=short)
            rows.append([InlineKeyboardButton(label, callback_data=f"v1:cancel:{job.id}")])
    if rows:
        lines.append(t("jobs_hint", lang))
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


async def on_jobs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Your pending songs and your last ten; in a group only the ones made in that group."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = get_services(context)
    lang = await chat_language(services, message)
    mine = await services.jobs.list_for_user(message.from_user.id, limit=200)
    if message.chat.type != "private":
        mine = [job for job in mine if job.chat_id == message.chat_id]
    active = [job for job in mine if not job.is_terminal][:JOBS_ACTIVE]
    finished = [job for job in mine if job.is_terminal][:JOBS_RECENT]
    if not active and not finished:
        await message.reply_text(t("jobs_empty", lang), do_quote=True)
        return
    text, keyboard = render_jobs(active + finished, lang, time.time())
    await message.reply_text(text, reply_markup=keyboard, do_quote=True)


# ---- /cancel and ❌ Cancel -------------------------------------------------------------------


def cancelled_text(job: Job, was: JobState, lang: str | None) -> str:
    """What a cancel means for the bill: nothing before the paid call, maybe something after."""
    key = "cancelled_not_started" if was in _NOT_STARTED else "cancelled"
    return t(key, lang, model=job.model)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel the user's newest pending job in this chat."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = get_services(context)
    lang = await chat_language(services, message)
    for job in await services.jobs.list_for_user(message.from_user.id, limit=50):
        if job.chat_id != message.chat_id or JobState(job.state) not in _CANCELLABLE:
            continue
        if await _cancel(services, job):
            await message.reply_text(cancelled_text(job, JobState(job.state), lang), do_quote=True)
            await _mark_status_cancelled(context.bot, services, job)
            return
    await message.reply_text(t("nothing_to_cancel", lang), do_quote=True)


async def on_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """❌ under a status message (or in /jobs): stop tracking the song; only its requester may."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    services = get_services(context)
    chat = query.message.chat if query.message is not None else None
    lang = await user_language(services, query.from_user, chat)
    job = await services.jobs.get(int(query.data.rsplit(":", 1)[1]))
    if job is None or query.from_user.id != job.user_id:
        await answer(query, plain("not_your_job", lang))
        return
    was = JobState(job.state)
    if was not in _CANCELLABLE or not await _cancel(services, job):
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
            reply_parameters=ReplyParameters(message_id=pressed, allow_sending_without_reply=True),
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
    others = await services.db.fetchval(
        "SELECT count(*) FROM jobs WHERE chat_id = ? AND status_message_id = ? AND id != ?",
        (job.chat_id, job.status_message_id, job.id),
    )
    return bool(others) or job.chat_type != "private"


async def _edit_quietly(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=text)
    except TelegramError as exc:  # gone or unchanged: the reply already told the user
        log.info("could not update the status message: %s", exc)


async def _cancel(services: Services, job: Job) -> bool:
    now = time.time()
    won = await services.jobs.transition(
        job.id,
        JobState(job.state),
        JobState.CANCELLED,
        owner=None,
        now=now,
        error_key="status_cancelled",
        outcome_sent_at=now,
    )
    # Only a cancel before the paid POST gives the generation back: from `submitting` on, the
    # provider may have charged, so it keeps counting against the daily limit.
    if won and JobState(job.state) in _NOT_STARTED:
        await services.usage.refund(job.id)
    return won
