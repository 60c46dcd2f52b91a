"""A streamed HTTP body written to disk with a byte cap: one copy for provider audio and for
Telegram files.

Why in one place: both must never hold a body in memory (six references in flight once cost
~300 MB), never leave a partial file where the real one belongs, and never block the event loop
on a write; the rules are the same, only the error a caller wants for "too big" differs.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Final

import httpx

WRITE_CHUNK: Final = 1 << 20  # buffer this much before handing a write to a thread


class TooBig(Exception):
    """A body went past its byte cap; nothing of it is kept."""

    def __init__(self, limit: int, seen: int) -> None:
        super().__init__(f"more than {limit} bytes (saw {seen})")
        self.limit = limit
        self.seen = seen


async def stream_to_file(
    response: httpx.Response, dest: Path, *, max_bytes: int, too_big: type[TooBig] = TooBig
) -> int:
    """Write a streamed body to `dest` (via a `.part` file), stopping at `max_bytes` with
    `too_big`; returns its size. On any failure the partial file is removed and `dest` is left
    untouched. Writes go through a thread in ~1 MiB batches."""
    part = dest.with_name(dest.name + ".part")
    handle = await asyncio.to_thread(part.open, "wb")
    total = 0
    buffer = bytearray()
    try:
        try:
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise too_big(max_bytes, total)
                buffer += chunk
                if len(buffer) >= WRITE_CHUNK:
                    await asyncio.to_thread(handle.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(handle.write, bytes(buffer))
        finally:
            await asyncio.to_thread(handle.close)
        await asyncio.to_thread(part.replace, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            await asyncio.to_thread(part.unlink, True)
        raise
    return total
