"""The records: what tests read (calls, uploads, webhook posts, invoices, payments) and the
fake's own per-chat, per-file and per-query state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from songbot_fakes.telegram._common import JSON

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
