"""PTB's HTTP transport with Prometheus timing: every Bot API call and file download is measured.

Why wrap the transport and not the call sites: the runner, the handlers, the status editor and PTB
itself (getUpdates, getMe, setMyCommands) all talk to Telegram; measuring at `do_request` sees each
HTTP exchange exactly once, including the 429s that the rate limiter then retries. Labels are the
method name only — never the URL, which carries the bot token.

It also streams uploads from disk: PTB's `HTTPXRequest` hands httpx the whole file (or a file
handle that httpx then reads on the event loop), so 20 songs of 10 MB going out at once would hold
200 MB. A part given as an open file (`InputFile(handle, read_file_handle=False)`) is instead read
in 256 KiB chunks on a worker thread while it is sent (bench/bench_delivery.py measures this).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import IO, Any, Final

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.ops.metrics import Metrics
from bot.telegram.ptb_private import is_default, media_write_timeout, request_client
from bot.tls import client_tls

FILE_DOWNLOAD: Final = "file_download"
OTHER: Final = "other"
_METHOD: Final = re.compile(r"[A-Za-z]{1,64}")
UPLOAD_CHUNK: Final = 256 * 1024
# Multipart parameter quoting as httpx (and browsers, per HTML5) do it.
_FORM_ESCAPES: Final = {'"': "%22", "\\": "\\\\"} | {
    chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B
}
_FORM_ESCAPE_RE: Final = re.compile("|".join(re.escape(c) for c in _FORM_ESCAPES))

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
            httpx_kwargs={"verify": client_tls()},
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
            if request_data is not None and _has_stream(request_data):
                status, payload = await self._streamed(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            else:
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

    async def _streamed(
        self,
        url: str,
        method: str,
        request_data: RequestData,
        *,
        read_timeout: _Timeout,
        write_timeout: _Timeout,
        connect_timeout: _Timeout,
        pool_timeout: _Timeout,
    ) -> tuple[int, bytes]:
        """A multipart request whose file parts are read from disk while they are sent.

        Same timeouts and error mapping as `HTTPXRequest.do_request`; the body has a
        Content-Length, and a retry (after a 429) rewinds the files and streams them again.
        """
        boundary = secrets.token_hex(16)
        segments = await _multipart(boundary, request_data)
        length = sum(len(s) if isinstance(s, bytes) else s[1] for s in segments)
        client = request_client(self)
        timeout = httpx.Timeout(
            connect=_pick(connect_timeout, client.timeout.connect),
            read=_pick(read_timeout, client.timeout.read),
            write=_pick(write_timeout, media_write_timeout(self)),
            pool=_pick(pool_timeout, client.timeout.pool),
        )
        headers = {
            "User-Agent": self.USER_AGENT,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        }
        try:
            response = await client.request(
                method, url, headers=headers, content=_stream(segments), timeout=timeout
            )
        except httpx.TimeoutException as err:
            raise TimedOut from err
        except httpx.HTTPError as err:
            raise NetworkError(f"httpx.{err.__class__.__name__}: {err}") from err
        return response.status_code, response.content

    def _observe(self, label: str, started: float, error: str | None) -> None:
        self.metrics.telegram_latency.labels(label).observe(time.monotonic() - started)
        if error is not None:
            self.metrics.telegram_errors.labels(label, error).inc()


# A multipart body: literal bytes, and open files streamed as (handle, size).
_Segment = bytes | tuple[IO[bytes], int]


def _has_stream(request_data: RequestData) -> bool:
    return any(not isinstance(part[1], bytes) for part in request_data.multipart_data.values())


def _pick(value: _Timeout, default: float | None) -> float | None:
    return default if is_default(value) else value


def _form_param(name: str, value: str) -> bytes:
    escaped = _FORM_ESCAPE_RE.sub(lambda m: _FORM_ESCAPES[m.group(0)], value)
    return f'{name}="{escaped}"'.encode()


async def _multipart(boundary: str, request_data: RequestData) -> list[_Segment]:
    """The body as httpx would encode `data=` fields and `files=` parts, files left unread."""
    dash = f"--{boundary}\r\n".encode()
    segments: list[_Segment] = []
    for name, value in request_data.json_parameters.items():
        segments += [dash, b"Content-Disposition: form-data; ", _form_param("name", name)]
        segments += [b"\r\n\r\n", value.encode(), b"\r\n"]
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        segments += [dash, b"Content-Disposition: form-data; ", _form_param("name", name)]
        if filename:
            segments += [b"; ", _form_param("filename", filename)]
        segments.append(f"\r\nContent-Type: {mimetype}\r\n\r\n".encode())
        if isinstance(content, bytes):
            segments.append(content)
        else:
            size = (await asyncio.to_thread(os.fstat, content.fileno())).st_size
            segments.append((content, size))
        segments.append(b"\r\n")
    segments.append(f"--{boundary}--\r\n".encode())
    # Adjacent literals go out as one write: every yielded piece costs a send() of its own.
    merged: list[_Segment] = []
    for segment in segments:
        if isinstance(segment, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += segment
        else:
            merged.append(segment)
    return merged


async def _stream(segments: list[_Segment]) -> AsyncIterator[bytes]:
    for segment in segments:
        if isinstance(segment, bytes):
            yield segment
            continue
        handle, left = segment
        await asyncio.to_thread(handle.seek, 0)
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(UPLOAD_CHUNK, left))
            if not chunk:
                raise httpx.ReadError("upload file shrank while it was being sent")
            left -= len(chunk)
            yield chunk


def make_requests(metrics: Metrics) -> tuple[MeteredRequest, MeteredRequest]:
    """(general request, getUpdates request) for `ApplicationBuilder().request(...)` and
    `.get_updates_request(...)`; getUpdates keeps PTB's own defaults but for a second connection.

    Why two: on stop PTB cancels the long poll in flight without waiting for it, then sends one
    last getUpdates to confirm the handled updates. With one connection that call often waited
    for the cancelled poll to give the connection back, for the whole pool timeout (1 s), and
    failed: every such stop took a second longer and logged an ERROR with a traceback."""
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
    updates = MeteredRequest(metrics, connection_pool_size=2)
    return general, updates
