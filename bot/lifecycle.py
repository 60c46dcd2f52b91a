"""The one owner of everything a running bot has started, and of the request to stop it.

Why: stop code written in several places drifts apart, and a start that fails half-way used to
leave what it had already started running (a task, an open database, a bound port). Here every
start is followed at once by registering its stop (`on_close`); `close()` runs them in reverse
order exactly once, however many callers (PTB's post_stop and post_shutdown, the run loop, a
test) ask for it, and a failing stop never keeps the next ones from running.

The stop *request* lives here too: a signal handler or the error handler only sets it
(`request_stop`), so no signal can ever cut a stop in the middle; a second one only `hurry`s it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from enum import IntEnum

log = logging.getLogger(__name__)


class ExitCode(IntEnum):
    """The process's exit codes, the one ladder `songbot run` uses in every mode.

    0  a clean stop (SIGTERM, SIGINT, any number of them);
    1  a runtime failure: Telegram rejected the token, cannot be reached, or refused the webhook;
    2  fix the setup: configuration, ffmpeg, an unusable database, another instance on the
       same database, a busy HTTP port.
    """

    OK = 0
    RUNTIME = 1
    SETUP = 2


class Lifecycle:
    """Registered stops, run once in reverse order; the stop request and the exit code."""

    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self._closing: asyncio.Future[None] | None = None
        self.stop_requested = asyncio.Event()
        self.exit_code = ExitCode.OK
        self.hurried = False

    def on_close(self, stop: Callable[[], Awaitable[object]], what: str) -> None:
        """Register `stop` right after its start succeeded; it runs before earlier ones."""
        self._stack.push_async_callback(_guarded, stop, what)

    async def close(self) -> None:
        """Run every registered stop once, latest first; later and concurrent calls wait for
        the same close. Registering after a close starts a new round (a restart in tests)."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_future()
            stack, self._stack = self._stack, contextlib.AsyncExitStack()
            try:
                await stack.aclose()
            finally:
                self._closing.set_result(None)
                self._closing = None
            return
        await asyncio.shield(self._closing)

    def request_stop(self, code: ExitCode = ExitCode.OK) -> None:
        """Ask the run loop to stop; the first non-zero code wins."""
        if code != ExitCode.OK and self.exit_code == ExitCode.OK:
            self.exit_code = code
        self.stop_requested.set()

    def hurry(self) -> None:
        """A second stop request during a stop: shorten the grace periods, never cut the stop."""
        self.hurried = True

    def reset(self) -> None:
        """Ready for another start on the same Application (tests restart the bot)."""
        self.stop_requested = asyncio.Event()
        self.exit_code = ExitCode.OK
        self.hurried = False


async def _guarded(stop: Callable[[], Awaitable[object]], what: str) -> None:
    try:
        await stop()
    except Exception as exc:  # the next stop must still run
        log.warning("stopping %s failed: %s", what, exc)
