"""Audio bytes from the provider: format sniffing, strict hex decoding, capped streaming to disk.

Why sniff: stable-audio serves WAV as `application/octet-stream` and an expired signed URL can
answer with an HTML/XML error page, so the content type proves nothing; the first bytes do.
Why strict hex: `bytes.fromhex` silently skips whitespace, so a truncated or mangled music-01
answer could decode into plausible garbage; we accept only an even-length run of hex digits.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Final

import httpx

from bot.audio_format import sniff_format
from bot.streams import TooBig
from bot.streams import stream_to_file as stream_body

AUDIO_MIME: Final[dict[str, str]] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
}

_HEX: Final = re.compile(r"[0-9a-fA-F]*")


class HexDecodeError(ValueError):
    """The provider's hex audio is not strictly hex (odd length, other characters, empty)."""


class AudioTooLarge(TooBig):
    """A result download went past its byte cap; nothing of it is kept."""


def sniff_audio_format(head: bytes) -> str | None:
    """The container of `head` (mp3, wav, ogg, flac, m4a): one sniffer for the whole bot."""
    return sniff_format(head)


def decode_hex_audio(text: str) -> bytes:
    """Decode music-01's `data.audio`; raises `HexDecodeError` unless it is clean, even hex."""
    if not text:
        raise HexDecodeError("empty audio")
    if len(text) % 2:
        raise HexDecodeError(f"odd hex length {len(text)}")
    if _HEX.fullmatch(text) is None:
        raise HexDecodeError("non-hex characters in audio")
    return bytes.fromhex(text)


async def stream_to_file(response: httpx.Response, dest: Path, *, max_bytes: int) -> int:
    """Write a streamed body to `dest`, stopping at `max_bytes` with `AudioTooLarge`."""
    return await stream_body(response, dest, max_bytes=max_bytes, too_big=AudioTooLarge)


async def read_head(path: Path, size: int = 16) -> bytes:
    """The first bytes of a file, read off the event loop."""

    def _read() -> bytes:
        with path.open("rb") as f:
            return f.read(size)

    return await asyncio.to_thread(_read)
