"""The kill test's payment moment: SIGKILL the real `songbot run` right after Telegram handed it a
`successful_payment` update (before or while it is stored), restart, and check that every charge is
credited exactly once: never lost (the update comes again, since it was never confirmed), never
twice (the charge id is unique), and confirmed to the user at most once."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from pathlib import Path

import pytest

from bot.intake.stars import PackPayload
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.subprocess_bot import BotProcess, subprocess_env

pytestmark = pytest.mark.timeout(300)
ROUNDS = 4
USER = 5005


def _credited(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT telegram_payment_charge_id, songs FROM star_purchases"
        ).fetchall()
        ledger = conn.execute(
            "SELECT charge_id, COUNT(*) FROM star_ledger WHERE kind = 'purchase' GROUP BY 1"
        ).fetchall()
    assert all(n == 1 for _, n in ledger), ledger
    return {str(charge): int(songs) for charge, songs in rows}


async def test_a_kill_right_after_the_payment_update_credits_it_once(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> None:
    tg, rng = fake_telegram, random.Random(19)
    db = tmp_path / "songbot.db"
    env = subprocess_env(tg, fake_aimlapi, db, {"SONGBOT_STARS_PER_SONG": "50"})
    bot = BotProcess(env, tmp_path)
    try:
        await bot.start()
        await bot.wait_for_log("songbot started", 30)
        for number in range(ROUNDS):
            before = len(tg.star_payments)
            tg.send_pre_checkout(USER, PackPayload(USER, 5, 225).encode(), total_amount=225)
            # The bot answers ok; the fake charges and queues the successful_payment message.
            deadline = time.monotonic() + 20
            while len(tg.star_payments) == before:
                assert time.monotonic() < deadline, bot.tail()
                await asyncio.sleep(0.005)
            charge = next(reversed(tg.star_payments))
            # Kill as soon as a getUpdates has handed the payment over, plus a little jitter.
            while not any(
                c.method == "getUpdates"
                and c.ok
                and any(
                    (u.get("message") or {})
                    .get("successful_payment", {})
                    .get("telegram_payment_charge_id")
                    == charge
                    for u in c.result
                )
                for c in tg.calls
            ):
                assert time.monotonic() < deadline, bot.tail()
                await asyncio.sleep(0.001)
            await asyncio.sleep(rng.uniform(0.0, 0.03) if number else 0.0)
            await bot.kill()
            await bot.start()
            await bot.wait_for_log("songbot started", 30)
            deadline = time.monotonic() + 20
            while charge not in _credited(db):
                assert time.monotonic() < deadline, f"payment lost:\n{bot.all_logs()}"
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # any further redelivery has been handled
        credited = _credited(db)
        assert sorted(credited) == sorted(tg.star_payments)
        assert sum(credited.values()) == 5 * ROUNDS
        confirmations = [
            c
            for c in tg.calls_to("sendMessage")
            if c.ok and "Payment received" in str(c.params.get("text"))
        ]
        assert len(confirmations) <= ROUNDS
    finally:
        await bot.stop()
