"""One helper for the bot's background loops (retention, the Stars watch, the fleet heartbeat,
the webhook watchdog, the command-menu retry).

Why one: each loop was a hand-copied `create_task` / `while True` / `cancel` / `suppress`, and
one of them forgotten at a stop keeps a task running after the bot is gone. Here a loop has one
name, one start and one idempotent `stop`, which the lifecycle (bot/lifecycle.py) registers the
moment the loop starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Background:
    """One named background task: `start()` once, `stop()` any number of times."""

    def __init__(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._work = work
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._guarded(), name=self.name)

    async def _guarded(self) -> None:
        try:
            await self._work()
        except asyncio.CancelledError:
            raise
        except Exception:  # a background loop must never die silently
            log.exception("%s stopped after an unexpected error", self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def periodic(
    name: str,
    step: Callable[[], Awaitable[object]],
    every: float,
    *,
    first_delay: float = 0.0,
    failed: Callable[[Exception], None] | None = None,
) -> Background:
    """`step()` after `first_delay`, then every `every` seconds; a failed step is reported to
    `failed` (default: one warning line, no traceback) and tried again next time."""

    def report(exc: Exception) -> None:
        log.warning("%s failed: %s", name, exc)

    on_error = failed or report

    async def loop() -> None:
        await asyncio.sleep(first_delay)
        while True:
            try:
                await step()
            except Exception as exc:
                on_error(exc)
            await asyncio.sleep(every)

    return Background(name, loop)
