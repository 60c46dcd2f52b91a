"""Local faults: a busy, full or read-only SQLite database, a failing ffmpeg, a vanished temp dir.

The bot runs in-process against the fakes. A full disk is SQLite's own SQLITE_FULL, produced with
`PRAGMA max_page_count` on the bot's connection; a read-only database is `PRAGMA query_only`
(SQLITE_READONLY on every write), which works even when the tests run as root.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import threading
import time

import pytest

from bot.i18n import t
from storage.db import StorageError
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import retry_now
from tests.support.subprocess_bot import integrity_check, outcome_messages
from tests.support.waits import HELD, held_answers

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
FILES = "GET /files"


async def pragma(harness: BotHarness, statement: str) -> None:
    """Run a PRAGMA on the bot's own connection (through its lock, between its statements)."""
    await harness.services.db.fetchall(statement)


async def reply_to(harness: BotHarness, request_id: int, timeout: float = 10.0) -> str:
    call = await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == request_id,
        timeout=timeout,
    )
    return str(call.params["text"])


async def fill_the_disk(harness: BotHarness) -> None:
    """Cap the file at its size, then fill every free byte: the next insert gets SQLITE_FULL."""
    db = harness.services.db
    pages = await db.fetchval("PRAGMA page_count")
    await pragma(harness, f"PRAGMA max_page_count = {pages}")
    for number in range(10_000):
        try:
            await db.execute_write(
                "INSERT INTO meta (key, value) VALUES (?, ?)", (f"filler-{number}", "x" * 500)
            )
        except StorageError:
            return
    raise AssertionError("the database never filled up")


def hold_write_lock(path: str, seconds: float, locked: threading.Event) -> None:
    """Another process-like writer: BEGIN IMMEDIATE on its own connection, then sit on it."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_sqlite_busy_is_waited_out_within_the_busy_timeout(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    locked = threading.Event()
    # The lock is taken before the request arrives and held across intake and the runner's
    # first ticks (every 0.1 s), well within the busy timeout.
    holder = asyncio.create_task(
        asyncio.to_thread(hold_write_lock, str(harness.db_path), 0.6, locked)
    )
    await asyncio.to_thread(locked.wait, 5)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await holder
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert outcome_messages(harness.tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    assert not [r for r in caplog.records if "locked" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_disk_full_at_intake_gets_a_clear_reply_and_recovers(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)  # the jobs table has a row already
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    await fill_the_disk(harness)
    style = "epic orchestral power ballad " * 50  # a row bigger than any free space left
    long_song = f"/song {style}\n{LYRICS}\n" + "la la la\n" * 300
    request = harness.tg.send_text(PRIVATE_CHAT, USER, long_song)
    text = await reply_to(harness, request["message_id"])
    assert text == t("error_internal", "en")  # not the user's fault, try again later
    assert [j.request_message_id for j in await harness.jobs()] == [first["message_id"]]
    assert len(harness.api.requests_to("POST /v2/generate/audio")) == 1
    assert any("full" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    # Space comes back: the next request goes through without a restart.
    await pragma(harness, "PRAGMA max_page_count = 1073741823")
    again = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(
        lambda j: j.request_message_id == again["message_id"] and j.state == "delivered",
        timeout=20,
    )
    assert outcome_messages(harness.tg, PRIVATE_CHAT, again["message_id"]) == (1, [])
    assert await asyncio.to_thread(integrity_check, harness.db_path) == "ok"


async def test_read_only_database_while_running_is_no_crash_loop(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)  # finished below, once the database is writable
    first = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == "pending")
    await pragma(harness, "PRAGMA query_only = 1")
    caplog.clear()
    # A request while the database refuses writes: a clear reply, nothing charged.
    second = tg.send_text(PRIVATE_CHAT, USER, f"/song lo-fi hip hop\n{LYRICS}")
    assert await reply_to(harness, second["message_id"]) == t("error_internal", "en")

    def storage_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if "readonly" in r.getMessage()]

    # The runner keeps failing to write meanwhile: its second try comes a second after the
    # first and says the next waits two (ticks come every 0.1 s, so without the back-off a
    # crash loop would log ten lines in that second, and a dozen more in the half after it).
    deadline = time.monotonic() + 15
    while not any("retry in 2s" in line for line in storage_lines()):
        assert time.monotonic() < deadline, storage_lines()
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert storage_lines(), "the operator must be told what is wrong"
    tracebacks = [r for r in caplog.records if r.exc_info and r.name.startswith("bot.engine.")]
    assert len(storage_lines()) <= 6, storage_lines()  # backs off
    assert len(tracebacks) <= 1
    assert harness.services.engine.alive(60)
    # Writable again: the pending job finishes, once; the refused one never became a job. (The
    # runner would look again after its two-second pause; the wake-up spares the test that.)
    await pragma(harness, "PRAGMA query_only = 0")
    assert job.generation_id is not None
    api.complete_now(job.generation_id)
    harness.services.engine.wake()
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert outcome_messages(tg, PRIVATE_CHAT, first["message_id"]) == (1, [])
    assert len(await harness.jobs()) == 1
    assert len(api.paid_submissions()) == 1
    assert await asyncio.to_thread(integrity_check, harness.db_path) == "ok"


async def test_ffmpeg_failure_ends_the_job_with_a_message(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)  # finished below, once its audio is swapped
    request = tg.send_text(PRIVATE_CHAT, USER, "/song calm ambient piano for studying")
    job = await harness.wait_for_job(lambda j: j.state == "pending" and bool(j.generation_id))
    assert job.generation_id is not None
    # A WAV header on garbage: it is recognised as WAV, and ffmpeg cannot decode it.
    api.generations[job.generation_id].audio = (
        b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 20 + b"junk" * 500
    )
    api.complete_now(job.generation_id)
    done = await harness.wait_for_job(lambda j: j.outcome_sent_at is not None, timeout=20)
    audios, failures = outcome_messages(tg, PRIVATE_CHAT, request["message_id"])
    assert (audios, len(failures)) == (0, 1)
    assert done.state == "failed" and done.error_detail and "ffmpeg" in done.error_detail
    assert not tg.calls_to("sendAudio")


async def test_temp_dir_removed_while_generating_is_recreated(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)  # finished below, once the directory is gone
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == "pending" and bool(j.generation_id))
    root = harness.services.temp.root
    await asyncio.to_thread(shutil.rmtree, root)
    assert job.generation_id is not None
    api.complete_now(job.generation_id)
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])


async def test_temp_dir_removed_mid_download_is_recreated(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tg, api = harness.tg, harness.api
    # The download is answered only once the temporary directory is gone.
    async with held_answers(api, monkeypatch):
        api.script(FILES, process=True, delay=HELD, times=1)
        request = tg.send_text(PRIVATE_CHAT, USER, SONG)
        while not api.requests_to(FILES):
            await asyncio.sleep(0.01)
        await asyncio.to_thread(shutil.rmtree, harness.services.temp.root)
    job = await harness.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    await retry_now(harness, job.id)  # the download failed: the next one, without the pause
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    assert len(api.paid_submissions()) == 1
