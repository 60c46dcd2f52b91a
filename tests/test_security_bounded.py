"""Issue #24.12: per-chat memories stay bounded however many groups use the bot.

Through the real bot against the fakes: many groups each ask for a song (a status board, its
lock, its last edit and language each) and many outsider chats get their one notice; with the
bounds lowered for the test, every per-chat map stays within its bound.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.support.groups import reply_to, song
from tests.support.harness import BotHarness

BOUND = 5
GROUPS = [-1008000 - n for n in range(24)]
OUTSIDERS = [-1009000 - n for n in range(24)]


def _shrink(*maps: Any) -> None:
    for memory in maps:
        if hasattr(memory, "max_size"):  # a plain dict has no bound to lower
            memory.max_size = BOUND


@pytest.mark.harness_env(
    SONGBOT_TG_RATE_SCALE="20", SONGBOT_ALLOWED_CHAT_IDS=",".join(str(g) for g in GROUPS)
)
async def test_per_chat_memories_stay_bounded(harness: BotHarness) -> None:
    services, tg = harness.services, harness.tg
    memo, boards = services.memo, services.boards
    maps = {
        "board_locks": memo.board_locks,
        "chat_admins": memo.chat_admins,
        "access_notified": memo.access_notified,
        "recent_presses": memo.recent_presses,
        "board last edit": boards._last_edit,
        "board language": boards._lang,
    }
    _shrink(*maps.values())
    for n, group in enumerate(GROUPS):
        tg.add_chat(group, type="supergroup", title=f"Group {n}", admins=[900 + n])
        tg.send_text(group, 800 + n, song(f"anthem number {n}"))
    for n, outsider in enumerate(OUTSIDERS):
        tg.add_chat(outsider, type="supergroup", title=f"Outsider {n}")
        notice = tg.send_text(outsider, 850 + n, song("not served here"))
        await reply_to(harness, notice)  # the one notice an outsider chat gets
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        jobs = await harness.jobs()
        if len(jobs) == len(GROUPS) and all(j.state == "delivered" for j in jobs):
            break
        await asyncio.sleep(0.05)
    jobs = await harness.jobs()
    assert len(jobs) == len(GROUPS) and all(j.state == "delivered" for j in jobs)
    # The burst's locks were all held at once (never dropped while in use); the next request
    # finds them free, and the map is back within its bound.
    tg.send_text(GROUPS[0], 800, song("one more anthem"))
    await harness.wait_for_job(lambda j: j.state == "delivered" and j.prompt.startswith("one"))
    sizes = {name: len(memory) for name, memory in maps.items()}
    assert all(size <= BOUND for size in sizes.values()), sizes
    assert sizes["board_locks"] > 0 and sizes["access_notified"] > 0  # they were used
