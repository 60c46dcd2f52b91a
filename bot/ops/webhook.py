"""`songbot run --webhook`: Telegram pushes updates to our HTTPS endpoint instead of long polling.

Everything else (handlers, runner, storage) is shared with polling mode; only the way updates
arrive differs. The secret token is checked on every request (wrong or missing → 403). The webhook
stays registered at shutdown, so Telegram keeps the updates that arrive during a restart.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, Final
from urllib.parse import urlsplit

from bot.app import ALLOWED_UPDATES, build_application, mini_app_routes
from bot.bot_data import bot_data_of
from bot.config import Config
from bot.ops.metrics import Metrics
from bot.ops.serve import BotRun, run
from bot.ops.web import WebServer
from bot.periodic import periodic
from bot.telegram.startup import brief, retry_at_start

log = logging.getLogger(__name__)

DEFAULT_PORT: Final = 8080
MAX_CONNECTIONS: Final = 40
# How often the registration is compared with what Telegram has (a poller elsewhere, or a
# `deleteWebhook` by hand, silently stops the pushes; /healthz then says so).
WATCHDOG_SECONDS: Final = 300.0


def webhook_path(url: str) -> str:
    """The path Telegram will POST to: the URL's path (a reverse proxy must keep it)."""
    return urlsplit(url).path or "/"


class WebhookMode:
    """Updates pushed by Telegram to our HTTP port (the `Mode` of bot/ops/serve.py): the server,
    then `setWebhook` with the secret, then the watchdog; `close` stops taking pushes."""

    name = "webhook"

    def __init__(self, app: Any, config: Config, *, watchdog_seconds: float) -> None:
        if not config.webhook_url or config.webhook_secret is None:
            raise ValueError("webhook mode needs SONGBOT_WEBHOOK_URL and SONGBOT_WEBHOOK_SECRET")
        self.config = config
        self.url = config.webhook_url
        self.secret = config.webhook_secret.get()
        self.server = WebServer(
            app,
            host=config.webhook_listen,
            port=config.http_port if config.http_port is not None else DEFAULT_PORT,
            webhook_path=webhook_path(self.url),
            webhook_secret=self.secret,
            metrics_token=config.metrics_token.get() if config.metrics_token else None,
            extra_routes=mini_app_routes(app, config),
        )
        self.watchdog_seconds = watchdog_seconds
        self._app = app

    async def open(self, app: Any) -> None:
        data = bot_data_of(app)
        life = data.lifecycle
        await self.server.start()
        life.on_close(self.server.stop, "the webhook server")
        data.web_server = self.server
        await retry_at_start(
            lambda: app.bot.set_webhook(
                url=self.url,
                secret_token=self.secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                max_connections=MAX_CONNECTIONS,
            ),
            what="setWebhook",
            retries=self.config.startup_retries,
        )
        log.info("webhook mode: Telegram posts updates to %s", webhook_path(self.url))
        watchdog = periodic(
            "songbot-webhook-watchdog",
            self.check_registration,
            self.watchdog_seconds,
            first_delay=self.watchdog_seconds,
            failed=lambda exc: log.warning("cannot read the webhook registration: %s", brief(exc)),
        )
        watchdog.start()
        life.on_close(watchdog.stop, watchdog.name)

    async def close(self, app: Any) -> None:
        # First of all: no push may be accepted (200) once the dispatcher stops.
        await self.server.stop()

    async def check_registration(self) -> str | None:
        """Compare Telegram's webhook with ours; the problem (also kept for /healthz) or None."""
        info = await self._app.bot.get_webhook_info()
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


class WebhookBot:
    """The bot in webhook mode: the same Application and services as polling, fed by `WebServer`.

    `start()` and `stop()` are `BotRun`'s (bot/ops/serve.py); tests call them directly.
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
        self.mode = WebhookMode(self.app, config, watchdog_seconds=watchdog_seconds)
        self.server = self.mode.server
        self.watchdog_seconds = watchdog_seconds
        self.run = BotRun(self.app, self.mode)

    async def start(self) -> None:
        """getMe, services and runner, the HTTP port, then `setWebhook` with the secret."""
        await self.run.start()

    @property
    def server_path(self) -> str:
        return webhook_path(self.url)

    async def stop(self) -> None:
        """Stop taking pushes, finish queued updates, stop the runner, close everything."""
        await self.run.stop()

    async def check_registration(self) -> str | None:
        return await self.mode.check_registration()


async def serve_webhook(
    config: Config, *, install_signals: bool = True, sole_instance: bool = False
) -> int:
    """Serve until SIGTERM/SIGINT or a fatal error; returns the process exit code."""
    bot = WebhookBot(config)
    bot_data_of(bot.app).sole_instance = sole_instance
    return await run(bot.app, bot.mode, signals=install_signals)


def run_webhook(config: Config, *, sole_instance: bool = True) -> int:
    """The `songbot run --webhook` entry point; exit codes: bot/lifecycle.py `ExitCode`."""
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
    return asyncio.run(serve_webhook(config, sole_instance=sole_instance))
