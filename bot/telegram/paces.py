"""Pacing primitives of the flood limiter (bot/telegram/flood.py): slots reserved in arrival order.

`Pace` is a sliding log (at most `limit` in any `period`: the overall and group budgets), `Bucket`
a burst then a steady rate (a private chat). Both hand each caller a wake-up time, distinct from
every earlier one, so that messages sleep once and go in the order they asked.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from typing import Final

_TIE_BREAK: Final = 1e-6  # seconds between wake-ups that share a slot


class _Slots(ABC):
    """Hands out slots in the order they are asked for; `wake_at` turns one into a wake-up."""

    __slots__ = ("_last_wake",)

    def __init__(self) -> None:
        self._last_wake = float("-inf")

    @abstractmethod
    def reserve(self, now: float) -> float:
        """Take the next free slot; returns how long to wait for it (0 when it is free now)."""

    def wake_at(self, now: float) -> float:
        """Reserve a slot and return the loop time to wake at, distinct from every earlier one.

        Slots can share one time, and asyncio's timer heap wakes equal deadlines in no set
        order: a microsecond between them keeps a chat's messages in the order they were sent.
        """
        wake = now + self.reserve(now)
        if wake > now:
            wake = max(wake, self._last_wake + _TIE_BREAK)
            self._last_wake = wake
        return wake


class Pace(_Slots):
    """At most `limit` messages in any `period` seconds, granted in the order they ask.

    A sliding log of the last `limit` slots handed out: the next slot is now, or `period` after
    the oldest of them. So a burst goes out at once up to the limit and then in blocks, one
    block per period, never more than `limit` in any window of `period`.
    """

    __slots__ = ("_slots", "limit", "period")

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period < 0:
            raise ValueError(f"a pace needs limit >= 1 and period >= 0, got {limit}, {period}")
        super().__init__()
        self.limit = limit
        self.period = period
        self._slots: deque[float] = deque(maxlen=limit)

    def reserve(self, now: float) -> float:
        slot = now
        if len(self._slots) == self.limit:
            slot = max(now, self._slots[0] + self.period)
        if self._slots:
            slot = max(slot, self._slots[-1])  # first come, first served
        self._slots.append(slot)
        return slot - now

    def pause_until(self, when: float) -> None:
        """No slot before `when` (Telegram said retry_after), and then one message, the rest a
        period later: easing back in rather than bursting into the same limit again."""
        if self._slots and self._slots[-1] >= when:
            return
        self._slots.clear()
        self._slots.extend([when - self.period] + [when] * (self.limit - 1))

    def spare(self, now: float) -> bool:
        """Whether a slot is free right now with nobody queued for it."""
        if self._slots and self._slots[-1] > now:
            return False
        return len(self._slots) < self.limit or self._slots[0] + self.period <= now

    def idle(self, now: float) -> bool:
        return not self._slots or self._slots[-1] + self.period <= now


class Bucket(_Slots):
    """A burst of `burst` messages, then one every `interval` seconds (a GCRA token bucket),
    granted in the order they ask: the pace of a private chat.

    `_due` is when the bucket would be full of debt: a message may go once it is no more than
    `(burst - 1) * interval` ahead of now, and then pushes it on by `interval`.
    """

    __slots__ = ("_due", "burst", "interval")

    def __init__(self, burst: int, interval: float) -> None:
        if burst < 1 or interval < 0:
            raise ValueError(
                f"a bucket needs burst >= 1 and interval >= 0, got {burst}, {interval}"
            )
        super().__init__()
        self.burst = burst
        self.interval = interval
        self._due = float("-inf")

    def reserve(self, now: float) -> float:
        slot = max(now, self._due - (self.burst - 1) * self.interval)
        self._due = max(self._due, slot) + self.interval
        return slot - now

    def spare(self, now: float) -> bool:
        """Whether a slot is free right now with nobody queued for it."""
        return self._due - (self.burst - 1) * self.interval <= now

    def idle(self, now: float) -> bool:
        return self._due <= now


async def sleep_until(wake: float) -> None:
    """Sleep to an exact loop time (`asyncio.sleep` re-reads the clock and blurs the tie-break)."""
    loop = asyncio.get_running_loop()
    if wake <= loop.time():
        return
    woken: asyncio.Future[None] = loop.create_future()

    def wake_up() -> None:
        if not woken.done():
            woken.set_result(None)

    timer = loop.call_at(wake, wake_up)
    try:
        await woken
    finally:
        timer.cancel()
