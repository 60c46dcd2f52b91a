"""Cancelling a job: the state move and what it means for the usage ledger, written once.

Why in storage: a cancel is a compare-and-set on the job plus, only before the paid POST, giving
the generation back; every caller (/cancel, ❌ under a status, ❌ in /jobs) must get both or
neither, and must never refund a generation the provider may already have charged.
"""

from __future__ import annotations

from storage.jobs import Job, JobStore
from storage.states import BEFORE_PAID_SUBMIT, JobState
from storage.usage import UsageLedger


async def cancel_job(jobs: JobStore, usage: UsageLedger, job: Job, *, now: float) -> bool:
    """Move `job` to cancelled if it is still where `job.state` says; True if this call did."""
    was = JobState(job.state)
    won = await jobs.transition(
        job.id,
        was,
        JobState.CANCELLED,
        owner=None,
        now=now,
        error_key="status_cancelled",
        outcome_sent_at=now,
    )
    # From `submitting` on, the provider may have charged: the generation keeps counting.
    if won and was in BEFORE_PAID_SUBMIT:
        await usage.refund(job.id)
    return won
