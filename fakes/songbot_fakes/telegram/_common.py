"""What every concern of the fake shares: wire constants, the API error, small helpers."""

from __future__ import annotations

import contextvars
import copy
import io
import logging
import re
from typing import Any, Final

from aiohttp import web

from songbot_fakes.telegram_html import (
    utf16_len,
)

# The logger keeps the name it had when the fake was one module.
log = logging.getLogger("songbot_fakes.telegram")
# When the request being handled arrived (`clock()` on entry): what flood control counts.
_ARRIVAL: Final[contextvars.ContextVar[float | None]] = contextvars.ContextVar(
    "fake_telegram_arrival", default=None
)

JSON = dict[str, Any]
DEFAULT_TOKEN: Final = "123456:TEST-token_abcdefghijklmnopqrstuv"  # noqa: S105 - fake
_TOKEN_RE: Final = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}")
_COMMAND_RE: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LANGUAGE_RE: Final = re.compile(r"(?:[a-z]{2})?")

FLOOD_METHODS: Final = frozenset(
    {
        "sendMessage",
        "sendAudio",
        "sendVoice",
        "sendDocument",
        "sendPhoto",
        "sendInvoice",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update types Telegram sends when `allowed_updates` was never set (or set to []).
_NOT_BY_DEFAULT: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# The service accounts Telegram puts in `from` when a message is sent on behalf of a chat.
GROUP_ANONYMOUS_BOT: Final = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT: Final = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}
MEDIA_KINDS: Final = ("voice", "audio", "document", "video_note", "video", "photo", "sticker")
_FILE_ID_PREFIX: Final = {
    "voice": "AwACAgIAAxkBAAI",
    "audio": "CQACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "photo": "AgACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "thumbnail": "AAMCAgADGQEAAi",
}
_FILE_DIR: Final = {
    "voice": ("voice", "oga"),
    "audio": ("music", "mp3"),
    "document": ("documents", "bin"),
    "photo": ("photos", "jpg"),
    "video": ("videos", "mp4"),
    "video_note": ("video_notes", "mp4"),
    "sticker": ("stickers", "webp"),
    "thumbnail": ("thumbnails", "jpg"),
}
_DEFAULT_MIME: Final = {
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "document": "application/octet-stream",
    "video": "video/mp4",
}
_SCRIPT_DESCRIPTIONS: Final = {
    400: "Bad Request: scripted error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CONFLICT_POLL: Final = _SCRIPT_DESCRIPTIONS[409]
CONFLICT_WEBHOOK: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
ABANDONED: Final = 499  # recorded (never sent) when the client disconnected before the answer
QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
# answerInlineQuery past its time, answered twice, or for an unknown id.
INLINE_QUERY_TOO_OLD: Final = QUERY_TOO_OLD


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    if not description.startswith("Bad Request: "):
        description = f"Bad Request: {description}"
    return _ApiError(400, description)


# Telegram's rules for one Stars invoice (Bot API: sendInvoice, LabeledPrice, "XTR").
STARS_CURRENCY: Final = "XTR"
STARS_MAX_AMOUNT: Final = 10_000
PRE_CHECKOUT_TTL: Final = 10.0  # seconds Telegram waits for answerPreCheckoutQuery
STAR_TRANSACTIONS_PAGE: Final = 100  # getStarTransactions: limit defaults to and may not exceed


def _image_info(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of an image, or None if Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return str(image.format or ""), image.width, image.height
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def _audio_duration(data: bytes) -> int | None:
    """Duration in whole seconds as mutagen reads it, or None."""
    import mutagen

    try:
        parsed = mutagen.File(io.BytesIO(data))
    except Exception:  # mutagen raises many types for garbage input
        return None
    if parsed is None or getattr(parsed, "info", None) is None:
        return None
    return round(float(parsed.info.length))


_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z]\w{4,31}\b")


def _mention_entities(text: str) -> list[JSON]:
    """`mention` entities for @usernames in a user's text, as Telegram's clients send them."""
    return [
        {
            "type": "mention",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _MENTION_RE.finditer(text)
    ]


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _strip_reply(message: JSON) -> JSON:
    nested = copy.deepcopy(message)
    nested.pop("reply_to_message", None)
    return nested
