"""The jobs repository (see storage/jobs/store.py); callers import from here."""

from storage.jobs.intake import FREED, NEW_JOB, WORK_CHANNEL
from storage.jobs.leases import SlotCounts
from storage.jobs.rows import (
    JOB_COLUMNS,
    KEY_PATTERN,
    UPDATABLE_COLUMNS,
    Increment,
    Job,
    JobPatch,
    NewJob,
    ReleasePatch,
    new_job_key,
)
from storage.jobs.store import JobStore

__all__ = [
    "FREED",
    "JOB_COLUMNS",
    "KEY_PATTERN",
    "NEW_JOB",
    "UPDATABLE_COLUMNS",
    "WORK_CHANNEL",
    "Increment",
    "Job",
    "JobPatch",
    "JobStore",
    "NewJob",
    "ReleasePatch",
    "SlotCounts",
    "new_job_key",
]
