"""How long a model takes, learned from this bot's own deliveries.

Why: the poll policy (poll_policy.py) polls densely only around the predicted finish, and the
status message can say "usually about 1:20". History is read from SQLite and cached per model so a
runner tick costs no query.
"""

from __future__ import annotations

import time

from bot.aimlapi.models import ModelSpec
from bot.engine.poll_policy import Estimate, fit_estimate
from storage.db import Database
from storage.jobs import Job

HISTORY = 200  # most recent generations per model that shape the estimate
CACHE_SECONDS = 30.0


class Estimator:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, tuple[float, list[tuple[int, float]]]] = {}

    def invalidate(self, model: str) -> None:
        self._cache.pop(model, None)

    async def history(self, model: str) -> list[tuple[int, float]]:
        """(lyrics length, seconds from submit to provider-completed) of recent generations."""
        now = time.monotonic()
        hit = self._cache.get(model)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        rows = await self._db.fetchall(
            "SELECT length(coalesce(lyrics, '')) AS n, completed_at - submitted_at AS secs "
            "FROM jobs WHERE model = ? AND completed_at IS NOT NULL AND submitted_at IS NOT NULL "
            "AND generation_id IS NOT NULL ORDER BY completed_at DESC LIMIT ?",
            (model, HISTORY),
        )
        data = [
            (int(r["n"]), float(r["secs"]))
            for r in rows
            if r["secs"] is not None and r["secs"] > 0
        ]
        self._cache[model] = (now, data)
        return data

    async def estimate(self, spec: ModelSpec, job: Job) -> Estimate:
        history = await self.history(spec.id)
        return fit_estimate(history, len(job.lyrics or ""), spec.typical_seconds)
