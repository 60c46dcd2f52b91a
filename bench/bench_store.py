"""Benchmark the job store: intake rate, due-job claim latency and database size.

Run: .venv/bin/python bench/bench_store.py [--jobs 10000] [--batch 50]
Why: the runner claims in batches on every tick; this shows the claim stays cheap with a large
backlog, and how fast handlers can persist requests through the single writer path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import JobState, JobStore, NewJob, UsageLedger, new_job_key
from storage.open_db import open_database

T0 = 1_700_000_000.0


def _new_job(i: int) -> NewJob:
    chat = -1000 - i % 300
    return NewJob(
        key=new_job_key(),
        chat_id=chat,
        chat_type="supergroup",
        topic_id=None,
        user_id=i % 1000,
        user_name=f"user{i % 1000}",
        user_lang="en",
        request_message_id=i,
        model="minimax/music-2.0",
        prompt="synthwave, driving bass, neon nights " * 3,
        lyrics="[verse]\n" + "we ride the night until the morning light\n" * 8,
        options={"audio_setting": {"format": "mp3", "sample_rate": 44100}},
        deadline_at=T0 + 900,
        next_check_at=T0 + (i % 600) / 10,
        created_at=T0 + i / 100,
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(jobs: int, batch: int, concurrency: int) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = await open_database(path)
        try:
            store, ledger = JobStore(db), UsageLedger(db)
            rows: list[tuple[str, str]] = []

            queue = iter(range(jobs))

            async def intake() -> None:
                for i in queue:
                    await store.create(_new_job(i))

            started = time.perf_counter()
            await asyncio.gather(*(intake() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            rows.append(("jobs inserted", f"{jobs:,}"))
            rows.append(
                (f"inserts/s ({concurrency} concurrent handlers)", f"{jobs / elapsed:,.0f}")
            )

            latencies: list[float] = []
            claimed = 0
            now = T0 + 120
            while True:
                t = time.perf_counter()
                got = await store.claim_due(owner="bench", now=now, lease_seconds=60, limit=batch)
                latencies.append(time.perf_counter() - t)
                if not got:
                    break
                claimed += len(got)
                # what the runner does next: one step forward, then release with a later check
                for job in got[:5]:
                    await store.transition(
                        job.id, JobState.RECEIVED, JobState.SUBMITTING, owner="bench", now=now
                    )
            rows.append(("jobs claimed", f"{claimed:,} in {len(latencies) - 1} batches"))
            rows.append(
                (
                    f"claim latency per batch of {batch}",
                    f"mean {statistics.fmean(latencies) * 1000:.2f} ms, "
                    f"p95 {_p95(latencies) * 1000:.2f} ms",
                )
            )

            for i in range(0, jobs, 2):
                await ledger.record(i + 1, i % 1000, -1000, "minimax/music-2.0", 73_500, T0 + i)
            t = time.perf_counter()
            for user in range(200):
                await ledger.count_today(user, T0 + 3600)
            rows.append(("daily quota query", f"{(time.perf_counter() - t) / 200 * 1e6:.0f} µs"))
            await store.release_all(owner="bench")  # a real runner holds a few leases, not all
            await store.claim_due(owner="bench", now=now, lease_seconds=60, limit=batch)
            t = time.perf_counter()
            for _ in range(200):
                await store.next_due_at()
            rows.append(("next_due_at query", f"{(time.perf_counter() - t) / 200 * 1e6:.0f} µs"))

            await db.execute_write("PRAGMA wal_checkpoint(TRUNCATE)")
            size = path.stat().st_size
            wal = path.with_name(path.name + "-wal")
            wal_size = wal.stat().st_size if wal.exists() else 0
            rows.append(("database size", f"{size / 1e6:.1f} MB (+{wal_size / 1e6:.1f} MB WAL)"))
            return rows
        finally:
            await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    rows = asyncio.run(run(args.jobs, args.batch, args.concurrency))
    width = max(len(k) for k, _ in rows)
    print(f"{'metric'.ljust(width)} | value")
    print(f"{'-' * width}-+-{'-' * 40}")
    for key, value in rows:
        print(f"{key.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
