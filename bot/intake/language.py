"""Which language to answer in, and the stored rows that decide it.

Why in the intake: the language is read from the same rows as the access check (the user's
record and the chat's settings, one query), for every update that gets a reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat, Message, User

from bot.i18n import pick_language
from bot.services import Services
from bot.telegram.helpers import requester_id
from storage.settings import Requester, load_requester


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks, resolved once per update: their identity (`requester_id`: a channel or a group's
    anonymous admins, not the shared bot account in `from`), their rows and their language."""

    who: int
    requester: Requester
    lang: str


async def resolve_asker(
    services: Services, who: int, chat: Chat, language_code: str | None, *, settle: bool = True
) -> Asker:
    """Load `who`'s rows in `chat` and pick the language; with `settle`, a group without a
    language adopts it (see `settle_group_language`)."""
    requester = await load_requester(services.db, who, chat.id)
    lang = resolve_language(requester, chat_type=chat.type, language_code=language_code)
    if settle:
        await settle_group_language(services, chat.id, chat.type, requester, lang)
    return Asker(who, requester, lang)


async def message_asker(services: Services, message: Message) -> Asker | None:
    """The asker behind a message (None when it has no sender at all)."""
    who = requester_id(message)
    if who is None or message.from_user is None:
        return None
    return await resolve_asker(services, who, message.chat, message.from_user.language_code)


async def load_message_requester(services: Services, message: Message) -> Requester:
    """The rows behind a message: its sender's record and its chat's settings (one query)."""
    user_id = requester_id(message) or 0
    return await load_requester(services.db, user_id, message.chat_id)


async def chat_language(services: Services, message: Message) -> str:
    """The language to answer a message in (see `resolve_language`)."""
    requester = await load_message_requester(services, message)
    lang = language_for(message, requester)
    await settle_group_language(services, message.chat.id, message.chat.type, requester, lang)
    return lang


async def settle_group_language(
    services: Services, chat_id: int, chat_type: str, requester: Requester, lang: str
) -> None:
    """A group without a language takes the one its first user was answered in, so the next
    person does not switch it: one language per group until an admin picks another."""
    if chat_type != Chat.PRIVATE and not requester.chat.language:
        await services.chat_settings.adopt_language(chat_id, lang)


async def user_language(services: Services, user: User | None, chat: Chat | None) -> str:
    """The language for `user` in `chat` (their private chat when None): for updates that carry
    no message from the user, such as button presses under the bot's own messages."""
    if chat is None:
        if user is None:
            return pick_language(None)
        chat = Chat(id=user.id, type=Chat.PRIVATE)
    requester = await load_requester(services.db, user.id if user else 0, chat.id)
    lang = resolve_language(
        requester, chat_type=chat.type, language_code=user.language_code if user else None
    )
    await settle_group_language(services, chat.id, chat.type, requester, lang)
    return lang


def language_for(message: Message, requester: Requester) -> str:
    """`resolve_language` for a message whose rows are already loaded."""
    user = message.from_user
    return resolve_language(
        requester, chat_type=message.chat.type, language_code=user.language_code if user else None
    )


def resolve_language(requester: Requester, *, chat_type: str, language_code: str | None) -> str:
    """A group speaks its own language (set by its admins with /language, else adopted from its
    first user); a private chat speaks the user's /language choice, else their Telegram one."""
    if requester.chat.language and chat_type != Chat.PRIVATE:
        return requester.chat.language
    if requester.user is not None and requester.user.language:
        return requester.user.language
    return pick_language(language_code)
