"""Downloading a Telegram file straight to disk, never holding it in memory.

Why not PTB's `download_to_drive` / `download_as_bytearray`: both read the whole body into memory
first (up to 20 MB, plus copies), so six references in flight cost the bot ~300 MB of RSS (issue
#28). Here the body is streamed in chunks to a `.part` file (writes in a thread, ~1 MiB at a time)
with a byte cap, then renamed.

The file URL carries the bot token: it is only used for this one GET and never logged, stored or
put into an exception (httpx errors are replaced by ones that name only the error type).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from telegram import File
from telegram.error import NetworkError

from bot.streams import TooBig, stream_to_file
from bot.tls import client_tls


class FileTooBig(TooBig):
    """A Telegram file went past the cap; nothing of it is kept."""


class FileRefused(Exception):
    """The Bot API answered the download with a status that will not change on retry."""

    def __init__(self, status: int) -> None:
        super().__init__(f"file download: HTTP {status}")
        self.status = status


def _encoded(url: str) -> str:
    """Percent-encode the path (file paths may hold UTF-8), as PTB does before downloading."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, quote(parts.path), parts.query, parts.fragment))


async def stream_telegram_file(
    file: File, dest: Path, *, max_bytes: int, read_timeout: float
) -> int:
    """Write `file` to `dest` (at most `max_bytes`); returns its size.

    Raises `FileTooBig`, `FileRefused` (4xx), or telegram's `NetworkError` for what a retry may
    fix (network errors, 429, 5xx), so the runner retries it like any Bot API hiccup.
    """
    if not file.file_path:
        raise FileRefused(404)
    if not file.file_path.startswith(("http://", "https://")):
        return await asyncio.to_thread(_copy_local, Path(file.file_path), dest, max_bytes)
    timeout = httpx.Timeout(read_timeout, connect=min(30.0, read_timeout))
    try:
        async with (
            httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, verify=client_tls()
            ) as client,
            client.stream("GET", _encoded(file.file_path)) as response,
        ):
            status = response.status_code
            if status == 429 or status >= 500:
                raise NetworkError(f"file download: HTTP {status}")
            if status != 200:
                raise FileRefused(status)
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise FileTooBig(max_bytes, int(declared))
            return await stream_to_file(response, dest, max_bytes=max_bytes, too_big=FileTooBig)
    except httpx.HTTPError as exc:
        # Never the exception itself: its request (and so the URL with the token) rides along.
        raise NetworkError(f"file download: {type(exc).__name__}") from None


def _copy_local(source: Path, dest: Path, max_bytes: int) -> int:
    """A local Bot API server hands out paths on this machine: copy, capped."""
    size = source.stat().st_size
    if size > max_bytes:
        raise FileTooBig(max_bytes, size)
    shutil.copyfile(source, dest)
    return size
