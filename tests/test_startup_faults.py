"""Start-up and its faults, through the real `songbot run` against the fakes: a 502 or a 429 from
Telegram at start-up is retried, a rejected token or no network is one line with no traceback,
and a failed start leaves no empty database behind."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.subprocess_bot import BotProcess, subprocess_env

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeAimlApi]]:
    tg, api = FakeTelegram(), FakeAimlApi()
    await tg.start()
    await api.start()
    try:
        yield tg, api
    finally:
        await tg.stop()
        await api.stop()


async def polling(bot: BotProcess, tg: FakeTelegram, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while tg.polls_waiting == 0:
        assert bot.running, f"the bot exited:\n{bot.tail()}"
        assert time.monotonic() < deadline, f"the bot never polled:\n{bot.tail()}"
        await asyncio.sleep(0.05)


def _bot(tg: FakeTelegram, api: FakeAimlApi, tmp_path: Path, **extra: str) -> BotProcess:
    env = subprocess_env(tg, api, tmp_path / "songbot.db", extra)
    return BotProcess(env=env, workdir=tmp_path)


@pytest.mark.parametrize("method", ["getMe", "deleteWebhook"])
async def test_a_502_at_start_up_is_retried(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, method: str
) -> None:
    tg, api = fakes
    fault = tg.script(method, status=502, times=1)
    bot = _bot(tg, api, tmp_path)
    await bot.start()
    try:
        await polling(bot, tg)
        assert fault.hits == 1
        assert len(tg.calls_to(method)) >= 2
    finally:
        await bot.stop()
    assert "Traceback" not in bot.log()


async def test_a_429_on_set_my_commands_is_waited_out_not_fatal(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    tg.script("setMyCommands", status=429, retry_after=2, times=1)
    bot = _bot(tg, api, tmp_path)
    await bot.start()
    try:
        await polling(bot, tg)
        await tg.wait_for_call("setMyCommands", lambda c: c.ok, timeout=20)
        assert tg.commands({"type": "all_private_chats"}), "the menu was never set"
        await bot.signal(signal.SIGTERM)
        assert await bot.wait(30) == 0
    finally:
        await bot.stop()
    assert "Traceback" not in bot.log()


async def test_a_menu_that_keeps_failing_is_a_warning(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    tg.script("setMyCommands", status=400, description="Bad Request: nope", times=None)
    bot = _bot(tg, api, tmp_path)
    await bot.start()
    try:
        await polling(bot, tg)
        await bot.wait_for_log("command menu could not be set", timeout=10)
    finally:
        await bot.stop()
    assert "Traceback" not in bot.log()


async def test_a_rejected_token_is_one_line_and_leaves_no_database(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    token = "123456:WRONG-but-well-formed-token"
    bot = _bot(tg, api, tmp_path, TELEGRAM_BOT_TOKEN=token)
    await bot.start()
    code = await bot.wait(30)
    log = bot.log()
    assert code == 1, log
    assert "Traceback" not in log
    assert token not in log and "WRONG" not in log
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) == 1 and "rejected the bot token" in lines[0], log
    assert not (tmp_path / "songbot.db").exists()


async def test_no_network_is_one_line_after_bounded_retries(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bot = _bot(
        tg,
        api,
        tmp_path,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}",
        SONGBOT_STARTUP_RETRIES="2",
    )
    started = time.monotonic()
    await bot.start()
    code = await bot.wait(60)
    log = bot.log()
    assert code == 1, log
    assert time.monotonic() - started >= 2.0  # it did retry (1 s + 1.5 s of back-off)
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if line.strip()]
    # Said at the first failed attempt (not after the whole budget), then one summary line.
    assert "cannot be reached yet" in lines[0] and "keeps trying" in lines[0], log
    assert "cannot reach the Telegram Bot API" in lines[-1] and "failed 2 time(s)" in lines[-1]
    assert len(lines) <= 3, log  # at most one line per attempt, plus the summary
    assert not (tmp_path / "songbot.db").exists()
