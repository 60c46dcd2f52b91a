"""`songbot run --webhook`: Telegram pushes updates to our HTTPS endpoint instead of long polling.

Everything else (handlers, runner, storage) is shared with polling mode; only the way updates arrive
differs. The secret token is checked on every request (wrong or missing → 403).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from urllib.parse import urlsplit

from bot.app import ALLOWED_UPDATES, build_application, start_services, stop_runner, stop_services
from bot.config import Config
from bot.web import WebServer
from handlers.errors import exit_code

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080


def run_webhook(config: Config) -> int:
    if not config.webhook_url:
        print("songbot: configuration error: SONGBOT_WEBHOOK_URL: is required for --webhook",
              file=sys.stderr)
        return 2
    if config.webhook_secret is None:
        print("songbot: configuration error: SONGBOT_WEBHOOK_SECRET: is required with a webhook",
              file=sys.stderr)
        return 2
    return asyncio.run(serve_webhook(config))


async def serve_webhook(config: Config, *, stop: asyncio.Event | None = None) -> int:
    """Serve until SIGTERM/SIGINT (or `stop` is set); returns the process exit code."""
    assert config.webhook_url is not None and config.webhook_secret is not None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    app = build_application(config, polling=False)
    app.bot_data["stop_event"] = stop
    path = urlsplit(config.webhook_url).path or "/"
    server = WebServer(
        app,
        host=config.webhook_listen,
        port=config.http_port if config.http_port is not None else DEFAULT_PORT,
        webhook_path=path,
        webhook_secret=config.webhook_secret.get(),
    )
    await app.initialize()
    try:
        await start_services(app)
        await server.start()
        app.bot_data["web_server"] = server
        await app.bot.set_webhook(
            url=config.webhook_url,
            secret_token=config.webhook_secret.get(),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
            max_connections=40,
        )
        await app.start()
        log.info("webhook mode: serving %s", path)
        await stop.wait()
    finally:
        if app.running:
            await app.stop()
        await stop_runner(app)
        await server.stop()
        await app.shutdown()
        await stop_services(app)
    return exit_code(app.bot_data)
