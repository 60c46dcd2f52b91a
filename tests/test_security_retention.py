"""Issue #17.11: finished jobs past SONGBOT_RETENTION_DAYS are deleted; the ledger stays.

Through the real bot: a delivered song is aged by moving its timestamps back, then the bot is
restarted (the sweep runs at start and every few hours).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import pytest

from bot.ops import retention
from bot.services import Services
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import SONG

DAY = 86_400.0


def _age(harness: BotHarness, job_id: int, days: float) -> None:
    with sqlite3.connect(harness.db_path) as conn:
        shift = days * DAY
        conn.execute(
            "UPDATE jobs SET created_at = created_at - ?, finished_at = finished_at - ? "
            "WHERE id = ?",
            (shift, shift, job_id),
        )


async def _two_songs(harness: BotHarness) -> tuple[int, int]:
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    old = await harness.wait_for_job(lambda j: j.state == "delivered")
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    new = await harness.wait_for_job(lambda j: j.state == "delivered" and j.id != old.id)
    return old.id, new.id


@pytest.mark.harness_env(SONGBOT_RETENTION_DAYS="30")
async def test_finished_jobs_past_retention_are_deleted_at_start(harness: BotHarness) -> None:
    old, new = await _two_songs(harness)
    _age(harness, old, 31)
    _age(harness, new, 29)
    used = await harness.services.usage.count_today(USER, now=time.time())
    await harness.restart(SONGBOT_RETENTION_DAYS="30")
    deadline = time.monotonic() + 5
    while (ids := [j.id for j in await harness.jobs()]) != [new] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # the sweep runs in the background, right after start
    assert ids == [new]
    assert await harness.services.jobs.get(old) is None
    # The ledger (daily limits, payments) is not personal data and keeps its rows.
    assert await harness.services.usage.count_today(USER, now=time.time()) == used == 2


@pytest.mark.harness_env(SONGBOT_RETENTION_DAYS="0")
async def test_retention_zero_keeps_everything(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = await _two_songs(harness)
    _age(harness, old, 3650)
    swept = asyncio.Event()  # the sweep at start has run (it logs nothing when it finds nothing)
    sweep_once = retention.sweep_once

    async def sweep_and_tell(services: Services, **kwargs: Any) -> tuple[int, int]:
        try:
            return await sweep_once(services, **kwargs)
        finally:
            swept.set()

    monkeypatch.setattr(retention, "sweep_once", sweep_and_tell)
    await harness.restart(SONGBOT_RETENTION_DAYS="0")
    await asyncio.wait_for(swept.wait(), 15)
    assert sorted(j.id for j in await harness.jobs()) == sorted([old, new])
