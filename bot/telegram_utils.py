"""Small Telegram helpers shared by handlers, the runner and delivery.

Why here: topic routing and the user's language must be decided the same way for the status reply,
every edit and the audio, or messages end up in the wrong topic or language.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Message, User

from bot.i18n import Raw, pick_language
from bot.services import Services


def thread_kwargs(message: Message) -> dict[str, Any]:
    """`message_thread_id` only for real forum topics (never for reply threads or General)."""
    if message.is_topic_message and message.message_thread_id not in (None, 1):
        return {"message_thread_id": message.message_thread_id}
    return {}


def topic_kwargs(topic_id: int | None) -> dict[str, Any]:
    return {"message_thread_id": topic_id} if topic_id not in (None, 1) else {}


def display_name(user: User) -> str:
    name = user.full_name.strip() or (user.username or "") or str(user.id)
    return name[:64]


def mention_html(user_id: int, name: str) -> Raw:
    """A clickable, escaped mention of the requester (for group deliveries)."""
    return Raw(f'<a href="tg://user?id={int(user_id)}">{html.escape(name, quote=False)}</a>')


async def chat_language(services: Services, message: Message) -> str:
    """The language to answer in: the user's /language choice, else their Telegram language."""
    user = message.from_user
    if user is not None:
        record = await services.users.get(user.id)
        if record is not None and record.language:
            return record.language
    settings = await services.chat_settings.get(message.chat_id)
    if settings.language and message.chat.type != "private":
        return settings.language
    return pick_language(user.language_code if user else None)
