"""Stop signals on a real `songbot run`: any number, in any timing, end in one orderly stop.

GNU `timeout` and many supervisors send SIGTERM to the process and to its group at once; a second
signal used to cut PTB's shutdown before songbot's clean-up, leaving the database's thread alive
and the process hanging forever. Each pattern runs `ROUNDS` times (SONGBOT_STOP_ROUNDS to change
it) in both modes, at random moments (a seeded generator: the seed is in the failure message).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.subprocess_bot import BotProcess, subprocess_env

pytestmark = pytest.mark.timeout(600)

ROUNDS = int(os.environ.get("SONGBOT_STOP_ROUNDS", "3"))
# From the first signal to the exit, on a loaded 2-core machine; an idle bot needs about 1 s.
STOP_LIMIT = 10.0
SEED = int(os.environ.get("SONGBOT_STOP_SEED", str(int(time.time()))))
STOP_TIMES: list[float] = []


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


def _process(
    tg: FakeTelegram, api: FakeAimlApi, tmp_path: Path, name: str, webhook: bool, port: int
) -> BotProcess:
    extra = {"SONGBOT_LOG_LEVEL": "INFO"}
    if webhook:
        extra |= {
            "SONGBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "SONGBOT_WEBHOOK_SECRET": "secret-0123456789",
            "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "SONGBOT_HTTP_PORT": str(port),
        }
    env = subprocess_env(tg, api, tmp_path / f"{name}.db", extra)
    return BotProcess(
        env, tmp_path, name=name, args=("--webhook",) if webhook else (), new_session=True
    )


async def _send(bot: BotProcess, pattern: str, rng: random.Random) -> None:
    """The pattern's signals; the second one after a random gap (0 = at once)."""
    if pattern == "sigterm-sigint":
        await bot.signal(signal.SIGTERM)
        await asyncio.sleep(rng.choice([0.0, rng.uniform(0.0, 0.5)]))
        await bot.signal(signal.SIGINT)
        return
    # As GNU timeout does: the process, and its group (which holds the process too).
    await bot.signal(signal.SIGTERM)
    bot.signal_group(signal.SIGTERM)


async def _wait_for_getme(bot: BotProcess, tg: FakeTelegram, before: int) -> None:
    """The signal handlers are in place once the process asks getMe."""
    deadline = time.monotonic() + 60
    while len(tg.calls_to("getMe")) <= before:
        assert bot.running, bot.tail()
        assert time.monotonic() < deadline, bot.tail()
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
@pytest.mark.parametrize("pattern", ["double-sigterm", "sigterm-sigint", "during-start-up"])
async def test_any_stop_signals_end_in_one_orderly_stop_within_seconds(
    fakes: tuple[FakeTelegram, FakeAimlApi],
    tmp_path: Path,
    unused_tcp_port_factory: object,
    pattern: str,
    webhook: bool,
) -> None:
    tg, api = fakes
    rng = random.Random(f"{SEED}-{pattern}-{webhook}")
    for number in range(ROUNDS):
        port = unused_tcp_port_factory()  # type: ignore[operator]
        bot = _process(tg, api, tmp_path, f"{pattern}-{number}", webhook, port)
        before = len(tg.calls_to("getMe"))
        await bot.start()
        try:
            if pattern == "during-start-up":
                await _wait_for_getme(bot, tg, before)
                await asyncio.sleep(rng.uniform(0.0, 1.0))  # somewhere in the start-up
            else:
                await bot.wait_for_log("songbot started as", timeout=60)
            sent = time.monotonic()
            await _send(bot, "double-sigterm" if pattern == "during-start-up" else pattern, rng)
            code = await bot.wait(STOP_LIMIT + 30)
            took = time.monotonic() - sent
        finally:
            await bot.stop()
        log = bot.log()
        where = f"round {number}, seed {SEED}:\n{log[-3000:]}"
        assert code == 0, where
        assert took < STOP_LIMIT, f"{took:.1f}s; {where}"
        assert "Traceback" not in log and "never awaited" not in log, where
        STOP_TIMES.append(took)
    print(
        f"\nstop times ({pattern}, {'webhook' if webhook else 'polling'}): {ROUNDS} runs, "
        f"max {max(STOP_TIMES[-ROUNDS:]):.2f}s"
    )
