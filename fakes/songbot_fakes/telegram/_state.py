"""The attributes every concern reads and writes, and waiting/notification on one condition.

Why one base: the concerns below are slices of one fake Telegram, not separate services;
they share its chats, queues and records, so the state is declared once here and typed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from songbot_fakes.telegram._common import (
    DEFAULT_TOKEN,
    JSON,
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
    _CallbackQuery,
    _Chat,
    _InlineQuery,
    _StoredFile,
)
from songbot_fakes.telegram_spec import ApiSpec, load_spec


class _State:
    """Shared state and the wake-up condition every concern waits on."""

    _handlers: dict[str, Callable[[JSON, dict[str, UploadedFile]], Awaitable[Any]]]

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
