"""The bot's one small HTTP port: Telegram's webhook (in webhook mode), `/healthz` and `/metrics`.

Why aiohttp and not PTB's built-in tornado webhook server: health and metrics must share the
webhook's port, and the same server library already runs the local fakes.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from telegram import Update

from bot.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)

RUNNER_STALE_SECONDS = 90.0


class WebServer:
    """Serves /healthz, /metrics and (optionally) the webhook path for one Application."""

    def __init__(
        self,
        app: Any,
        *,
        host: str,
        port: int,
        webhook_path: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._webhook_path = webhook_path
        self._secret = webhook_secret
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None
        self.last_webhook_at: float | None = None

    async def start(self) -> None:
        web_app = web.Application(client_max_size=4 * 1024 * 1024)
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/metrics", self._metrics)
        if self._webhook_path:
            web_app.router.add_post(self._webhook_path, self._webhook)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("HTTP server on %s:%s (healthz, metrics%s)", self._host, self.bound_port,
                 ", webhook" if self._webhook_path else "")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --------------------------------------------------------------- routes
    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not self._secret or not hmac.compare_digest(given.encode(), self._secret.encode()):
            # Never log the value: it may be a near-miss of the real secret.
            log.warning("webhook call with a %s secret token rejected (403)",
                        "missing" if not given else "wrong")
            return web.Response(status=403, text="forbidden")
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="bad json")
        update = Update.de_json(data, self._app.bot)
        if update is None:
            return web.Response(status=400, text="not an update")
        self.last_webhook_at = time.time()
        await self._app.update_queue.put(update)
        return web.Response(status=200, text="ok")

    async def _metrics(self, request: web.Request) -> web.Response:
        services = self._services()
        metrics = self._app.bot_data.get("metrics")
        if services is not None:
            counts = await services.jobs.counts_by_state()
            for state, count in counts.items():
                services.metrics.jobs_by_state.labels(state).set(count)
        body = metrics.render() if metrics is not None else b""
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        status = 503 if problems else 200
        body = {"ok": not problems, "problems": problems}
        return web.json_response(body, status=status)

    async def problems(self) -> list[str]:
        """Empty when healthy; otherwise short reasons an operator can act on."""
        found: list[str] = []
        services = self._services()
        if services is None:
            return ["starting: services are not up yet"]
        try:
            await services.db.check_writable()
        except Exception as exc:
            found.append(f"database not writable: {exc}")
        runner = services.runner
        if runner is None or not runner.alive(RUNNER_STALE_SECONDS):
            found.append("job runner is not running or stuck")
        updater = getattr(self._app, "updater", None)
        if self._webhook_path is None and updater is not None and not updater.running:
            found.append("not polling Telegram for updates")
        return found

    def _services(self) -> Services | None:
        services = self._app.bot_data.get(SERVICES_KEY)
        return services if isinstance(services, Services) else None
