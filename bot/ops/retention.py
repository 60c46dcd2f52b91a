"""Retention: finished jobs (prompt, lyrics, names, result links), /write drafts (ideas, lyrics),
stale display names and old reference ids go away.

Why: nothing else ever deletes them; a maximum-size job is about 16 kB and lyrics are personal
data (#17.11). Finished jobs older than `SONGBOT_RETENTION_DAYS` (default 90; 0 keeps them) are
deleted in batches at start and every few hours, and so are /write drafts untouched for as long
and the display names of users not seen for as long (#24.14: every table with personal text);
the usage ledger (what daily limits and payments are counted from) keeps its rows. Reference
ids older than the cache's own lifetime are useless and are dropped too. Freed pages are reused
by SQLite, so the file stops growing; it does not shrink without a VACUUM, which locks the
database and is left to the operator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
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
    jobs = drafts = names = 0
    days = services.config.retention_days
    if days > 0:
        before = now - days * DAY
        jobs = await _in_batches(services.jobs.delete_finished, before)
        drafts = await _in_batches(services.lyrics.delete_stale_drafts, before)
        names = await services.users.forget_names(before=before)
    references = await services.references.purge(older_than=now - REFERENCE_CACHE_SECONDS)
    # Songs Telegram refused, kept for a re-send (#16.6), have their own, shorter lifetime.
    kept_days = services.config.unsent_audio_days
    if kept_days > 0:
        kept = await asyncio.to_thread(services.temp.sweep_kept, kept_days * DAY)
        if kept:
            log.info("retention: deleted %d unsent song(s) kept over %g days", kept, kept_days)
    if drafts or names:
        log.info(
            "retention: deleted %d /write draft(s), forgot %d display name(s) older than %g days",
            drafts,
            names,
            days,
        )
    if jobs or references:
        log.info(
            "retention: deleted %d finished job(s) older than %g days, %d reference id(s)",
            jobs,
            days,
            references,
        )
    return jobs, references


async def _in_batches(delete: Callable[..., Awaitable[int]], before: float) -> int:
    """Run a batched DELETE until it finds less than a batch, letting other writers in."""
    total = 0
    while True:
        deleted = await delete(before=before, limit=BATCH)
        total += deleted
        if deleted < BATCH:
            return total
        await asyncio.sleep(0)


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
