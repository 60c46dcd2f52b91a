"""A song cancelled while its paid POST was in flight, whose answer never came (#24.7).

Why: a cancel during `submitting` cannot give the credit back (the provider may still charge),
and the runner stops caring about a cancelled job. When the POST was answered, `submit.py` knows
(a refusal releases the credit, a success records the charge); when the answer was lost, or the
process died, only the provider's request log can tell, as for any lost submit
(bot/engine/reconcile.py). Settled here: a generation was created → the charge is recorded (the
song counts, its credit is spent); the log proves nothing was → the credit or free song goes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from bot.aimlapi.errors import ProviderError
from bot.engine.work import Work
from storage.jobs import Job

log = logging.getLogger(__name__)

MAX_LOOKS: Final = 30  # a bound on the in-process wait for the log (grace / step each)
# With PostgreSQL another replica may still be sending the POST at our start: its longest call
# (the synchronous generate, 300 s) and then some, before "no trace" can mean "nothing made".
REPLICA_IN_FLIGHT: Final = 360.0


async def settle(w: Work, job: Job, *, now: float, wait: float | None = None) -> bool | None:
    """One look at the request log for `job`'s lost POST: True if it was charged (now recorded),
    False if the hold was released, None while the log cannot tell yet (no trace, and the POST
    started less than `wait` seconds ago; default SONGBOT_RECONCILE_GRACE)."""
    try:
        entry = await w.s.client.find_generation(job.client_request_id)
    except ProviderError as exc:
        log.warning("request log unavailable while settling a cancelled song: %s", exc)
        return None
    if entry is not None and entry.inference_id and entry.status != "failed":
        await w.s.usage.record(
            job.id, job.user_id, job.chat_id, job.model, entry.credits or 0.0, now=now
        )
        log.info("the cancelled song's lost submit was charged: it counts")
        return True
    since = job.submit_started_at or job.updated_at
    wait = w.s.config.reconcile_grace if wait is None else wait
    if entry is None and now - since < wait:
        return None  # the log may lag behind the POST
    if await w.s.stars.release_uncharged(job.id, now):
        log.info("the cancelled song's lost submit created nothing: its credit is released")
    return False


async def settle_after_lost_answer(w: Work, job: Job) -> None:
    """Called by the worker whose POST lost its answer and found the job cancelled meanwhile:
    look until the log tells (a crash before that is settled at the next start)."""
    step = min(10.0, max(0.5, w.s.config.reconcile_grace / 8))
    for _ in range(MAX_LOOKS):
        if await settle(w, job, now=time.time()) is not None:
            return
        await asyncio.sleep(step)


async def settle_at_start(w: Work) -> None:
    """Holds of songs cancelled during a POST whose outcome this process never learned (it died,
    or gave up waiting): settled once at start. With SQLite no other process can be sending
    (one instance per database); with PostgreSQL a replica might, so it waits longer."""
    grace = w.s.config.reconcile_grace
    wait = grace if w.s.config.database_url is None else max(grace, REPLICA_IN_FLIGHT)
    for job_id in await w.s.stars.held_by_ended_jobs():
        job = await w.s.jobs.get(job_id)
        if job is not None:
            await settle(w, job, now=time.time(), wait=wait)
