"""The real bot re-plans sleeping status checks when a completion comes earlier than planned.

Issue #28: waking every job "submitted long enough ago" on every completion spent waves of checks
on jobs still running; waking nobody would leave a job asleep through its own completion when the
provider suddenly gets faster than the history says. What the engine does instead
(bot/engine/poll.py): a completion earlier than its window re-plans the sleeping jobs of its model
from their last check with what was just learnt, here after two such completions showed the
provider's speed had shifted (bot/engine/poll_policy.py `since_shift`).

The scenario is a real one (a four-minute history, songs now done in 15-22 s, checks a second
apart) run SPEED times faster: every time in it, the poll interval included, is divided by SPEED,
and the policy's schedule is a multiple of the interval, so the checks land where they would.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from typing import Any

from tests.support.harness import BotHarness

MODEL = "minimax/music-2.0"
STYLE = "warm acoustic folk with harmonies"
TAG = re.compile(r"take (\w)")
SPEED = 8.0
BASE = 1.0 / SPEED  # SONGBOT_POLL_INTERVAL: checks a (scaled) second apart
HISTORY_SECONDS = 240.0 / SPEED  # what the bot has learned: this model takes four minutes
# Now it takes well under a minute. With no re-plan, the checks of every job are on the ramp
# 12.2, 18.2, 27.3 s after its submit (scaled): A and B are done between the first two, C
# between the last two, so C sleeps through its own completion unless A and B wake it.
FAST = {"a": 15.0 / SPEED, "b": 15.0 / SPEED, "c": 22.0 / SPEED}


def insert_history(db_path: Any, count: int) -> None:
    """`count` delivered generations of MODEL that took about HISTORY_SECONDS each."""
    now = time.time()
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            for i in range(count):
                took = HISTORY_SECONDS + ((i % 5) - 2) / SPEED
                done = now - 7200 + i * 60
                conn.execute(
                    "INSERT INTO jobs (key, chat_id, chat_type, user_id, request_message_id, "
                    "model, prompt, lyrics, state, generation_id, deadline_at, "
                    "submit_started_at, submitted_at, completed_at, fetched_at, delivered_at, "
                    "outcome_sent_at, created_at, updated_at) VALUES "
                    "(?, ?, 'private', ?, 1, ?, ?, ?, 'delivered', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        f"history-{i}",
                        900_000 + i,
                        900_000 + i,
                        MODEL,
                        STYLE,
                        "la la la " * 100,
                        f"history-generation-{i}",
                        done + 900,
                        done - took,
                        done - took,
                        done,
                        done,
                        done,
                        done,
                        done - took - 1,
                        done,
                    ),
                )
    finally:
        conn.close()


async def test_a_job_sleeping_towards_the_old_window_is_looked_at_once_the_speed_shifted(
    harness: BotHarness,
) -> None:
    await harness.restart(SONGBOT_POLL_INTERVAL=str(BASE), SONGBOT_JOB_TIMEOUT="120")
    insert_history(harness.db_path, 30)
    api, tg = harness.api, harness.tg

    def generation_time(body: dict[str, Any]) -> float:
        match = TAG.search(str(body.get("lyrics", "")))
        return FAST[match.group(1)] if match else BASE

    api.generation_time_fn = generation_time
    for i, name in enumerate(("c", "a", "b")):
        user = 700_000 + i
        tg.send_text(user, user, f"/song {STYLE}\n[Verse] take {name}\nla la la la la la")
        if name == "c":  # C's checks come a second before A's and B's
            await harness.wait_for_job(lambda j: j.state == "pending", timeout=20)
            await asyncio.sleep(BASE)
    await harness.wait_for_job(
        lambda j: j.state == "delivered" and "take c" in (j.lyrics or ""), timeout=60
    )
    gen = next(g for g in api.generations.values() if "take c" in str(g.body.get("lyrics")))
    assert gen.completed_at is not None
    looked = min(
        r.time
        for r in api.requests_to("GET /v2/generate/audio")
        if r.query.get("generation_id") == gen.id and r.time >= gen.completed_at
    )
    # Without re-planning, C sleeps from its check at about 18 s (a second before A and B are
    # seen) to the ramp's next check at about 27 s, or longer: 5 s (scaled) or more after it
    # completed. Re-planned, it is looked at as soon as A and B are seen, then every second
    # (measured at the check that saw it done, not at its download, which load only delays).
    assert looked - gen.completed_at < 4.0 / SPEED
