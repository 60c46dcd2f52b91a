"""One way to run the bot, for `songbot run` (polling and webhook), the demo and the tests.

Why one: the start and stop order was copied by hand into four places and had drifted. Here
`BotRun.start` goes getMe → services → the update source (`Mode`) → PTB's dispatcher, and
`BotRun.stop` undoes exactly what started, in reverse, once. `run()` adds the stop signals:
a signal only *asks* for the stop (bot/lifecycle.py), so a second one (GNU `timeout` signals the
process and its group at once) can hurry the stop but never cut it, and a signal during start-up
abandons the start and stops what had started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final, Protocol

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import ALLOWED_UPDATES, start_services
from bot.bot_data import bot_data_of
from bot.config import Config
from bot.lifecycle import ExitCode, Lifecycle
from bot.telegram.startup import GaveUp, brief, retry_at_start
from storage.db import StorageError

log = logging.getLogger("songbot")

# A stop step that takes longer than this is abandoned with a warning: a stop always ends.
STEP_LIMIT: Final = 20.0


class Mode(Protocol):
    """Where updates come from: long polling or the webhook server."""

    name: str

    async def open(self, app: Any) -> None:
        """Start taking updates (services are up); register stops with the lifecycle."""

    async def close(self, app: Any) -> None:
        """Stop taking updates; idempotent, and safe when `open` never ran or failed."""


class Polling:
    """Long polling: deleteWebhook (retried), then getUpdates; errors go to the error handler."""

    name = "polling"

    def __init__(self, *, timeout: int = 10, poll_interval: float = 0.0) -> None:
        self.timeout, self.poll_interval = timeout, poll_interval

    async def open(self, app: Any) -> None:
        config = bot_data_of(app).config
        # Never drop pending updates: requests sent while the bot was down still count.
        await retry_at_start(
            lambda: app.bot.delete_webhook(drop_pending_updates=False),
            what="deleteWebhook",
            retries=config.startup_retries,
        )

        def polling_failed(exc: TelegramError) -> None:
            # As PTB's run_polling does: the one error handler (handlers/errors.py) decides.
            app.create_task(app.process_error(update=None, error=exc))

        await app.updater.start_polling(
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
            timeout=self.timeout,
            poll_interval=self.poll_interval,
            bootstrap_retries=0,
            error_callback=polling_failed,
        )

    async def close(self, app: Any) -> None:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()


class BotRun:
    """Starts an Application built by `build_application` in one order and stops it in reverse.

    `start()` returns early (everything stopped again) if a stop is asked for meanwhile;
    `stop()` may be called any number of times, also after a failed start.
    """

    def __init__(self, app: Any, mode: Mode) -> None:
        self.app = app
        self.mode = mode
        self.life: Lifecycle = bot_data_of(app).lifecycle
        self._initialized = False
        self._stopping: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.life.reset()
        starting = asyncio.create_task(self._start(), name="songbot-start")
        asked = asyncio.create_task(self.life.stop_requested.wait(), name="songbot-stop-asked")
        try:
            await asyncio.wait({starting, asked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            asked.cancel()
        if not starting.done():  # a stop was asked for during start-up: abandon the start
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            await self.stop()
            return
        try:
            starting.result()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        app, config = self.app, bot_data_of(self.app).config
        # getMe: retried with back-off (honouring retry_after); a rejected token is final.
        await retry_at_start(app.initialize, what="getMe", retries=config.startup_retries)
        self._initialized = True
        await start_services(app)
        await self.mode.open(app)
        await app.start()
        log.info("songbot started as @%s (%s)", app.bot.username, self.mode.name)

    async def stop(self) -> None:
        """Stop taking updates, finish the queued ones, stop the services, close PTB."""
        if self._stopping is None or self._stopping.done():
            self._stopping = asyncio.create_task(self._stop(), name="songbot-stop")
        # A cancelled caller (a test timing out) must not cut the stop itself.
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        app = self.app
        await _step(lambda: self.mode.close(app), "taking updates")
        if app.running:
            await _step(app.stop, "the update dispatcher")
        await _step(self.life.close, "the services")
        if self._initialized:
            self._initialized = False
            await _step(app.shutdown, "the Telegram client")
        else:
            # A getMe that failed leaves PTB uninitialised, so `shutdown` would skip the HTTP
            # clients `initialize` had already opened; close them here.
            await _step(lambda: _close_http(app.bot), "the Telegram client")


async def _close_http(bot: Any) -> None:
    for request in bot._request:  # (getUpdates, everything else); PTB has no public handle
        await request.shutdown()


async def _step(stop: Callable[[], Awaitable[object]], what: str) -> None:
    try:
        async with asyncio.timeout(STEP_LIMIT):
            await stop()
    except TimeoutError:
        log.warning("stopping %s took over %.0fs; going on without it", what, STEP_LIMIT)
    except Exception as exc:
        log.warning("stopping %s failed: %s", what, brief(exc))


async def run(app: Any, mode: Mode, *, signals: bool = True) -> int:
    """Run until SIGTERM/SIGINT (any number of them) or a fatal error; the exit code.

    The exit-code ladder (bot/lifecycle.py `ExitCode`) is applied here for both modes.
    """
    config = bot_data_of(app).config
    life = bot_data_of(app).lifecycle
    bot_run = BotRun(app, mode)
    with _stop_signals(life) if signals else contextlib.nullcontext():
        try:
            await bot_run.start()
            await life.stop_requested.wait()
        except BaseException as exc:
            await bot_run.stop()
            code = exit_code_for(exc, config)
            if code is None:
                raise
            return code
        await bot_run.stop()
    return int(life.exit_code)


def exit_code_for(exc: BaseException, config: Config) -> int | None:
    """One clear line and the exit code for a start-up failure; None for a bug (re-raised)."""
    if isinstance(exc, InvalidToken):
        # PTB's own message for a bad token contains the token: never print it.
        log.critical("Telegram rejected the bot token; check TELEGRAM_BOT_TOKEN")
        return ExitCode.RUNTIME
    if isinstance(exc, NetworkError):
        why = str(exc) if isinstance(exc, GaveUp) else brief(exc)
        log.critical(
            "cannot reach the Telegram Bot API at %s: %s", config.telegram_api_base_url, why
        )
        return ExitCode.RUNTIME
    if isinstance(exc, StorageError):
        # e.g. the disk filled up or another process locked the file during the migration.
        log.critical("%s", exc)
        return ExitCode.SETUP
    if isinstance(exc, OSError):
        log.critical(
            "cannot serve HTTP on %s:%s: %s",
            config.webhook_listen,
            config.http_port,
            exc.strerror or exc,
        )
        return ExitCode.SETUP
    if isinstance(exc, TelegramError):
        log.critical("Telegram refused the start: %s", brief(exc))
        return ExitCode.RUNTIME
    return None


@contextlib.contextmanager
def _stop_signals(life: Lifecycle) -> Iterator[None]:
    """SIGTERM and SIGINT ask for the stop; later ones hurry it. Kept until the very end, and
    then ignored (not reset to "die"), so a signal that arrives late never kills a clean stop."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        if life.stop_requested.is_set():
            if not life.hurried:
                log.info("%s again: stopping without grace periods", sig.name)
            life.hurry()
            return
        log.info("%s: stopping", sig.name)
        life.request_stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(sig)
    try:
        yield
    finally:
        if installed:
            # Blocked while the handler is swapped: a signal in between waits, then is ignored.
            signal.pthread_sigmask(signal.SIG_BLOCK, installed)
            try:
                for sig in installed:
                    loop.remove_signal_handler(sig)
                    signal.signal(sig, signal.SIG_IGN)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, installed)
