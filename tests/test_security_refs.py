"""Issue #17.4: a tiny audio document that decodes to hours must not make the bot transcode.

Through the real bot against both fakes: a small FLAC of two hours of silence, once with an honest
header (refused from the header, no conversion at all) and once with the length field zeroed (as a
hostile file would: the conversion is cut at the model's maximum and refused in seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from tests.support.harness import BotHarness

LYRICS = "I sing in the morning light\nAnd the day is bright"


def two_hours_of_silence_flac(*, hide_length: bool) -> bytes:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="songbot-test-") as tmp:
        out = Path(tmp) / "silence.flac"
        cmd = [
            ffmpeg,
            *("-hide_banner", "-loglevel", "error", "-f", "lavfi"),
            *("-i", "anullsrc=r=8000:cl=mono", "-t", "7200", "-c:a", "flac", "-y", str(out)),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        data = bytearray(out.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO first
    if hide_length:
        # STREAMINFO starts at byte 8; its 36-bit total-samples field spans bytes 13.5..17
        # (0 = "unknown", which is legal FLAC and what a streaming encoder writes).
        data[8 + 13] &= 0xF0
        data[8 + 14 : 8 + 18] = b"\0\0\0\0"
    return bytes(data)


class TempWatch:
    """Polls the bot's temp folder while the job runs: the largest converted file seen."""

    def __init__(self, root: Path) -> None:
        self.root, self.peak, self.converted = root, 0, False
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            for path in self.root.rglob("*"):
                if ".ref.mp3" in path.name:
                    self.converted = True
                    with contextlib.suppress(OSError):
                        self.peak = max(self.peak, path.stat().st_size)
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def _refused(bot: BotHarness, flac: bytes) -> tuple[Any, float, str, TempWatch]:
    watch = TempWatch(bot.services.temp.root)
    started = time.monotonic()
    request = bot.tg.send_media(
        4004,
        4004,
        "document",
        flac,
        mime_type="audio/flac",
        file_name="take.flac",
        caption=f"/song voice: folk\n{LYRICS}",
    )
    job = await bot.wait_for_job(
        lambda j: j.state == "failed" and bool(j.outcome_sent_at), timeout=30
    )
    elapsed = time.monotonic() - started
    await watch.stop()
    call = await bot.tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
            and "⚠️" in c.params["text"]
        ),
    )
    return job, elapsed, str(call.params["text"]), watch


async def test_a_flac_of_two_hours_is_refused_from_its_header(harness: BotHarness) -> None:
    flac = two_hours_of_silence_flac(hide_length=False)
    assert len(flac) < 1_000_000  # tiny on the wire
    job, elapsed, text, watch = await _refused(harness, flac)
    assert job.error_key == "error_reference_too_long"
    assert "2 hr long" in text and "at most 10 min." in text
    assert harness.api.requests == []  # nothing uploaded, nothing charged
    assert not watch.converted  # refused from the header: ffmpeg never ran
    # Converting two hours to MP3 takes tens of seconds; reading a header takes none.
    assert elapsed < 8, f"took {elapsed:.1f} s"
    assert not list(harness.services.temp.job_dir(job.key).glob("*.part"))


async def test_a_flac_hiding_its_length_is_cut_at_the_models_maximum(
    harness: BotHarness,
) -> None:
    flac = two_hours_of_silence_flac(hide_length=True)
    job, elapsed, text, watch = await _refused(harness, flac)
    assert job.error_key == "error_reference_too_long"
    assert "at most 10 min." in text
    assert harness.api.requests == []
    # 601 s at 192 kbit/s is 14.4 MB; two hours would have been 173 MB.
    assert watch.converted and watch.peak <= 15_000_000, watch.peak
    assert elapsed < 20, f"took {elapsed:.1f} s"
