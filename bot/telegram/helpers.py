"""Small Telegram helpers shared by handlers, the runner and delivery.

Why here: topic routing and the user's language must be decided the same way for the status reply,
every edit and the audio, or messages end up in the wrong topic or language.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters, User
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.i18n import Raw
from bot.telegram.ptb_private import post


def thread_kwargs(message: Message) -> dict[str, Any]:
    """`message_thread_id` only for real forum topics (never for reply threads or General)."""
    if message.is_topic_message and message.message_thread_id not in (None, 1):
        return {"message_thread_id": message.message_thread_id}
    return {}


def reply_to(message_id: int | None) -> ReplyParameters | None:
    """Reply to `message_id`, and still send if it was deleted meanwhile (never lose a reply)."""
    if not message_id:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def topic_kwargs(topic_id: int | None) -> dict[str, Any]:
    return {"message_thread_id": topic_id} if topic_id not in (None, 1) else {}


def display_name(user: User) -> str:
    name = user.full_name.strip() or (user.username or "") or str(user.id)
    return name[:64]


def requester_id(message: Message) -> int | None:
    """Who is asking: the chat a message speaks for, else its sender (#17.6).

    A message sent as a channel (`from` is @Channel_Bot, 136817688) or by an anonymous group
    admin (`from` is @GroupAnonymousBot, 1087968824, `sender_chat` the group itself) carries the
    real identity in `sender_chat`; keying on `from` would let every channel poster and every
    anonymous admin share one ban and one quota. So bans, quotas, caps and ownership key on the
    channel's id, and an anonymous admin acts as the group (see `is_chat_admin`): Telegram gives
    no way to tell those admins apart, so they share the group's quota.
    """
    if message.sender_chat is not None:
        return message.sender_chat.id
    return message.from_user.id if message.from_user is not None else None


def requester_name(message: Message) -> str:
    chat = message.sender_chat
    if chat is not None:
        return (chat.title or chat.username or str(chat.id)).strip()[:64] or str(chat.id)
    return display_name(message.from_user) if message.from_user is not None else ""


def mention_html(user_id: int, name: str) -> Raw:
    """A clickable, escaped mention of the requester (for group deliveries).

    A chat (a channel, or a group's anonymous admins) has no `tg://user` link: just its name.
    """
    if user_id < 0:
        return Raw(html.escape(name, quote=False))
    return Raw(f'<a href="tg://user?id={int(user_id)}">{html.escape(name, quote=False)}</a>')


async def send_text_id(
    bot: Bot,
    *,
    chat_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    reply_parameters: ReplyParameters | None = None,
    message_thread_id: int | None = None,
) -> int:
    """sendMessage (HTML), returning only the new message's id.

    Why not `bot.send_message`: Telegram answers with the whole message, including the request
    it replies to and its keyboard, and PTB turns all of that into objects, about 0.4 ms of CPU
    per status reply that nobody reads (bench/bench_updates.py). `Bot._post` is the step every
    Bot method ends in: it drops unset fields, serialises PTB objects, applies the rate limiter
    and raises the same `TelegramError`s, so only the parsing of the answer is skipped.
    """
    data: dict[str, Any] = {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": ParseMode.HTML,
        "reply_markup": reply_markup,
        "reply_parameters": reply_parameters,
        "message_thread_id": message_thread_id,
    }
    result = await post(bot, "sendMessage", data)
    if not isinstance(result, dict) or not isinstance(result.get("message_id"), int):
        raise TypeError(f"sendMessage returned no message id: {result!r:.200}")
    return int(result["message_id"])


async def edit_in_place(
    message: Message, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """Replace a message's text and buttons; an edit that changes nothing (a double tap) is
    not an error."""
    try:
        await message.get_bot().edit_message_text(
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=text,
            reply_markup=keyboard,
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
