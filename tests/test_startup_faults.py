"""Start-up and its faults, through the real `songbot run` against the fakes: a 502 or a 429 from
Telegram at start-up is retried, a rejected token or no network is one line with no traceback,
and a failed start leaves no empty database behind."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.subprocess_bot import BotProcess, subprocess_env

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
        refused, retried = tg.calls_to("setMyCommands")[:2]
        assert refused.http_status == 429
        assert retried.time - refused.time >= 2.0, "retry_after was not honoured"
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
    # SONGBOT_STARTUP_RETRIES=2: three attempts, at most one line each, plus the summary.
    assert "cannot reach the Telegram Bot API" in lines[-1] and "failed 3 time(s)" in lines[-1]
    assert len(lines) <= 4, log
    assert not (tmp_path / "songbot.db").exists()


def _webhook_env(port: int) -> dict[str, str]:
    return {
        "SONGBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "SONGBOT_WEBHOOK_SECRET": "secret-0123456789",
        "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "SONGBOT_HTTP_PORT": str(port),
    }


def _critical_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " CRITICAL " in line]


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_storage_failure_at_start_exits_2_in_both_modes(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, unused_tcp_port: int, webhook: bool
) -> None:
    """The one exit-code ladder (bot/lifecycle.py ExitCode): storage is a setup problem, 2."""
    tg, api = fakes
    db = tmp_path / "songbot.db"
    conn = sqlite3.connect(db)  # passes the start-up probe, then the migration refuses it
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    extra = _webhook_env(unused_tcp_port) if webhook else {}
    bot = BotProcess(
        env=subprocess_env(tg, api, db, extra),
        workdir=tmp_path,
        args=("--webhook",) if webhook else (),
    )
    await bot.start()
    code = await bot.wait(60)
    log = bot.log()
    assert code == 2, log
    assert "Traceback" not in log
    critical = _critical_lines(log)
    assert len(critical) == 1 and "newer than this songbot" in critical[0], log


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_busy_port_is_one_line_and_exit_2_in_both_modes(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, webhook: bool
) -> None:
    tg, api = fakes
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        extra = _webhook_env(port) if webhook else {"SONGBOT_HTTP_PORT": str(port)}
        bot = BotProcess(
            env=subprocess_env(tg, api, tmp_path / "songbot.db", extra),
            workdir=tmp_path,
            args=("--webhook",) if webhook else (),
        )
        await bot.start()
        code = await bot.wait(60)
    log = bot.log()
    assert code == 2, log
    assert "Traceback" not in log
    critical = _critical_lines(log)
    assert len(critical) == 1 and f"cannot serve HTTP on 127.0.0.1:{port}" in critical[0], log


@contextlib.asynccontextmanager
async def _html_502_server() -> AsyncIterator[tuple[str, list[float]]]:
    """A proxy in front of Telegram having a bad day: every call is a 502 with an HTML page."""
    hits: list[float] = []
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>" + "x" * 2000

    async def answer(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        return web.Response(status=502, text=page + "</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        await runner.cleanup()


async def test_a_502_html_page_at_start_up_is_one_short_line_per_attempt(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path
) -> None:
    tg, api = fakes
    async with _html_502_server() as (base, hits):
        bot = _bot(tg, api, tmp_path, TELEGRAM_API_BASE_URL=base, SONGBOT_STARTUP_RETRIES="3")
        await bot.start()
        code = await bot.wait(60)
    log = bot.log()
    assert code == 1, log
    assert len(hits) >= 2, "nothing was retried: nothing was tested"
    assert "Traceback" not in log
    assert "<" not in log and "xxx" not in log, log  # no HTML, no page
    lines = [line for line in log.splitlines() if line.strip()]
    assert "cannot be reached yet" in lines[0] and "keeps trying" in lines[0], log
    assert len(lines) <= len(hits) + 1, log  # one line per attempt at most, plus the summary
    assert "cannot reach the Telegram Bot API" in lines[-1] and "Bad Gateway" in lines[-1], log
