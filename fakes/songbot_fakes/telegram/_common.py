"""What every concern of the fake shares: wire constants, the records tests read, small helpers."""

from __future__ import annotations

import contextvars
import copy
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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


# ---- records the tests read --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One multipart file part exactly as received."""

    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(slots=True)
class ApiCall:
    """One Bot API request and the answer the fake gave. `time` is `clock()` when it arrived;
    `params` are typed per the spec (JSON fields decoded), `files` are the multipart file parts."""

    method: str
    params: JSON
    files: dict[str, UploadedFile]
    time: float
    http_status: int = 0
    response: JSON = field(default_factory=dict)
    http_method: str = "POST"
    content_type: str = ""
    scripted: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str:
        return str(self.response.get("description", ""))

    def file(self, name: str) -> UploadedFile | None:
        """The file sent for parameter `name`, following an `attach://` reference."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return self.files.get(name)

    def brief(self) -> str:
        shown = {
            k: (v if len(repr(v)) < 80 else repr(v)[:77] + "...") for k, v in self.params.items()
        }
        files = {k: f"{f.filename} {f.content_type} {f.size}B" for k, f in self.files.items()}
        return f"{self.method} -> {self.http_status} {self.description} {shown} {files or ''}"


@dataclass(slots=True)
class ScriptedFault:
    """A planned error and/or delay for the next `times` calls of `method` matching `match`."""

    method: str
    status: int | None
    description: str | None
    retry_after: int | None
    times: int | None
    match: Callable[[JSON], bool] | None
    delay: float
    hits: int = 0  # calls that arrived and matched (counted before `delay`)
    # Hooks for crash tests: answer `delay_after` seconds late after handling the call (Telegram
    # accepted it, the answer is lost); with `abandon_if_gone`, a call whose client disconnected
    # during `delay` is dropped unhandled (an upload that never completed).
    delay_after: float = 0.0
    abandon_if_gone: bool = False
    handled: int = 0  # calls the fake carried out (for `delay_after`: before the late answer)
    # With `status=None`: carry the call out, then answer ok with a result of the wrong shape
    # (a list where the method returns an object), as a misbehaving proxy might.
    garble: bool = False

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass(slots=True)
class WebhookDelivery:
    """One injected update pushed to the bot's webhook (after retries)."""

    update: JSON
    status: int | None
    attempts: int
    error: str = ""


@dataclass(slots=True)
class WebhookPost:
    """One attempt to POST an update to the webhook, recorded when it starts: `status` stays
    None while it is in flight and when the connection failed (`error` says so); `done` is set
    once the attempt ended either way. Lets a crash test kill the bot mid-POST or right after
    its answer."""

    update: JSON
    started: float
    status: int | None = None
    error: str = ""
    done: bool = False


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


# ---- internal state ---------------------------------------------------------------------------


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    admins: set[int] = field(default_factory=set)
    statuses: dict[int, str] = field(default_factory=dict)
    topics: set[int] = field(default_factory=set)
    state: str = "ok"  # ok | blocked | kicked | forgotten
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    next_message_id: int = 1

    def as_chat(self) -> JSON:
        chat: JSON = {"id": self.id, "type": self.type}
        if self.title is not None:
            chat["title"] = self.title
        if self.first_name is not None:
            chat["first_name"] = self.first_name
        if self.username is not None:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    size: int
    file_path: str
    obj: Any  # the Voice/Audio/... dict, or a list of PhotoSize for photos


@dataclass
class _CallbackQuery:
    created: float
    chat_id: int
    message_id: int
    user_id: int
    answered: bool = False


@dataclass
class _InlineQuery:
    created: float
    user_id: int
    query: str
    offset: str
    answered: bool = False


@dataclass
class Invoice:
    """An invoice the bot sent (sendInvoice), as the user's Telegram app would show it."""

    chat_id: int
    message_id: int
    payload: str
    currency: str
    total_amount: int


@dataclass
class PreCheckout:
    """A pre_checkout_query we sent and how (and how fast) the bot answered it."""

    query_id: str
    user_id: int
    chat_id: int
    payload: str
    currency: str
    total_amount: int
    created: float
    answered_at: float | None = None
    ok: bool | None = None
    error_message: str | None = None

    @property
    def answer_seconds(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.created


@dataclass
class StarPayment:
    """A completed Stars payment: the successful_payment message Telegram sent the bot."""

    charge_id: str
    user_id: int
    chat_id: int
    payload: str
    total_amount: int
    update: JSON
    refunded: bool = False


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
