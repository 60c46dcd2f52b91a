"""Issue #24.8: everything the bot writes is its owner's alone (files 0600, folders 0700), and a
database an older version left 0644 (with its -wal/-shm and lock file) is tightened at start.

Through the real `songbot run` (tests/support/subprocess_bot.py) started with the usual
umask 022: a
song with a voice reference whose upload Telegram keeps refusing, so temporary files, the
converted reference and the kept song are all written while a watcher records every mode seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.audio_fixtures import make_ogg_opus
from songbot_fakes.telegram import FakeTelegram
from storage.open_db import open_database
from tests.support.subprocess_bot import BotProcess, jobs_async, outcome_messages, subprocess_env

pytestmark = pytest.mark.timeout(180)
CHAT = 5150


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeAimlApi]]:
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=0.5)
    await tg.start()
    await api.start()
    try:
        yield tg, api
    finally:
        await tg.stop()
        await api.stop()


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The bot starts with the common umask, which would make files world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


async def older_install(folder: Path) -> Path:
    """What an older version left: a 0644 database with -wal/-shm, lock file and temp folder,
    and a kept song, in 0755 folders."""
    db = folder / "songbot.db"
    await (await open_database(db)).close()
    for name in ("songbot.db", "songbot.db-wal", "songbot.db-shm", "songbot.db.lock"):
        (folder / name).touch()
        (folder / name).chmod(0o644)
    kept = folder / "songbot-tmp" / "kept.d"
    kept.mkdir(parents=True)
    (kept / "old-song.mp3").write_bytes(b"ID3 an older kept song")
    (kept / "old-song.mp3").chmod(0o644)
    kept.chmod(0o755)
    kept.parent.chmod(0o755)
    return db


async def watch_modes(root: Path, seen: dict[Path, int], stop: asyncio.Event) -> None:
    """Record the mode (with its file type) of everything that appears under `root`."""

    def walk() -> None:
        for dirpath, dirs, files in os.walk(root):
            for name in (*dirs, *files):
                path = Path(dirpath) / name
                with contextlib.suppress(FileNotFoundError):
                    seen[path] = path.lstat().st_mode

    while not stop.is_set():
        await asyncio.to_thread(walk)
        await asyncio.sleep(0.005)


async def test_everything_the_bot_writes_is_private_and_an_old_database_is_tightened(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, umask_022: None
) -> None:
    tg, api = fakes
    db = await older_install(tmp_path)
    temp = tmp_path / "songbot-tmp"
    env = subprocess_env(tg, api, db, {"SONGBOT_JOB_TIMEOUT": "8"})
    bot = BotProcess(env, tmp_path)
    seen: dict[Path, int] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_modes(temp, seen, stop))
    try:
        await bot.start()
        deadline = time.monotonic() + 30
        while tg.polls_waiting == 0:
            assert bot.running and time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.02)
        for name in ("songbot.db", "songbot.db-wal", "songbot.db-shm", "songbot.db.lock"):
            path = tmp_path / name
            if path.exists():  # SQLite may have checkpointed and removed an empty -wal
                assert mode(path) == 0o600, f"{name} is {mode(path):o}"
        assert mode(tmp_path / "songbot.db") == 0o600
        assert mode(temp) == 0o700 and mode(temp / "kept.d") == 0o700
        assert mode(temp / "kept.d" / "old-song.mp3") == 0o600

        tg.add_chat(CHAT)
        tg.script("sendAudio", status=500, times=None)  # Telegram keeps refusing the song
        request = tg.send_media(
            CHAT,
            CHAT,
            "voice",
            make_ogg_opus(12.0),
            caption="/song voice: folk\nI sing in the morning light\nAnd the day is bright",
        )
        deadline = time.monotonic() + 60
        while not any(outcome_messages(tg, CHAT, request["message_id"])):
            assert bot.running and time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.05)
        [job] = await jobs_async(db)
        assert job["error_key"] == "error_telegram_upload", job
        kept = Path(job["result_path"])
        assert kept.parent == temp / "kept.d" and kept.is_file()
        stop.set()
        await watcher
        seen[kept] = kept.lstat().st_mode
        job_files = [p for p in seen if p.parent != temp / "kept.d"]
        assert len(job_files) >= 3, seen  # a job folder and the reference files were watched
        loose = {
            str(p.relative_to(tmp_path)): f"{stat.S_IMODE(m):o}"
            for p, m in seen.items()
            if stat.S_IMODE(m) != (0o700 if stat.S_ISDIR(m) else 0o600)
        }
        assert not loose, loose
    finally:
        stop.set()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await bot.stop()
