"""Everyone's commands (/start, /help, /jobs, /cancel), the buttons, and the command menu.

Why together: they share the catalogue texts and the job lookups, and the menu registered with
`setMyCommands` must list exactly what is handled here.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    TypeHandler,
    filters,
)

from bot.i18n import t
from bot.services import get_services
from bot.telegram_utils import chat_language
from storage.states import JobState

PRIVATE_COMMANDS = ("start", "help", "song", "model", "jobs", "cancel", "language")
GROUP_COMMANDS = ("song", "help", "model", "jobs", "cancel")


def observers() -> list[BaseHandler[Update, Any, Any]]:
    return [TypeHandler(Update, _seen, block=False)]


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
        CommandHandler("cancel", on_cancel, filters=only_new),
    ]


def callback_handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [CallbackQueryHandler(on_cancel_button, pattern=r"^v1:cancel:\d+$")]


async def register_commands(bot: Bot) -> None:
    """Fill Telegram's command menu, separately for private chats and groups."""
    await bot.set_my_commands(
        [BotCommand(c, t(f"cmd_{c}")) for c in PRIVATE_COMMANDS],
        scope=BotCommandScopeAllPrivateChats(),
    )
    await bot.set_my_commands(
        [BotCommand(c, t(f"cmd_{c}")) for c in GROUP_COMMANDS],
        scope=BotCommandScopeAllGroupChats(),
    )


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome with one example that works as-is."""
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(get_services(context), message)
    await message.reply_text(
        t("start", lang, bot=context.bot.username or "songbot"), do_quote=True
    )


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(get_services(context), message)
    await message.reply_text(t("help", lang, bot=context.bot.username or "songbot"), do_quote=True)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel the user's newest pending job in this chat."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = get_services(context)
    lang = await chat_language(services, message)
    for job in await services.jobs.list_for_user(message.from_user.id, limit=20):
        if job.chat_id != message.chat_id or JobState(job.state) not in _CANCELLABLE:
            continue
        if await _cancel(services, job):
            await message.reply_text(t("cancelled", lang, model=job.model), do_quote=True)
            return
    await message.reply_text(t("nothing_to_cancel", lang), do_quote=True)


async def on_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    services = get_services(context)
    lang = query.from_user.language_code if query.from_user else None
    from bot.i18n import pick_language

    lang = pick_language(lang)
    job = await services.jobs.get(int(query.data.rsplit(":", 1)[1]))
    if job is None or (query.from_user and query.from_user.id != job.user_id):
        await query.answer(t("not_your_job", lang))
        return
    if JobState(job.state) in _CANCELLABLE and await _cancel(services, job):
        await query.answer(t("cancelled_short", lang))
        await query.edit_message_text(t("cancelled", job.user_lang, model=job.model))
        return
    await query.answer(t("too_late_to_cancel", lang))


_CANCELLABLE = frozenset(
    {JobState.RECEIVED, JobState.PREPARING, JobState.SUBMITTING, JobState.PENDING}
)


async def _cancel(services: Any, job: Any) -> bool:
    won: bool = await services.jobs.transition(
        job.id,
        JobState(job.state),
        JobState.CANCELLED,
        owner=None,
        now=time.time(),
        error_key="status_cancelled",
        outcome_sent_at=time.time(),
    )
    if won:
        await services.usage.refund(job.id)
    return won
