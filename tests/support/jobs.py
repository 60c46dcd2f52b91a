"""Job records for storage tests: a realistic intake record, a way to force a state, and a
database file with a finished and an in-flight job (what `songbot migrate-db` copies)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from storage import Database, JobState, NewJob, new_job_key
from storage.jobs import JobStore
from storage.open_db import open_database

T0 = 1_700_000_000.0
_message_ids = itertools.count(1)


def make_new_job(**overrides: Any) -> NewJob:
    """A realistic intake record; each call gets a fresh request message id."""
    message_id = overrides.pop("request_message_id", next(_message_ids))
    chat_id = overrides.pop("chat_id", -1001234)
    created_at = overrides.pop("created_at", T0)
    values: dict[str, Any] = {
        "key": new_job_key(),
        "chat_id": chat_id,
        "chat_type": "supergroup",
        "topic_id": None,
        "user_id": 42,
        "user_name": "Ada",
        "user_lang": "en",
        "request_message_id": message_id,
        "model": "minimax/music-2.0",
        "prompt": "lofi hip hop, rainy night",
        "lyrics": "[verse]\nla la la",
        "options": {"audio_setting": {"format": "mp3"}},
        "deadline_at": created_at + 900,
        "next_check_at": created_at,
        "created_at": created_at,
    }
    values.update(overrides)
    return NewJob(**values)


async def force_state(db: Database, job_id: int, state: JobState) -> None:
    """Put a job straight into a state (tests only), keeping the table's invariants."""
    terminal = state in {
        JobState.DELIVERED,
        JobState.FAILED,
        JobState.TIMED_OUT,
        JobState.CANCELLED,
        JobState.INTERRUPTED,
    }
    await db.execute_write(
        "UPDATE jobs SET state = ?, next_check_at = "
        "CASE WHEN ? = 1 THEN NULL ELSE COALESCE(next_check_at, created_at) END, "
        "lease_owner = CASE WHEN ? = 1 THEN NULL ELSE lease_owner END, "
        "lease_until = CASE WHEN ? = 1 THEN NULL ELSE lease_until END WHERE id = ?",
        (state.value, terminal, terminal, terminal, job_id),
    )


async def sqlite_with_jobs(path: Path) -> None:
    """A database at `path` with two jobs: one failed, one still waiting (in flight)."""
    db = await open_database(path)
    try:
        jobs = JobStore(db)
        done, _ = await jobs.create(make_new_job(user_id=1))
        await jobs.transition(done.id, JobState.RECEIVED, JobState.FAILED, now=T0)
        await jobs.create(make_new_job(user_id=2))  # still waiting: in flight
    finally:
        await db.close()
