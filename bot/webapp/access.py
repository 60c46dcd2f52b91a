"""Who may see and change which songs in the Mini App: the chat library's rules, once more.

Why its own module: the page's every call goes through these three questions, and they must
answer as the chat buttons do (handlers/library.py): your own songs are yours; a group's songs
are seen by its members (asked of Telegram, never taken from the page); renaming, deleting and
sharing a song by link are for whoever asked for it, or an admin of the chat it was made in.
"""

from __future__ import annotations

import time
from typing import Final

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.intake.chat_admins import is_chat_admin
from bot.services import Services
from storage.songs import Song

MEMBER_CACHE_SECONDS: Final = 60.0
MEMBER_CACHE_SIZE: Final = 4096
_MEMBER_STATES: Final = frozenset(
    {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


class Members:
    """getChatMember answers for a minute, bounded: a page lists many times in a session."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, int], tuple[float, bool]] = {}

    async def is_member(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        now = time.monotonic()
        hit = self._seen.get((chat_id, user_id))
        if hit is not None and now - hit[0] < MEMBER_CACHE_SECONDS:
            return hit[1]
        try:
            member = await bot.get_chat_member(chat_id=chat_id, user_id=user_id)
            result = member.status in _MEMBER_STATES or (
                member.status == ChatMemberStatus.RESTRICTED
                and bool(getattr(member, "is_member", False))
            )
        except TelegramError:
            result = False  # a chat the bot cannot see is a chat the page cannot show
        if len(self._seen) >= MEMBER_CACHE_SIZE:
            self._seen.pop(next(iter(self._seen)))
        self._seen[(chat_id, user_id)] = (now, result)
        return result


def group_of(start_param: str | None) -> int | None:
    """The group a 📚 button in a group opened the app for (`start_param` `g<chat id>`)."""
    if not start_param or not start_param.startswith("g"):
        return None
    raw = start_param[1:].replace("_", "-")
    try:
        chat_id = int(raw)
    except ValueError:
        return None
    return chat_id if chat_id < 0 else None


async def may_see(
    services: Services, bot: Bot, members: Members, user_id: int, song: Song
) -> bool:
    if song.owner_id == user_id:
        return True
    if song.chat_type == "private":
        return False
    return await members.is_member(bot, song.chat_id, user_id)


async def may_manage(services: Services, bot: Bot, user_id: int, song: Song) -> bool:
    if song.owner_id == user_id:
        return True
    if song.chat_type == "private":
        return False
    return await is_chat_admin(services, bot, song.chat_id, user_id)
