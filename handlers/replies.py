"""One way to answer a user's message: in its forum topic, quoting it.

Why one module: the handlers that refuse a request (a usage mistake, a limit, a ban) all answer
the same way, and the copies of that reply had started to differ in what they returned.
"""

from __future__ import annotations

from telegram import Message

from bot.errors import SongbotError
from bot.telegram.helpers import reply_to, thread_kwargs


async def reply(message: Message, text: str) -> Message:
    """Reply to `message` in its topic, even in private chats (where a quote keeps context)."""
    return await message.get_bot().send_message(
        chat_id=message.chat_id,
        text=text,
        reply_parameters=reply_to(message.message_id),
        **thread_kwargs(message),
    )


async def reply_error(message: Message, exc: SongbotError, lang: str | None) -> Message:
    """Tell the user, in their language, why their request was refused."""
    return await reply(message, exc.user_message(lang))
