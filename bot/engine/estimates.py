"""How long a model takes, learned from this bot's own deliveries.

Why: the poll policy (poll_policy.py) polls densely only around the predicted finish, and the
status message can say "usually about 1:20". History is read from SQLite and cached per model so a
runner tick costs no query.
"""

from __future__ import annotations

import time

from bot.aimlapi.models import ModelSpec
from bot.engine.poll_policy import Estimate, fit_estimate
from storage.jobs import Job, JobStore

HISTORY = 200  # most recent generations per model that shape the estimate
CACHE_SECONDS = 30.0


class Estimator:
    def __init__(self, jobs: JobStore) -> None:
        self._jobs = jobs
        self._cache: dict[str, tuple[float, list[tuple[int, float]]]] = {}

    def invalidate(self, model: str) -> None:
        self._cache.pop(model, None)

    async def history(self, model: str) -> list[tuple[int, float]]:
        """(lyrics length, seconds from submit to provider-completed) of recent generations."""
        now = time.monotonic()
        hit = self._cache.get(model)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        data = await self._jobs.generation_history(model, limit=HISTORY)
        self._cache[model] = (now, data)
        return data

    async def estimate(self, spec: ModelSpec, job: Job) -> Estimate:
        history = await self.history(spec.id)
        return fit_estimate(history, len(job.lyrics or ""), spec.typical_seconds)
