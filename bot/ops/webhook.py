"""`songbot run --webhook`: Telegram pushes updates to our HTTPS endpoint instead of long polling.

Everything else (handlers, runner, storage) is shared with polling mode; only the way updates
arrive differs. The secret token is checked on every request (wrong or missing → 403). The webhook
stays registered at shutdown, so Telegram keeps the updates that arrive during a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import Any, Final
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import (
    ALLOWED_UPDATES,
    SOLE_INSTANCE_KEY,
    build_application,
    mini_app_routes,
    report_telegram_failure,
    start_services,
    stop_runner,
    stop_services,
)
from bot.config import Config
from bot.ops.metrics import Metrics
from bot.ops.web import WebServer
from bot.telegram.startup import retry_telegram, startup_budget
from handlers.errors import exit_code
from storage.db import StorageError

log = logging.getLogger(__name__)

DEFAULT_PORT: Final = 8080
MAX_CONNECTIONS: Final = 40
# How often the registration is compared with what Telegram has (a poller elsewhere, or a
# `deleteWebhook` by hand, silently stops the pushes; /healthz then says so).
WATCHDOG_SECONDS: Final = 300.0


def webhook_path(url: str) -> str:
    """The path Telegram will POST to: the URL's path (a reverse proxy must keep it)."""
    return urlsplit(url).path or "/"


class WebhookBot:
    """The bot in webhook mode: the same Application and services as polling, fed by `WebServer`.

    `start()` and `stop()` are what `songbot run --webhook` runs; tests call them directly.
    """

    def __init__(
        self,
        config: Config,
        *,
        metrics: Metrics | None = None,
        watchdog_seconds: float = WATCHDOG_SECONDS,
    ) -> None:
        if not config.webhook_url or config.webhook_secret is None:
            raise ValueError("webhook mode needs SONGBOT_WEBHOOK_URL and SONGBOT_WEBHOOK_SECRET")
        self.config = config
        self.url = config.webhook_url
        self.app: Any = build_application(config, metrics=metrics, polling=False)
        self.server = WebServer(
            self.app,
            host=config.webhook_listen,
            port=config.http_port if config.http_port is not None else DEFAULT_PORT,
            webhook_path=webhook_path(self.url),
            webhook_secret=config.webhook_secret.get(),
            metrics_token=config.metrics_token.get() if config.metrics_token else None,
            extra_routes=mini_app_routes(self.app, config),
        )
        self.app.bot_data["web_server"] = self.server
        self.watchdog_seconds = watchdog_seconds
        self._watchdog: asyncio.Task[None] | None = None
        self._initialized = False
        self._services_started = False

    async def start(self) -> None:
        """getMe, services and runner, the HTTP port, then `setWebhook` with the secret."""
        assert self.config.webhook_secret is not None
        budget = startup_budget(self.config.startup_retries)
        await retry_telegram(self.app.initialize, what="getMe", budget=budget)
        self._initialized = True
        await start_services(self.app)
        self._services_started = True
        await self.server.start()
        await self.app.start()
        secret = self.config.webhook_secret.get()
        await retry_telegram(
            lambda: self.app.bot.set_webhook(
                url=self.url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                max_connections=MAX_CONNECTIONS,
            ),
            what="setWebhook",
            budget=budget,
        )
        log.info("webhook mode: Telegram posts updates to %s", self.server_path)
        self._watchdog = asyncio.create_task(self._watch(), name="songbot-webhook-watchdog")

    @property
    def server_path(self) -> str:
        return webhook_path(self.url)

    async def stop(self) -> None:
        """Stop taking pushes, finish queued updates, stop the runner, close everything."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await self.server.stop()
        if self.app.running:
            await self.app.stop()
        if self._services_started:
            await stop_runner(self.app)
        if self._initialized:
            await self.app.shutdown()
            self._initialized = False
        if self._services_started:
            await stop_services(self.app)
            self._services_started = False

    async def check_registration(self) -> str | None:
        """Compare Telegram's webhook with ours; the problem (also kept for /healthz) or None."""
        info = await self.app.bot.get_webhook_info()
        problem = None
        if not info.url:
            problem = "Telegram has no webhook for this bot (deleted, or polled from elsewhere)"
        elif info.url != self.url:
            problem = "Telegram's webhook points to another URL than SONGBOT_WEBHOOK_URL"
        last_error = info.last_error_date
        if last_error is not None and info.last_error_message:
            age = time.time() - last_error.timestamp()
            if age < self.watchdog_seconds * 2:
                log.warning(
                    "Telegram reports a webhook delivery error %.0fs ago: %s",
                    age,
                    info.last_error_message,
                )
        if problem != self.server.webhook_problem:
            if problem:
                log.error("webhook: %s", problem)
            else:
                log.info("webhook registration is back to normal")
        self.server.webhook_problem = problem
        return problem

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watchdog_seconds)
            try:
                await self.check_registration()
            except TelegramError as exc:
                log.warning("cannot read the webhook registration: %s", exc)


async def serve_webhook(
    config: Config,
    *,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    sole_instance: bool = False,
) -> int:
    """Serve until SIGTERM/SIGINT (or `stop` is set); returns the process exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                continue
            installed.append(sig)
    bot = WebhookBot(config)
    bot.app.bot_data["stop_event"] = stop
    bot.app.bot_data[SOLE_INSTANCE_KEY] = sole_instance
    # handlers/errors.py stops the app on a fatal error (Conflict, InvalidToken): end here too.
    stopper = asyncio.create_task(_stop_when_app_stops(bot, stop))
    try:
        await bot.start()
        await stop.wait()
    finally:
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
        await bot.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
    return exit_code(bot.app.bot_data)


async def _stop_when_app_stops(bot: WebhookBot, stop: asyncio.Event) -> None:
    """PTB's `stop_running()` only ends `run_polling`/`run_webhook`; watch for it ourselves."""
    while not stop.is_set():
        await asyncio.sleep(0.5)
        if "exit_code" in bot.app.bot_data:
            stop.set()


def run_webhook(config: Config, *, sole_instance: bool = True) -> int:
    """The `songbot run --webhook` entry point: 0 clean stop, 1 runtime failure, 2 bad config."""
    if not config.webhook_url:
        print(
            "songbot: configuration error: SONGBOT_WEBHOOK_URL: is required for --webhook",
            file=sys.stderr,
        )
        return 2
    if config.webhook_secret is None:
        print(
            "songbot: configuration error: SONGBOT_WEBHOOK_SECRET: is required with a webhook",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(serve_webhook(config, sole_instance=sole_instance))
    except (InvalidToken, NetworkError) as exc:
        return report_telegram_failure(config, exc)
    except OSError as exc:
        log.critical("cannot serve the webhook on %s: %s", config.webhook_listen, exc)
        return 1
    except StorageError as exc:
        log.critical("%s", exc)
        return 1
    except TelegramError as exc:
        log.critical("Telegram refused the webhook setup: %s", exc)
        return 1
