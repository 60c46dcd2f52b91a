"""Is this user an administrator of this group? Asked of Telegram, cached briefly.

Why cache: settings buttons and admin-only requests can arrive in bursts, and getChatMember counts
against the same limits as everything else; a minute-old answer is good enough.
"""

from __future__ import annotations

import time

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot.services import Services

CACHE_SECONDS = 60.0


async def is_chat_admin(services: Services, bot: Bot, chat_id: int, user_id: int) -> bool:
    if user_id in services.config.admin_ids:
        return True
    if chat_id > 0:
        return chat_id == user_id  # a private chat belongs to its user
    if user_id == chat_id:
        return True  # an anonymous admin speaks as the group itself (see `requester_id`)
    cache = services.memo.chat_admins
    now = time.monotonic()
    hit = cache.get((chat_id, user_id))
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        member = await bot.get_chat_member(chat_id=chat_id, user_id=user_id)
        result = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    except TelegramError:
        result = False
    cache[(chat_id, user_id)] = (now, result)
    return result
