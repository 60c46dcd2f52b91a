"""Start-up calls to the Bot API that must survive Telegram's ordinary bad moments.

Why: real Telegram answers a 502 or a 429 now and then, also to getMe, deleteWebhook and
setMyCommands; one such answer must not stop the bot. Retryable faults are retried with back-off
(honouring `retry_after`) within a time budget; a rejected token is final at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.telegram.flood import retry_after_seconds

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY: Final = 1.0
MAX_DELAY: Final = 8.0
SLACK: Final = 0.5  # added to retry_after: Telegram counts from its own clock


def is_retryable(exc: BaseException) -> bool:
    """A fault worth another try: flood control, a timeout, a 5xx or a network error."""
    if isinstance(exc, InvalidToken):
        return False
    return isinstance(exc, RetryAfter | TimedOut | NetworkError)


async def retry_telegram(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    budget: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """`call()` until it succeeds, a final error comes, or the next wait would pass `budget`."""
    deadline = time.monotonic() + budget
    delay = FIRST_DELAY
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            if isinstance(exc, RetryAfter):
                wait = retry_after_seconds(exc) + SLACK
            else:
                wait, delay = delay, min(MAX_DELAY, delay * 2)
            if time.monotonic() + wait > deadline:
                raise
            log.warning("%s failed (%s); retry %d in %.1fs", what, _brief(exc), attempt, wait)
            await sleep(wait)


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def startup_budget(retries: int) -> float:
    """The time PTB's `bootstrap_retries=retries` allows (1 s, then x1.5 up to 30 s), so both
    modes give up after the same while."""
    total, delay = 0.0, 1.0
    for _ in range(max(0, retries)):
        total += delay
        delay = min(30.0, delay * 1.5)
    return total
