"""The bot's one small HTTP port: Telegram's webhook (in webhook mode), `/healthz` and `/metrics`.

Why aiohttp and not PTB's built-in tornado webhook server: health and metrics must share the
webhook's port, and the same server library already runs the local fakes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Sequence
from typing import Any, Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from telegram import Update

from bot.bot_data import bot_data_of
from bot.engine.fleet import Fleet
from bot.ops.http_limits import BODY_SECONDS, HEADER_SECONDS, CappedTCPSite, PortGuard
from bot.ops.metrics import Metrics
from bot.services import Services

log = logging.getLogger(__name__)

# The runner ticks at least once a minute (its idle sleep), so 90 s without one means it is stuck.
RUNNER_STALE_SECONDS: Final = 90.0
# A long poll returns within `timeout` (10 s) plus the read timeout; two minutes without one
# successful getUpdates means polling is failing (network, conflict, bad token), not just idle.
POLL_STALE_SECONDS: Final = 120.0
DB_CHECK_TIMEOUT: Final = 5.0
# A replica whose own heartbeat is this old is about to be taken for dead by the others.
FLEET_STALE: Final = 5.0
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_UPDATE_BYTES: Final = 1024 * 1024


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
        runner_stale_seconds: float = RUNNER_STALE_SECONDS,
        poll_stale_seconds: float = POLL_STALE_SECONDS,
        metrics_token: str | None = None,
        extra_routes: Sequence[web.RouteDef] = (),
    ) -> None:
        if webhook_path is not None and not webhook_secret:
            raise ValueError("a webhook needs a secret token")
        self._app = app
        self._host = host
        self._port = port
        self._webhook_path = webhook_path
        self._secret = webhook_secret.encode() if webhook_secret else b""
        # With a token, /metrics wants `Authorization: Bearer <token>` (SONGBOT_METRICS_TOKEN).
        self._metrics_token = metrics_token.encode() if metrics_token else b""
        # The Mini App's page and API (bot/webapp/api.py), when SONGBOT_PUBLIC_URL is set.
        self._extra_routes = tuple(extra_routes)
        self.runner_stale_seconds = runner_stale_seconds
        self.poll_stale_seconds = poll_stale_seconds
        self._runner: web.AppRunner | None = None
        self._guard: PortGuard | None = None
        self.bound_port: int | None = None
        self.last_webhook_at: float | None = None
        self.rejected_webhook_calls = 0
        # Set by the webhook watchdog when Telegram no longer pushes to us (see webhook.py).
        self.webhook_problem: str | None = None

    @property
    def mode(self) -> str:
        return "webhook" if self._webhook_path else "polling"

    def url(self, path: str = "/healthz") -> str:
        """A URL for this server that works from the same machine (tests, HEALTHCHECK)."""
        host = "127.0.0.1" if self._host in ("0.0.0.0", "", "::") else self._host
        return f"http://{host}:{self.bound_port}{path}"

    async def start(self) -> None:
        # Slow or many clients cannot hold the port or the process's descriptors (#24.3).
        guard = PortGuard()
        web_app = web.Application(
            client_max_size=MAX_UPDATE_BYTES, middlewares=[guard.cap.middleware]
        )
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/metrics", self._metrics)
        if self._webhook_path:
            web_app.router.add_post(self._webhook_path, self._webhook)
        web_app.router.add_routes(self._extra_routes)
        # The keep-alive timer starts with the connection: it bounds the wait for a first
        # header as well as the idle time between requests.
        runner = web.AppRunner(
            web_app, access_log=None, shutdown_timeout=2.0, keepalive_timeout=HEADER_SECONDS
        )
        await runner.setup()
        try:
            await CappedTCPSite(runner, self._host, self._port, guard.cap).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        guard.start()
        self._guard = guard
        addresses = runner.addresses
        self.bound_port = int(addresses[0][1]) if addresses else self._port
        log.info(
            "HTTP server on %s:%s (/healthz, /metrics%s), at most %d connections",
            self._host,
            self.bound_port,
            f", webhook {self._webhook_path}" if self._webhook_path else "",
            guard.cap.limit,
        )

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._guard is not None:
            guard, self._guard = self._guard, None
            await guard.stop()

    # --------------------------------------------------------------- routes
    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self._secret):
            # Never log the value: it may be a near-miss of the real secret.
            self.rejected_webhook_calls += 1
            log.warning(
                "webhook call from %s with a %s secret token rejected (403)",
                request.remote,
                "wrong" if given else "missing",
            )
            return web.Response(status=403, text="forbidden")
        try:
            async with asyncio.timeout(BODY_SECONDS):
                data = await request.json()
        except TimeoutError:
            return web.Response(status=408, text="body too slow")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="bad json")
        try:
            update = Update.de_json(data, self._app.bot) if isinstance(data, dict) else None
        except Exception as exc:  # PTB raises KeyError/TypeError/... for malformed objects
            log.warning("webhook body is not a Telegram update: %s", type(exc).__name__)
            update = None
        if update is None:
            return web.Response(status=400, text="not an update")
        self.last_webhook_at = time.time()
        # Answer only once the update is handled (the job stored): Telegram redelivers an
        # update it got no 200 for, so a crash in between loses nothing (intake is idempotent).
        # Through the update processor, so webhook updates share polling's 64-at-once cap.
        await self._app.update_processor.process_update(update, self._app.process_update(update))
        return web.Response(text="ok")

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._metrics_token and not hmac.compare_digest(
            request.headers.get("Authorization", "").encode("utf-8", "replace"),
            b"Bearer " + self._metrics_token,
        ):
            return web.Response(
                status=401, text="unauthorized", headers={"WWW-Authenticate": "Bearer"}
            )
        services = self._services()
        if services is not None:
            try:
                counts = await asyncio.wait_for(
                    services.jobs.counts_by_state(), timeout=DB_CHECK_TIMEOUT
                )
            except Exception as exc:  # a scrape must not fail because the DB is unhappy
                log.warning("metrics: cannot count jobs: %s", exc)
            else:
                for state, count in counts.items():
                    services.metrics.jobs_by_state.labels(state).set(count)
        metrics = self._metrics_object()
        body = metrics.render() if metrics is not None else b""
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = await self.problems()
        body: dict[str, Any] = {
            "status": "unhealthy" if problems else "ok",
            "mode": self.mode,
            "problems": problems,
        }
        services = self._services()
        if services is not None:
            body["runner_tick_age"] = round(time.time() - services.engine.last_tick, 1)
            # Facts an operator should know that do not make the bot unhealthy (a retired
            # model whose requests now go to its fallback): a detail, not a problem.
            body["notices"] = services.models.notices()
        fleet = self._fleet()
        if fleet is not None:
            body["instance"] = fleet.instance_id
            body["role"] = fleet.role
            body["replicas"] = fleet.live
        return web.json_response(body, status=503 if problems else 200)

    def _fleet(self) -> Fleet | None:
        return bot_data_of(self._app).fleet

    async def problems(self) -> list[str]:
        """Empty when healthy; otherwise short reasons an operator can act on."""
        services = self._services()
        if services is None:
            return ["starting: services are not up yet"]
        found: list[str] = []
        try:
            await asyncio.wait_for(services.db.check_writable(), timeout=DB_CHECK_TIMEOUT)
        except TimeoutError:
            found.append(f"database: no answer within {DB_CHECK_TIMEOUT:g}s")
        except Exception as exc:
            found.append(f"database not writable: {exc}")
        engine = services.engine
        if not engine.alive(self.runner_stale_seconds):
            if engine.last_tick == 0:
                found.append("job runner is not running")
            else:
                age = time.time() - engine.last_tick
                found.append(f"job runner is stopped or stuck (last tick {age:.0f}s ago)")
        fleet = self._fleet()
        if fleet is not None and time.time() - fleet.last_beat > FLEET_STALE:
            found.append(f"replica heartbeat is {time.time() - fleet.last_beat:.0f}s old")
        if self._webhook_path is None and (fleet is None or fleet.role == "poller"):
            # A replica that is not the poller waits for the poller lock by design.
            found.extend(self._polling_problems())
        elif self.webhook_problem:
            found.append(self.webhook_problem)
        return found

    def _polling_problems(self) -> list[str]:
        updater = getattr(self._app, "updater", None)
        if updater is None or not updater.running:
            return ["not polling Telegram for updates"]
        metrics = self._metrics_object()
        if metrics is None:
            return []
        last = metrics.registry.get_sample_value("songbot_last_update_timestamp") or 0.0
        age = time.time() - max(last, metrics.started)
        if age > self.poll_stale_seconds:
            return [f"no successful getUpdates for {age:.0f}s"]
        return []

    def _services(self) -> Services | None:
        return bot_data_of(self._app).services

    def _metrics_object(self) -> Metrics | None:
        return bot_data_of(self._app).metrics
