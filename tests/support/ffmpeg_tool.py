"""The ffmpeg command line for making test media (tones, silent and H.264 videos).

Why a separate tool: the bot decodes and encodes with PyAV (bot/delivery/codec.py); test inputs
made by an independent encoder (imageio-ffmpeg's static ffmpeg, a dev dependency) are what real
clients send, not what our own code happens to read back.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from pathlib import Path

import imageio_ffmpeg


def ffmpeg_sync(args: Sequence[str], *, timeout: float = 120.0) -> None:
    """Run ffmpeg with `args`; a failure raises with its stderr."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
    done = subprocess.run([*cmd, *args], capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg {list(args)} failed: {done.stderr.decode(errors='replace')}")


async def run_ffmpeg(args: Sequence[str], *, timeout: float = 120.0) -> None:
    """`ffmpeg_sync` off the event loop."""
    await asyncio.to_thread(ffmpeg_sync, args, timeout=timeout)


def make_media(path: Path, args: Sequence[str]) -> Path:
    """`ffmpeg <args> -y path`; returns `path`."""
    ffmpeg_sync([*args, "-y", str(path)])
    return path
