"""A multipart/form-data body with one file, streamed from disk in chunks.

Why: httpx's `files=` wants the bytes (or a file object it reads on the event loop); a 15 MB
reference read into memory for the upload was one of the copies that made each reference cost
~50 MB of RSS (issue #28). This body reads the file in a thread, 256 KiB at a time, and can be
built again for each retry (`MultipartFile.stream()` starts over).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

READ_CHUNK: Final = 256 * 1024


def _quoted(value: str) -> str:
    """A header parameter value: quotes, backslashes and line breaks cannot break out of it."""
    return (
        value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    )


@dataclass(frozen=True, slots=True)
class MultipartFile:
    """`fields` as plain parts, then `path` as the part `name` with `filename` and `mime`."""

    path: Path
    name: str
    filename: str
    mime: str
    fields: Mapping[str, str]
    boundary: str

    @classmethod
    def of(
        cls, path: Path, *, name: str, filename: str, mime: str, fields: Mapping[str, str]
    ) -> MultipartFile:
        return cls(path, name, filename, mime, dict(fields), secrets.token_hex(16))

    def _head(self) -> bytes:
        out = []
        for key, value in self.fields.items():
            out.append(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(key)}"'
                f"\r\n\r\n{value}\r\n"
            )
        out.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(self.name)}"; '
            f'filename="{_quoted(self.filename)}"\r\nContent-Type: {self.mime}\r\n\r\n'
        )
        return "".join(out).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    async def headers(self) -> dict[str, str]:
        size = (await asyncio.to_thread(self.path.stat)).st_size
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(len(self._head()) + size + len(self._tail())),
        }

    async def stream(self) -> AsyncIterator[bytes]:
        yield self._head()
        handle = await asyncio.to_thread(self.path.open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)
        yield self._tail()
