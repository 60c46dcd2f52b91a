"""Check, store and acknowledge a request: the one intake path every song takes.

Why one path: `/song`, 🔁 Again and 🎲 Variation (and every later way to ask, e.g. Make this
song) must meet the same checks, caps, limits and price, and the limit (and a paying bot's free
song or credit) must be enforced in the same statement that writes the job (`storage/quota.py`),
so no route and no burst is a way around it. `store_job` is the hook: a song that is not paid
for is never queued, and its reply offers the Stars packs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, NoReturn

from telegram import Bot

from bot.aimlapi.availability import fallback_prompt
from bot.aimlapi.models import ModelSpec
from bot.aimlapi.types import GenerationRequest
from bot.errors import NotAllowed
from bot.i18n import t
from bot.intake.access import Silent
from bot.intake.kept_rows import keep
from bot.intake.references import (
    check_reference_request,
)
from bot.intake.request import Draft, Origin
from bot.intake.requests import build_request
from bot.intake.stars import pays, send_offer, stars_guard
from bot.progress.boards import find_board
from bot.progress.status import cancel_keyboard, render_status
from bot.services import Services
from bot.telegram.helpers import (
    reply_to,
    send_text_id,
    topic_kwargs,
)
from bot.textutil import song_title
from storage.jobs import Job, NewJob, new_job_key
from storage.quota import (
    ChatSendersCap,
    ChatSendersCapReached,
    DailyQuota,
    PaymentRequired,
    QuotaExceeded,
    WaitingCap,
    WaitingCapReached,
    is_chat_sender,
)
from storage.reference_failures import failed_references_today
from storage.usage import utc_day_bounds

log = logging.getLogger(__name__)


async def check_request(services: Services, user_id: int, draft: Draft) -> GenerationRequest:
    """Every check that can refuse a request before it is stored (and so before any charge).

    Raises a `SongbotError` with the reply; returns the request the runner will submit. A model
    the provider has retired is replaced by its fallback here (music-01 -> music-cover), so the
    request is checked against, and stored for, the model that will really make it.
    """
    _check_chat_sender(services, user_id)
    spec, reference = services.models.route(draft.spec), draft.reference
    check_reference_request(spec, reference, draft.reference_url, draft.lyrics)
    # music-01 needs no style, music-cover one of 10+ characters: a stand-in, not a refusal.
    style = draft.style if spec is draft.spec else fallback_prompt(draft.style, spec)
    request = build_request(
        spec,
        style=style,
        lyrics=draft.lyrics,
        reference_url=draft.reference_url,
        # Placeholder ids so the registry can validate everything but the ids themselves.
        refer_voice="pending"
        if reference is not None and spec.endpoint == "sync_reference"
        else None,
    )
    if reference is not None:
        services.client.validate(_without_reference(request, spec))
        await _check_reference_failures(services, user_id)
    else:
        services.client.validate(request)
    await _check_daily_limit(services, user_id)
    return request


async def _check_reference_failures(services: Services, user_id: int) -> None:
    """A user whose references kept failing today sends no more of them until tomorrow (#17.4).

    A failed reference is free for the user (nothing was charged) but costs the operator a
    download and an ffmpeg run each time; the limit bounds how often one user can make the bot
    do that. A soft guard, counted before the job is written: a burst may overshoot it by the
    user's waiting cap, each job still converted under its own caps (`to_mp3`'s -t and -fs).
    """
    limit = services.config.reference_failure_limit
    if limit <= 0:
        return
    failed = await failed_references_today(services.db, user_id, time.time())
    if failed >= limit:
        log.info("user %s had %d failed references today; refusing another", user_id, failed)
        raise NotAllowed("error_reference_failures", n=failed)


async def store_job(
    services: Services,
    bot: Bot,
    origin: Origin,
    draft: Draft,
    request: GenerationRequest,
) -> Job | None:
    """Write the job, show its status (with ❌ Cancel) and wake the runner; None if duplicate."""
    config = services.config
    reference = draft.reference
    now = time.time()
    stars = stars_guard(services.stars, config, origin.user_id, now)
    await ensure_credit(services, bot, origin, draft)
    new = NewJob(
        key=new_job_key(),
        chat_id=origin.chat_id,
        chat_type=origin.chat_type,
        topic_id=origin.topic_id,
        user_id=origin.user_id,
        user_name=origin.user_name,
        user_lang=origin.lang,
        request_message_id=origin.request_message_id,
        model=request.model,  # the routed model (check_request), not necessarily draft.spec
        prompt=request.prompt,
        lyrics=request.lyrics,
        options=dict(request.options),
        reference_url=draft.reference_url,
        reference_file_id=reference.file_id if reference else None,
        reference_file_unique_id=reference.file_unique_id if reference else None,
        reference_kind=reference.kind if reference else None,
        reference_mime=reference.mime_type if reference else None,
        reference_duration=reference.duration if reference else None,
        reference_size=reference.file_size if reference else None,
        reference_purpose=draft.purpose,
        title=song_title(draft.title, request.lyrics, draft.style),
        deadline_at=now + config.job_timeout,
        next_check_at=now,
        created_at=now,
    )
    try:
        job, created = await services.jobs.create(
            new,
            quota=_daily_quota(services, origin, now),
            waiting=_waiting_cap(services, origin),
            stars=stars,
            senders=_senders_cap(services, origin.user_id, now),
        )
    except ChatSendersCapReached:  # other channels or anonymous admins took the last one
        raise NotAllowed("error_chat_sender_limit") from None
    except PaymentRequired:  # a parallel request spent the last credit since the check above
        await _offer_packs(services, bot, origin, draft)
    except QuotaExceeded as exc:  # a parallel request took the last one since check_request
        raise NotAllowed("error_daily_limit", limit=exc.quota.limit) from None
    except WaitingCapReached as exc:
        raise NotAllowed("error_too_many_waiting", limit=exc.cap.limit) from None
    if not created:
        log.info(
            "duplicate request in chat %s message %s ignored", job.chat_id, job.request_message_id
        )
        return None
    log.info(
        "job %s accepted: model=%s chat=%s",
        job.key,
        job.model,
        job.chat_id,
        extra={"job": job.key},
    )
    if origin.chat_type == "private":
        status_id = await _private_status(bot, origin, job, now)
    else:
        status_id = await _group_status(services, bot, origin, job, now)
    await services.jobs.update(job.id, owner=None, now=time.time(), status_message_id=status_id)
    services.engine.job_added(job)
    return job


async def ensure_credit(services: Services, bot: Bot, origin: Origin, draft: Draft) -> None:
    """A paying user with no free song and no credit gets the packs (and the request is kept,
    to be made once paid): raises `Silent` then. Called before anything is promised (#25.5)."""
    config = services.config
    now = time.time()
    if stars_guard(services.stars, config, origin.user_id, now) is None:
        return
    balance = await services.stars.balance(origin.user_id, config.free_songs_per_day, now)
    if balance.songs_left <= 0:
        await _offer_packs(services, bot, origin, draft)


async def _offer_packs(services: Services, bot: Bot, origin: Origin, draft: Draft) -> NoReturn:
    """Not queued: say what a song costs and offer the packs; the update is then answered.
    The request is kept and made once the user pays (#25.4, bot/intake/kept.py)."""
    log.info("user %s has no free song and no credit left", origin.user_id)
    await keep(services, "paywall", origin, draft)
    await send_offer(
        bot,
        services.config,
        chat_id=origin.chat_id,
        lang=origin.lang,
        reply_parameters=reply_to(origin.request_message_id),
        **topic_kwargs(origin.topic_id),
    )
    raise Silent(detail="payment required; the packs were offered")


async def _private_status(bot: Bot, origin: Origin, job: Job, now: float) -> int:
    """Private chats: a status reply of its own, edited as the job advances, with ❌ Cancel."""
    return await send_text_id(
        bot,
        chat_id=origin.chat_id,
        text=render_status(job, lang=origin.lang, now=now),
        reply_markup=cancel_keyboard(job, origin.lang),
        reply_parameters=reply_to(origin.request_message_id),
        **topic_kwargs(origin.topic_id),
    )


async def _group_status(services: Services, bot: Bot, origin: Origin, job: Job, now: float) -> int:
    """Groups: join the burst's shared board if there is one, else start a board (one reply).

    Serialised per chat and topic: concurrent handlers of a burst must all find the board the
    first one is creating, not each create their own.
    """
    locks = services.memo.board_locks
    async with locks.setdefault((origin.chat_id, origin.topic_id), asyncio.Lock()):
        board = await find_board(services.jobs, origin.chat_id, now, topic_id=origin.topic_id)
        if board is not None:
            services.boards.touch(origin.chat_id, board, origin.lang)
            await services.jobs.update(
                job.id, owner=None, now=time.time(), status_message_id=board
            )
            return board
        text = t(
            "board", origin.lang, total=1, working=0, waiting=1, done=0, names=origin.user_name
        )
        status = await bot.send_message(
            chat_id=origin.chat_id,
            text=text,
            reply_parameters=reply_to(origin.request_message_id),
            **topic_kwargs(origin.topic_id),
        )
        services.boards.shown(origin.chat_id, status.message_id, text)
        await services.jobs.update(
            job.id, owner=None, now=time.time(), status_message_id=status.message_id
        )
        return status.message_id


async def accept_request(services: Services, bot: Bot, origin: Origin, draft: Draft) -> Job | None:
    """Check, store and acknowledge one request: the single intake path for songs."""
    request = await check_request(services, origin.user_id, draft)
    return await store_job(services, bot, origin, draft, request)


def _without_reference(request: Any, spec: ModelSpec) -> Any:
    """Validate a file reference request minus what only the runner gets: music-01's ids
    after the upload, music-cover's inline audio after the download (a placeholder link here)."""
    from dataclasses import replace

    if spec.endpoint == "sync_reference":
        return replace(request, refer_voice="pending")
    if spec.reference_field is not None:
        return replace(request, reference_url="https://reference.invalid/pending.mp3")
    return request


def _daily_quota(services: Services, origin: Origin, now: float) -> DailyQuota | None:
    """The limit the INSERT itself enforces: the early check alone can be raced by a burst."""
    limit = services.config.user_daily_limit
    if limit <= 0 or origin.user_id in services.config.admin_ids:
        return None
    return services.usage.daily_quota(origin.user_id, limit, now)


def _waiting_cap(services: Services, origin: Origin) -> WaitingCap | None:
    """How many of a user's songs may wait for a slot at once (admins: any number)."""
    limit = services.config.max_waiting_per_user
    if limit <= 0 or origin.user_id in services.config.admin_ids:
        return None
    return WaitingCap(user_id=origin.user_id, limit=limit)


def _check_chat_sender(services: Services, user_id: int) -> None:
    """A chat requester (a channel, a group's anonymous admins) gets no song a person pays for.

    Why (#24.2): one person can create any number of groups and channels, each its own
    requester. On a bot that sells songs they would each get free songs of the day and could not
    buy credits anyway (an invoice is paid by a person), so they are refused with how to ask as
    oneself; on a free bot they all share one bot-wide daily cap (`_senders_cap`).
    """
    if not is_chat_sender(user_id):
        return
    if pays(services.config, user_id):
        raise NotAllowed("error_chat_sender_paid")
    if services.config.chat_sender_daily_limit <= 0:
        raise NotAllowed("error_chat_sender_limit")


def _senders_cap(services: Services, user_id: int, now: float) -> ChatSendersCap | None:
    """The bot-wide cap a chat requester's song must fit in (None for a person)."""
    if not is_chat_sender(user_id):
        return None
    start, end = utc_day_bounds(now)
    return ChatSendersCap(services.config.chat_sender_daily_limit, start, end)


async def _check_daily_limit(services: Services, user_id: int) -> None:
    senders = _senders_cap(services, user_id, time.time())
    if senders is not None and await services.jobs.chat_senders_used(senders) >= senders.limit:
        raise NotAllowed("error_chat_sender_limit")
    limit = services.config.user_daily_limit
    if limit <= 0 or user_id in services.config.admin_ids:
        return
    used = await services.usage.count_today_with_pending(user_id, now=time.time())
    if used >= limit:
        raise NotAllowed("error_daily_limit", limit=limit)
