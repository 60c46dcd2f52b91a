"""Benchmark 3, scale: 10,000 pending jobs in the database.

Run: .venv/bin/python bench/bench_scale.py [--jobs 10000] [--idle 65] [--due 1000]

Setup: the database holds `--jobs` generations that are pending at the provider (the fake AI/ML
API knows each one and answers `queued` to every poll), none due for at least two minutes. The
jobs belong to 300 group chats and have no status message, so a poll is pure provider traffic
and the Bot API only sees the bot's own long polls.
Measured on the real bot (`python -m bot run`, a child process):
- resident memory (VmRSS) once started, and its peak (VmHWM);
- CPU while nothing is due over an `--idle` second window (the runner should sleep until the next
  due job, at most IDLE_MAX_SLEEP = 60 s), and CPU per runner tick with nothing due (the claim
  plus the next-due query, run in this process against a copy of the same database, many times);
- restart: stop the bot (SIGTERM), move `--due` jobs' next check into the past as if the bot had
  been down, start it again; time from process start to its first status poll, and until every
  due job has been polled once. Target: RSS < 150 MB, idle CPU near zero, resume < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from _common import (
    bot_env,
    header,
    insert_jobs,
    loadavg,
    songbot,
    table,
    wait_until,
    workdir,
)

from songbot_fakes.aimlapi import FakeAimlApi, FakeGeneration, Outcome
from songbot_fakes.telegram import FakeTelegram

MODEL = "minimax/music-2.0"
LYRICS = "[Verse]\n" + "we ride the night until the morning light\n" * 12


def job_rows(count: int, now: float) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        chat = -1_000_000_000_000 - i % 300
        submitted = now - 30 - (i % 60)
        rows.append(
            {
                "key": f"scale-{i}",
                "chat_id": chat,
                "chat_type": "supergroup",
                "user_id": 10_000 + i % 3000,
                "user_name": f"user{i % 3000}",
                "request_message_id": 10 + i,
                "model": MODEL,
                "prompt": "synthwave, driving bass, neon nights",
                "lyrics": LYRICS,
                "options": {},
                "state": "pending",
                "generation_id": f"scale-generation-{i}",
                "submit_started_at": submitted,
                "submitted_at": submitted,
                "submit_attempts": 1,
                # Due between 2 and 15 minutes from now: nothing is due during the idle window.
                "next_check_at": now + 120 + (i * 7919 % count) / count * 780,
                "deadline_at": now + 3600,
                "created_at": submitted - 1,
                "updated_at": submitted,
            }
        )
    return rows


def register_generations(api: FakeAimlApi, count: int) -> None:
    """Make the fake know every stored generation (pending forever) so polls answer 200."""
    mono, epoch = time.monotonic(), time.time()
    never = Outcome(never_complete=True)
    for i in range(count):
        gen_id = f"scale-generation-{i}"
        api.generations[gen_id] = FakeGeneration(
            id=gen_id,
            model=MODEL,
            body={"model": MODEL, "lyrics": LYRICS},
            created_at=mono,
            created_epoch=epoch,
            client_request_id=f"scale-{i}",
            outcome=never,
            generation_seconds=1e9,
            status="generating",
        )


def make_due(db_path: Path, count: int, now: float) -> None:
    """As if the bot had been down: the `count` earliest jobs' checks are now overdue."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.execute(
                "UPDATE jobs SET next_check_at = ? - 1 - id * 0.001 WHERE id IN "
                "(SELECT id FROM jobs WHERE next_check_at IS NOT NULL "
                "ORDER BY next_check_at LIMIT ?)",
                (now, count),
            )
    finally:
        conn.close()


async def tick_cost(db_path: Path, env: dict[str, str], ticks: int) -> tuple[float, float]:
    """(CPU ms, wall ms) of one runner tick with nothing due, on a copy of the database."""
    from telegram import Bot

    from bot.config import Config
    from bot.engine.runner import JobRunner
    from bot.ops.metrics import Metrics
    from bot.services import Services

    copy = db_path.with_name("tick-copy.db")
    shutil.copy(db_path, copy)
    config = Config.from_env({**env, "SONGBOT_DB": str(copy)}, env_file=None)
    bot = Bot(config.telegram_token.get())
    services = await Services.open(config, metrics=Metrics(), bot=bot)
    try:
        runner = JobRunner(services, bot)  # built as bot/app.py does, never started: ticked here
        for _ in range(20):  # warm caches and the statement cache
            await runner._tick()
            await services.jobs.next_due_at()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(ticks):
            await runner._tick()  # what one wake-up does: claim (nothing is due) ...
            due = await services.jobs.next_due_at()  # ... and find when to wake next
            assert due is not None and due > time.time()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await services.close()
    return 1000 * cpu / ticks, 1000 * wall / ticks


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=65.0, help="seconds of idle measurement")
    parser.add_argument("--due", type=int, default=1000, help="jobs due at the restart")
    parser.add_argument("--ticks", type=int, default=500)
    parser.add_argument("--workdir", help="keep the database and logs in this folder")
    args = parser.parse_args()
    print(header(f"bench_scale: {args.jobs:,} pending jobs"))
    rows: list[tuple[str, str, str]] = []
    with workdir(args.workdir) as tmp:
        db_path = tmp / "scale.db"
        started = time.perf_counter()
        await insert_jobs(db_path, job_rows(args.jobs, time.time()))
        print(f"  seeded {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s", flush=True)
        async with FakeTelegram() as tg, FakeAimlApi() as api:
            register_generations(api, args.jobs)
            env = bot_env(
                telegram_base=tg.base_url,
                token=tg.token,
                aimlapi_base=api.base_url,
                api_key=api.api_key,
                db=db_path,
            )
            polls = api.requests_to  # re-read each time: the fake appends to its log

            # --- first run: memory and idle CPU ---
            child = songbot(env, tmp, tmp / "scale-1.log")
            child.start()
            try:
                ready = await wait_until(
                    lambda: tg.polls_waiting > 0, timeout=60, what="bot start", child=child
                )
                await asyncio.sleep(3.0)
                mem = child.memory()
                cpu0, t0 = child.cpu(), time.monotonic()
                await asyncio.sleep(args.idle)
                idle_cpu, idle_wall = child.cpu() - cpu0, time.monotonic() - t0
                idle_polls = len(polls("GET /v2/generate/audio"))
                mem_after = child.memory()
                print(f"  idle window done ({loadavg()})", flush=True)
            finally:
                code = await child.stop()
            rows.append(("startup to first long poll", f"{ready - child.started_at:.2f} s", ""))
            rows.append(
                (
                    "resident memory (VmRSS) after start / after idle window",
                    f"{mem['VmRSS']:.1f} MB / {mem_after['VmRSS']:.1f} MB",
                    "target < 150 MB",
                )
            )
            rows.append(("peak resident memory (VmHWM)", f"{mem_after['VmHWM']:.1f} MB", ""))
            rows.append(
                (
                    f"CPU while nothing is due ({idle_wall:.0f} s window)",
                    f"{1000 * idle_cpu:.0f} ms ({100 * idle_cpu / idle_wall:.2f} % of a core)",
                    f"{idle_polls} provider polls; target near zero",
                )
            )
            if code not in (0, None):
                raise RuntimeError(f"the bot exited {code}:\n{child.tail()}")

            # Nothing is due yet (the restart below changes that): one tick's cost, in-process.
            ms_cpu, ms_wall = await tick_cost(db_path, env, args.ticks)
            rows.append(
                (
                    "one runner tick with nothing due (claim + next-due query)",
                    f"{ms_cpu:.2f} ms CPU, {ms_wall:.2f} ms wall",
                    f"mean of {args.ticks}, in-process, same database",
                )
            )

            # --- restart with overdue jobs ---
            restart_at = time.time()
            await asyncio.to_thread(make_due, db_path, args.due, restart_at)
            before = len(polls("GET /v2/generate/audio"))
            child = songbot(env, tmp, tmp / "scale-2.log")
            child.start()
            try:

                def polled(n: int) -> bool:
                    return len(polls("GET /v2/generate/audio")) - before >= n

                first = await wait_until(
                    lambda: polled(1), timeout=60, interval=0.005, what="first poll", child=child
                )
                ready = await wait_until(
                    lambda: tg.polls_waiting > 0, timeout=60, what="long poll", child=child
                )
                every = await wait_until(
                    lambda: polled(args.due),
                    timeout=600,
                    interval=0.02,
                    what="all due polled",
                    child=child,
                )
                mem2 = child.memory()
            finally:
                await child.stop()
            unique = {
                r.query.get("generation_id") for r in polls("GET /v2/generate/audio")[before:]
            }
            rows.append(
                (
                    "restart: process start to first status poll",
                    f"{first - child.started_at:.2f} s",
                    "target < 2 s",
                )
            )
            rows.append(
                (
                    "restart: process start to first long poll",
                    f"{ready - child.started_at:.2f} s",
                    "",
                )
            )
            rows.append(
                (
                    f"restart: all {args.due:,} overdue jobs polled",
                    f"{every - child.started_at:.2f} s after start",
                    f"{args.due / max(1e-9, every - first):,.0f} polls/s, "
                    f"{len(unique):,} distinct jobs",
                )
            )
            rows.append(
                (
                    "resident memory after the catch-up (VmRSS / VmHWM)",
                    f"{mem2['VmRSS']:.1f} MB / {mem2['VmHWM']:.1f} MB",
                    "",
                )
            )
    print()
    print(table(f"{args.jobs:,} pending jobs", ["measure", "value", "note"], rows))
    print(f"\nload average at end: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
