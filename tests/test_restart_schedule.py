"""A restart during the paid POST continues the status checks from when the generation began.

Issue #28: a SIGKILL 1 s into the paid POST and an immediate restart used to check the provider
at once after the reconcile and then start the schedule over from there, so the song came seconds
later than for a job never killed. Now the reconcile takes the generation's start from the
request log and the schedule goes on as if the answer had arrived (bot/engine/reconcile.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.subprocess_bot import BotProcess, subprocess_env

SUBMIT = "POST /v2/generate/audio"
POLL = "GET /v2/generate/audio"
LOGS = "GET /v2/logs"
LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day"
BASE = 5.0  # the default SONGBOT_POLL_INTERVAL: with no history, checks at 8, 12, 18 s …
GENERATION = 10.0

pytestmark = pytest.mark.timeout(180)


async def wait_for(predicate: object, timeout: float, what: str, bot: BotProcess) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{bot.tail()}")
        await asyncio.sleep(0.01)


async def test_killed_during_the_paid_post_the_checks_go_on_from_the_generations_start(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg, FakeAimlApi(generation_seconds=GENERATION) as api:
        env = subprocess_env(
            tg, api, tmp_path / "songbot.db", {"SONGBOT_POLL_INTERVAL": f"{BASE:g}"}
        )
        bot = BotProcess(env, tmp_path)
        try:
            await bot.start()
            await wait_for(lambda: tg.polls_waiting > 0, 30, "getUpdates", bot)
            api.script(SUBMIT, process=True, delay=60.0)  # created and billed; answer held
            tg.send_text(4242, 4242, f"/song dreamy synth-pop\n{LYRICS}")
            await wait_for(lambda: len(api.paid_submissions()) == 1, 30, "the paid POST", bot)
            await asyncio.sleep(0.5)
            await bot.kill()
            api.clear_faults()
            await bot.start()
            await wait_for(
                lambda: any(c.ok for c in tg.calls_to("sendAudio")), 60, "the song", bot
            )
        finally:
            await bot.stop()
    assert len(api.paid_submissions()) == 1
    [gen] = api.generations.values()
    polls = [r.time - gen.created_at for r in api.requests_to(POLL)]
    [lookup] = [r.time - gen.created_at for r in api.requests_to(LOGS)]
    # Counted from the generation's start, as for a job whose answer arrived: the next check of
    # the cold schedule (8 s, then 12 s after the start, or half a base interval after the
    # reconcile if that comes later), not one at once after the reconcile and then every 5 s
    # from there.
    assert polls[0] - lookup >= 0.5 * BASE - 0.3, (lookup, polls)
    assert polls[0] >= 8.0 - 0.3, (lookup, polls)
    assert len(polls) <= 2, (lookup, polls)
    assert 12.0 - 0.3 <= polls[-1] <= 12.0 + 1.0, (lookup, polls)
