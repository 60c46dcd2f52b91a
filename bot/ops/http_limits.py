"""Limits that keep the bot's HTTP port (webhook, /healthz, /metrics) from taking the process down.

Why (#24.3): a slowloris attack — hundreds of connections that never finish their request header —
used to hold every file descriptor (aiohttp waits an hour for a first header), so /healthz, the
downloads and the database starved, and asyncio logged a traceback for every failed accept.
Here: a header (and the next one on a kept-alive connection) must arrive within HEADER_SECONDS
(aiohttp's keep-alive timer, which starts with the connection), a body within BODY_SECONDS, and
the port holds at most `connection_cap()` connections — well under the descriptor limit, so the
engine keeps a reserve. At the cap a new connection pushes out the oldest one that is not
handling a request (a slow or idle client): an attacker cannot lock out Telegram or a health
check, which send their request at once. Accept and server errors are logged once per interval
with a count, never a traceback per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

log = logging.getLogger(__name__)

# A client has this long from connecting (or from its last response) to send a whole header.
HEADER_SECONDS: Final = 10.0
# And this long to send the body (only the webhook reads one; Telegram sends it at once).
BODY_SECONDS: Final = 15.0
# Telegram opens at most 40 webhook connections (setWebhook max_connections); health checks and
# scrapes a few more. Higher only costs memory, so a generous ceiling.
MAX_CONNECTIONS: Final = 1024
# Accepted but not yet counted (asyncio accepts up to `backlog` per loop turn).
BACKLOG: Final = 64
# Descriptors left for the engine: downloads, uploads, ffmpeg pipes, the database, temp files.
RESERVE_MIN: Final = 128
SUMMARY_SECONDS: Final = 60.0
# Loggers that write one record per failed connection; they are summarised, not silenced.
NOISY_LOGGERS: Final = ("asyncio", "aiohttp.server")


def connection_cap(open_files: int | None = None) -> int:
    """How many connections the port may hold with `open_files` descriptors (default: the
    process's soft RLIMIT_NOFILE), keeping max(RESERVE_MIN, a quarter) for the engine."""
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if open_files == resource.RLIM_INFINITY:
            return MAX_CONNECTIONS
    reserve = max(RESERVE_MIN, open_files // 4)
    return max(8, min(MAX_CONNECTIONS, open_files - reserve - BACKLOG))


@dataclass
class _Connection:
    transport: asyncio.Transport
    busy: int = 0  # requests being handled (a handler is running)


class ConnectionCap:
    """Counts the port's connections; at the cap the oldest idle one makes room, or (when every
    connection is handling a request) the new one is closed at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[asyncio.BaseTransport, _Connection] = {}  # oldest first
        self.pushed_out = 0
        self.refused = 0

    def __len__(self) -> int:
        return len(self._open)

    def protocol_factory(self, inner: Callable[[], asyncio.Protocol]) -> Callable[[], Any]:
        return lambda: _CountedProtocol(self, inner)

    def admit(self, transport: asyncio.Transport) -> bool:
        if len(self._open) >= self.limit:
            victim = next((c for c in self._open.values() if c.busy == 0), None)
            if victim is None:
                self.refused += 1
                return False
            self.pushed_out += 1
            del self._open[victim.transport]
            victim.transport.abort()
        self._open[transport] = _Connection(transport)
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        self._open.pop(transport, None)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Marks the connection busy while its request is handled: never the one pushed out."""
        connection = self._open.get(request.transport) if request.transport else None
        if connection is not None:
            connection.busy += 1
        try:
            return await handler(request)
        finally:
            if connection is not None:
                connection.busy -= 1

    def take_counts(self) -> tuple[int, int]:
        counts = self.pushed_out, self.refused
        self.pushed_out = self.refused = 0
        return counts


class _CountedProtocol(asyncio.Protocol):
    """Stands in front of aiohttp's protocol so the cap sees every connection come and go."""

    def __init__(self, cap: ConnectionCap, inner: Callable[[], asyncio.Protocol]) -> None:
        self._cap = cap
        self._make_inner = inner
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._cap.admit(transport):
            transport.abort()
            return
        self._inner = self._make_inner()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._cap.release(self._transport)
        if self._inner is not None:
            self._inner.connection_lost(exc)


class CappedTCPSite(web.BaseSite):
    """aiohttp's TCPSite with every connection going through a `ConnectionCap`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, cap: ConnectionCap) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._host = host
        self._port = port
        self._cap = cap

    @property
    def name(self) -> str:
        return f"http://{self._host or '0.0.0.0'}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._cap.protocol_factory(server),
            self._host or None,
            self._port,
            backlog=BACKLOG,
        )


@dataclass
class _Seen:
    first: logging.LogRecord
    more: int = 0


class ErrorSummary(logging.Filter):
    """Lets the first record of each kind through per interval and counts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[tuple[str, str], _Seen] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        # The first line names the kind ("socket.accept() out of system resource"); the
        # rest (a socket, a peer, a traceback) differs from one connection to the next.
        first = record.getMessage().partition("\n")[0]
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        key = (record.name, f"{first} {exc_type}")
        seen = self.seen.get(key)
        if seen is None:
            self.seen[key] = _Seen(record)
            return True
        seen.more += 1
        return False

    def take(self) -> list[str]:
        """One line per kind that repeated, and a fresh interval."""
        lines = [
            f"{more} more like {seen.first.name}: {seen.first.getMessage().splitlines()[0]!r}"
            for seen in self.seen.values()
            if (more := seen.more)
        ]
        self.seen.clear()
        return lines


class PortGuard:
    """The cap, the middleware and the once-per-interval summary for one HTTP server."""

    def __init__(self, limit: int | None = None, *, interval: float = SUMMARY_SECONDS) -> None:
        self.cap = ConnectionCap(connection_cap() if limit is None else limit)
        self.summary = ErrorSummary()
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._since = time.monotonic()

    def start(self) -> None:
        for name in NOISY_LOGGERS:
            logging.getLogger(name).addFilter(self.summary)
        self._task = asyncio.create_task(self._report_every_interval(), name="songbot-http-guard")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.report()
        for name in NOISY_LOGGERS:
            logging.getLogger(name).removeFilter(self.summary)

    async def _report_every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.report()

    def report(self) -> None:
        now = time.monotonic()
        seconds, self._since = now - self._since, now
        pushed_out, refused = self.cap.take_counts()
        if pushed_out or refused:
            log.warning(
                "HTTP port at its cap of %d connections: %d slow or idle ones closed to make "
                "room, %d new ones refused (all busy) in the last %.0fs",
                self.cap.limit,
                pushed_out,
                refused,
                seconds,
            )
        for line in self.summary.take():
            log.warning("%s in the last %.0fs", line, seconds)
