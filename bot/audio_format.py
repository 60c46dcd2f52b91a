"""Naming an audio container from its first bytes.

Why a module of its own, below everything: the provider client (what came back from the API),
delivery (what to convert) and the cover art (what to decode) all ask the same question, and none
of them should depend on another to answer it.
"""

from __future__ import annotations


def sniff_format(head: bytes) -> str | None:
    """Name the container from its first bytes: mp3, wav, ogg, m4a, flac, else None."""
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "m4a"
    if len(head) >= 3 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        version = (head[1] >> 3) & 0x3
        layer = (head[1] >> 1) & 0x3
        bitrate_index = head[2] >> 4
        rate_index = (head[2] >> 2) & 0x3
        # Layer 0 is AAC/ADTS, version 1 and the last indexes are reserved: not an MPEG frame.
        if layer != 0 and version != 1 and bitrate_index != 0xF and rate_index != 3:
            return "mp3"
    return None
