"""Issue #17.4, the rest: repeated failed references are limited per user, and ❌ or a shutdown
during a reference's conversion kills its ffmpeg at once.

Through the real bot against both fakes. The ffmpeg processes are the bot's own children, found
in /proc by their output file (`….ref.mp3.part`), so the test sees exactly what is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from bot.i18n import t
from handlers.buttons import plain_text
from tests.support.harness import BotHarness

LYRICS = "I sing in the morning light\nAnd the day is bright"
SONG = f"/song voice: folk\n{LYRICS}"
NOT_AUDIO = b"ID3" + bytes(range(256)) * 40  # an "MP3" that no decoder can read


def _send_bad_reference(bot: BotHarness, user: int) -> dict[str, Any]:
    return bot.tg.send_media(
        user,
        user,
        "document",
        NOT_AUDIO,
        mime_type="audio/mpeg",
        file_name="take.mp3",
        caption=SONG,
    )


async def _reply(
    bot: BotHarness, chat: int, request: dict[str, Any], *, failure: bool = True
) -> str:
    call = await bot.tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.ok
            and c.params.get("chat_id") == chat
            and (c.params.get("reply_parameters") or {}).get("message_id") == request["message_id"]
            and ("⚠️" in str(c.params.get("text")) or not failure)
        ),
        timeout=20,
    )
    return str(call.params["text"])


async def test_repeated_failed_references_are_refused_for_the_day(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_REFERENCE_FAILURE_LIMIT="2")
    user = 5005
    for n in range(2):
        request = _send_bad_reference(harness, user)
        await _reply(harness, user, request)
        job = await harness.wait_for_job(
            lambda j, r=request: j.request_message_id == r["message_id"] and j.state == "failed"
        )
        assert job.error_key == "error_media", (n, job.error_key)
    downloads = len(harness.tg.downloads)
    jobs = len(await harness.jobs())

    third = _send_bad_reference(harness, user)
    text = await _reply(harness, user, third, failure=False)
    assert plain_text(t("error_reference_failures", "en", n=2)) in plain_text(text)
    assert len(await harness.jobs()) == jobs  # refused before any job …
    assert len(harness.tg.downloads) == downloads  # … or download …
    assert harness.api.requests == []  # … and nothing reached the provider

    # A song without a reference still works for them, and other users are not affected.
    harness.tg.send_text(user, user, f"/song folk\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.user_id == user and j.state == "delivered")
    other = _send_bad_reference(harness, 5006)
    await _reply(harness, 5006, other)
    job = await harness.wait_for_job(lambda j: j.user_id == 5006 and j.state == "failed")
    assert job.error_key == "error_media"


async def test_the_limit_can_be_switched_off(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_REFERENCE_FAILURE_LIMIT="0")
    for _ in range(3):
        request = _send_bad_reference(harness, 5007)
        await _reply(harness, 5007, request)
    jobs = [j for j in await harness.jobs() if j.user_id == 5007]
    assert len(jobs) == 3 and all(j.error_key == "error_media" for j in jobs)


# ---- ❌ and shutdown during a conversion ------------------------------------------------------


def twenty_minutes_hiding_their_length() -> bytes:
    """A FLAC of 20 min of stereo silence (under 1 MB) whose header claims no length: the bot
    must convert it to learn its length, and the conversion (cut at 601 s) takes seconds."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="songbot-test-") as tmp:
        out = Path(tmp) / "silence.flac"
        cmd = [
            ffmpeg,
            *("-hide_banner", "-loglevel", "error", "-f", "lavfi"),
            *("-i", "anullsrc=r=44100:cl=stereo", "-t", "1200", "-c:a", "flac", "-y", str(out)),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        data = bytearray(out.read_bytes())
    data[8 + 13] &= 0xF0  # STREAMINFO's total-samples field: 0 = unknown
    data[8 + 14 : 8 + 18] = b"\0\0\0\0"
    return bytes(data)


def converters() -> list[int]:
    """Our ffmpeg children converting a reference, alive (zombies are not running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == os.getpid() and state != "Z" and b".ref.mp3.part" in cmdline:
            found.append(int(entry.name))
    return found


async def _converting(bot: BotHarness, user: int) -> tuple[dict[str, Any], int]:
    """Send the slow reference; return the request once its ffmpeg runs, and the job id."""
    request = bot.tg.send_media(
        user,
        user,
        "document",
        twenty_minutes_hiding_their_length(),
        mime_type="audio/flac",
        file_name="take.flac",
        caption=SONG,
    )
    deadline = time.monotonic() + 20
    while not converters():
        assert time.monotonic() < deadline, "the conversion never started"
        await asyncio.sleep(0.005)
    job = await bot.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    assert job.state == "preparing"
    return request, job.id


async def _gone_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while converters():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_cancel_during_a_conversion_kills_ffmpeg(harness: BotHarness) -> None:
    user = 5008
    _request, job_id = await _converting(harness, user)
    job = await harness.services.jobs.get(job_id)
    assert job is not None and job.status_message_id is not None
    query = harness.tg.press_button(user, user, job.status_message_id, f"v1:cancel:{job_id}")
    await harness.tg.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    # The conversion alone takes seconds more; killed, it is gone at once.
    assert await _gone_within(0.5), converters()
    job = await harness.wait_state(job_id, "cancelled")
    assert harness.api.requests == []  # nothing uploaded, nothing submitted
    await asyncio.sleep(0.2)
    assert not list(harness.services.temp.job_dir(job.key).glob("*"))  # no half-written files


async def test_shutdown_during_a_conversion_kills_ffmpeg_and_resumes_later(
    harness: BotHarness,
) -> None:
    user = 5009
    _request, job_id = await _converting(harness, user)
    started = time.monotonic()
    await harness.stop()
    stopped = time.monotonic() - started
    assert not converters()  # no ffmpeg left behind
    assert stopped < 1.5, f"stop waited {stopped:.1f} s for the conversion"
    assert harness.api.requests == []
    with contextlib.closing(sqlite3.connect(harness.db_path)) as db:
        [(state,)] = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchall()
    assert state == "preparing"  # cut short, not finished during the shutdown
    # The job was not lost: the next start prepares it again (and refuses it, 601 s > 600 s).
    await harness.start()
    job = await harness.wait_state(job_id, "failed", timeout=30)
    assert job.error_key == "error_reference_too_long"
