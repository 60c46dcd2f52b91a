"""Slowloris against the real `songbot run` (#24.3): hundreds of connections that never finish
their request header must not take the health/webhook port, the engine or the log down.

The bot is a child process (tests/support/subprocess_bot.py) with a small descriptor budget
(soft 200,
hard 400), so a few hundred loopback connections are enough to exhaust it if nothing bounds
them. The attackers come back a second after the bot closes them, as a real attacker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.ops.webhook import WebhookBot
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import BotHarness
from tests.support.ops import ops_bot, web_server
from tests.support.subprocess_bot import BotProcess, jobs_async, outcome_messages, subprocess_env
from tests.support.webhook import PATH, SECRET

__all__ = ["ops_bot"]

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
SLOW_CONNECTIONS = 320
NOFILE = (200, 400)
# /healthz must answer within this while the attack runs (a Docker HEALTHCHECK waits 5 s).
PROMPT = 5.0
ATTACK_SECONDS = 90.0

pytestmark = pytest.mark.timeout(240)


@dataclass
class Attack:
    opened: int = 0
    closed_by_bot: int = 0
    connect_failed: int = 0


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeAimlApi]]:
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=1.0)
    await tg.start()
    await api.start()
    try:
        yield tg, api
    finally:
        await tg.stop()
        await api.stop()


async def slow_client(port: int, stop: asyncio.Event, attack: Attack) -> None:
    """Open a connection, send a partial request header, add a header line every 2 s, never
    finish it; when the bot closes it, come back a second later."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), timeout=5.0
            )
        except (OSError, TimeoutError):
            attack.connect_failed += 1
            await asyncio.sleep(1.0)
            continue
        attack.opened += 1
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while not stop.is_set():
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(4096), timeout=2.0)
                except TimeoutError:
                    writer.write(b"X-Slow: 1\r\n")
                    continue
                if not data:  # closed by the bot
                    attack.closed_by_bot += 1
                    break
        except OSError:
            attack.closed_by_bot += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await asyncio.sleep(1.0)


async def held_until_closed(port: int, patience: float) -> float | None:
    """Seconds until the bot closes a connection whose header never ends (None: still open)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    try:
        writer.write(b"POST /whatever HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while time.monotonic() - began < patience:
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=1.0)
            except TimeoutError:
                writer.write(b"X-Slow: 1\r\n")
                continue
            if not data:
                return time.monotonic() - began
    except OSError:
        return time.monotonic() - began
    finally:
        writer.close()
    return None


def open_files_soft_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no 'Max open files' line")


async def wait_for(predicate: object, timeout: float, what: str, bot: BotProcess) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert bot.running, f"the bot exited while waiting for {what}:\n{bot.tail()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{bot.tail()}"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_slowloris_leaves_healthz_the_engine_and_the_log_alone(
    fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, unused_tcp_port: int, mode: str
) -> None:
    tg, api = fakes
    port = unused_tcp_port
    db = tmp_path / "songbot.db"
    extra = {"SONGBOT_HTTP_PORT": str(port), "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1"}
    if mode == "webhook":
        # Telegram's own POSTs must get through the attack too.
        extra["SONGBOT_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/telegram/hook"
        extra["SONGBOT_WEBHOOK_SECRET"] = "slowloris-test-secret_0123456789"
    bot = BotProcess(subprocess_env(tg, api, db, extra), tmp_path, nofile=NOFILE)
    stop = asyncio.Event()
    attack = Attack()
    attackers: list[asyncio.Task[None]] = []

    def ready() -> bool:
        if mode == "webhook":
            return any(c.ok for c in tg.calls_to("setWebhook"))
        return tg.polls_waiting > 0

    try:
        await bot.start()
        await wait_for(ready, 30, "the bot to take updates", bot)
        # The bot takes every descriptor the hard limit allows (and keeps a reserve of them).
        assert open_files_soft_limit(bot.pid) == NOFILE[1]
        async with httpx.AsyncClient(timeout=PROMPT) as client:
            health = f"http://127.0.0.1:{port}/healthz"
            assert (await client.get(health)).status_code == 200
            attackers = [
                asyncio.create_task(slow_client(port, stop, attack))
                for _ in range(SLOW_CONNECTIONS)
            ]
            await wait_for(
                lambda: attack.opened >= SLOW_CONNECTIONS, 60, "the slow connections", bot
            )
            log_before = bot.log_path.stat().st_size if bot.log_path else 0
            tg.add_chat(4242)
            request = tg.send_text(4242, 4242, f"/song dreamy synth-pop\n{LYRICS}")
            # /healthz answers promptly all along, on a fresh connection each time.
            latencies: list[float] = []
            started = time.monotonic()
            while time.monotonic() - started < ATTACK_SECONDS:
                began = time.monotonic()
                try:
                    response = await client.get(health, headers={"Connection": "close"})
                except httpx.HTTPError as exc:
                    raise AssertionError(
                        f"/healthz failed under the attack after {latencies}: {exc!r}\n"
                        f"{attack}\n{bot.tail()}"
                    ) from exc
                latencies.append(time.monotonic() - began)
                assert response.status_code == 200, response.text
                audios, failures = outcome_messages(tg, 4242, request["message_id"])
                assert not failures, failures
                # Keep the attack on until the song is out and the bot closed slow connections
                # (the header timeout) and the attackers came back for more.
                if audios == 1 and attack.closed_by_bot >= SLOW_CONNECTIONS:
                    break
                await asyncio.sleep(0.5)
            audios, _ = outcome_messages(tg, 4242, request["message_id"])
            assert audios == 1, f"no song under the attack: {await jobs_async(db)}\n{bot.tail()}"
            assert attack.closed_by_bot >= SLOW_CONNECTIONS, attack
            assert max(latencies) < PROMPT, latencies
        stop.set()
        await asyncio.gather(*attackers)
        # Below the cap, a header that never ends is dropped after the header timeout (10 s;
        # aiohttp's own default would keep the connection for an hour).
        began = time.monotonic()
        closed = await asyncio.gather(*(held_until_closed(port, 60.0) for _ in range(20)))
        assert None not in closed, f"slow headers kept open for 60 s: {closed}"
        assert time.monotonic() - began < 45, time.monotonic() - began
        grown = (bot.log_path.stat().st_size if bot.log_path else 0) - log_before
        log = bot.log()
        assert grown < 20_000, f"the log grew {grown} bytes:\n{bot.tail()}"
        assert "Traceback" not in log, bot.tail(80)
        print(f"\n{attack}; /healthz max {max(latencies):.2f}s; log +{grown} bytes")
    finally:
        stop.set()
        for task in attackers:
            task.cancel()
        await asyncio.gather(*attackers, return_exceptions=True)
        await bot.stop()


async def test_accept_errors_are_counted_once_per_interval_not_logged_per_connection(
    ops_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """What asyncio reports for each connection it cannot accept (descriptors exhausted):
    with the port on, one line and then a count, never hundreds of tracebacks."""
    server = web_server(ops_bot)
    loop = asyncio.get_running_loop()
    message = "socket.accept() out of system resource"
    with caplog.at_level(logging.INFO):
        for _ in range(300):
            try:
                raise OSError(24, "Too many open files")
            except OSError as exc:
                loop.call_exception_handler({"message": message, "exception": exc})
        logged = [r for r in caplog.records if r.name == "asyncio"]
        assert len(logged) == 1, len(logged)
        await server.stop()  # the count is reported at the latest when the port closes
    summary = [r.getMessage() for r in caplog.records if "299 more like asyncio" in r.getMessage()]
    assert len(summary) == 1 and message in summary[0], caplog.text[-2000:]


async def test_a_webhook_body_that_never_arrives_is_answered_408(
    webhook_bot: WebhookBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with the right secret, a body sent a few bytes at a time cannot hold a handler (and
    with it a connection that is never pushed out) for longer than the body timeout."""
    monkeypatch.setattr("bot.ops.web.BODY_SECONDS", 1.0, raising=False)
    port = webhook_bot.server.bound_port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            '{"update_id": 1,'.encode()
        )
        await writer.drain()
        began = time.monotonic()
        status_line = await asyncio.wait_for(reader.readline(), timeout=20.0)
        assert status_line.startswith(b"HTTP/1.1 408"), status_line
        assert time.monotonic() - began < 15
    finally:
        writer.close()
