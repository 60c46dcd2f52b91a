"""The job state machine, in one place, so every writer agrees on what may follow what.

Why a table: the runner, the handlers (cancel) and crash recovery all move jobs; if any of them
could invent a transition, a job could be submitted (and charged) twice or delivered twice.
`JobStore` checks this table before it touches the database, and then moves the job with a
compare-and-set on the current state, so a stale or duplicate actor simply loses.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class JobState(StrEnum):
    """Where a job is; the value is what the `jobs.state` column stores."""

    RECEIVED = "received"  # persisted, waiting for a free slot
    PREPARING = "preparing"  # reference download / transcode / upload
    SUBMITTING = "submitting"  # POST in flight: the one step that can charge
    PENDING = "pending"  # accepted by the provider, polled until done
    FETCHING = "fetching"  # provider finished; downloading the audio
    DELIVERING = "delivering"  # uploading the audio to Telegram
    DELIVERED = "delivered"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # a submit whose outcome could not be learned


_S = JobState

TRANSITIONS: Final[Mapping[JobState, frozenset[JobState]]] = MappingProxyType(
    {
        #  from            to
        # TIMED_OUT from RECEIVED: a request that waited for a free slot past its deadline.
        _S.RECEIVED: frozenset(
            {_S.PREPARING, _S.SUBMITTING, _S.FAILED, _S.TIMED_OUT, _S.CANCELLED}
        ),
        _S.PREPARING: frozenset({_S.SUBMITTING, _S.FAILED, _S.CANCELLED}),
        # FETCHING straight from SUBMITTING: synchronous models answer with the audio itself.
        # RECEIVED again only when the provider provably created nothing (a 429/5xx response,
        # or a connection that never opened), so a later retry cannot charge twice.
        _S.SUBMITTING: frozenset(
            {_S.PENDING, _S.FETCHING, _S.RECEIVED, _S.FAILED, _S.INTERRUPTED, _S.CANCELLED}
        ),
        _S.PENDING: frozenset({_S.FETCHING, _S.FAILED, _S.TIMED_OUT, _S.CANCELLED}),
        # Once the audio exists it is paid for: no cancelling, only success or failure.
        _S.FETCHING: frozenset({_S.DELIVERING, _S.FAILED}),
        # FETCHING again when the downloaded file vanished (temp dir wiped) before the upload.
        _S.DELIVERING: frozenset({_S.DELIVERED, _S.FETCHING, _S.FAILED}),
        _S.DELIVERED: frozenset(),
        _S.FAILED: frozenset(),
        _S.TIMED_OUT: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.INTERRUPTED: frozenset(),
    }
)

TERMINAL: Final[frozenset[JobState]] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
ACTIVE: Final[frozenset[JobState]] = frozenset(JobState) - TERMINAL
# Jobs that hold one of the concurrency slots: being worked on or waiting at the provider.
RUNNING: Final[frozenset[JobState]] = frozenset(
    {_S.PREPARING, _S.SUBMITTING, _S.PENDING, _S.FETCHING, _S.DELIVERING}
)
# Before the paid POST went out: nothing can have been charged yet.
BEFORE_PAID_SUBMIT: Final[frozenset[JobState]] = frozenset({_S.RECEIVED, _S.PREPARING})
# States in which a runner is actively doing something; found here with an expired lease, the
# runner that held it died mid-step.
WORKING: Final[frozenset[JobState]] = frozenset(
    {_S.PREPARING, _S.SUBMITTING, _S.FETCHING, _S.DELIVERING}
)


class IllegalTransition(Exception):
    """A move the state machine forbids; a programming error, raised before any write."""

    def __init__(self, src: JobState | str, dst: JobState | str) -> None:
        super().__init__(f"illegal job transition {src} -> {dst}")
        self.src = src
        self.dst = dst


def can_transition(src: JobState, dst: JobState) -> bool:
    return dst in TRANSITIONS.get(src, frozenset())


def check_transition(src: JobState, dst: JobState) -> None:
    """Raise `IllegalTransition` unless `src -> dst` is in the table."""
    try:
        src_state, dst_state = JobState(src), JobState(dst)
    except ValueError:
        raise IllegalTransition(src, dst) from None
    if not can_transition(src_state, dst_state):
        raise IllegalTransition(src_state, dst_state)
