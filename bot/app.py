"""The composition root: build the Application, register every handler in order, own lifecycles.

Services (DB, AI/ML API client, runner) start in `post_init` and close in `post_shutdown`; tests
that drive the manual lifecycle call `start_services` / `stop_services` themselves: PTB runs
`post_init` only from `run_polling` / `run_webhook`.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults

from bot.config import Config
from bot.media import find_ffmpeg
from bot.metrics import Metrics
from bot.runner import JobRunner
from bot.services import SERVICES_KEY, Services, get_services
from bot.telegram_request import make_requests

log = logging.getLogger(__name__)

# Only what the bot handles; Telegram keeps this setting, so it is always sent explicitly.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


def build_application(
    config: Config, *, metrics: Metrics | None = None, polling: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A ready-to-run Application for `config`; nothing is opened until it starts."""
    base = config.telegram_api_base_url
    metrics = metrics or Metrics()
    # Every Bot API call and file download is timed and its errors counted (bot/telegram_request).
    request, updates_request = make_requests(metrics)
    builder = (
        ApplicationBuilder()
        .token(config.telegram_token.get())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        # Telegram's flood limits, with automatic waits on 429 retry_after.
        .rate_limiter(AIORateLimiter(max_retries=3))
        # Handlers only validate, store and reply; running them concurrently keeps bursts fast.
        .concurrent_updates(64)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .request(request)  # timeouts: connect 10 s, read/write 30 s, media upload 120 s
        .get_updates_request(updates_request)
        .post_init(start_services)
        .post_stop(stop_runner)
        .post_shutdown(stop_services)
    )
    if not polling:
        builder = builder.updater(None)  # webhook mode: bot/web.py feeds the update queue
    app = builder.build()
    app.bot_data["config"] = config
    app.bot_data["metrics"] = metrics
    register_handlers(app)
    return app


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler, in order. Order matters: the first matching handler in a group wins."""
    from handlers import admin, commands, errors, settings, song

    # Group -1: count every update and refresh "last seen" for health, then fall through.
    for handler in commands.observers():
        app.add_handler(handler, group=-1)
    # /song (text, caption on media, reply forms) — the reason the bot exists.
    for handler in song.handlers():
        app.add_handler(handler)
    # Button presses under songs and status messages (again, lyrics, variation, cancel, model).
    for handler in commands.callback_handlers():
        app.add_handler(handler)
    # /start, /help, /jobs, /cancel — everyone's commands.
    for handler in commands.handlers():
        app.add_handler(handler)
    # /model, /language — per chat (admins only in groups).
    for handler in settings.handlers():
        app.add_handler(handler)
    # /stats, /ban, /unban — operators in SONGBOT_ADMIN_IDS only.
    for handler in admin.handlers():
        app.add_handler(handler)
    # Last: one place turns every unexpected error into a log line and a friendly reply.
    app.add_error_handler(errors.on_error)


async def start_services(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Open the DB, the provider client and the temp folder; start the runner."""
    config: Config = app.bot_data["config"]
    find_ffmpeg()  # fail at start, not at the first reference, if ffmpeg is missing
    services = await Services.open(config, metrics=app.bot_data["metrics"])
    app.bot_data[SERVICES_KEY] = services
    services.bot_username = app.bot.username
    swept = services.temp.sweep(max_age_seconds=6 * 3600)
    if swept:
        log.info("removed %d stale temporary files", swept)
    from handlers.commands import register_commands

    await register_commands(app.bot)
    services.runner = JobRunner(services, app.bot)
    services.runner.start()
    if config.http_port is not None and app.updater is not None:
        # Polling mode with health/metrics switched on (webhook mode serves them itself).
        from bot.web import WebServer

        server = WebServer(app, host=config.webhook_listen, port=config.http_port)
        await server.start()
        services.extras["web_server"] = server
    log.info("songbot started as @%s", app.bot.username)


async def stop_runner(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop claiming jobs; pending jobs stay in SQLite and resume on the next start."""
    services = app.bot_data.get(SERVICES_KEY)
    if isinstance(services, Services) and services.runner is not None:
        await services.runner.stop()


async def stop_services(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services = app.bot_data.pop(SERVICES_KEY, None)
    if isinstance(services, Services):
        if services.runner is not None:
            await services.runner.stop()
        server = services.extras.pop("web_server", None)
        if server is not None:
            await server.stop()
        await services.close()


__all__ = [
    "ALLOWED_UPDATES",
    "build_application",
    "get_services",
    "start_services",
    "stop_services",
]
