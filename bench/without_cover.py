"""Run the bot with cover art switched off: a diagnostic for bench_delivery.py (`--no-cover`).

Run: .venv/bin/python bench/without_cover.py   (same environment as `songbot run`)
Why: drawing the waveform cover decodes the whole song (ffmpeg) and analyses it in Python; with
it off, what remains is the delivery pipeline itself (download, probe, streamed upload), which is
what a plain httpx copy can be compared with. `send_song` already sends without a cover when
drawing one fails, so this only makes it fail at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.delivery.send
from bot.ops.cli import main


async def _no_cover(*args: Any, **kwargs: Any) -> Path:
    raise RuntimeError("cover art switched off for this benchmark")


bot.delivery.send.render_cover = _no_cover  # type: ignore[assignment]

if __name__ == "__main__":
    raise SystemExit(main(["run"]))
