"""The real bot re-plans sleeping status checks when a completion comes earlier than planned.

Issue #28: waking every job "submitted long enough ago" on every completion spent waves of checks
on jobs still running; waking nobody would leave a job asleep through its own completion when the
provider suddenly gets faster than the history says. What the engine does instead
(bot/engine/poll.py): a completion earlier than its window re-plans the sleeping jobs of its model
from their last check with what was just learnt, here after two such completions showed the
provider's speed had shifted (bot/engine/poll_policy.py `since_shift`).
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
HISTORY_SECONDS = 240.0  # what the bot has learned: this model takes four minutes
FAST = {"a": 13.0, "b": 13.0, "c": 20.0}  # now it takes well under a minute


def insert_history(db_path: Any, count: int) -> None:
    """`count` delivered generations of MODEL that took about HISTORY_SECONDS each."""
    now = time.time()
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            for i in range(count):
                took = HISTORY_SECONDS + (i % 5) - 2
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
    await harness.restart(SONGBOT_POLL_INTERVAL="1", SONGBOT_JOB_TIMEOUT="120")
    insert_history(harness.db_path, 30)
    api, tg = harness.api, harness.tg

    def generation_time(body: dict[str, Any]) -> float:
        match = TAG.search(str(body.get("lyrics", "")))
        return FAST[match.group(1)] if match else 1.0

    api.generation_time_fn = generation_time
    for i, name in enumerate(("c", "a", "b")):
        user = 700_000 + i
        tg.send_text(user, user, f"/song {STYLE}\n[Verse] take {name}\nla la la la la la")
        if name == "c":  # C's checks come a second before A's and B's
            await harness.wait_for_job(lambda j: j.state == "pending", timeout=20)
            await asyncio.sleep(1.0)
    await harness.wait_for_job(
        lambda j: j.state == "delivered" and "take c" in (j.lyrics or ""), timeout=60
    )
    gen = next(g for g in api.generations.values() if "take c" in str(g.body.get("lyrics")))
    assert gen.completed_at is not None
    fetched = min(r.time for r in api.requests_to("GET /files") if gen.file_token in r.path)
    # Without re-planning, C sleeps from its check at about 18 s (a second before A and B are
    # seen) to the ramp's next check at about 27 s, or longer: 7 s or more after it completed.
    assert fetched - gen.completed_at < 4.0
