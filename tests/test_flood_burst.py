"""One `songbot run` on SQLite against a fake Bot API that enforces Telegram's flood limits.

A burst of requests from many private chats puts hundreds of messages through the overall limit
(30 in any sliding second); ten requests at once from one user put a dozen messages into one
private chat (about one a second, short bursts allowed). The bot paces both itself, so Telegram
should never have to answer 429: a 429 pauses every chat for `retry_after`, since Telegram does not
say which limit it was.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.subprocess_bot import (
    RECEIVER_STALL,
    BotProcess,
    outcome_messages,
    subprocess_env,
)

pytestmark = pytest.mark.timeout(300)

REQUEST = "/song dreamy synth-pop with female vocals\n[Verse]\nNeon lights over the bay"


async def burst(tmp_path: Path, senders: list[tuple[int, int]]) -> FakeTelegram:
    """Send REQUEST from each (chat, user) at once to one bot; every request settled."""
    tg = FakeTelegram()  # flood limits on: 30/s overall, 20/min per group, ~1/s per chat
    tg.flood_jitter = RECEIVER_STALL
    api = FakeAimlApi(generation_seconds=0.2)
    await tg.start()
    await api.start()
    env = subprocess_env(tg, api, tmp_path / "songbot.db", {"SONGBOT_MAX_JOBS_PER_USER": "10"})
    bot = BotProcess(env, tmp_path, name="bot")
    try:
        await bot.start()
        deadline = time.monotonic() + 40
        while tg.polls_waiting == 0:
            assert time.monotonic() < deadline, bot.tail(40)
            await asyncio.sleep(0.05)
        requests = []
        for chat, user in senders:
            msg = tg.send_text(chat, user, REQUEST)
            requests.append((chat, int(msg["message_id"])))
        deadline = time.monotonic() + 150
        while not all(outcome_messages(tg, c, r) == (1, []) for c, r in requests):
            assert time.monotonic() < deadline, bot.tail(60)
            await asyncio.sleep(0.2)
        return tg
    finally:
        await bot.stop()
        await tg.stop()
        await api.stop()


async def test_a_burst_from_many_chats_draws_no_429(tmp_path: Path) -> None:
    tg = await burst(tmp_path, [(80_000 + i, 80_000 + i) for i in range(150)])
    counted = [c for c in tg.calls if c.ok and c.method in ("sendMessage", "sendAudio")]
    assert len(counted) >= 300  # an acknowledgement and a song per request, at least
    assert not tg.rate_limited, [(c.method, c.params.get("chat_id")) for c in tg.rate_limited]


async def test_ten_requests_in_one_private_chat_draw_no_429(tmp_path: Path) -> None:
    tg = await burst(tmp_path, [(90_001, 90_001)] * 10)
    sent = [c for c in tg.calls if c.ok and c.params.get("chat_id") == 90_001]
    assert len([c for c in sent if c.method == "sendAudio"]) == 10
    assert not tg.rate_limited, [(c.method, c.params.get("chat_id")) for c in tg.rate_limited]
    # The first replies went out at once: the pace only spreads what follows a burst.
    acks = sorted(c.time for c in sent if c.method == "sendMessage")
    assert acks[3] - acks[0] < 0.5
