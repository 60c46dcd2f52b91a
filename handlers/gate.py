"""Who the bot serves, decided once per update before any handler runs.

Why a gate and not a check per command: a chat outside `SONGBOT_ALLOWED_CHAT_IDS` must get one
polite notice and then silence from every command and button, not only from /song; a check
written into each handler would be forgotten in the next one.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.bot_data import SongbotContext
from bot.errors import SongbotError
from bot.intake.access import Silent, check_access
from bot.intake.language import user_language
from bot.telegram.helpers import reply_to, requester_id, thread_kwargs


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    """Register in a group of its own after the observers (they count even refused updates)."""
    return [TypeHandler(Update, _gate)]


def _asks_something(update: Update) -> bool:
    """A command or a button press: what deserves the one notice (chatter gets silence)."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    text = (message.text or message.caption or "") if message is not None else ""
    return text.startswith("/")


async def _gate(update: Update, context: SongbotContext) -> None:
    services = context.services
    allowed = services.config.allowed_chat_ids
    chat, user = update.effective_chat, update.effective_user
    if not allowed or chat is None or chat.id in allowed:
        return
    message = update.effective_message
    if message is not None and message.successful_payment is not None:
        return  # money already taken: it is credited whatever the chat list says now
    who = (
        requester_id(update.message) if update.message is not None else (user.id if user else None)
    )
    if who is not None and who in services.config.admin_ids:
        return
    try:
        await check_access(services, context.bot, chat, who or 0)
    except Silent:
        pass
    except SongbotError as exc:  # NotAllowed, the first time: say it once
        if _asks_something(update):
            await _notify(update, context, exc)
    if update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


async def _notify(update: Update, context: SongbotContext, exc: SongbotError) -> None:
    services = context.services
    lang = await user_language(services, update.effective_user, update.effective_chat)
    message = update.effective_message
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat_id=chat.id,
        text=exc.user_message(lang),
        reply_parameters=reply_to(message.message_id if message else None),
        **(thread_kwargs(message) if message is not None else {}),
    )
