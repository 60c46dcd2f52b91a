"""PTB's HTTP transport with Prometheus timing: every Bot API call and file download is measured.

Why wrap the transport and not the call sites: the runner, the handlers, the status editor and PTB
itself (getUpdates, getMe, setMyCommands) all talk to Telegram; measuring at `do_request` sees each
HTTP exchange exactly once, including the 429s that the rate limiter then retries. Labels are the
method name only — never the URL, which carries the bot token.
"""

from __future__ import annotations

import re
import time
from typing import Any, Final

from telegram.error import TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.metrics import Metrics

FILE_DOWNLOAD: Final = "file_download"
OTHER: Final = "other"
_METHOD: Final = re.compile(r"[A-Za-z]{1,64}")

# PTB's `ODVInput[float]` (a float, None, or its DEFAULT_NONE marker) lives in a private module.
_Timeout = Any


def method_label(url: str) -> str:
    """The Bot API method of `url` (`.../bot<token>/sendMessage` → `sendMessage`), token-free."""
    if "/file/bot" in url:
        return FILE_DOWNLOAD
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return tail if _METHOD.fullmatch(tail) else OTHER


class MeteredRequest(HTTPXRequest):
    """An `HTTPXRequest` that records latency, HTTP errors and transport failures per method.

    Errors are counted in `songbot_telegram_errors_total{method, kind}` where `kind` is the HTTP
    status (`"429"` for flood control, `"403"`, `"400"`, …) or `timeout` / `network` when no
    answer arrived. A successful getUpdates also refreshes `songbot_last_update_timestamp`, which
    /healthz reads to tell a healthy long poll from one that keeps failing.
    """

    def __init__(
        self,
        metrics: Metrics,
        *,
        connection_pool_size: int = 256,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        super().__init__(
            connection_pool_size=connection_pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            media_write_timeout=media_write_timeout,
            pool_timeout=pool_timeout,
        )
        self.metrics = metrics

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: _Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: _Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: _Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: _Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        label = method_label(url)
        started = time.monotonic()
        try:
            status, payload = await super().do_request(
                url,
                method,
                request_data=request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except TimedOut:
            self._observe(label, started, "timeout")
            raise
        except Exception:
            self._observe(label, started, "network")
            raise
        self._observe(label, started, None if 200 <= status < 300 else str(status))
        if label == "getUpdates" and status == 200:
            self.metrics.last_update.set(time.time())
        return status, payload

    def _observe(self, label: str, started: float, error: str | None) -> None:
        self.metrics.telegram_latency.labels(label).observe(time.monotonic() - started)
        if error is not None:
            self.metrics.telegram_errors.labels(label, error).inc()


def make_requests(metrics: Metrics) -> tuple[MeteredRequest, MeteredRequest]:
    """(general request, getUpdates request) for `ApplicationBuilder().request(...)` and
    `.get_updates_request(...)`; getUpdates keeps PTB's own defaults (one connection)."""
    # The general pool: PTB's size, and timeouts long enough for slow uploads of whole songs.
    general = MeteredRequest(
        metrics,
        connection_pool_size=256,
        connect_timeout=10.0,
        read_timeout=30.0,
        write_timeout=30.0,
        media_write_timeout=120.0,
        pool_timeout=10.0,
    )
    updates = MeteredRequest(metrics, connection_pool_size=1)
    return general, updates
