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

from bot.ops.logging_setup import brief
from bot.telegram.flood import retry_after_seconds

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["GaveUp", "brief", "is_retryable", "retry_at_start", "retry_delay", "retry_telegram"]

FIRST_DELAY: Final = 1.0
MAX_DELAY: Final = 8.0
SLACK: Final = 0.5  # added to retry_after: Telegram counts from its own clock


def is_retryable(exc: BaseException) -> bool:
    """A fault worth another try: flood control, a timeout, a 5xx or a network error."""
    if isinstance(exc, InvalidToken):
        return False
    return isinstance(exc, RetryAfter | TimedOut | NetworkError)


class GaveUp(NetworkError):
    """Telegram kept failing for the whole budget; the message is the one-line summary."""

    def __init__(self, what: str, attempts: int, seconds: float, last: BaseException) -> None:
        super().__init__(
            f"{what} failed {attempts} time(s) over {seconds:.0f}s; last: {brief(last)}"
        )
        self.last = last


def retry_delay(exc: BaseException, backoff: float) -> float:
    """How long to wait before the next try: Telegram's `retry_after` for a 429, else `backoff`."""
    if isinstance(exc, RetryAfter):
        return retry_after_seconds(exc) + SLACK
    return backoff


async def retry_telegram(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    budget: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    retries: int | None = None,
) -> T:
    """`call()` until it succeeds, a final error comes, or the next wait would pass `budget`
    (with `retries`: after that many retries, on PTB's back-off of 1 s, x1.5 up to 30 s).

    The log says at the first failure that Telegram cannot be reached and that the bot keeps
    trying, then one line per further attempt (never a traceback or an HTML page); when the
    budget is spent, `GaveUp` carries the summary.
    """
    started = time.monotonic()
    deadline = started + budget
    delay = FIRST_DELAY
    growth, longest = (2.0, MAX_DELAY) if retries is None else (1.5, 30.0)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            wait = retry_delay(exc, delay)
            if not isinstance(exc, RetryAfter):
                delay = min(longest, delay * growth)
            if retries is not None:
                spent = attempt > retries
            else:
                spent = time.monotonic() + wait > deadline
            if spent:
                if attempt == 1:
                    raise
                raise GaveUp(what, attempt, time.monotonic() - started, exc) from exc
            if attempt == 1:
                log.warning(
                    "Telegram cannot be reached yet (%s: %s); songbot keeps trying (%s)",
                    what,
                    brief(exc),
                    f"{retries} more time(s)" if retries is not None else f"{budget:.0f}s",
                )
            else:
                log.warning(
                    "%s failed again (%s); retry %d in %.1fs", what, brief(exc), attempt, wait
                )
            await sleep(wait)


async def retry_at_start(call: Callable[[], Awaitable[T]], *, what: str, retries: int) -> T:
    """A start-up call (getMe, deleteWebhook, setWebhook): `SONGBOT_STARTUP_RETRIES` retries on
    the back-off PTB's own `bootstrap_retries` used, the same in every mode."""
    return await retry_telegram(call, what=what, budget=float("inf"), retries=retries)
