"""One owner for start and stop (bot/lifecycle.py, bot/ops/serve.py): a start that fails at any
step leaves nothing running — no task, no open database, no bound port — and the stop runs once.

Through the real Application against the fakes; each start step is made to fail in turn, by a
real fault where the fakes or the OS can make one (a rejected token, a busy port, a database of
an unknown schema, a refused deleteWebhook or setWebhook), by an injected error otherwise.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.bot_data import BotData, SongbotContext, bot_data_of
from bot.config import Config
from bot.lifecycle import ExitCode, Lifecycle
from bot.ops.serve import BotRun, Mode, Polling, run
from bot.ops.webhook import WebhookBot
from bot.periodic import Background, periodic
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness, bot_env

pytestmark = pytest.mark.timeout(120)


# ---- the pieces on their own ---------------------------------------------------------------


async def test_close_runs_every_stop_once_latest_first_even_when_one_fails() -> None:
    life = Lifecycle()
    order: list[str] = []

    def stop(name: str, fail: bool = False) -> Callable[[], Any]:
        async def run_stop() -> None:
            order.append(name)
            if fail:
                raise RuntimeError("boom")

        return run_stop

    life.on_close(stop("db"), "db")
    life.on_close(stop("server", fail=True), "server")
    life.on_close(stop("runner"), "runner")
    await asyncio.gather(life.close(), life.close(), life.close())  # post_stop, post_shutdown, …
    await life.close()
    assert order == ["runner", "server", "db"]


async def test_a_stop_request_keeps_the_first_failure_code_and_a_second_one_hurries() -> None:
    life = Lifecycle()
    life.request_stop(ExitCode.RUNTIME)
    life.request_stop(ExitCode.OK)
    life.hurry()
    assert life.stop_requested.is_set() and life.exit_code == ExitCode.RUNTIME and life.hurried


async def test_a_periodic_loop_survives_a_failed_step_and_stops_for_good() -> None:
    calls: list[float] = []
    failures: list[Exception] = []

    async def step() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise ValueError("first one fails")

    loop = periodic("test-loop", step, 0.01, failed=failures.append)
    loop.start()
    deadline = time.monotonic() + 10
    while len(calls) < 3:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await loop.stop()
    await loop.stop()  # idempotent
    seen = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == seen and not loop.running
    assert [str(e) for e in failures] == ["first one fails"]
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "test-loop"]


async def test_bot_data_is_typed_and_handlers_get_a_context_with_services(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> None:
    config = Config.from_env(
        bot_env(fake_telegram, fake_aimlapi, tmp_path / "songbot.db"), env_file=None
    )
    app: Application[Any, Any, Any, Any, Any, Any] = build_application(config)
    assert isinstance(app.bot_data, BotData)
    assert app.context_types.context is SongbotContext
    assert bot_data_of(app).config is config and bot_data_of(app).services is None
    bot_run = BotRun(app, Polling(timeout=1))
    await bot_run.start()
    try:
        context = SongbotContext(app)
        assert context.services is bot_data_of(app).services is not None
    finally:
        await bot_run.stop()
    assert bot_data_of(app).services is None


# ---- a failed start leaves nothing behind --------------------------------------------------


def _db_threads() -> list[threading.Thread]:
    """aiosqlite's worker threads: one per open connection, and it keeps Python alive."""
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


BOT_CODE = ("/bot/", "/handlers/", "/storage/", "/telegram/", "/aiosqlite/", "/httpx/")


def _bots_own(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    where = code.co_filename if code is not None else ""
    return "songbot_fakes" not in where and any(part in where for part in BOT_CODE)


def _http_closed(app: Any) -> bool:
    """Both of the bot's HTTP clients (getUpdates and the rest) are closed."""
    return all(r._client.is_closed for r in app.bot._request)


async def _nothing_left(before: set[asyncio.Task[Any]], port: int | None) -> None:
    deadline = time.monotonic() + 10
    while True:
        tasks = [
            t
            for t in asyncio.all_tasks()
            if t not in before and t is not asyncio.current_task() and not t.done()
        ]
        # The fakes' request handlers belong to the test; the bot's tasks run code of its own.
        ours = [t for t in tasks if _bots_own(t)]
        threads = _db_threads()
        if not ours and not threads:
            break
        assert time.monotonic() < deadline, (
            f"left running: tasks {[repr(t.get_coro()) for t in ours]}, db threads {threads}"
        )
        await asyncio.sleep(0.05)
    if port is not None:
        with socket.socket() as probe:  # the port is free again
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _newer_schema(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA user_version = 999")
    finally:
        conn.close()


def _webhook_env(port: int) -> dict[str, str]:
    return {
        "SONGBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
        "SONGBOT_WEBHOOK_SECRET": "secret-0123456789",
        "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "SONGBOT_HTTP_PORT": str(port),
    }


REAL_FAULTS = [
    "getMe rejected",
    "database of a newer schema",
    "polling: HTTP port busy",
    "deleteWebhook refused",
    "webhook: HTTP port busy",
    "setWebhook refused",
]


@pytest.mark.parametrize("fault", REAL_FAULTS)
async def test_a_start_that_fails_at_a_real_fault_leaves_nothing_running(
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
    busy_port: int,
    unused_tcp_port: int,
    fault: str,
) -> None:
    tg, db = fake_telegram, tmp_path / "songbot.db"
    extra: dict[str, str] = {"SONGBOT_STARTUP_RETRIES": "0"}
    webhook = fault.startswith(("webhook", "setWebhook"))
    port = busy_port if "busy" in fault else unused_tcp_port
    if webhook:
        extra |= _webhook_env(port)
    elif "busy" in fault:
        extra["SONGBOT_HTTP_PORT"] = str(port)
    expected = ExitCode.RUNTIME
    if fault == "getMe rejected":
        tg.script("getMe", status=401, description="Unauthorized", times=None)
    elif fault == "database of a newer schema":
        _newer_schema(db)
        expected = ExitCode.SETUP
    elif "busy" in fault:
        expected = ExitCode.SETUP
    else:
        method = fault.split()[0]
        tg.script(method, status=400, description="Bad Request: not today", times=None)
    config = Config.from_env(bot_env(tg, fake_aimlapi, db, extra), env_file=None)
    before = set(asyncio.all_tasks())
    mode: Mode
    if webhook:
        wb = WebhookBot(config)
        app, mode = wb.app, wb.mode
    else:
        app, mode = build_application(config), Polling(timeout=1)
    code = await run(app, mode, signals=False)
    assert code == expected
    await _nothing_left(before, port if "busy" not in fault else None)
    assert bot_data_of(app).services is None and _http_closed(app)
    if fault in ("polling: HTTP port busy", "deleteWebhook refused"):
        assert tg.calls_to("setMyCommands"), "the services never started: nothing was tested"


async def _raise(*args: object, **kwargs: object) -> None:
    raise RuntimeError("injected start failure")


def _failing_loop(*args: object, **kwargs: object) -> Background:
    raise RuntimeError("injected start failure")


# Every start step without a natural fault, in start order.
INJECTED = [
    "bot.aimlapi.availability.ModelAvailability.load",  # inside Services.open: db open
    "storage.jobs.JobStore.release_every_lease",  # the instance lock's take-over
    "bot.engine.runner.JobRunner.start",
    "bot.ops.retention.retention_sweeper",
    "handlers.help.register_commands",
    "bot.ops.serve.Polling.open",
    "telegram.ext.Application.start",
]


@pytest.mark.parametrize("target", INJECTED)
async def test_a_start_that_fails_at_any_step_leaves_nothing_running(
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
    unused_tcp_port: int,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
) -> None:
    extra = {"SONGBOT_HTTP_PORT": str(unused_tcp_port)}
    config = Config.from_env(
        bot_env(fake_telegram, fake_aimlapi, tmp_path / "songbot.db", extra), env_file=None
    )
    app = build_application(config)
    bot_data_of(app).sole_instance = True
    sync = target.endswith(("JobRunner.start", "retention_sweeper"))
    monkeypatch.setattr(target, _failing_loop if sync else _raise)
    before = set(asyncio.all_tasks())
    with pytest.raises(RuntimeError, match="injected"):
        await run(app, Polling(timeout=1), signals=False)
    await _nothing_left(before, unused_tcp_port)
    assert bot_data_of(app).services is None and _http_closed(app)


async def test_a_stop_asked_for_during_start_up_abandons_the_start(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> None:
    tg = fake_telegram
    hang = tg.script("setMyCommands", status=None, delay=30.0, times=None)  # start-up waits
    config = Config.from_env(bot_env(tg, fake_aimlapi, tmp_path / "songbot.db"), env_file=None)
    app = build_application(config)
    before = set(asyncio.all_tasks())
    running = asyncio.create_task(run(app, Polling(timeout=1), signals=False))
    deadline = time.monotonic() + 30
    while not hang.hits:
        assert time.monotonic() < deadline and not running.done()
        await asyncio.sleep(0.02)
    started = time.monotonic()
    bot_data_of(app).lifecycle.request_stop()
    assert await asyncio.wait_for(running, 20) == ExitCode.OK
    assert time.monotonic() - started < 10
    before.add(running)
    await _nothing_left(before, None)
    assert not tg.calls_to("getUpdates") and _http_closed(app)


LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay"


@pytest.mark.parametrize(
    "hurried",
    [
        # Waits out the 3 s the runner gives a running step at a stop (bot/app.py): the grace
        # it proves.
        pytest.param(False, id="one-signal", marks=pytest.mark.slow),
        pytest.param(True, id="second-signal"),
    ],
)
async def test_a_second_stop_request_drops_the_grace_period_of_running_steps(
    harness: BotHarness, hurried: bool
) -> None:
    """One stop gives a running step (here a paid POST the provider answers slowly) 3 s; a
    second signal during the stop hurries it: no grace, the job is handed back at once."""
    tg, api = harness.tg, harness.api
    api.script("POST /v2/generate/audio", process=True, delay=30.0)
    tg.send_text(PRIVATE_CHAT, USER, f"/song synth-pop\n{LYRICS}")
    deadline = time.monotonic() + 30
    while not api.paid_submissions():
        assert time.monotonic() < deadline, "the submit never started"
        await asyncio.sleep(0.02)
    life = bot_data_of(harness.app).lifecycle
    started = time.monotonic()
    life.request_stop()
    if hurried:
        life.hurry()
    await harness.stop()
    took = time.monotonic() - started
    if hurried:
        assert took < 2.0, took
    else:
        assert took >= 2.9, took  # the running step had its 3 s
