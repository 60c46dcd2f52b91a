"""Who may ask for songs: the chat allowlist and admin bans.

Why a polite message only once: a bot that answers every message in a chat it does not serve is
spam; one explanation, then silence, and never a charge.
"""

from __future__ import annotations

from telegram import Bot, Chat

from bot.errors import NotAllowed, SongbotError
from bot.services import Services
from storage.settings import Requester, load_requester


class Silent(SongbotError):
    """Stop handling this update without replying."""

    key = "error_generic"


async def check_access(
    services: Services,
    bot: Bot,
    chat: Chat,
    user_id: int,
    requester: Requester | None = None,
) -> None:
    """Raise `NotAllowed` (first time) or `Silent` (later) for chats and users we don't serve.

    Takes the chat and the requester, not a message: a command, a button press and any later
    way to ask are checked alike. `requester`: the rows the caller already loaded for this
    update (else they are read here).
    """
    config = services.config
    if user_id in config.admin_ids:
        return
    notified = services.memo.access_notified
    if config.allowed_chat_ids and chat.id not in config.allowed_chat_ids:
        marker = f"chat:{chat.id}"
        if marker in notified:
            raise Silent()
        notified.add(marker)
        raise NotAllowed("error_chat_not_allowed")
    if requester is None:
        requester = await load_requester(services.db, user_id, chat.id)
    if requester.user is not None and requester.user.banned:
        marker = f"user:{user_id}"
        if marker in notified:
            raise Silent()
        notified.add(marker)
        raise NotAllowed("error_user_banned")
    if requester.chat.who_may_request == "admins" and chat.type != "private":
        from bot.intake.chat_admins import is_chat_admin

        if not await is_chat_admin(services, bot, chat.id, user_id):
            raise NotAllowed("error_admins_only_requests")
