"""JobStore: intake, leases, races, the runner's queries and the indexes they rely on."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from storage import (
    Database,
    Increment,
    JobState,
    JobStore,
    UsageLedger,
    new_job_key,
)
from storage.db import ConstraintViolation
from storage.jobs import UPDATABLE_COLUMNS, JobPatch, ReleasePatch
from storage.open_db import open_database
from tests.support.jobs import T0, force_state, make_new_job

# --- intake ------------------------------------------------------------------------------------


async def test_create_stores_every_field_and_defaults(store: JobStore) -> None:
    new = make_new_job(topic_id=7, reference_file_id="AgAD", reference_kind="voice")
    job, created = await store.create(new)
    assert created
    assert job.state is JobState.RECEIVED
    assert job.key == new.key and job.topic_id == 7 and job.reference_kind == "voice"
    assert job.options == {"audio_setting": {"format": "mp3"}}
    assert job.submit_attempts == job.poll_count == job.delivery_attempts == 0
    assert job.lease_owner is None and job.updated_at == new.created_at
    assert await store.get(job.id) == job
    assert await store.get_by_request(new.chat_id, new.request_message_id) == job
    assert await store.get(job.id + 1000) is None


def test_the_typed_patch_names_exactly_the_columns_a_caller_may_set() -> None:
    """mypy checks callers against `JobPatch`; the store checks names at run time against
    UPDATABLE_COLUMNS: the two lists must be one."""
    assert JobPatch.__optional_keys__ == UPDATABLE_COLUMNS
    assert not JobPatch.__required_keys__
    assert ReleasePatch.__optional_keys__ == UPDATABLE_COLUMNS - {"next_check_at"}


async def test_a_patch_cannot_set_what_the_store_owns(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    owned: dict[str, Any] = {"lease_owner": "x"}
    with pytest.raises(ValueError, match="lease_owner"):
        await store.update(job.id, owner=None, now=T0, **owned)
    with pytest.raises(ValueError, match="claims"):
        await store.transition(job.id, JobState.RECEIVED, JobState.FAILED, now=T0, claims=3)  # type: ignore[call-arg]
    fresh = await store.get(job.id)
    assert fresh is not None and fresh.lease_owner is None and fresh.state is JobState.RECEIVED


async def test_duplicate_intake_gives_the_existing_job(store: JobStore, db: Database) -> None:
    first = make_new_job(request_message_id=555)
    again = make_new_job(request_message_id=555, prompt="different text, same update")
    job1, created1 = await store.create(first)
    job2, created2 = await store.create(again)
    assert (created1, created2) == (True, False)
    assert job2 == job1 and job2.prompt == first.prompt
    assert await db.fetchval("SELECT COUNT(*) FROM jobs") == 1


async def test_concurrent_duplicate_intake_creates_one_job(store: JobStore, db: Database) -> None:
    results = await asyncio.gather(
        *(store.create(make_new_job(request_message_id=777)) for _ in range(50))
    )
    assert sum(created for _, created in results) == 1
    assert len({job.id for job, _ in results}) == 1
    assert await db.fetchval("SELECT COUNT(*) FROM jobs") == 1


async def test_same_message_id_in_another_chat_is_a_new_job(store: JobStore) -> None:
    _, a = await store.create(make_new_job(request_message_id=9, chat_id=1))
    _, b = await store.create(make_new_job(request_message_id=9, chat_id=2))
    assert a and b


@pytest.mark.parametrize("key", ["", "has space", "a/b", "ü", "x" * 129])
async def test_bad_keys_are_rejected_in_python_and_in_the_schema(db: Database, key: str) -> None:
    with pytest.raises(ValueError, match="job key must be 1-128 chars"):
        make_new_job(key=key)
    with pytest.raises(ConstraintViolation):
        await db.execute_write(
            "INSERT INTO jobs (key, chat_id, chat_type, user_id, request_message_id, model, "
            "deadline_at, next_check_at, created_at, updated_at) "
            "VALUES (?, 1, 'private', 1, 1, 'm', 1, 1, 1, 1)",
            (key,),
        )


def test_generated_keys_are_valid_and_distinct() -> None:
    keys = {new_job_key() for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        make_new_job(key=key)  # validates


# --- claiming ----------------------------------------------------------------------------------


async def test_claim_due_takes_only_due_unleased_jobs_oldest_first(store: JobStore) -> None:
    late, _ = await store.create(make_new_job(next_check_at=T0 + 5))
    early, _ = await store.create(make_new_job(next_check_at=T0 - 5))
    future, _ = await store.create(make_new_job(next_check_at=T0 + 100))
    claimed = await store.claim_due(owner="r1", now=T0 + 10, lease_seconds=30, limit=10)
    assert [j.id for j in claimed] == [early.id, late.id]
    for job in claimed:
        assert job.lease_owner == "r1" and job.lease_until == T0 + 40 and job.claims == 1
        assert job.lease_held("r1", T0 + 39) and not job.lease_held("r1", T0 + 40)
    again = await store.claim_due(owner="r2", now=T0 + 10, lease_seconds=30, limit=10)
    assert again == []
    fresh = await store.get(future.id)
    assert fresh is not None and fresh.lease_owner is None


async def test_claim_due_respects_limit_and_state_filter(store: JobStore, db: Database) -> None:
    ids = [(await store.create(make_new_job()))[0].id for _ in range(5)]
    await force_state(db, ids[0], JobState.PENDING)
    pending = await store.claim_due(
        owner="p", now=T0, lease_seconds=30, limit=10, states={JobState.PENDING}
    )
    assert [j.id for j in pending] == [ids[0]]
    two = await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=2)
    assert len(two) == 2
    assert await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=0) == []
    assert await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=5, states=()) == []


async def test_terminal_jobs_are_never_due(store: JobStore, db: Database) -> None:
    job, _ = await store.create(make_new_job())
    assert await store.transition(job.id, JobState.RECEIVED, JobState.CANCELLED, now=T0)
    assert await store.claim_due(owner="r", now=T0 + 10**6, lease_seconds=30, limit=5) == []
    assert await store.next_due_at() is None


async def test_200_racing_claimers_take_each_job_exactly_once(tmp_path: Path) -> None:
    """Two connections to one file (two processes), 100 coroutines each, batches of 7."""
    path = tmp_path / "race.db"
    db_a = await open_database(path)
    db_b = await open_database(path, busy_timeout_ms=20_000)
    try:
        store_a, store_b = JobStore(db_a), JobStore(db_b)
        total = 1000
        for i in range(total):
            await store_a.create(make_new_job(next_check_at=T0 + (i % 17)))
        start = asyncio.Event()

        async def claimer(store: JobStore, name: str) -> list[int]:
            await start.wait()
            mine: list[int] = []
            while True:
                batch = await store.claim_due(owner=name, now=T0 + 60, lease_seconds=300, limit=7)
                if not batch:
                    return mine
                assert all(j.lease_owner == name for j in batch)
                mine.extend(j.id for j in batch)

        tasks = [
            asyncio.create_task(claimer(store_a if n % 2 else store_b, f"runner-{n}"))
            for n in range(200)
        ]
        start.set()
        results = await asyncio.gather(*tasks)
        claimed = [job_id for ids in results for job_id in ids]
        counts = Counter(claimed)
        assert len(claimed) == total
        assert set(counts.values()) == {1}
        assert sum(1 for ids in results if ids) > 1  # the work was really shared
        owners = await db_a.fetchall("SELECT lease_owner, claims FROM jobs")
        assert {row[1] for row in owners} == {1}
        assert all(row[0] is not None for row in owners)
    finally:
        await db_a.close()
        await db_b.close()


async def test_expired_lease_lets_another_runner_take_the_job(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    [mine] = await store.claim_due(owner="a", now=T0, lease_seconds=30, limit=5)
    assert await store.transition(
        job.id, JobState.RECEIVED, JobState.SUBMITTING, owner="a", now=T0
    )
    # a crashes here; before its lease ends nobody may take the job
    assert await store.claim_due(owner="b", now=T0 + 29.9, lease_seconds=30, limit=5) == []
    [taken] = await store.claim_due(owner="b", now=T0 + 30, lease_seconds=30, limit=5)
    assert taken.id == mine.id and taken.state is JobState.SUBMITTING and taken.claims == 2
    # the old owner, if it was only slow, now loses every compare-and-set
    assert not await store.transition(
        job.id, JobState.SUBMITTING, JobState.PENDING, owner="a", now=T0 + 31
    )
    assert not await store.update(job.id, owner="a", now=T0 + 31, poll_count=9)
    assert not await store.release(job.id, owner="a", next_check_at=T0 + 40, now=T0 + 31)
    assert await store.transition(
        job.id, JobState.SUBMITTING, JobState.PENDING, owner="b", now=T0 + 31
    )


async def test_second_connection_cannot_steal_a_live_lease(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    db_a = await open_database(path)
    db_b = await open_database(path)
    try:
        a, b = JobStore(db_a), JobStore(db_b)
        job, _ = await a.create(make_new_job())
        assert len(await a.claim_due(owner="proc-a", now=T0, lease_seconds=30, limit=1)) == 1
        assert await b.claim_due(owner="proc-b", now=T0 + 10, lease_seconds=30, limit=1) == []
        assert not await b.transition(
            job.id, JobState.RECEIVED, JobState.SUBMITTING, owner="proc-b", now=T0 + 10
        )
        assert await a.renew_leases(owner="proc-a", until=T0 + 100) == 1
        assert await b.claim_due(owner="proc-b", now=T0 + 60, lease_seconds=30, limit=1) == []
        taken = await b.claim_due(owner="proc-b", now=T0 + 100, lease_seconds=30, limit=1)
        assert [j.id for j in taken] == [job.id]
        seen_by_a = await a.get(job.id)
        assert seen_by_a is not None and seen_by_a.lease_owner == "proc-b"
    finally:
        await db_a.close()
        await db_b.close()


async def test_release_reschedules_and_frees(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=1)
    assert await store.release(
        job.id, owner="r", next_check_at=T0 + 5, now=T0 + 1, poll_count=Increment(1)
    )
    fresh = await store.get(job.id)
    assert fresh is not None
    assert (fresh.lease_owner, fresh.lease_until, fresh.next_check_at) == (None, None, T0 + 5)
    assert fresh.poll_count == 1 and fresh.updated_at == T0 + 1
    assert await store.claim_due(owner="x", now=T0 + 4, lease_seconds=30, limit=1) == []
    assert len(await store.claim_due(owner="x", now=T0 + 5, lease_seconds=30, limit=1)) == 1
    with pytest.raises(ValueError, match="no_such_column"):
        await store.release(job.id, owner="x", next_check_at=1.0, now=T0, no_such_column=1)


async def test_release_all_and_renew_touch_only_the_owner(store: JobStore) -> None:
    for _ in range(3):
        await store.create(make_new_job(next_check_at=T0 - 100))
    await store.claim_due(owner="a", now=T0, lease_seconds=30, limit=2)
    await store.claim_due(owner="b", now=T0, lease_seconds=30, limit=2)
    assert await store.renew_leases(owner="a", until=T0 + 500) == 2
    assert await store.renew_leases(owner="nobody", until=T0 + 500) == 0
    assert await store.release_all(owner="a", next_check_at=T0 - 200) == 2
    rows = await store.list_jobs()
    by_owner = Counter(j.lease_owner for j in rows)
    assert by_owner == {None: 2, "b": 1}
    assert sorted(j.next_check_at or 0 for j in rows if j.lease_owner is None) == [
        T0 - 200,
        T0 - 200,
    ]
    assert await store.release_all(owner="b") == 1
    assert all(j.lease_owner is None for j in await store.list_jobs())


async def test_renew_single_lease(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    await store.claim_due(owner="a", now=T0, lease_seconds=30, limit=1)
    assert await store.renew_leases(owner="a", until=T0 + 90, job_ids=[job.id]) == 1
    assert await store.renew_leases(owner="b", until=T0 + 900, job_ids=[job.id]) == 0
    fresh = await store.get(job.id)
    assert fresh is not None and fresh.lease_until == T0 + 90


# --- updates -----------------------------------------------------------------------------------


async def test_update_guards_and_whitelist(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    assert await store.update(job.id, owner=None, now=T0 + 1, status_message_id=99)
    await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=1)
    assert not await store.update(job.id, owner="other", now=T0 + 2, poll_count=5)
    assert await store.update(
        job.id, owner="r", now=T0 + 2, poll_count=Increment(2), options={"k": "v"}
    )
    assert not await store.update(
        job.id, owner="r", now=T0 + 3, state=JobState.PENDING, poll_count=7
    )
    assert await store.update(job.id, owner="r", now=T0 + 3, state=JobState.RECEIVED, lyrics=None)
    fresh = await store.get(job.id)
    assert fresh is not None
    assert fresh.status_message_id == 99 and fresh.poll_count == 2
    assert fresh.options == {"k": "v"} and fresh.lyrics is None and fresh.updated_at == T0 + 3
    for bad in ("id", "key", "chat_id", "lease_owner", "claims", "created_at", "no_such_column"):
        kwargs: dict[str, Any] = {bad: 1}
        with pytest.raises(ValueError, match=bad):
            await store.update(job.id, owner=None, now=T0, **kwargs)
    with pytest.raises(ValueError, match="state"):  # states move only through transition()
        await store.transition(
            job.id, JobState.RECEIVED, JobState.SUBMITTING, now=T0, **{"state": "delivered"}
        )
    with pytest.raises(ConstraintViolation):  # an active job always has a next check
        await store.update(job.id, owner=None, now=T0, next_check_at=None)


async def test_transition_to_terminal_clears_lease_and_schedule(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=1)
    for src, dst in [
        (JobState.RECEIVED, JobState.SUBMITTING),
        (JobState.SUBMITTING, JobState.PENDING),
        (JobState.PENDING, JobState.FETCHING),
        (JobState.FETCHING, JobState.DELIVERING),
    ]:
        assert await store.transition(job.id, src, dst, owner="r", now=T0 + 1)
    assert await store.transition(
        job.id,
        JobState.DELIVERING,
        JobState.DELIVERED,
        owner="r",
        now=T0 + 2,
        delivered_message_id=1234,
    )
    done = await store.get(job.id)
    assert done is not None and done.state is JobState.DELIVERED
    assert (done.lease_owner, done.lease_until, done.next_check_at) == (None, None, None)
    assert done.finished_at == T0 + 2 and done.delivered_at == T0 + 2
    assert done.delivered_message_id == 1234 and done.is_terminal
    with pytest.raises(ValueError, match="has no next check"):
        await store.transition(
            job.id, JobState.PENDING, JobState.FAILED, now=T0, next_check_at=T0 + 1
        )


async def test_transition_without_owner_beats_a_leaseholder(store: JobStore) -> None:
    """A user's cancel wins over the runner's lease; the runner's next move then loses."""
    job, _ = await store.create(make_new_job())
    await store.claim_due(owner="r", now=T0, lease_seconds=30, limit=1)
    await store.transition(job.id, JobState.RECEIVED, JobState.SUBMITTING, owner="r", now=T0)
    await store.transition(job.id, JobState.SUBMITTING, JobState.PENDING, owner="r", now=T0)
    assert await store.transition(job.id, JobState.PENDING, JobState.CANCELLED, now=T0 + 1)
    assert not await store.transition(
        job.id, JobState.PENDING, JobState.FETCHING, owner="r", now=T0 + 2
    )


async def test_racing_transitions_have_one_winner(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    await force_state(store.db, job.id, JobState.PENDING)
    targets = [JobState.FETCHING, JobState.FAILED, JobState.TIMED_OUT, JobState.CANCELLED] * 25
    wins = await asyncio.gather(
        *(store.transition(job.id, JobState.PENDING, dst, now=T0) for dst in targets)
    )
    assert sum(wins) == 1
    winner = targets[wins.index(True)]
    fresh = await store.get(job.id)
    assert fresh is not None and fresh.state is winner


# --- the runner's queries ----------------------------------------------------------------------


async def test_next_due_at(store: JobStore) -> None:
    assert await store.next_due_at() is None
    a, _ = await store.create(make_new_job(next_check_at=T0 + 50))
    b, _ = await store.create(make_new_job(next_check_at=T0 + 20))
    # A waiting job is admitted (bot/engine/admission.py), not claimed: it never sets the time.
    await store.create(make_new_job(next_check_at=T0 + 5))
    for job in (a, b):
        assert await store.transition(job.id, JobState.RECEIVED, JobState.PREPARING, now=T0)
    assert await store.next_due_at() == T0 + 20
    # a leased job becomes claimable only when its lease expires
    await store.claim_due(
        owner="r", now=T0 + 20, lease_seconds=100, limit=1, states={JobState.PREPARING}
    )
    assert await store.next_due_at() == T0 + 50
    await store.transition(a.id, JobState.PREPARING, JobState.CANCELLED, now=T0)
    assert await store.next_due_at() == T0 + 120


async def test_counts_by_state(store: JobStore, db: Database) -> None:
    states = [
        (1, 10, JobState.RECEIVED),
        (1, 10, JobState.PENDING),
        (1, 11, JobState.SUBMITTING),
        (2, 10, JobState.DELIVERING),
        (2, 10, JobState.DELIVERED),
        (3, 12, JobState.FAILED),
        (3, 12, JobState.PREPARING),
    ]
    for user, chat, state in states:
        job, _ = await store.create(make_new_job(user_id=user, chat_id=chat))
        await force_state(db, job.id, state)
    counts = await store.counts_by_state()
    assert set(counts) == {s.value for s in JobState}
    assert counts["pending"] == 1 and counts["delivered"] == 1 and counts["cancelled"] == 0
    assert sum(counts.values()) == len(states)


async def test_lists_newest_first(store: JobStore, db: Database) -> None:
    for i in range(6):
        job, _ = await store.create(
            make_new_job(user_id=100 + i % 2, chat_id=500 + i % 3, created_at=T0 + i)
        )
        if i == 4:
            await force_state(db, job.id, JobState.DELIVERED)
    user = await store.list_for_user(100)
    assert [j.created_at for j in user] == [T0 + 4, T0 + 2, T0]
    assert [j.created_at for j in await store.list_for_user(100, limit=2)] == [T0 + 4, T0 + 2]
    assert [j.created_at for j in await store.list_for_user(100, active_only=True)] == [
        T0 + 2,
        T0,
    ]
    assert [j.created_at for j in await store.list_for_chat(501)] == [T0 + 4, T0 + 1]
    assert [j.created_at for j in await store.list_jobs(state=JobState.DELIVERED)] == [T0 + 4]
    assert len(await store.list_jobs(limit=4)) == 4
    assert [j.created_at for j in await store.list_jobs(chat_id=502)] == [T0 + 5, T0 + 2]


async def test_unnotified_failures(store: JobStore) -> None:
    told, _ = await store.create(make_new_job())
    untold, _ = await store.create(make_new_job())
    old, _ = await store.create(make_new_job())
    cancelled, _ = await store.create(make_new_job())
    for job, at in [(told, T0 + 10), (untold, T0 + 10), (old, T0 - 5000)]:
        await store.transition(job.id, JobState.RECEIVED, JobState.FAILED, now=at)
    await store.transition(cancelled.id, JobState.RECEIVED, JobState.CANCELLED, now=T0 + 10)
    await store.update(told.id, owner=None, now=T0 + 11, outcome_sent_at=T0 + 11)
    found = await store.unnotified_failures(since=T0)
    assert [j.id for j in found] == [untold.id]


async def test_delete_finished_keeps_the_ledger(store: JobStore, db: Database) -> None:
    ledger = UsageLedger(db)
    done, _ = await store.create(make_new_job())
    live, _ = await store.create(make_new_job())
    await ledger.record(done.id, 42, -1001234, "minimax/music-2.0", 100, T0)
    await store.transition(done.id, JobState.RECEIVED, JobState.FAILED, now=T0)
    assert await store.delete_finished(before=T0) == 0
    assert await store.delete_finished(before=T0 + 1) == 1
    assert await store.get(done.id) is None and await store.get(live.id) is not None
    assert await ledger.count_today(42, T0) == 1
    assert await db.fetchval("SELECT job_id FROM usage") is None


# --- indexes -----------------------------------------------------------------------------------


async def _plans_of(db: Database, run: Any) -> list[str]:
    """Run store calls while tracing SQL, then EXPLAIN each statement they issued."""
    statements: list[str] = []
    await db.conn.set_trace_callback(statements.append)
    try:
        await run()
    finally:
        await db.conn.set_trace_callback(None)  # type: ignore[arg-type]  # None removes it
    plans: list[str] = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
            continue
        rows = await db.fetchall(f"EXPLAIN QUERY PLAN {sql}")
        plans.append(" | ".join(str(r["detail"]) for r in rows))
    return plans


async def test_hot_queries_use_their_indexes() -> None:
    """SQLite only: its planner reads the tracer's statements back; PostgreSQL's plans depend
    on table statistics a 300-row test table does not have (the indexes are the same, 002)."""
    db = await open_database(":memory:")
    try:
        await _check_hot_query_plans(JobStore(db), db)
    finally:
        await db.close()


async def _check_hot_query_plans(store: JobStore, db: Any) -> None:
    ledger = UsageLedger(db)
    for i in range(300):
        job, _ = await store.create(make_new_job(user_id=i % 7, next_check_at=T0 + i))
        if i % 3 == 0:
            await ledger.record(job.id, i % 7, -1001234, job.model, 10, T0 + i)
            await store.transition(job.id, JobState.RECEIVED, JobState.FAILED, now=T0)
    await db.execute_write("ANALYZE")

    claim = await _plans_of(
        db, lambda: store.claim_due(owner="r", now=T0 + 50, lease_seconds=30, limit=10)
    )
    assert any("jobs_due" in p for p in claim), claim
    assert any("USING INDEX jobs_due" in p or "USING COVERING INDEX jobs_due" in p for p in claim)

    daily = await _plans_of(db, lambda: ledger.count_today(3, T0))
    assert any(
        "USING INDEX usage_user_day" in p or "USING COVERING INDEX usage_user_day" in p
        for p in daily
    ), daily

    due = await _plans_of(db, store.next_due_at)
    assert any("jobs_due" in p for p in due), due
