"""The bot's own ExtBot: getUpdates confirms an update only once it is handled, and with several
replicas waits at the poller gate (bot/telegram/poller_gate.py); and the update processor that
tells it when handling is done."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

from telegram import Update
from telegram.ext import ExtBot, SimpleUpdateProcessor

from bot.telegram.poller_gate import PollerGate
from bot.telegram.ptb_private import JSONDict
from bot.telegram.redaction import UserTextRedactor

log = logging.getLogger(__name__)


# How long a getUpdates waits for the updates it would confirm to be handled (a slow reply under
# flood control must not stall intake for long).
CONFIRM_WAIT = 5.0


class ConfirmAfterHandlingBot(ExtBot[Any]):
    """An ExtBot whose getUpdates confirms an update only once the bot has handled it.

    Why: PTB's updater asks for the next batch (whose `offset` tells Telegram the previous one
    was received) the moment it queued the last one, while the handlers are still storing the
    jobs. A crash in that window would lose those requests for good. Here a getUpdates whose
    offset would confirm an update still being handled first waits (up to CONFIRM_WAIT) for it;
    after a crash Telegram hands the update over again, and intake is idempotent.
    """

    __slots__ = ("_drained", "_poller_gate", "_redact", "_unfinished")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every text a person reads passes here, redacted (#24.6); the token is known already.
        self._redact = UserTextRedactor([self.token])
        self._unfinished: set[int] = set()
        self._drained: asyncio.Event | None = None
        # Several replicas on one database: only the lock holder polls (bot/telegram/poller_gate).
        self._poller_gate: PollerGate | None = None

    @property
    def poller_gate(self) -> PollerGate | None:
        return self._poller_gate

    def gate_polling(self, gate: PollerGate) -> None:
        """From now on getUpdates waits for `gate` (the replica's turn to poll)."""
        self._poller_gate = gate

    def hide_secrets(self, secrets: Iterable[str]) -> None:
        """Also mask these (the API key, the webhook secret...) in every text sent."""
        self._redact.add(*secrets)

    async def _do_post(self, endpoint: str, data: JSONDict, **kwargs: Any) -> Any:
        """The one step every Bot API call takes: its user-visible text is redacted here."""
        self._redact.redact_call(data)
        return await super()._do_post(endpoint, data, **kwargs)

    def handled(self, update: object) -> None:
        if isinstance(update, Update):
            self._unfinished.discard(update.update_id)
            if self._drained is not None and not self._unfinished:
                self._drained.set()

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> Any:
        gate = self.poller_gate
        if gate is not None:
            if not gate.polling and _no_wait(kwargs.get("timeout")):
                return ()  # PTB's last confirming call on shutdown: we never polled
            await gate.wait_turn()
        if offset and any(u < offset for u in self._unfinished):
            if self._drained is None:
                self._drained = asyncio.Event()
            self._drained.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # arrives as the last update finishes, so a stopping bot sent one more long poll
            # and its last confirming getUpdates then waited out the pool timeout (1 s).
            try:
                async with asyncio.timeout(CONFIRM_WAIT):
                    await self._drained.wait()
            except TimeoutError:
                log.warning("updates still being handled after %.0fs; confirming", CONFIRM_WAIT)
        updates = await super().get_updates(offset, *args, **kwargs)
        self._unfinished.update(u.update_id for u in updates)
        return updates


def _no_wait(timeout: object) -> bool:
    if isinstance(timeout, dt.timedelta):
        return timeout.total_seconds() == 0
    return timeout == 0


class TrackingProcessor(SimpleUpdateProcessor):
    """Tells the bot when an update's handlers are done, whatever they raised."""

    __slots__ = ("_on_done",)

    def __init__(self, max_concurrent_updates: int, on_done: Any) -> None:
        super().__init__(max_concurrent_updates)
        self._on_done = on_done

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        finally:
            self._on_done(update)
