"""A job whose model the provider refused as gone goes on with the model's fallback.

Why here, at run time: the refusal (`ModelUnavailable`, see `bot/aimlapi/responses.model_gone`)
comes from music-01's upload (state `preparing`) or its generate (`submitting`); both are
answers that created nothing, so nothing was charged (the usage row is written only after a
generation exists, once per job). The job keeps its key, its slot, its daily-quota place and
any Stars credit; it changes model (music-01 -> music-cover, which takes the reference inline)
and is prepared again, so the user never has to resend. Later requests are routed at intake
(`check_request`), so they go straight to the fallback.
"""

from __future__ import annotations

import logging
import time

from bot.aimlapi.availability import fallback_prompt
from bot.aimlapi.errors import ModelUnavailable
from bot.aimlapi.models import MODELS, ModelSpec
from bot.engine.work import Work
from storage.jobs import Job, JobPatch
from storage.states import JobState

log = logging.getLogger(__name__)


async def switch_to_fallback(w: Work, job: Job, exc: ModelUnavailable) -> Job | None:
    """Record the retirement and move the job to `preparing` with the fallback model.

    Returns the job to prepare again, or None when there is no fallback (the job then ends
    with the error's message, uncharged) or someone else moved the job first.
    """
    retirement = await w.s.models.retire(
        exc.model, reason=exc.provider_message or exc.detail or "refused", now=time.time()
    )
    if retirement.fallback is None or retirement.fallback == job.model:
        await w.outcomes.fail_with(job, exc, detail=exc.detail)
        return None
    return await _move_to(w, job, MODELS[retirement.fallback])


async def follow_retirement(w: Work, job: Job) -> Job | None:
    """A job stored for a model retired since (it waited in line, or the bot restarted): move
    it to the fallback before any call, so the dead model is not asked again."""
    spec = w.s.models.route(MODELS[job.model])
    if spec.id == job.model:
        return job
    return await _move_to(w, job, spec)


async def _move_to(w: Work, job: Job, spec: ModelSpec) -> Job | None:
    fields: JobPatch = {
        "model": spec.id,
        "prompt": fallback_prompt(job.prompt, spec),
        "refer_voice_id": None,
        "refer_instrumental_id": None,
        "transient_errors": 0,
    }
    log.info("job moves from %s to %s (model unavailable)", job.model, spec.id)
    if JobState(job.state) is JobState.PREPARING:
        moved = await w.s.jobs.update(
            job.id, owner=w.owner, now=time.time(), state=JobState.PREPARING, **fields
        )
        return await w.s.jobs.get(job.id) if moved else None
    # SUBMITTING: the paid POST was refused, so the job may go back (the state machine allows
    # `received` only when nothing was created) and straight on to `preparing` under our lease.
    back = await w.outcomes.move(job, JobState.RECEIVED, **fields)
    if back is None:
        return None
    return await w.outcomes.move(back, JobState.PREPARING)
