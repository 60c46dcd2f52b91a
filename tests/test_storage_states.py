"""The state machine: every legal and every illegal transition, in the table and in the DB."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import (
    ACTIVE,
    RUNNING,
    TERMINAL,
    TRANSITIONS,
    WORKING,
    Database,
    IllegalTransition,
    JobState,
    JobStore,
    check_transition,
)
from storage.open_db import open_database
from tests.support.jobs import T0, force_state, make_new_job

S = JobState
# The issue's table, written out independently of storage/states.py.
EXPECTED: dict[JobState, set[JobState]] = {
    S.RECEIVED: {S.PREPARING, S.SUBMITTING, S.FAILED, S.TIMED_OUT, S.CANCELLED},
    S.PREPARING: {S.SUBMITTING, S.FAILED, S.CANCELLED},
    S.SUBMITTING: {S.PENDING, S.FETCHING, S.RECEIVED, S.FAILED, S.INTERRUPTED, S.CANCELLED},
    S.PENDING: {S.FETCHING, S.FAILED, S.TIMED_OUT, S.CANCELLED},
    S.FETCHING: {S.DELIVERING, S.FAILED},
    S.DELIVERING: {S.DELIVERED, S.FETCHING, S.FAILED},
}
ALL_PAIRS = list(itertools.product(JobState, JobState))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in EXPECTED.get(a, set())]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in EXPECTED.get(a, set())]


def test_values_are_the_lowercase_names() -> None:
    assert [s.value for s in JobState] == [s.name.lower() for s in JobState]
    assert len(JobState) == 11


def test_table_matches_the_issue() -> None:
    assert {s: set(t) for s, t in TRANSITIONS.items() if t} == EXPECTED
    assert set(TRANSITIONS) == set(JobState)
    assert {S.DELIVERED, S.FAILED, S.TIMED_OUT, S.CANCELLED, S.INTERRUPTED} == TERMINAL
    assert set(JobState) - TERMINAL == ACTIVE
    assert {S.PREPARING, S.SUBMITTING, S.PENDING, S.FETCHING, S.DELIVERING} == RUNNING
    assert RUNNING - {S.PENDING} == WORKING
    assert len(LEGAL) == 23 and len(LEGAL) + len(ILLEGAL) == 121


@pytest.mark.parametrize(("src", "dst"), LEGAL)
def test_legal_transitions_pass_the_check(src: JobState, dst: JobState) -> None:
    check_transition(src, dst)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL)
def test_illegal_transitions_raise(src: JobState, dst: JobState) -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(src, dst)
    assert info.value.src == src and info.value.dst == dst
    assert f"{src} -> {dst}" in str(info.value)


def test_unknown_state_names_are_illegal() -> None:
    with pytest.raises(IllegalTransition):
        check_transition("received", "exploded")  # type: ignore[arg-type]


@pytest.fixture
def store(any_db: Database) -> JobStore:
    """Every test here runs on SQLite and on PostgreSQL (tests/support/fixtures_pg.py)."""
    return JobStore(any_db)


async def test_every_legal_transition_moves_the_row(store: JobStore) -> None:
    for src, dst in LEGAL:
        job, _ = await store.create(make_new_job())
        await force_state(store.db, job.id, src)
        assert await store.transition(job.id, src, dst, now=T0 + 1), (src, dst)
        fresh = await store.get(job.id)
        assert fresh is not None and fresh.state is dst and fresh.updated_at == T0 + 1
        assert (fresh.next_check_at is None) == (dst in TERMINAL)
        # the same move again is stale: the compare-and-set loses
        assert not await store.transition(job.id, src, dst, now=T0 + 2)


async def test_every_illegal_transition_raises_before_writing(store: JobStore) -> None:
    for src, dst in ILLEGAL:
        job, _ = await store.create(make_new_job())
        await force_state(store.db, job.id, src)
        before = await store.get(job.id)
        with pytest.raises(IllegalTransition):
            await store.transition(job.id, src, dst, now=T0 + 1, error_key="x")
        assert await store.get(job.id) == before, (src, dst)


async def test_legal_move_from_the_wrong_current_state_loses(store: JobStore) -> None:
    job, _ = await store.create(make_new_job())
    await force_state(store.db, job.id, S.PENDING)
    assert not await store.transition(job.id, S.RECEIVED, S.SUBMITTING, now=T0)
    fresh = await store.get(job.id)
    assert fresh is not None and fresh.state is S.PENDING


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(list(JobState)), min_size=1, max_size=12))
def test_random_walks_agree_with_the_table(steps: list[JobState]) -> None:
    """Any sequence of requested moves: the store does exactly what the table allows."""

    async def walk() -> None:
        db = await open_database(":memory:")
        try:
            store = JobStore(db)
            job, _ = await store.create(make_new_job())
            current = S.RECEIVED
            for dst in steps:
                if dst in EXPECTED.get(current, set()):
                    assert await store.transition(job.id, current, dst, now=T0)
                    current = dst
                else:
                    with pytest.raises(IllegalTransition):
                        await store.transition(job.id, current, dst, now=T0)
            fresh = await store.get(job.id)
            assert fresh is not None and fresh.state is current
        finally:
            await db.close()

    asyncio.run(walk())
