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
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import copy
import io
import json
import logging
import math
import mimetypes
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
from aiohttp import web
from aiohttp.multipart import BodyPartReader

from songbot_fakes.telegram_html import (
    HtmlParseError,
    ParsedText,
    parse_html,
    strip_text,
    utf16_len,
)
from songbot_fakes.telegram_spec import ApiSpec, MethodSpec, ParamError, load_spec

__all__ = [
    "ApiCall",
    "FakeTelegram",
    "ScriptedFault",
    "UploadedFile",
    "WebhookDelivery",
    "WebhookPost",
]

log = logging.getLogger(__name__)
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


class FakeTelegram:
    """The fake Bot API server plus a Python control API for tests and `songbot demo`."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "SongTestBot",
        flood_limits: bool = True,
    ) -> None:
        self.token = token
        self.username = username
        self.flood_limits = flood_limits
        self.spec: ApiSpec = load_spec()
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Song Test Bot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        # Tunables (plain attributes so tests can adjust them).
        self.clock: Callable[[], float] = time.monotonic
        self.chat_burst = 5
        self.chat_rate = 1.0
        self.group_per_minute = 20
        self.global_per_second = 30
        self.flood_jitter = 0.0
        self.upload_limit = 50_000_000
        self.photo_upload_limit = 10_000_000
        self.download_limit = 20_000_000
        self.callback_ttl = 15.0
        # Attempts per update before giving up on it; None retries until the webhook answers
        # 2xx, as Telegram does with an update that was never acknowledged (it keeps it and
        # retries with growing pauses, for hours). Pauses double from `webhook_backoff` up to
        # `webhook_backoff_max`.
        self.webhook_attempts: int | None = 3
        self.webhook_backoff = 0.05
        self.webhook_backoff_max = 2.0
        # Records.
        self.calls: list[ApiCall] = []
        self.rate_limited: list[ApiCall] = []
        # Each flood refusal's (method, chat id, limits broken: "chat", "group" and/or "global").
        self.flood_refusals: list[tuple[str, int, tuple[str, ...]]] = []
        # setChatMenuButton: chat id (None: every private chat) -> the button.
        self.menu_buttons: dict[Any, JSON] = {}
        self.uploaded_audio: list[UploadedFile] = []
        self.downloads: list[str] = []
        # Serve file downloads one byte per this many seconds (a stalling file server).
        self.download_drip_seconds: float | None = None
        # Serve file downloads at this many bytes a second (a real link's pace, so downloads
        # overlap as they do in production: bench/bench_references.py).
        self.download_bytes_per_second: float | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.webhook_posts: list[WebhookPost] = []
        self.callback_answers: dict[str, JSON] = {}
        # answerInlineQuery calls that Telegram accepted, by inline query id.
        self.inline_answers: dict[str, JSON] = {}
        # How long an inline query can be answered (Telegram: a few seconds).
        self.inline_ttl = 15.0
        self.scripts: list[ScriptedFault] = []
        self.invoices: list[Invoice] = []
        self.pre_checkouts: dict[str, PreCheckout] = {}
        self.star_payments: dict[str, StarPayment] = {}
        # The bot's Star transactions as getStarTransactions lists them, oldest first: a payment
        # when Telegram charges, another row with the same id when it is refunded.
        self.star_transactions: list[JSON] = []
        # False: Telegram charges and records a payment but the bot never sees its
        # successful_payment (as when a process took the update and died before crediting it).
        self.deliver_payments = True
        # State.
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_counter = 0
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._queue: list[JSON] = []
        self._next_update_id = 100_001
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self.polls_waiting = 0  # getUpdates requests currently held open
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._inline_queries: dict[str, _InlineQuery] = {}
        self._buckets: dict[int, tuple[float, float]] = {}
        self._group_windows: dict[int, deque[float]] = {}
        self._global_window: deque[float] = deque()
        self._webhook: JSON | None = None
        self._webhook_queue: deque[JSON] = deque()
        self._webhook_inflight = 0
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None
        # Server plumbing.
        self._cond: asyncio.Condition | None = None
        self._notify_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0
        self.base_url = ""
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

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, port: int = 0) -> None:
        """Listen on 127.0.0.1 (`port` 0 = a free one); `base_url` is set afterwards."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already started")
        self._closing = False
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=self.upload_limit + 16_000_000)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock, shutdown_timeout=2.0).start()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery, close the server and client."""
        self._closing = True
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- waiting and notification ------------------------------------------------------------

    def _notify(self) -> None:
        """Wake everything waiting on the condition; callable from sync code on the loop."""
        if self._cond is None or self._notify_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # nothing can be waiting without a running loop
        self._notify_scheduled = True
        task = loop.create_task(self._notify_all())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify_all(self) -> None:
        self._notify_scheduled = False
        assert self._cond is not None
        async with self._cond:
            self._cond.notify_all()

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        if predicate():
            return True
        if self._cond is None or timeout <= 0:
            return predicate()
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
            except TimeoutError:
                return predicate()
        return True

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but end early when the server stops."""
        await self._wait_until(lambda: self._closing, seconds)

    # ---- control API: calls -----------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        wanted = self.spec.canonical(method) or method
        return [call for call in self.calls if call.method == wanted]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        timeout: float = 10.0,
        count: int = 1,
    ) -> ApiCall:
        """Wait until `count` answered calls of `method` (matching `predicate`) exist; return the
        `count`-th. Raises TimeoutError listing recent calls so a failing test explains itself."""

        def matches(call: ApiCall) -> bool:
            try:
                return predicate is None or predicate(call)
            except (KeyError, IndexError, TypeError):
                return False  # e.g. `c.params["text"]` on a call without text

        def matching() -> list[ApiCall]:
            return [c for c in self.calls_to(method) if matches(c)]

        if await self._wait_until(lambda: len(matching()) >= count, timeout):
            return matching()[count - 1]
        recent = [c for c in self.calls if c.method != "getUpdates"][-15:]
        dump = "\n  ".join(c.brief() for c in recent) or "(no calls besides getUpdates)"
        raise TimeoutError(
            f"no {count} matching {method} call(s) within {timeout}s "
            f"(found {len(matching())}); recent calls:\n  {dump}"
        )

    def script(
        self,
        method: str,
        *,
        status: int | None = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        match: Callable[[JSON], bool] | None = None,
        delay: float = 0.0,
        delay_after: float = 0.0,
        abandon_if_gone: bool = False,
        garble: bool = False,
    ) -> ScriptedFault:
        """Plan a fault: the next `times` (None = always) calls of `method` whose typed params
        satisfy `match` wait `delay` seconds, then fail with `status` (None = answer normally).

        With `status=None`, `delay_after` handles the call first and answers that much later,
        and `abandon_if_gone` drops a call whose client went away during `delay`. `hits` and
        `handled` on the returned fault tell a test when a call arrived and when it was done."""
        canonical = self.spec.canonical(method)
        if canonical is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = ScriptedFault(
            canonical,
            status,
            description,
            retry_after,
            times,
            match,
            delay,
            delay_after=delay_after,
            abandon_if_gone=abandon_if_gone,
            garble=garble,
        )
        self.scripts.append(fault)
        return fault

    # ---- control API: chats, users, conversation --------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "Ann",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        chat = self._chats.get(user_id)
        if chat is not None and chat.type == "private":
            chat.first_name, chat.username = first_name, username
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str = "private",
        title: str | None = None,
        is_forum: bool = False,
        admins: Iterable[int] = (),
    ) -> JSON:
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, groups negative ones")
        if is_forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        chat = _Chat(chat_id, type, is_forum=is_forum, admins=set(admins))
        for admin in chat.admins - set(self._users) - {self.bot_user["id"]}:
            self.add_user(admin)
        if type == "private":
            user = self._users.get(chat_id) or self.add_user(chat_id)
            chat.first_name, chat.username = user["first_name"], user.get("username")
        else:
            chat.title = title or f"Test group {abs(chat_id)}"
        previous = self._chats.get(chat_id)
        if previous is not None:  # keep the history when a test re-declares a chat
            chat.messages, chat.deleted = previous.messages, previous.deleted
            chat.next_message_id, chat.topics = previous.next_message_id, previous.topics
        self._chats[chat_id] = chat
        return chat.as_chat()

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Declare a forum topic (its id is the id of the topic's first message)."""
        chat = self._chat_for_inject(chat_id, forum=True)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        chat.topics.add(thread_id)
        chat.next_message_id = max(chat.next_message_id, thread_id + 1)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember reports (creator, administrator, member, restricted, left...)."""
        if status not in ("creator", "administrator", "member", "restricted", "left", "kicked"):
            raise ValueError(f"unknown member status {status!r}")
        if user_id not in self._users and user_id != self.bot_user["id"]:
            self.add_user(user_id)
        self._chat_for_inject(chat_id).statuses[user_id] = status

    def block_chat(self, chat_id: int, *, kicked: bool = False) -> None:
        """The user blocked the bot (private) or the bot was removed from the group."""
        chat = self._chat_for_inject(chat_id)
        chat.state = "kicked" if kicked and chat.type != "private" else "blocked"

    def unblock_chat(self, chat_id: int) -> None:
        self._chat_for_inject(chat_id).state = "ok"

    def forget_chat(self, chat_id: int) -> None:
        """Make the chat unknown to the API (400 "chat not found"); its history stays readable."""
        self._chat_for_inject(chat_id).state = "forgotten"

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Simulate a user deleting a message."""
        chat = self._chats[chat_id]
        if chat.messages.pop(message_id, None) is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        chat.deleted.add(message_id)

    def messages(self, chat_id: int) -> list[JSON]:
        """The conversation in order, edits applied, deleted messages gone."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(chat.messages[k]) for k in sorted(chat.messages)]

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_user["id"]]

    def message(self, chat_id: int, message_id: int) -> JSON:
        return copy.deepcopy(self._chats[chat_id].messages[message_id])

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands set with setMyCommands for this scope and language."""
        return copy.deepcopy(self._commands.get(self._scope_key(scope, language_code), []))

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    @property
    def pending_updates(self) -> int:
        if self._webhook is not None:
            return len(self._webhook_queue) + self._webhook_inflight
        return len(self._queue)

    # ---- control API: injecting updates -----------------------------------------------------

    def _user(self, user_id: int) -> JSON:
        return dict(self._users.get(user_id) or self.add_user(user_id))

    def _chat_for_inject(self, chat_id: int, *, forum: bool = False) -> _Chat:
        if chat_id not in self._chats:
            if chat_id > 0:
                self.add_chat(chat_id)
            else:
                self.add_chat(chat_id, type="supergroup", is_forum=forum)
        return self._chats[chat_id]

    def _user_message(
        self,
        chat_id: int,
        user_id: int,
        *,
        reply_to: int | None,
        thread_id: int | None,
        is_topic: bool,
        sender_chat: int | None = None,
    ) -> tuple[_Chat, JSON]:
        chat = self._chat_for_inject(chat_id, forum=is_topic)
        if is_topic:
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum: add_chat(..., is_forum=True)")
            if thread_id is None:
                raise ValueError("is_topic=True needs thread_id")
            chat.topics.add(thread_id)
            chat.next_message_id = max(chat.next_message_id, thread_id + 1)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": self._user(user_id),
            "chat": chat.as_chat(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if is_topic:
                message["is_topic_message"] = True
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            message["reply_to_message"] = _strip_reply(target)
        if sender_chat is not None:
            # As Telegram sends them: an anonymous admin speaks as the group itself with `from`
            # set to @GroupAnonymousBot; a user posting as a channel has `from` @Channel_Bot.
            if sender_chat == chat_id:
                message["from"] = dict(GROUP_ANONYMOUS_BOT)
                message["sender_chat"] = chat.as_chat()
            else:
                if sender_chat not in self._chats:
                    self.add_chat(sender_chat, type="channel", title=f"Channel {-sender_chat}")
                message["from"] = dict(CHANNEL_BOT)
                message["sender_chat"] = self._chats[sender_chat].as_chat()
        return chat, message

    def _command_entities(self, text: str) -> list[JSON]:
        match = _COMMAND_RE.match(text)
        if match is None:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        is_topic: bool = False,
        sender_chat: int | None = None,
    ) -> JSON:
        """A user writes `text`; a leading /command gets its `bot_command` entity.
        `sender_chat`: post as that channel, or as the group itself (an anonymous admin)."""
        chat, message = self._user_message(
            chat_id,
            user_id,
            reply_to=reply_to,
            thread_id=thread_id,
            is_topic=is_topic,
            sender_chat=sender_chat,
        )
        message["text"] = text
        entities = self._command_entities(text) + _mention_entities(text)
        if entities:
            message["entities"] = entities
        return self._store_and_enqueue(chat, message)

    def send_media(
        self,
        chat_id: int,
        user_id: int,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        duration: int | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        declared_size: int | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        is_topic: bool = False,
    ) -> JSON:
        """A user sends a file; getFile and the download route then serve `data`.
        `declared_size` overrides the reported size (to test the 20 MB limit cheaply)."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"kind must be one of {MEDIA_KINDS}")
        chat, message = self._user_message(
            chat_id, user_id, reply_to=reply_to, thread_id=thread_id, is_topic=is_topic
        )
        size = declared_size if declared_size is not None else len(data)
        if kind in ("voice", "audio", "video", "video_note") and duration is None:
            duration = _audio_duration(data) or 1
        meta: JSON = {}
        if kind == "voice":
            meta = {"duration": duration, "mime_type": mime_type or "audio/ogg"}
        elif kind == "audio":
            meta = {"duration": duration, "mime_type": mime_type or "audio/mpeg"}
        elif kind == "document":
            meta = {"mime_type": mime_type or "application/octet-stream"}
        elif kind == "video":
            meta = {"width": 640, "height": 360, "duration": duration}
            meta["mime_type"] = mime_type or "video/mp4"
        elif kind == "video_note":
            meta = {"length": 240, "duration": duration}
        elif kind == "sticker":
            meta = {"type": "regular", "width": 512, "height": 512}
            meta.update(is_animated=False, is_video=False)
        elif kind == "photo":
            info = _image_info(data)
            meta = {"width": info[1] if info else 800, "height": info[2] if info else 600}
        if file_name is not None and kind in ("audio", "document", "video"):
            meta["file_name"] = file_name
        stored = self._register_file(kind, data, meta, size=size, filename=file_name)
        message[kind] = copy.deepcopy(stored.obj)
        if caption is not None and kind != "sticker":
            message["caption"] = caption
            entities = self._command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return self._store_and_enqueue(chat, message)

    def edit_text(self, chat_id: int, message_id: int, new_text: str) -> JSON:
        """The user edits their message: an `edited_message` update with `edit_date`."""
        chat = self._chats[chat_id]
        message = chat.messages[message_id]
        key = "caption" if "caption" in message else "text"
        message[key] = new_text
        entities_key = "caption_entities" if key == "caption" else "entities"
        entities = self._command_entities(new_text)
        if entities:
            message[entities_key] = entities
        else:
            message.pop(entities_key, None)
        message["edit_date"] = int(time.time())
        self.enqueue_raw_update({"edited_message": copy.deepcopy(message)})
        return copy.deepcopy(message)

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, check_button: bool = True
    ) -> str:
        """The user taps an inline button: a `callback_query` update; returns its id.
        With `check_button` the message must really carry a button with this callback_data."""
        chat = self._chats[chat_id]
        message = chat.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if not 1 <= len(data.encode("utf-8")) <= 64:
            raise ValueError("callback_data must be 1-64 bytes")
        if check_button:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            found = {b.get("callback_data") for row in rows for b in row}
            if data not in found:
                raise ValueError(f"message {message_id} has no button with data {data!r}: {found}")
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        self._callbacks[query_id] = _CallbackQuery(self.clock(), chat_id, message_id, user_id)
        query: JSON = {
            "id": query_id,
            "from": self._user(user_id),
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(hash((chat_id, self.bot_user["id"]))) % 10**18),
            "data": data,
        }
        self.enqueue_raw_update({"callback_query": query})
        return query_id

    # ---- control API: inline mode ---------------------------------------------------------------

    def set_inline_mode(self, on: bool = True) -> None:
        """BotFather's /setinline: getMe's supports_inline_queries, and whether Telegram sends
        the bot inline queries at all."""
        self.bot_user["supports_inline_queries"] = on

    def send_inline_query(
        self, user_id: int, query: str = "", *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """The user types `@bot query` in some chat: an `inline_query` update; returns its id."""
        if not self.bot_user.get("supports_inline_queries"):
            raise RuntimeError("inline mode is off: Telegram sends no inline queries")
        if len(query) > 256:
            raise ValueError("an inline query is at most 256 characters")
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        self._inline_queries[query_id] = _InlineQuery(self.clock(), user_id, query, offset)
        update: JSON = {
            "id": query_id,
            "from": self._user(user_id),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.enqueue_raw_update({"inline_query": update})
        return query_id

    async def inline_answer(self, query_id: str, *, timeout: float = 10.0) -> JSON:
        """The bot's accepted answer to inline query `query_id` (waits for it)."""
        await self.wait_for_call(
            "answerInlineQuery",
            lambda c: c.ok and c.params.get("inline_query_id") == query_id,
            timeout=timeout,
        )
        return copy.deepcopy(self.inline_answers[query_id])

    def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> JSON:
        """The user taps a result: the message appears in `chat_id` from the user `via_bot`
        (not an update: the bot does not see a chat it is not in), and, as with BotFather's
        inline feedback on, a `chosen_inline_result` update is queued. Returns the message."""
        inline = self._inline_queries[query_id]
        answer = self.inline_answers.get(query_id)
        if answer is None:
            raise ValueError(f"inline query {query_id} has no answer to choose from")
        result = next((r for r in answer["results"] if r.get("id") == result_id), None)
        if result is None:
            raise ValueError(f"no result {result_id!r} in the answer to {query_id}")
        chat = self._chat_for_inject(chat_id)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": self._user(inline.user_id),
            "chat": chat.as_chat(),
            "date": int(time.time()),
            "via_bot": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
        }
        stored = self._files.get(str(result.get("audio_file_id")))
        if stored is not None:
            message["audio"] = copy.deepcopy(stored.obj)
        if result.get("caption"):
            message["caption"] = result["caption"]
        chat.messages[message["message_id"]] = message
        chosen: JSON = {
            "result_id": result_id,
            "from": self._user(inline.user_id),
            "query": inline.query,
        }
        self.enqueue_raw_update({"chosen_inline_result": chosen})
        return copy.deepcopy(message)

    # ---- control API: Stars payments -----------------------------------------------------------

    def pay_invoice(self, invoice: Invoice, user_id: int) -> str:
        """The user taps Pay under `invoice`: a pre_checkout_query update; returns its id.
        If the bot answers ok, Telegram charges the Stars and sends successful_payment."""
        return self.send_pre_checkout(
            user_id,
            invoice.payload,
            currency=invoice.currency,
            total_amount=invoice.total_amount,
            chat_id=invoice.chat_id,
        )

    def send_pre_checkout(
        self,
        user_id: int,
        payload: str,
        *,
        currency: str = STARS_CURRENCY,
        total_amount: int,
        chat_id: int | None = None,
    ) -> str:
        """A pre_checkout_query as-is (e.g. for an invoice sent at an older price)."""
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        self.pre_checkouts[query_id] = PreCheckout(
            query_id,
            user_id,
            user_id if chat_id is None else chat_id,
            payload,
            currency,
            total_amount,
            created=self.clock(),
        )
        query: JSON = {
            "id": query_id,
            "from": self._user(user_id),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        self.enqueue_raw_update({"pre_checkout_query": query})
        return query_id

    def redeliver_payment(self, charge_id: str) -> None:
        """The same successful_payment message again, as after a lost confirmation."""
        payment = self.star_payments[charge_id]
        update = copy.deepcopy(payment.update)
        update.pop("update_id", None)
        self.enqueue_raw_update(update)

    def forge_payment(
        self,
        user_id: int,
        payload: str,
        *,
        currency: str = STARS_CURRENCY,
        total_amount: int,
        chat_id: int | None = None,
    ) -> str:
        """A successful_payment update Telegram never charged (what a forged update would carry,
        e.g. 9,999 songs for 1 Star): queued as-is, listed nowhere; returns its charge id."""
        chat, message = self._user_message(
            user_id if chat_id is None else chat_id,
            user_id,
            reply_to=None,
            thread_id=None,
            is_topic=False,
        )
        charge_id = "stxForged" + secrets.token_urlsafe(24)
        message["successful_payment"] = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        self._store_and_enqueue(chat, message)
        return charge_id

    def _charge(self, checkout: PreCheckout) -> StarPayment:
        """Telegram took the Stars: the successful_payment service message to the bot."""
        chat = self._chat_for_inject(checkout.chat_id)
        charge_id = "stxFake" + secrets.token_urlsafe(24)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": self._user(checkout.user_id),
            "chat": chat.as_chat(),
            "date": int(time.time()),
            "successful_payment": {
                "currency": checkout.currency,
                "total_amount": checkout.total_amount,
                "invoice_payload": checkout.payload,
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": "",
            },
        }
        chat.messages[message["message_id"]] = message
        update: JSON = {"message": copy.deepcopy(message)}
        payment = StarPayment(
            charge_id,
            checkout.user_id,
            checkout.chat_id,
            checkout.payload,
            checkout.total_amount,
            update,
        )
        self.star_payments[charge_id] = payment
        self.record_star_transaction(
            charge_id,
            checkout.total_amount,
            source=self._star_partner(checkout.user_id, checkout.payload),
        )
        if self.deliver_payments:
            self.enqueue_raw_update(copy.deepcopy(update))
        return payment

    def record_star_transaction(
        self,
        transaction_id: str,
        amount: int,
        *,
        source: JSON | None = None,
        receiver: JSON | None = None,
    ) -> JSON:
        """Append one StarTransaction (e.g. a withdrawal to Fragment); exactly one of
        `source` (incoming) and `receiver` (outgoing) is set, as Telegram reports them."""
        if (source is None) == (receiver is None):
            raise ValueError("a Star transaction has either a source or a receiver")
        row: JSON = {"id": transaction_id, "amount": amount, "date": int(time.time())}
        if source is not None:
            row["source"] = copy.deepcopy(source)
        else:
            row["receiver"] = copy.deepcopy(receiver)
        self.star_transactions.append(row)
        return row

    def _star_partner(self, user_id: int, payload: str) -> JSON:
        """TransactionPartnerUser of an invoice payment (and of its refund)."""
        return {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": self._user(user_id),
            "invoice_payload": payload,
        }

    def enqueue_raw_update(self, update: JSON) -> None:
        """Queue an update as-is (an `update_id` is assigned if missing)."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
        if self._webhook is not None:
            self._webhook_queue.append(update)
        else:
            self._queue.append(update)
        self._notify()

    def _store_and_enqueue(self, chat: _Chat, message: JSON) -> JSON:
        chat.messages[message["message_id"]] = message
        self.enqueue_raw_update({"message": copy.deepcopy(message)})
        return copy.deepcopy(message)

    # ---- files --------------------------------------------------------------------------------

    def _register_file(
        self, kind: str, data: bytes, meta: JSON, *, size: int, filename: str | None
    ) -> _StoredFile:
        self._file_counter += 1
        number = self._file_counter
        file_id = f"{_FILE_ID_PREFIX[kind]}{number:05d}{secrets.token_urlsafe(24)}"
        unique_id = f"AgAD{number:04d}{secrets.token_urlsafe(6)}"
        folder, ext = _FILE_DIR[kind]
        if filename and "." in filename and kind in ("audio", "document", "video"):
            ext = filename.rsplit(".", 1)[1].lower() or ext
        path = f"{folder}/file_{number}.{ext}"
        obj: Any = {"file_id": file_id, "file_unique_id": unique_id, **meta, "file_size": size}
        if kind == "photo":
            obj = [obj]
        stored = _StoredFile(file_id, unique_id, kind, data, size, path, obj)
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    # ---- HTTP dispatch ------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path  # percent-decoded
        if path.startswith("/file/bot"):
            return await self._download(request, path.removeprefix("/file/bot"))
        if not path.startswith("/bot") or request.method not in ("GET", "POST"):
            return self._envelope(404, "Not Found")
        token, _, method_name = path.removeprefix("/bot").partition("/")
        if not _TOKEN_RE.fullmatch(token):
            return self._envelope(404, "Not Found")
        call = ApiCall(
            method_name,
            {},
            {},
            self.clock(),
            http_method=request.method,
            content_type=request.headers.get("Content-Type", ""),
        )
        _ARRIVAL.set(call.time)
        try:
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            canonical = self.spec.canonical(method_name) if "/" not in method_name else None
            if canonical is None:
                raise _ApiError(404, "Not Found")
            call.method = canonical
            raw, files = await self._read_params(request)
            call.files = files
            call.params = dict(raw)
            handler = self._handlers.get(canonical)
            method_spec = self.spec.method(canonical)
            if handler is None or method_spec is None:
                raise _ApiError(
                    404, f"Not Found: method {canonical} is not implemented by the fake"
                )
            params = self._decode(method_spec, raw, files)
            call.params = params
            fault = await self._apply_script(call, request)
            result = await handler(params, files)
            if fault is not None:
                fault.handled += 1
                if fault.delay_after > 0:
                    await self._sleep(fault.delay_after)
                if fault.garble:
                    result = ["unexpected result shape"]
        except _ApiError as error:
            return self._finish(request, call, error.status, self._error_body(error))
        except ConnectionResetError:
            # The client hung up mid-request (a cancelled call): nobody is left to answer, and
            # Telegram, like any server, just drops it. Recorded, not a crash of the fake.
            log.debug("client went away during %s", method_name)
            return self._finish(request, call, 499, {"ok": False, "description": "client gone"})
        except Exception:
            log.exception("fake Telegram crashed on %s", method_name)
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            return self._finish(request, call, 500, body)
        return self._finish(request, call, 200, {"ok": True, "result": result})

    @staticmethod
    def _error_body(error: _ApiError) -> JSON:
        body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return body

    def _envelope(self, status: int, description: str) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": status, "description": description}, status=status
        )

    def _finish(
        self, request: web.Request, call: ApiCall, status: int, body: JSON
    ) -> web.Response:
        call.http_status = status
        call.response = body
        if request.transport is None or request.transport.is_closing():
            # The client gave up (e.g. PTB cancelled its long poll): nobody reads this answer.
            call.http_status = ABANDONED
        self.calls.append(call)
        if call.http_status == 429:
            self.rate_limited.append(call)
        self._notify()
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files
        ctype = request.content_type
        if ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = await part.read(decode=False)
                    if len(data) > self.upload_limit:
                        raise _ApiError(413, "Request Entity Too Large")
                    content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                    files[part.name] = UploadedFile(part.filename, content_type, bytes(data))
                else:
                    params[part.name] = await part.text()
        elif ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise _bad("JSON body must be an object")
            params.update(body)
        else:
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise _ApiError(413, "Request Entity Too Large") from None
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params, files

    def _decode(self, method: MethodSpec, raw: JSON, files: dict[str, UploadedFile]) -> JSON:
        params: JSON = {}
        for name, value in raw.items():
            field_spec = method.fields.get(name)
            if field_spec is None:
                params[name] = value  # unknown parameters are ignored by Telegram
                continue
            try:
                params[name] = self.spec.decode_param(field_spec, value)
            except ParamError as error:
                raise _bad(str(error)) from None
        for name, field_spec in method.fields.items():
            if name in files and "InputFile" in field_spec.types and name not in params:
                params[name] = files[name]
            if field_spec.required and name not in params:
                if name == "text":
                    raise _bad("message text is empty")
                if "InputFile" in field_spec.types:
                    raise _bad(f"there is no {name} in the request")
                raise _bad(f"{name} is empty")
        return params

    async def _apply_script(self, call: ApiCall, request: web.Request) -> ScriptedFault | None:
        """Apply the first matching fault; returns it when the call is to be handled anyway."""
        for fault in self.scripts:
            if fault.method != call.method or fault.exhausted:
                continue
            if fault.match is not None and not fault.match(call.params):
                continue
            fault.hits += 1
            if fault.delay > 0:
                if fault.abandon_if_gone:
                    await self._sleep_while_connected(request, fault.delay)
                    if _client_gone(request):
                        raise _ApiError(ABANDONED, "client went away before the call completed")
                else:
                    await self._sleep(fault.delay)
            if fault.status is None:
                return fault
            call.scripted = True
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            description = fault.description
            if description is None:
                if fault.status == 429:
                    description = f"Too Many Requests: retry after {fault.retry_after}"
                else:
                    description = _SCRIPT_DESCRIPTIONS.get(fault.status, "Internal Server Error")
            raise _ApiError(fault.status, description, parameters)
        return None

    async def _sleep_while_connected(self, request: web.Request, seconds: float) -> None:
        """Sleep like `_sleep`, but end as soon as the client has disconnected."""
        deadline = time.monotonic() + seconds
        while not self._closing and not _client_gone(request) and time.monotonic() < deadline:
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    async def _download(self, request: web.Request, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            if _TOKEN_RE.fullmatch(token):
                return self._envelope(401, "Unauthorized")
            return self._envelope(404, "Not Found")
        stored = self._files_by_path.get(file_path)
        if stored is None or request.method not in ("GET", "HEAD"):
            return self._envelope(404, "Not Found")
        self.downloads.append(file_path)
        content_type = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
        if self.download_drip_seconds is not None:  # a stalling file server (#17.8)
            drip = web.StreamResponse(headers={"Content-Type": content_type})
            drip.content_length = len(stored.data)
            await drip.prepare(request)
            for i in range(len(stored.data)):
                await drip.write(stored.data[i : i + 1])
                await self._sleep(self.download_drip_seconds)
            return drip
        if self.download_bytes_per_second is not None:
            paced = web.StreamResponse(headers={"Content-Type": content_type})
            paced.content_length = len(stored.data)
            await paced.prepare(request)
            chunk = 64 * 1024
            for i in range(0, len(stored.data), chunk):
                await paced.write(stored.data[i : i + chunk])
                await self._sleep(chunk / self.download_bytes_per_second)
            return paced
        return web.Response(body=stored.data, content_type=content_type)

    # ---- shared checks -----------------------------------------------------------------------

    def _resolve_chat(self, chat_id: Any) -> _Chat:
        chat: _Chat | None = None
        if isinstance(chat_id, int):
            chat = self._chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            chat = next(
                (c for c in self._chats.values() if (c.username or "").lower() == wanted), None
            )
        if chat is None or chat.state == "forgotten":
            raise _bad("chat not found")
        if chat.state == "blocked":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.state == "kicked":
            kind = "supergroup chat" if chat.type == "supergroup" else f"{chat.type} chat"
            raise _ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        return chat

    def _thread(self, chat: _Chat, params: JSON) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            return None
        if not chat.is_forum or thread_id == 1 or thread_id not in chat.topics:
            raise _bad("message thread not found")
        return int(thread_id)

    def _reply_target(self, chat: _Chat, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and isinstance(params.get("reply_to_message_id"), str | int):
            # Pre-7.0 style, still accepted by Telegram; not typed by the current spec.
            allow = str(params.get("allow_sending_without_reply", "")).lower() == "true"
            reply = {
                "message_id": int(params["reply_to_message_id"]),
                "allow_sending_without_reply": allow,
            }
        if reply is None:
            return None
        target_chat = chat
        if reply.get("chat_id") not in (None, chat.id):
            target_chat = self._resolve_chat(reply["chat_id"])
        target = target_chat.messages.get(reply["message_id"])
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        quote = reply.get("quote")
        if quote and quote not in (target.get("text") or target.get("caption") or ""):
            raise _bad("QUOTE_TEXT_INVALID")
        return target

    def _format(
        self, text: str | None, params: JSON, *, caption: bool
    ) -> tuple[str | None, list[JSON]]:
        """Apply parse_mode, strip like Telegram, enforce the length limits."""
        if text is None:
            return None, []
        mode_key = "parse_mode"
        mode = str(params.get(mode_key) or "").lower()
        entities_key = "caption_entities" if caption else "entities"
        if mode == "html":
            try:
                parsed = parse_html(text)
            except HtmlParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not parsed by the fake: the text is kept verbatim.
            parsed = ParsedText(text, list(params.get(entities_key) or []))
        else:
            raise _bad("unsupported parse_mode")
        parsed = strip_text(parsed)
        length = utf16_len(parsed.text)
        if caption:
            if length > 1024:
                raise _bad("message caption is too long")
        elif length == 0:
            raise _bad("message text is empty")
        elif length > 4096:
            raise _bad("message is too long")
        return parsed.text, parsed.entities

    @staticmethod
    def _markup(params: JSON, chat: _Chat | None = None) -> JSON | None:
        """The inline keyboard as Telegram checks it; with the chat, a `web_app` button is
        refused outside private chats (BUTTON_TYPE_INVALID) and without https, as Telegram does."""
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return None
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards are not part of the returned Message
        actions = (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        for row in rows:
            for button in row:
                if not any(key in button for key in actions):
                    raise _bad(
                        "can't parse inline keyboard button: Text buttons are unallowed "
                        "in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
                web_app = button.get("web_app")
                if web_app is not None:
                    if chat is not None and chat.type != "private":
                        raise _bad("BUTTON_TYPE_INVALID")
                    if not str((web_app or {}).get("url", "")).startswith("https://"):
                        raise _bad("BUTTON_URL_INVALID")
        return markup

    def _flood(self, method: str, chat: _Chat) -> None:
        if not self.flood_limits or method not in FLOOD_METHODS:
            return
        now = _ARRIVAL.get() or self.clock()
        waits: list[float] = []
        broken: list[str] = []
        tokens, last = self._buckets.get(chat.id, (float(self.chat_burst), now))
        tokens = min(float(self.chat_burst), tokens + (now - last) * self.chat_rate)
        if tokens < 1:
            waits.append((1 - tokens) / self.chat_rate)
            broken.append("chat")
        group = self._group_windows.setdefault(chat.id, deque())
        while group and group[0] <= now - 60:
            group.popleft()
        is_group = chat.type in ("group", "supergroup")
        if is_group and len(group) >= self.group_per_minute:
            waits.append(group[0] + 60 - now)
            broken.append("group")
        while self._global_window and self._global_window[0] <= now - 1:
            self._global_window.popleft()
        # Arrival order can differ from handling order by an upload's read time: count what
        # arrived within the (jitter-narrowed) second before this message or after it.
        span = 1.0 - self.flood_jitter
        in_window = [at for at in self._global_window if at > now - span]
        if len(in_window) >= self.global_per_second:
            waits.append(min(in_window) + 1 - now)
            broken.append("global")
        if waits:
            self.flood_refusals.append((method, chat.id, tuple(broken)))
            self._buckets[chat.id] = (tokens, now)
            retry = max(1, math.ceil(max(waits)))
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._buckets[chat.id] = (tokens - 1, now)
        if is_group:
            group.append(now)
        bisect.insort(self._global_window, now)

    def _new_message(
        self,
        method: str,
        chat: _Chat,
        params: JSON,
        content: JSON,
    ) -> JSON:
        """Create, store and return a message the bot sent (after the flood check)."""
        thread = self._thread(chat, params)
        reply_to = self._reply_target(chat, params)
        markup = self._markup(params, chat)
        if markup is not None and not markup.get("inline_keyboard"):
            # What Telegram answers for `{"inline_keyboard": []}` on a new message (#25.3).
            raise _bad("field reply_markup.inline_keyboard is required")
        self._flood(method, chat)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": chat.as_chat(),
            "date": int(time.time()),
        }
        if thread is None and reply_to is not None and "message_thread_id" in reply_to:
            # A reply lands in the replied-to message's thread, as in Telegram.
            thread = reply_to["message_thread_id"]
            if reply_to.get("is_topic_message"):
                message["is_topic_message"] = True
            message["message_thread_id"] = thread
        elif thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = _strip_reply(reply_to)
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        return copy.deepcopy(message)

    # ---- methods ------------------------------------------------------------------------------

    async def _true(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return dict(self.bot_user)

    def _allowed(self, update: JSON) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _NOT_BY_DEFAULT
        return kind in self._allowed_updates

    async def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        if self._webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        offset = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(int(params.get("timeout", 0)), 0), 50)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        # A newer getUpdates terminates an older one still waiting, like the real server.
        self._poll_generation += 1
        mine = self._poll_generation
        self._notify()
        if offset is not None and offset != 0:
            if offset < 0:
                self._queue = self._queue[offset:]
            else:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
        self._queue = [u for u in self._queue if self._allowed(u)]

        def ready() -> bool:
            return (
                bool(self._queue)
                or mine != self._poll_generation
                or self._closing
                or self._webhook is not None
            )

        self.polls_waiting += 1
        try:
            await self._wait_until(ready, timeout)
        finally:
            self.polls_waiting -= 1
        if mine != self._poll_generation:
            raise _ApiError(409, CONFLICT_POLL)
        if self._webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        self._queue = [u for u in self._queue if self._allowed(u)]
        return copy.deepcopy(self._queue[:limit])

    async def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = str(params["url"])
        if not url:
            return await self._delete_webhook(params, files)
        if not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._queue.clear()
            self._webhook_queue.clear()
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self._webhook_error = None
        self._webhook_queue.extend(self._queue)
        self._queue.clear()
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())
        self._notify()
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._webhook = None
        self._queue.extend(self._webhook_queue)
        self._webhook_queue.clear()
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates,
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        text, entities = self._format(params["text"], params, caption=False)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._new_message("sendMessage", chat, params, content)

    def _editable(self, params: JSON) -> tuple[_Chat, JSON]:
        if "inline_message_id" in params and "chat_id" not in params:
            raise _bad("MESSAGE_ID_INVALID")
        if "chat_id" not in params:
            raise _bad("chat_id is empty")
        if "message_id" not in params:
            raise _bad("message identifier is not specified")
        chat = self._resolve_chat(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad("message can't be edited")
        return chat, message

    async def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, message = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = self._format(params.get("text"), params, caption=False)
        if text is None:
            raise _bad("message text is empty")
        markup = self._markup(params, chat)
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _bad(NOT_MODIFIED)
        self._flood("editMessageText", chat)
        message["text"] = text
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)  # an edit without markup drops the keyboard
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> JSON:
        chat, message = self._editable(params)
        markup = self._markup(params, chat)
        if markup == message.get("reply_markup"):
            raise _bad(NOT_MODIFIED)
        self._flood("editMessageReplyMarkup", chat)
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise _bad("message to delete not found")
        own = message["from"]["id"] == self.bot_user["id"]
        if not own and chat.type != "private" and self.bot_user["id"] not in chat.admins:
            raise _bad("message can't be deleted")
        del chat.messages[params["message_id"]]
        chat.deleted.add(params["message_id"])
        return True

    async def _thumbnail(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[UploadedFile, JSON] | None:
        value = params.get("thumbnail")
        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith("attach://"):
            raise _bad("thumbnail must be uploaded as a new file and passed as attach://<name>")
        upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        info = await asyncio.to_thread(_image_info, upload.data)
        if info is None or info[0] != "JPEG":
            raise _bad("invalid thumbnail: it must be a JPEG image")
        if upload.size > 200_000 or max(info[1], info[2]) > 320:
            raise _bad(
                f"invalid thumbnail: must be under 200 kB and at most 320x320 "
                f"(got {upload.size} bytes, {info[1]}x{info[2]})"
            )
        return upload, {"width": info[1], "height": info[2]}

    async def _send_file(  # noqa: C901
        self, method: str, kind: str, params: JSON, files: dict[str, UploadedFile]
    ) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        caption, caption_entities = self._format(params.get("caption"), params, caption=True)
        value = params[kind]
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            value = attached
        upload: UploadedFile | None = None
        existing: _StoredFile | None = None
        meta: JSON = {}
        thumbnail: tuple[UploadedFile, JSON] | None = None
        if isinstance(value, UploadedFile):
            upload = value
            if upload.size == 0:
                raise _bad("file must be non-empty")
            if kind == "photo":
                if upload.size > self.photo_upload_limit:
                    raise _bad("file is too big")
                info = await asyncio.to_thread(_image_info, upload.data)
                if info is None:
                    raise _bad("IMAGE_PROCESS_FAILED")
                if info[1] + info[2] > 10_000:
                    raise _bad("PHOTO_INVALID_DIMENSIONS")
                meta = {"width": info[1], "height": info[2]}
            else:
                meta = await self._file_meta(kind, upload, params)
            if "thumbnail" in self.spec.methods[method].fields:
                thumbnail = await self._thumbnail(params, files)
        elif value.startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        else:
            existing = self._files.get(value)
            if existing is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad("type of file mismatch")
        content: JSON = {}
        if caption:
            content["caption"] = caption
            if caption_entities:
                content["caption_entities"] = caption_entities
        message = self._new_message(method, chat, params, content)  # flood check inside
        if upload is not None:
            if thumbnail is not None:
                thumb, thumb_meta = thumbnail
                meta["thumbnail"] = self._register_file(
                    "thumbnail", thumb.data, thumb_meta, size=thumb.size, filename=thumb.filename
                ).obj
            existing = self._register_file(
                kind, upload.data, meta, size=upload.size, filename=upload.filename
            )
            if kind == "audio":
                self.uploaded_audio.append(upload)
        assert existing is not None
        stored_message = chat.messages[message["message_id"]]
        stored_message[kind] = copy.deepcopy(existing.obj)
        message[kind] = copy.deepcopy(existing.obj)
        return message

    async def _file_meta(self, kind: str, upload: UploadedFile, params: JSON) -> JSON:
        mime = upload.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(upload.filename or "")[0] or _DEFAULT_MIME.get(kind)
        meta: JSON = {}
        if kind in ("audio", "voice"):
            duration = params.get("duration")
            if duration is None:
                duration = await asyncio.to_thread(_audio_duration, upload.data) or 0
            meta["duration"] = duration
        if kind == "audio":
            for key in ("performer", "title"):
                if params.get(key):
                    meta[key] = params[key]
        if kind in ("audio", "document") and upload.filename:
            meta["file_name"] = upload.filename
        if mime:
            meta["mime_type"] = mime
        return meta

    async def _send_audio(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendAudio", "audio", params, files)

    async def _send_voice(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendVoice", "voice", params, files)

    async def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendDocument", "document", params, files)

    async def _send_photo(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendPhoto", "photo", params, files)

    async def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._thread(chat, params)
        return True

    async def _send_invoice(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        currency = str(params["currency"])
        prices = params["prices"]
        if currency != STARS_CURRENCY:
            # This fake models only Stars; real Telegram needs a provider token for the rest.
            raise _bad("PAYMENT_PROVIDER_INVALID")
        if params.get("provider_token"):
            raise _bad("PAYMENT_PROVIDER_INVALID")  # Stars invoices take no provider token
        if not isinstance(prices, list) or len(prices) != 1:
            raise _bad("STARS_INVOICE_INVALID")  # exactly one price in Stars
        amount = prices[0].get("amount") if isinstance(prices[0], dict) else None
        if not isinstance(amount, int) or not 1 <= amount <= STARS_MAX_AMOUNT:
            raise _bad("CURRENCY_TOTAL_AMOUNT_INVALID")
        if not str(prices[0].get("label") or ""):
            raise _bad("price label is empty")
        if any(params.get(k) for k in ("max_tip_amount", "suggested_tip_amounts")):
            raise _bad("STARS_INVOICE_INVALID")  # no tips in Stars
        if not 1 <= len(str(params["title"])) <= 32:
            raise _bad("INVOICE_TITLE_INVALID" if params["title"] else "title is empty")
        if not 1 <= len(str(params["description"])) <= 255:
            raise _bad("INVOICE_DESCRIPTION_INVALID")
        if not 1 <= len(str(params["payload"]).encode("utf-8")) <= 128:
            raise _bad("INVOICE_PAYLOAD_INVALID")
        content: JSON = {
            "invoice": {
                "title": params["title"],
                "description": params["description"],
                "start_parameter": params.get("start_parameter") or "",
                "currency": currency,
                "total_amount": amount,
            }
        }
        message = self._new_message("sendInvoice", chat, params, content)
        self.invoices.append(
            Invoice(chat.id, message["message_id"], str(params["payload"]), currency, amount)
        )
        return message

    async def _answer_pre_checkout_query(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> bool:
        checkout = self.pre_checkouts.get(str(params["pre_checkout_query_id"]))
        now = self.clock()
        if (
            checkout is None
            or checkout.answered_at is not None
            or now - checkout.created > PRE_CHECKOUT_TTL
        ):
            raise _bad(QUERY_TOO_OLD)
        ok = bool(params["ok"])
        error = params.get("error_message")
        if not ok and not error:
            raise _bad("error_message is empty")  # required when ok is False
        checkout.answered_at, checkout.ok = now, ok
        checkout.error_message = None if ok else str(error)
        if ok:
            self._charge(checkout)
        return True

    async def _refund_star_payment(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        payment = self.star_payments.get(str(params["telegram_payment_charge_id"]))
        if payment is None or payment.user_id != int(params["user_id"]):
            raise _bad("CHARGE_NOT_FOUND")
        if payment.refunded:
            raise _bad("CHARGE_ALREADY_REFUNDED")
        payment.refunded = True
        # A refund lists as an outgoing transaction with the payment's own id (Bot API).
        self.record_star_transaction(
            payment.charge_id,
            payment.total_amount,
            receiver=self._star_partner(payment.user_id, payment.payload),
        )
        return True

    async def _get_star_transactions(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", STAR_TRANSACTIONS_PAGE))
        if offset < 0:
            raise _bad("offset must be non-negative")
        if not 1 <= limit <= STAR_TRANSACTIONS_PAGE:
            raise _bad("limit must be between 1 and 100")
        page = self.star_transactions[offset : offset + limit]
        return {"transactions": copy.deepcopy(page)}

    async def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query = self._callbacks.get(params["callback_query_id"])
        if query is None or query.answered or self.clock() - query.created > self.callback_ttl:
            raise _bad(QUERY_TOO_OLD)
        if len(params.get("text") or "") > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers[params["callback_query_id"]] = dict(params)
        return True

    async def _answer_inline_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Telegram's checks on an answer: a live query answered once, at most 50 results with
        unique ids of 1-64 bytes, a next_offset of at most 64 bytes, cached files that exist
        and are of the result's kind, captions within 1024 characters after parsing, and a
        button's start_parameter of 1-64 characters A-Za-z0-9_-. (The types of every result
        and button are checked against the spec before this runs.)"""
        query = self._inline_queries.get(str(params["inline_query_id"]))
        if query is None or query.answered or self.clock() - query.created > self.inline_ttl:
            raise _bad(INLINE_QUERY_TOO_OLD)
        results = params["results"]
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = str(result["id"])
            if not 1 <= len(result_id.encode("utf-8")) <= 64:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._check_inline_result(result)
        if len(str(params.get("next_offset") or "").encode("utf-8")) > 64:
            raise _bad("NEXT_OFFSET_INVALID")
        button = params.get("button")
        start = button.get("start_parameter") if isinstance(button, dict) else None
        if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
            raise _bad("START_PARAM_INVALID")
        query.answered = True
        self.inline_answers[str(params["inline_query_id"])] = copy.deepcopy(params)
        return True

    def _check_inline_result(self, result: JSON) -> None:
        for key, value in result.items():
            if not key.endswith("_file_id"):
                continue
            stored = self._files.get(str(value))
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if stored.kind != key.removesuffix("_file_id"):
                raise _bad("type of file mismatch")
        if result.get("caption") is not None:
            self._format(str(result["caption"]), result, caption=True)
        if result.get("reply_markup") is not None:
            self._markup({"reply_markup": result["reply_markup"]})

    async def _get_file(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > self.download_limit:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _scope_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    async def _set_chat_menu_button(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """The bot's menu button (all private chats, or one): Telegram opens a web_app only
        over https, and its label is 1-64 characters."""
        button = params.get("menu_button") or {"type": "default"}
        kind = button.get("type")
        if kind not in ("default", "commands", "web_app"):
            raise _bad("BUTTON_TYPE_INVALID")
        if kind == "web_app":
            url = str((button.get("web_app") or {}).get("url", ""))
            if not url.startswith("https://"):
                raise _bad("BUTTON_URL_INVALID")
            if not 1 <= len(str(button.get("text", ""))) <= 64:
                raise _bad("BUTTON_TEXT_INVALID")
        self.menu_buttons[params.get("chat_id")] = copy.deepcopy(button)
        return True

    async def _get_chat_menu_button(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return copy.deepcopy(self.menu_buttons.get(params.get("chat_id"), {"type": "default"}))

    async def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _BOT_COMMAND_RE.fullmatch(command["command"]):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code") or ""
        if not _LANGUAGE_RE.fullmatch(language):
            raise _bad("invalid language code specified")
        key = self._scope_key(params.get("scope"), language)
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _member(self, status: str, user: JSON) -> JSON:
        """A ChatMember of `status` with every field the spec requires."""
        subtype = next(
            spec
            for name in self.spec.types["ChatMember"].subtypes
            for spec in [self.spec.types[name]]
            if spec.fields["status"].constant == status
        )
        member: JSON = {"status": status, "user": user}
        for name, field_spec in subtype.fields.items():
            if name in member or not field_spec.required:
                continue
            if field_spec.types == ("Boolean",):
                member[name] = (
                    status == "administrator"
                    and name.startswith("can_")
                    and (name != "can_be_edited")
                )
            elif field_spec.types == ("Integer",):
                member[name] = 0
        return member

    async def _get_chat_member(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        user_id = params["user_id"]
        if user_id == self.bot_user["id"]:
            user = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        elif user_id in self._users:
            user = dict(self._users[user_id])
            user.pop("language_code", None)
        else:
            raise _bad("user not found")
        status = chat.statuses.get(user_id)
        if status is None:
            status = "administrator" if user_id in chat.admins else "member"
        return self._member(status, user)

    async def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        info = chat.as_chat()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    # ---- webhook delivery -------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        """Push queued updates to the webhook one at a time, in order, retrying like Telegram."""
        while True:
            await self._wait_until(lambda: bool(self._webhook_queue) or self._closing, 3600)
            if self._closing:
                return
            if self._webhook is None:
                await self._wait_until(lambda: self._webhook is not None or self._closing, 3600)
                continue
            update = self._webhook_queue.popleft()
            self._webhook_inflight = 1
            try:
                await self._deliver(update)
            finally:
                self._webhook_inflight = 0
                self._notify()

    async def _deliver(self, update: JSON) -> None:
        status: int | None = None
        error = ""
        attempts = 0
        attempt = 0
        while self.webhook_attempts is None or attempt < self.webhook_attempts:
            if self._webhook is None or self._closing:
                break
            attempts = attempt + 1
            post = WebhookPost(update, self.clock())
            self.webhook_posts.append(post)
            try:
                status = await self._post_update(update, self._webhook.get("secret_token"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"Connection failed: {exc.__class__.__name__}"
            post.status, post.error, post.done = status, error, True
            self._notify()
            if status is not None and 200 <= status < 300:
                error = post.error = ""
                break
            if status is not None:
                error = post.error = f"Wrong response from the webhook: {status}"
            await self._sleep(min(self.webhook_backoff_max, self.webhook_backoff * (2**attempt)))
            attempt += 1
        if error:
            self._webhook_error = (int(time.time()), error)
        self.webhook_deliveries.append(WebhookDelivery(update, status, attempts, error))

    async def _post_update(self, update: JSON, secret: str | None) -> int:
        if self._webhook is None or self._session is None:
            raise RuntimeError("no webhook is set (the bot must call setWebhook first)")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update).encode("utf-8")
        async with self._session.post(self._webhook["url"], data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def post_raw_update(self, update: JSON, *, secret: str | None) -> int:
        """POST `update` to the bot's webhook with this secret header (None = no header) and
        return the HTTP status, to test that the bot rejects forged calls."""
        return await self._post_update(update, secret)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook["url"] if self._webhook else None
