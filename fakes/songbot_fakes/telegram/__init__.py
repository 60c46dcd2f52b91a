"""A local fake of the Telegram Bot API: a real aiohttp server that python-telegram-bot talks to.

Why a server and not mocks: the bot is exercised through PTB's real HTTP stack (form encoding,
multipart uploads, long polling, error mapping), and the fake enforces what Telegram enforces
(spec types, HTML entity parsing, length limits, flood control, topics, replies) so that mistakes
show up in tests. It has no pytest dependency because `songbot demo` runs it too.

Wire behaviour follows `shared/spec/telegram.md`; parameter types follow the official Bot API spec
(see `telegram_spec`). Flood control (on by default, `flood_limits=False` turns it off):
- per chat: token bucket of `chat_burst` (5) messages refilled at `chat_rate` (1/s), so short
  bursts pass and anything sustained above 1 msg/s gets 429;
- per group/supergroup: at most `group_per_minute` (20) messages in any 60 s window;
- global: at most `global_per_second` (30) messages in any 1 s window.
Each message is counted at the moment its request arrived (before its body was read), not when the
fake got round to it: an upload read for a while, or a fake starved of CPU, must not make messages
that travelled evenly look bunched. `flood_jitter` (seconds, default 0: strict) narrows the global
window by that much for tests on a loaded machine: a receiver that stalls for up to that long
bunches what arrived meanwhile, which a real Telegram (with its own CPUs) does not; a sender that
truly sends in bursts is still refused.
Counted: sendMessage, sendAudio, sendVoice, sendDocument, sendPhoto, editMessageText and
editMessageReplyMarkup. A refused call consumes nothing. Every 429 sent (flood or scripted) is
appended to `rate_limited`.

The fake is one `FakeTelegram` composed from one class per concern, each in its own module
(a chain, so each may use the ones below it) over `_common` (constants, helpers) and `records`
(the dataclasses tests read): `_state` (shared state, waiting), `flood`,
`messages`, `chats`, `files`, `updates` (polling and webhooks), `control` (the test-control API),
`callbacks` (button presses and inline mode), `payments` (Stars) and `server` (HTTP and dispatch).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from songbot_fakes.telegram._common import (
    ABANDONED,
    CHANNEL_BOT,
    CHAT_ACTIONS,
    CONFLICT_POLL,
    CONFLICT_WEBHOOK,
    DEFAULT_TOKEN,
    FLOOD_METHODS,
    GROUP_ANONYMOUS_BOT,
    INLINE_QUERY_TOO_OLD,
    JSON,
    MEDIA_KINDS,
    NOT_MODIFIED,
    PRE_CHECKOUT_TTL,
    QUERY_TOO_OLD,
    STAR_TRANSACTIONS_PAGE,
    STARS_CURRENCY,
    STARS_MAX_AMOUNT,
)
from songbot_fakes.telegram.records import (
    ApiCall,
    Invoice,
    PreCheckout,
    ScriptedFault,
    StarPayment,
    UploadedFile,
    WebhookDelivery,
    WebhookPost,
)
from songbot_fakes.telegram.server import _Server

# Every public name of the single module this package replaced, so imports stay unchanged.
__all__ = [
    "ABANDONED",
    "CHANNEL_BOT",
    "CHAT_ACTIONS",
    "CONFLICT_POLL",
    "CONFLICT_WEBHOOK",
    "DEFAULT_TOKEN",
    "FLOOD_METHODS",
    "GROUP_ANONYMOUS_BOT",
    "INLINE_QUERY_TOO_OLD",
    "MEDIA_KINDS",
    "NOT_MODIFIED",
    "PRE_CHECKOUT_TTL",
    "QUERY_TOO_OLD",
    "STARS_CURRENCY",
    "STARS_MAX_AMOUNT",
    "STAR_TRANSACTIONS_PAGE",
    "ApiCall",
    "FakeTelegram",
    "Invoice",
    "PreCheckout",
    "ScriptedFault",
    "StarPayment",
    "UploadedFile",
    "WebhookDelivery",
    "WebhookPost",
]


class FakeTelegram(_Server):
    """The fake Bot API server plus a Python control API for tests and `songbot demo`."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "SongTestBot",
        flood_limits: bool = True,
    ) -> None:
        super().__init__(token=token, username=username, flood_limits=flood_limits)
        self._handlers: dict[str, Callable[[JSON, dict[str, UploadedFile]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendAudio": self._send_audio,
            "sendVoice": self._send_voice,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChatMember": self._get_chat_member,
            "getChat": self._get_chat,
            "sendInvoice": self._send_invoice,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
            "getStarTransactions": self._get_star_transactions,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
        }
