"""What the rest of the bot tells the job engine, and reads of it, in one small object.

Why an object of its own, created before `Services` (bot/services.py): handlers, intake, the
health page and the fleet wiring must reach the engine, and the engine (bot/engine/runner.py)
needs the finished services. The signals and the heartbeat live here, made first; the runner is
built after the services around this link and reads it. Nothing is attached later, so no caller
checks for a missing engine: a signal sent before the runner exists simply waits for its first
tick.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from storage.jobs import NEW_JOB, Job
from storage.states import JobState


def _nothing(job_id: int, was: JobState) -> None:
    """No runner yet: no worker to stop (the wake-up is recorded anyway)."""


class EngineLink:
    """The engine's signals (wake-ups, new jobs, cancels) and its heartbeat."""

    def __init__(self, owner: str | None = None) -> None:
        # Who holds the leases the engine takes (with PostgreSQL: this replica's instance id).
        self.owner = owner or f"runner-{uuid.uuid4().hex[:12]}"
        # Set by every signal; the runner sleeps on it between ticks (and sets it to stop).
        self.woken = asyncio.Event()
        # The whole line should be walked at the next tick (a slot may have freed).
        self.admit_wanted = True
        # Jobs that joined the line since the runner last took them (None: on another replica).
        self._added: list[Job | None] = []
        # The runner's heartbeat: when its loop last ticked, and whether that loop still runs.
        self.last_tick = 0.0
        self.running = False
        self._on_cancel: Callable[[int, JobState], None] = _nothing

    # ------------------------------------------------------------------ from the rest of the bot
    def wake(self) -> None:
        """Something changed (a cancel, a freed slot): walk the line and look at the due jobs."""
        self.admit_wanted = True
        self.woken.set()

    def job_added(self, job: Job | None = None) -> None:
        """A new job joined the end of the line (`None`: on another replica).

        It changes nobody else's place, so the runner walks the line for it only if it could
        start now (`JobRunner._worth_walking`); else its place is painted by the next safety walk
        (ADMIT_EVERY). Walking the whole line for every arrival cost O(line) per request, O(n^2)
        in a burst.
        """
        self._added.append(job)
        self.woken.set()

    def notified(self, payload: str) -> None:
        """A NOTIFY from any replica (storage/jobs.py): a new job, or else a freed slot."""
        if payload == NEW_JOB:
            self.job_added()
        else:
            self.wake()

    def cancelled(self, job_id: int, was: JobState) -> None:
        """A job was cancelled (its state is already `cancelled`): wake up for its slot, and let
        the runner stop a worker still preparing it, now, not at its next tick."""
        self.wake()
        self._on_cancel(job_id, was)

    def alive(self, max_age: float) -> bool:
        """The runner's loop runs and has ticked within `max_age` seconds."""
        return self.running and time.time() - self.last_tick <= max_age

    # ------------------------------------------------------------------ for the runner
    def on_cancel(self, stop_worker: Callable[[int, JobState], None]) -> None:
        """The runner's handler for a cancel, called at once (one runner per link)."""
        if self._on_cancel is not _nothing:
            raise RuntimeError("this engine link already has a runner")
        self._on_cancel = stop_worker

    def take_added(self) -> list[Job | None]:
        """The jobs added since the last call, oldest first."""
        added, self._added = self._added, []
        return added

    @property
    def pending(self) -> bool:
        """A signal is waiting for the next tick (so the runner must not sleep)."""
        return self.admit_wanted or bool(self._added)
