"""Retention: finished jobs (prompt, lyrics, names, result links) and old reference ids go away.

Why: nothing else ever deletes them; a maximum-size job is about 16 kB and lyrics are personal
data (#17.11). Finished jobs older than `SONGBOT_RETENTION_DAYS` (default 90; 0 keeps them) are
deleted in batches at start and every few hours; the usage ledger (what daily limits and
payments are counted from) keeps its rows. Reference ids older than the cache's own lifetime are
useless and are dropped too. Freed pages are reused by SQLite, so the file stops growing; it
does not shrink without a VACUUM, which locks the database and is left to the operator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from bot.engine.prepare_reference import REFERENCE_CACHE_SECONDS
from bot.periodic import Background, periodic
from bot.services import Services

log = logging.getLogger(__name__)

SWEEP_EVERY: Final = 6 * 3600.0
BATCH: Final = 1000
DAY: Final = 86_400.0


async def sweep_once(services: Services, *, now: float | None = None) -> tuple[int, int]:
    """Delete what is past retention; returns (jobs deleted, reference ids dropped)."""
    now = time.time() if now is None else now
    jobs = 0
    days = services.config.retention_days
    if days > 0:
        before = now - days * DAY
        while True:
            deleted = await services.jobs.delete_finished(before=before, limit=BATCH)
            jobs += deleted
            if deleted < BATCH:
                break
            await asyncio.sleep(0)  # let other writers in between batches
    references = await services.references.purge(older_than=now - REFERENCE_CACHE_SECONDS)
    # Songs Telegram refused, kept for a re-send (#16.6), have their own, shorter lifetime.
    kept_days = services.config.unsent_audio_days
    if kept_days > 0:
        kept = await asyncio.to_thread(services.temp.sweep_kept, kept_days * DAY)
        if kept:
            log.info("retention: deleted %d unsent song(s) kept over %g days", kept, kept_days)
    if jobs or references:
        log.info(
            "retention: deleted %d finished job(s) older than %g days, %d reference id(s)",
            jobs,
            days,
            references,
        )
    return jobs, references


def retention_sweeper(services: Services, every: float = SWEEP_EVERY) -> Background:
    """`sweep_once` now and every `every` seconds until stopped; a failed sweep is a warning
    and is tried again next time, it never stops the bot."""

    async def sweep() -> None:
        await sweep_once(services)

    return periodic(
        "songbot-retention",
        sweep,
        every,
        failed=lambda exc: log.warning("retention sweep failed: %s", exc),
    )
