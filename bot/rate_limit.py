"""Telegram's flood limits applied to what Telegram actually counts: messages, not look-ups.

Why a subclass: PTB's AIORateLimiter throttles every request that carries a `chat_id`, so an admin
check (`getChatMember`) or a chat action in a busy group would queue behind the songs for seconds.
Only sending and editing messages spend the per-group and global budgets; everything else goes
straight through (and a 429 on it is still raised to the caller).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

COUNTED_METHODS: Final = frozenset(
    {
        "sendMessage",
        "sendAudio",
        "sendVoice",
        "sendDocument",
        "sendPhoto",
        "sendVideo",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    }
)


class MessageRateLimiter(AIORateLimiter):
    """AIORateLimiter for message-sending methods only."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint not in COUNTED_METHODS:
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
