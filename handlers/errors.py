"""The one error handler: log with the traceback (secrets redacted), reply kindly, or stop cleanly.

Why one place: handlers raise typed `SongbotError`s and let anything unexpected propagate; this
turns
both into a friendly sentence in the user's language, so no failure is silent and no traceback (or
token) reaches a chat.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from telegram import Update
from telegram.error import Conflict, Forbidden, InvalidToken, NetworkError, TimedOut

from bot.bot_data import SongbotContext, bot_data_of
from bot.errors import SongbotError
from bot.i18n import pick_language, t
from bot.intake.access import Silent
from bot.lifecycle import ExitCode
from bot.telegram.helpers import reply_to, thread_kwargs
from bot.telegram.startup import brief
from storage.db import StorageError

log = logging.getLogger(__name__)

_CONFLICT_EVERY = 60.0


async def on_error(update: object, context: SongbotContext) -> None:
    error = context.error
    if isinstance(error, Conflict):
        # Someone else polls with this token (another host, or a webhook set elsewhere). The
        # running bot keeps its place: PTB's polling backs off (up to 30 s between tries), and a
        # newcomer on this database is refused at start by the instance lock. Said once a minute.
        data = bot_data_of(context.application)
        now = time.monotonic()
        last = data.conflict_said_at
        if last is None or now - last >= _CONFLICT_EVERY:
            data.conflict_said_at = now
            log.warning(
                "Telegram says another songbot instance is polling with this token (Conflict); "
                "backing off and retrying. Run exactly one instance per bot token."
            )
        return
    if isinstance(error, InvalidToken):
        log.critical("Telegram rejected the bot token; check TELEGRAM_BOT_TOKEN")
        bot_data_of(context.application).lifecycle.request_stop(ExitCode.RUNTIME)
        return
    if isinstance(error, TimedOut | NetworkError) and update is None:
        log.warning("Telegram network problem while polling: %s", brief(error))
        return
    if isinstance(error, Silent):
        return  # told once already: silence is the answer
    if isinstance(error, SongbotError):
        log.info("user-facing error: %s", error)
    elif isinstance(error, StorageError | sqlite3.Error):
        # Disk full, read-only, locked: the message says what the operator must fix.
        log.error("request not stored, the database is unusable: %s", error)
    else:
        log.error("unhandled error while processing an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_message is None:
        return
    message = update.effective_message
    user = update.effective_user
    lang = pick_language(user.language_code if user else None)
    text = (
        error.user_message(lang) if isinstance(error, SongbotError) else t("error_internal", lang)
    )
    try:
        await context.bot.send_message(
            chat_id=message.chat_id,
            text=text,
            reply_parameters=reply_to(message.message_id),
            **thread_kwargs(message),
        )
    except Forbidden:
        pass
    except Exception as exc:
        log.warning("could not send the error reply: %s", exc)
