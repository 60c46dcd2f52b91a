"""`JobStore`: the one door to `jobs`, put together from its three parts.

Why parts: intake and moves (storage/jobs/intake.py), the engine's claims and leases
(storage/jobs/leases.py) and the read views (storage/jobs/views.py) change for different reasons;
callers still hold one object. Every state move is a compare-and-set on the expected state (and the
lease owner, when the caller holds one): the loser of any race learns it from the `False` return.
"""

from __future__ import annotations

from storage.db import Database
from storage.jobs.intake import JobIntake
from storage.jobs.leases import JobLeases
from storage.jobs.views import JobViews


class JobStore(JobIntake, JobLeases, JobViews):
    """All reads and writes of `jobs`."""

    def __init__(self, db: Database) -> None:
        self.db = db
