"""Telegram's flood limits applied to what Telegram actually counts: messages, not look-ups.

Why our own limiter rather than PTB's AIORateLimiter:
- It throttles every request that carries a `chat_id`, so an admin check (`getChatMember`) or a
  chat action in a busy group would queue behind the songs for seconds. Here only sending and
  editing messages spend the budgets; everything else goes straight through (and a 429 on it is
  still raised to the caller).
- Its leaky buckets need capacity 1 to never exceed a limit (a bucket of 20 lets 40 messages into
  a group's first minute), and then every waiting sender wakes up to re-check the bucket. Here
  each message reserves the next free slot when it arrives and sleeps once, until that slot:
  first come, first served, one timer per message (bench/bench_updates.py measures the cost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram.paces import Bucket, Pace, sleep_until
from bot.telegram.ptb_private import JSONDict
from storage.db import StorageError
from storage.flood_slots import GLOBAL, FloodSlots

log = logging.getLogger(__name__)

COUNTED_METHODS: Final = frozenset(
    {
        "sendMessage",
        "sendAudio",
        "sendVoice",
        "sendDocument",
        "sendPhoto",
        "sendInvoice",
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
# The bot's default paces. Telegram allows about 30 messages a second overall and 20 a minute per
# group; slots 1/27 s and 3.5 s apart keep under both even when messages reach Telegram with a
# few tens of milliseconds of jitter (or from several replicas, each with its own delay).
OVERALL_INTERVAL: Final = 1.0 / 27
GROUP_INTERVAL: Final = 3.5
# And never more than 28 in any sliding second, counted when they go: an event loop that was busy
# for a moment wakes several messages late at once, and those would bunch up with the next ones
# sent on time (a 429 in a burst on a loaded machine).
OVERALL_WINDOW: Final = (28, 1.0)
# Replicas on one database space the bot's messages wider (storage/flood_slots.py): each message
# reaches Telegram after its own process's delays (a busy loop, an upload read to the end), and
# those processes compete for the same CPUs, so 1/27 s drew a few 429s in a loaded CI run.
FLEET_INTERVAL: Final = 1.0 / 25
# A private chat: Telegram asks for about one message a second and lets short bursts through. A
# burst of 4, then one a second, keeps a user who sends ten /song at once from drawing a 429 (and
# the pause of every chat that follows it) without slowing a single request's replies.
CHAT_BURST: Final = 4
CHAT_INTERVAL: Final = 1.0
_IDLE_SWEEP: Final = 512  # group paces kept before the idle ones are dropped


@dataclass(frozen=True, slots=True)
class Background:
    """`rate_limit_args` for a message that may wait for spare budget (queue-position edits):
    it takes a slot only when no other message is waiting for one, so acknowledgements, songs
    and failure messages always go first."""

    max_retries: int = 1


BACKGROUND: Final = Background()
_BACKGROUND_POLL: Final = 0.05  # seconds between looks for spare budget


class MessageRateLimiter(BaseRateLimiter[int | Background]):
    """At most `overall_limit` messages per `overall_period` across all chats (Telegram: about 30
    a second), `group_limit` per `group_period` in each group or channel (20 a minute), and in
    each private chat a burst of `chat_burst`, then one per `chat_interval` (about one a second).

    `rate_limit_args` on a Bot call overrides `max_retries` for that call, as in PTB's own
    limiter, or is `BACKGROUND` for a message that only uses spare budget. A 429 pauses every
    counted method for `retry_after` before the request is retried.
    """

    def __init__(
        self,
        *,
        overall_limit: int,
        overall_period: float,
        group_limit: int,
        group_period: float,
        chat_burst: int = CHAT_BURST,
        chat_interval: float = CHAT_INTERVAL,
        overall_window: tuple[int, float] | None = None,
        fleet_interval: float | None = None,
        max_retries: int = 3,
    ) -> None:
        self.overall = Pace(overall_limit, overall_period)
        # Checked when a message is about to go, on the times messages really went.
        self.window = None if overall_window is None else Pace(*overall_window)
        self.group_limit = group_limit
        self.group_period = group_period
        self.chat_burst = chat_burst
        self.chat_interval = chat_interval
        self.max_retries = max_retries
        self._groups: dict[int | str, Pace] = {}
        self._chats: dict[int, Bucket] = {}
        self._base = (overall_period, group_period, overall_window)
        self._fleet_interval = fleet_interval or overall_period / overall_limit
        self.replicas = 1
        self._shared: FloodSlots | None = None

    def use_shared(self, slots: FloodSlots) -> None:
        """Replicas on one PostgreSQL database: take every slot from the fleet's budget there
        (storage/flood_slots.py); the in-memory share (`share`) is the fallback while the
        database cannot be reached."""
        self._shared = slots

    def share(self, replicas: int) -> None:
        """Several replicas send as one bot: each takes 1/`replicas` of every budget (the same
        number of slots over a period `replicas` times as long), so the fleet stays within
        Telegram's limits however its messages fall across the replicas."""
        replicas = max(1, replicas)
        if replicas == self.replicas:
            return
        self.replicas = replicas
        self.overall.period = self._base[0] * replicas
        self.group_period = self._base[1] * replicas
        window = self._base[2]
        if self.window is not None and window is not None:
            self.window.period = window[1] * replicas
        for pace in self._groups.values():
            pace.period = self.group_period

    async def initialize(self) -> None:
        """Nothing to open: paces are plain numbers."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group_pace(self, chat_id: int | str, now: float) -> Pace:
        return _kept(self._groups, chat_id, now, lambda: Pace(self.group_limit, self.group_period))

    def _chat_bucket(self, chat_id: int, now: float) -> Bucket:
        """A private chat's pace. Kept in each process, also among replicas: one chat's messages
        rarely come from more than one of them at once, and a burst of 4 leaves room for that."""
        return _kept(
            self._chats, chat_id, now, lambda: Bucket(self.chat_burst, self.chat_interval)
        )

    def _fleet_slot(self) -> float:
        """Seconds between two of the fleet's messages (FLEET_INTERVAL)."""
        return self._fleet_interval

    async def _take_shared(self, slots: FloodSlots, group: int | None, background: bool) -> bool:
        """A slot from the fleet's budget, slept until; False if the database failed."""
        overall = self._fleet_slot()
        per_group = self._base[1] / self.group_limit
        try:
            while True:
                now = time.time()
                start: float | None = now
                if group is not None:
                    horizon = now + 2 * per_group if background else None
                    start = await slots.take(
                        group, width=per_group, not_before=now, horizon=horizon
                    )
                if start is not None:
                    horizon = start + 2 * overall if background else None
                    at = await slots.take(GLOBAL, width=overall, not_before=start, horizon=horizon)
                    # A slot that passed while we asked for it (or slept) is given up, not used
                    # late: late messages would bunch up with the next ones on time.
                    if at is not None and time.time() - at <= overall:
                        await asyncio.sleep(max(0.0, at - time.time()))
                        if time.time() - at <= overall:  # the loop was not too busy to wake
                            return True
                    if at is not None:
                        continue
                await asyncio.sleep(_BACKGROUND_POLL)  # only spare budget, or a lost race
        except StorageError as exc:
            log.warning("shared flood budget unavailable (%s); pacing locally for now", exc)
            return False

    async def _take_slots(
        self, group: int | str | None, private: int | None, *, background: bool = False
    ) -> None:
        loop = asyncio.get_running_loop()
        if private is not None:
            bucket = self._chat_bucket(private, loop.time())
            while background and not bucket.spare(loop.time()):
                await asyncio.sleep(_BACKGROUND_POLL)
            await sleep_until(bucket.wake_at(loop.time()))
        shared = self._shared
        if (
            shared is not None
            and not isinstance(group, str)
            and await self._take_shared(shared, group, background)
        ):
            return
        if background:
            # Wait until neither the overall budget nor the group's has anyone queued; then
            # take a slot like anyone else (it is free, so no sleep follows).
            while not (
                self.overall.spare(loop.time())
                and (group is None or self._group_pace(group, loop.time()).spare(loop.time()))
            ):
                await asyncio.sleep(_BACKGROUND_POLL)
        if group is not None:
            await sleep_until(self._group_pace(group, loop.time()).wake_at(loop.time()))
        await sleep_until(self.overall.wake_at(loop.time()))
        if self.window is not None:
            await sleep_until(self.window.wake_at(loop.time()))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | Background | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint not in COUNTED_METHODS:
            return await callback(*args, **kwargs)
        background = isinstance(rate_limit_args, Background)
        if isinstance(rate_limit_args, Background):
            max_retries = rate_limit_args.max_retries
        else:
            max_retries = rate_limit_args or self.max_retries
        group, private = _scopes_of(data.get("chat_id"))
        for attempt in range(max_retries + 1):
            await self._take_slots(group, private, background=background)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == max_retries:
                    log.warning("%s: still flood-limited after %d retries", endpoint, attempt)
                    raise
                seconds = retry_after_seconds(exc)
                log.info("%s: flood-limited; retrying in %.1f s", endpoint, seconds + 0.1)
                self.overall.pause_until(asyncio.get_running_loop().time() + seconds + 0.1)
                await self._pause_fleet(seconds + 0.1)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _pause_fleet(self, seconds: float) -> None:
        """Telegram said retry_after: no replica takes a slot before it has passed."""
        if self._shared is None:
            return
        now = time.time()
        width = self._fleet_slot()
        with contextlib.suppress(StorageError):
            await self._shared.block(GLOBAL, width=width, start=now, until=now + seconds)


_K = TypeVar("_K")
_P = TypeVar("_P", Pace, Bucket)


def _kept(table: dict[_K, _P], key: _K, now: float, make: Callable[[], _P]) -> _P:
    """`table[key]`, made on first use; past `_IDLE_SWEEP` entries the idle ones are dropped."""
    if len(table) > _IDLE_SWEEP:
        for idle in [k for k, pace in table.items() if pace.idle(now)]:
            del table[idle]
    pace = table.get(key)
    if pace is None:
        pace = table[key] = make()
    return pace


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds: PTB gives a timedelta with PTB_TIMEDELTA=1, else a number."""
    delay = exc.retry_after
    return float(delay) if isinstance(delay, int | float) else delay.total_seconds()


def _scopes_of(chat_id: object) -> tuple[int | str | None, int | None]:
    """(group, private chat) of a `chat_id`: groups and channels have negative ids (or an
    @username), private chats positive ones; one of the two is None (both for no chat)."""
    if isinstance(chat_id, str):
        with contextlib.suppress(ValueError):
            chat_id = int(chat_id)
    if isinstance(chat_id, int):
        return (chat_id, None) if chat_id < 0 else (None, chat_id)
    return (chat_id, None) if isinstance(chat_id, str) else (None, None)
