"""A request kept in the database until the user answers or pays, and made from there exactly once.

Why here: a `/song` waiting for [Write lyrics] / [Instrumental] and a song that met the Stars
paywall (#25.2, #25.4) are the same thing: an `Origin` and a `Draft` that will go through the one
intake (`accept_request`) later, after a restart too. The row's `claim` (storage/flows.py) makes
sure a double tap or a redelivered payment makes one song.
"""

from __future__ import annotations

import logging
import time

from telegram import Bot

from bot.errors import SongbotError
from bot.i18n import t
from bot.intake.accept import accept_request
from bot.intake.access import Silent
from bot.intake.kept_rows import draft_from, origin_from
from bot.intake.request import Draft, Origin
from bot.services import Services
from bot.telegram.helpers import reply_to, topic_kwargs
from storage.flows import Flow
from storage.jobs import Job

log = logging.getLogger(__name__)


class AlreadyMade(Exception):
    """The kept request was made (or is being made) already, or it expired."""


async def make_claimed(
    services: Services, bot: Bot, flow: Flow, origin: Origin, draft: Draft
) -> Job | None:
    """Claim `flow` and send its request through the intake, once.

    Raises `AlreadyMade` if it was claimed before; any refusal of the intake (a `SongbotError`,
    or `Silent` after the paywall) releases the claim and propagates. None when the request's
    message already has a job (made another way meanwhile).
    """
    if not await services.flows.claim(flow.id, time.time()):
        raise AlreadyMade
    try:
        job = await accept_request(services, bot, origin, draft)
    except BaseException:
        await services.flows.release(flow.id, time.time())
        raise
    if job is None:
        existing = await services.jobs.get_by_request(origin.chat_id, origin.request_message_id)
        await services.flows.set_job(flow.id, existing.id if existing else 0, time.time())
        return None
    await services.flows.set_job(flow.id, job.id, time.time())
    return job


async def make_kept(services: Services, bot: Bot, flow: Flow) -> Job | None:
    """Make a kept request (`ask` or `paywall`) from its row; see `make_claimed`."""
    draft = draft_from(flow.data.get("draft") or {})
    origin_raw = flow.data.get("origin")
    if draft is None or not isinstance(origin_raw, dict):
        log.warning("kept request %s cannot be read; dropping it", flow.id)
        await services.flows.delete(flow.id)
        raise AlreadyMade
    return await make_claimed(services, bot, flow, origin_from(origin_raw), draft)


async def make_after_payment(services: Services, bot: Bot, user_id: int) -> Job | None:
    """The request that met the paywall, made now that the user has paid (#25.4), once.

    The status message replies to the original request; one line says why a song starts now.
    A refusal (the daily limit, a model retired meanwhile) is said in the request's chat.
    """
    flow = await services.flows.paywalled(user_id, time.time())
    if flow is None:
        return None
    raw = flow.data.get("origin")
    origin = origin_from(raw) if isinstance(raw, dict) else None
    try:
        job = await make_kept(services, bot, flow)
    except (AlreadyMade, Silent):
        return None
    except SongbotError as exc:
        if origin is not None:
            await _say(bot, origin, exc.user_message(origin.lang))
        return None
    if job is not None and origin is not None:
        await _say(bot, origin, t("kept_paid_making", origin.lang))
    return job


async def _say(bot: Bot, origin: Origin, text: str) -> None:
    await bot.send_message(
        chat_id=origin.chat_id,
        text=text,
        reply_parameters=reply_to(origin.request_message_id),
        **topic_kwargs(origin.topic_id),
    )
