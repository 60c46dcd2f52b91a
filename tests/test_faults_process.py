"""The real `songbot run` process: graceful stops with hundreds of jobs pending, a second poller
(Conflict), and a database it cannot write at start.

The fakes run in the test process on 127.0.0.1; the bot is a child process
(tests/support/subprocess_bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from storage.jobs import JobStore, NewJob
from storage.open_db import open_database
from tests.support.subprocess_bot import (
    BotProcess,
    integrity_check,
    jobs_async,
    outcome_messages,
    subprocess_env,
)

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeAimlApi]]:
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=3600.0)  # nothing finishes unless a test says so
    await tg.start()
    await api.start()
    try:
        yield tg, api
    finally:
        await tg.stop()
        await api.stop()


async def ready(bot: BotProcess, tg: FakeTelegram, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while tg.polls_waiting == 0:
        assert bot.running, f"the bot exited early:\n{bot.tail()}"
        assert time.monotonic() < deadline, f"the bot never polled:\n{bot.tail()}"
        await asyncio.sleep(0.02)


async def seed_jobs(db_path: Path, count: int) -> list[str]:
    """`count` accepted requests, each from its own private chat, as the handler stores them."""
    db = await open_database(db_path)
    try:
        store = JobStore(db)
        now = time.time()
        keys = []
        for number in range(count):
            chat = 70_000 + number
            job, created = await store.create(
                NewJob(
                    key=f"sb-seed-{number:04d}",
                    chat_id=chat,
                    chat_type="private",
                    topic_id=None,
                    user_id=chat,
                    user_name=f"User {number}",
                    user_lang="en",
                    request_message_id=1,
                    model="minimax/music-2.0",
                    prompt="dreamy synth-pop with female vocals",
                    lyrics=LYRICS,
                    deadline_at=now + 3600,
                    next_check_at=now,
                    created_at=now,
                )
            )
            assert created
            keys.append(job.key)
        return keys
    finally:
        await db.close()


def charged_twice(api: FakeAimlApi) -> dict[str, int]:
    paid = Counter(str(r.header("x-client-request-id")) for r in api.paid_submissions())
    return {key: n for key, n in paid.items() if n > 1}


async def test_sigterm_with_hundreds_of_pending_jobs_exits_0_quickly_and_loses_nothing(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    db = tmp_path / "songbot.db"
    keys = await seed_jobs(db, 300)
    for number in range(300):
        tg.add_chat(70_000 + number)  # the users' private chats
    bot = BotProcess(subprocess_env(tg, api, db, {"SONGBOT_LEASE_SECONDS": "30"}), tmp_path)
    try:
        await bot.start()
        await ready(bot, tg)
        # Let the runner fill its 20 slots: 20 paid submits being polled, 280 waiting.
        deadline = time.monotonic() + 20
        while len(api.paid_submissions()) < 20:
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        started = time.monotonic()
        await bot.signal(signal.SIGTERM)
        code = await bot.wait(15)
        took = time.monotonic() - started
        assert code == 0, bot.tail()
        assert took < 6.0, f"graceful stop took {took:.1f}s"  # typically under 1 s
        assert await asyncio.to_thread(integrity_check, db) == "ok"
        jobs = await jobs_async(db)
        assert sorted(j["key"] for j in jobs) == sorted(keys)  # nothing lost
        assert all(j["lease_owner"] is None for j in jobs), "leases handed back"
        states = Counter(j["state"] for j in jobs)
        # A submit cut by the stop stays `submitting` and is reconciled at the next start.
        assert states["pending"] + states["submitting"] == 20, states
        assert states["received"] == 280, states
        assert not charged_twice(api)
        assert "Traceback" not in bot.log(), bot.tail(60)

        # A second life: the generations finish, the pending ones are delivered; stop again
        # while uploads and submits are in flight, and nothing is lost or doubled.
        for generation_id in list(api.generations):
            api.complete_now(generation_id)
        api.generation_seconds = 0.3
        await bot.start()
        await ready(bot, tg)
        deadline = time.monotonic() + 30
        while len(tg.calls_to("sendAudio")) < 25:
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.05)
        started = time.monotonic()
        await bot.signal(signal.SIGTERM)
        assert await bot.wait(15) == 0, bot.tail()
        assert time.monotonic() - started < 6.0
        jobs = await jobs_async(db)
        assert len(jobs) == 300 and all(j["lease_owner"] is None for j in jobs)
        assert not charged_twice(api)
        for job in jobs:  # one chat per job; its request message predates the fake
            sent = tg.bot_messages(job["chat_id"])
            assert not [m for m in sent if "⚠️" in m.get("text", "")], job
            audios = len([m for m in sent if "audio" in m])
            if job["state"] == "delivered":
                assert audios == 1, job
            elif job["state"] == "delivering":
                # An upload the stop had to cut short: Telegram may or may not have it yet.
                assert audios <= 1, job
            else:
                assert audios == 0, job
        assert Counter(j["state"] for j in jobs)["delivered"] >= 25
    finally:
        await bot.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_stop_signal_while_idle_and_mid_request(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, sig: int
) -> None:
    tg, api = fakes
    db = tmp_path / "songbot.db"
    bot = BotProcess(subprocess_env(tg, api, db), tmp_path)
    try:
        await bot.start()
        await ready(bot, tg)
        request = tg.send_text(4242, 4242, f"/song bossa nova\n{LYRICS}")
        deadline = time.monotonic() + 15
        while not api.paid_submissions():
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.02)
        started = time.monotonic()
        await bot.signal(sig)
        assert await bot.wait(15) == 0, bot.tail()
        assert time.monotonic() - started < 6.0
        # The request survives the stop and completes in the next life, once.
        api.generation_seconds = 0.3
        for generation_id in list(api.generations):
            api.complete_now(generation_id)
        await bot.start()
        await ready(bot, tg)
        deadline = time.monotonic() + 20
        while outcome_messages(tg, 4242, request["message_id"]) == (0, []):
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert outcome_messages(tg, 4242, request["message_id"]) == (1, [])
        assert len(api.paid_submissions()) == 1
    finally:
        await bot.stop()


async def test_a_foreign_poller_makes_the_running_bot_back_off_not_exit(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    bot = BotProcess(subprocess_env(tg, api, tmp_path / "songbot.db"), tmp_path)
    try:
        await bot.start()
        await ready(bot, tg)
        url = f"{tg.base_url}/bot{tg.token}/getUpdates"
        async with httpx.AsyncClient(timeout=5) as other:
            # Someone else polls with the same token, again and again, for 8 s.
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                await other.post(url, json={"timeout": 1, "limit": 7})
        assert bot.running, bot.tail()
        log = bot.log()
        assert log.count("another songbot instance is polling") == 1, bot.tail()
        conflicts = [
            c
            for c in tg.calls_to("getUpdates")
            if c.http_status == 409 and c.params.get("limit") != 7
        ]
        assert conflicts, "the foreign poller never collided with the bot: nothing was tested"
        # Backing off, not fighting: 8 s of collisions cost the bot a handful of 409s, where
        # polling again at once would have cost one per foreign call.
        foreign = [c for c in tg.calls_to("getUpdates") if c.params.get("limit") == 7]
        assert len(conflicts) <= 6 < len(foreign), (len(conflicts), len(foreign))
        # The other poller is gone: the bot takes requests again.
        request = tg.send_text(501, 501, f"/song synth-pop\n{LYRICS}")
        deadline = time.monotonic() + 45
        while not [
            j
            for j in await jobs_async(tmp_path / "songbot.db")
            if j["request_message_id"] == request["message_id"]
        ]:
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.2)
    finally:
        await bot.stop()


async def test_a_stop_while_another_instance_polls_is_one_line_no_traceback(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    """At a stop PTB confirms the last updates with one more getUpdates; while another
    instance polls Telegram answers it 409 Conflict, which PTB logs with a traceback."""
    tg, api = fakes
    bot = BotProcess(subprocess_env(tg, api, tmp_path / "songbot.db"), tmp_path)
    try:
        await bot.start()
        await ready(bot, tg)
        conflict = tg.script(
            "getUpdates", status=409, match=lambda p: p.get("timeout") == 0, times=None
        )
        await bot.signal(signal.SIGTERM)
        code = await bot.wait(30)
    finally:
        await bot.stop()
    log = bot.log()
    assert conflict.hits, "the last getUpdates never met a Conflict: nothing was tested"
    assert code == 0, log
    assert "Traceback" not in log, log
    mentions = [line for line in log.splitlines() if "Conflict" in line]
    assert len(mentions) == 1, log


async def test_a_second_run_on_the_same_database_is_refused_in_one_line(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    env = subprocess_env(tg, api, tmp_path / "songbot.db")
    first = BotProcess(env, tmp_path, name="first")
    second = BotProcess(env, tmp_path, name="second")
    try:
        await first.start()
        await ready(first, tg)
        await second.start()
        assert await second.wait(20) == 2
        lines = [line for line in second.log().splitlines() if line.strip()]
        assert len(lines) == 1 and "another songbot instance is running" in lines[0], lines
        assert f"pid {first.pid}" in lines[0]
        assert first.running
        assert not [c for c in tg.calls_to("getUpdates") if c.http_status == 409]
    finally:
        await second.stop()
        await first.stop()


async def test_a_restart_takes_the_dead_runs_leases_back_at_once(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    api.generation_seconds = 3.0
    db = tmp_path / "songbot.db"
    # Leases far longer than the whole test: only taking them back at start can deliver in time.
    env = subprocess_env(tg, api, db, {"SONGBOT_LEASE_SECONDS": "120"})
    bot = BotProcess(env, tmp_path)
    try:
        await bot.start()
        await ready(bot, tg)
        # The paid POST reaches the provider and is charged; its answer takes 5 s, and the bot
        # is killed while it waits, holding the job's lease.
        api.script("POST /v2/generate/audio", process=True, delay=5.0)
        request = tg.send_text(501, 501, f"/song synth-pop\n{LYRICS}")
        deadline = time.monotonic() + 20
        while not api.paid_submissions():
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await bot.kill()
        await bot.start()
        await bot.wait_for_log("took over 1 job(s) from the previous run", timeout=20)
        deadline = time.monotonic() + 30
        while True:
            count, texts = outcome_messages(tg, 501, request["message_id"])
            if count:
                break
            assert time.monotonic() < deadline, bot.tail()
            await asyncio.sleep(0.1)
        assert count == 1, texts
        assert len(api.paid_submissions()) == 1
    finally:
        await bot.stop()


CAP_LINUX_IMMUTABLE = 9  # linux/capability.h: what `chattr +i` needs
SQLITE_WRITE_VERSION = 18  # header byte: the file format a writer must know (1 or 2)


def can_make_immutable() -> bool:
    """Whether this process holds CAP_LINUX_IMMUTABLE (containers often drop it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_LINUX_IMMUTABLE & 1)
    return False


def _set_write_version(path: Path, version: int) -> None:
    with path.open("r+b") as f:
        f.seek(SQLITE_WRITE_VERSION)
        f.write(bytes([version]))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make `path` unwritable even for root.

    chmod stops everyone but root. As root, `chattr +i` when the capability for it is there;
    otherwise SQLite's own read-only mark, which needs no privilege: a file-format write version
    above 2 in the header makes every SQLite open the file read-only ("attempt to write a
    readonly database"), exactly what a read-only file gives.
    """
    path.chmod(0o444)
    how = "chmod"
    if os.access(path, os.W_OK):
        chattr = shutil.which("chattr")
        if chattr and can_make_immutable():
            subprocess.run([chattr, "+i", str(path)], check=True)
            how = "chattr"
        else:
            _set_write_version(path, 3)
            how = "header"
    try:
        yield
    finally:
        if how == "chattr":
            subprocess.run([str(shutil.which("chattr")), "-i", str(path)], check=True)
        elif how == "header":
            _set_write_version(path, 2)  # WAL, as songbot left it
        path.chmod(0o644)


@pytest.mark.parametrize("problem", ["read-only", "not a database", "a directory"])
async def test_unusable_database_at_start_is_one_clear_line_and_exit_2(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, problem: str
) -> None:
    tg, api = fakes
    db = tmp_path / "data" / "songbot.db"
    db.parent.mkdir()
    guard: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if problem == "read-only":
        database = await open_database(db)
        await database.close()
        guard = read_only(db)
    elif problem == "not a database":
        db.write_bytes(b"this is not SQLite\n" * 100)
    else:
        db.mkdir()
    bot = BotProcess(subprocess_env(tg, api, db), tmp_path)
    try:
        with guard:
            await bot.start()
            code = await bot.wait(20)
            log = bot.log()
        assert code == 2, log
        assert "Traceback" not in log, log
        lines = [ln for ln in log.splitlines() if ln.strip()]
        assert len(lines) == 1 and str(db) in lines[0], log
        assert not tg.calls_to("getUpdates")  # stopped before taking any update
    finally:
        await bot.stop()
