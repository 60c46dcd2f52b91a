"""Real, small audio files (MP3, WAV, OGG/Opus, M4A) made by ffmpeg, for the fakes and the tests.

Why generated rather than shipped: the bytes are real encodings a decoder accepts, any duration can
be asked for, and nothing binary sits in the repository. Results are cached per process.
"""

from __future__ import annotations

import functools
import math
import struct
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg

_FORMATS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
    "ogg": ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "m4a": ["-c:a", "aac", "-b:a", "64k", "-f", "ipod"],
}


@functools.lru_cache(maxsize=64)
def make_audio(fmt: str, seconds: float, frequency: float = 440.0, channels: int = 1) -> bytes:
    """Encode a sine tone of `seconds` as `fmt` (mp3, ogg, wav, m4a) and return the file bytes."""
    if fmt not in _FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="songbot-fixture-") as tmp:
        out = Path(tmp) / f"fixture.{fmt}"
        cmd = [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:sample_rate=44100:duration={seconds}",
            "-ac",
            str(channels),
            *_FORMATS[fmt],
            "-y",
            str(out),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        return out.read_bytes()


def make_mp3(seconds: float = 3.0, frequency: float = 440.0) -> bytes:
    return make_audio("mp3", seconds, frequency)


def make_wav(seconds: float = 3.0, frequency: float = 440.0) -> bytes:
    return make_audio("wav", seconds, frequency)


def make_ogg_opus(seconds: float = 12.0, frequency: float = 330.0) -> bytes:
    """A voice-note-like OGG/Opus file, as Telegram clients record them."""
    return make_audio("ogg", seconds, frequency)


def make_m4a(seconds: float = 12.0, frequency: float = 550.0) -> bytes:
    return make_audio("m4a", seconds, frequency)


def make_wav_pure(seconds: float, sample_rate: int = 8000) -> bytes:
    """A WAV built without ffmpeg (for large synthetic payloads in benchmarks)."""
    frames = int(seconds * sample_rate)
    data = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / sample_rate)))
        for i in range(min(frames, sample_rate))
    )
    data = (data * (frames // max(1, min(frames, sample_rate)) + 1))[: frames * 2]
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data
