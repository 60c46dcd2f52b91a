"""Durable state on SQLite or PostgreSQL: jobs, usage, settings, users, the reference cache."""

from storage.db import Database, Migration, StorageError, load_migrations
from storage.jobs import (
    JOB_COLUMNS,
    UPDATABLE_COLUMNS,
    Increment,
    Job,
    JobStore,
    NewJob,
    new_job_key,
)
from storage.open_db import open_database
from storage.references import CachedReference, ReferenceCache
from storage.settings import (
    WHO_MAY_REQUEST,
    ChatSettings,
    ChatSettingsStore,
    Requester,
    UserRecord,
    UserStore,
    load_requester,
)
from storage.states import (
    ACTIVE,
    RUNNING,
    TERMINAL,
    TRANSITIONS,
    WORKING,
    IllegalTransition,
    JobState,
    can_transition,
    check_transition,
)
from storage.usage import UsageLedger, UsageStats, utc_day_bounds

__all__ = [
    "ACTIVE",
    "JOB_COLUMNS",
    "RUNNING",
    "TERMINAL",
    "TRANSITIONS",
    "UPDATABLE_COLUMNS",
    "WHO_MAY_REQUEST",
    "WORKING",
    "CachedReference",
    "ChatSettings",
    "ChatSettingsStore",
    "Database",
    "IllegalTransition",
    "Increment",
    "Job",
    "JobState",
    "JobStore",
    "Migration",
    "NewJob",
    "ReferenceCache",
    "Requester",
    "StorageError",
    "UsageLedger",
    "UsageStats",
    "UserRecord",
    "UserStore",
    "can_transition",
    "check_transition",
    "load_migrations",
    "load_requester",
    "new_job_key",
    "open_database",
    "utc_day_bounds",
]
