"""How a job moves and how it ends, written once for every step.

Why one place: each step (submit, poll, fetch, deliver) meets failures, and each kind of failure
has exactly one consequence — a transient retry with back-off, a terminal state with exactly one
message to the user, a refund of the daily quota or not. Steps say which; this module does it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from pathlib import Path
from typing import Any, Final, Unpack

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.engine.status_updates import StatusUpdates
from bot.errors import SongbotError
from bot.i18n import plain, t, wait_length
from bot.ops.logging_setup import current_job_key
from bot.progress.status import render_status
from bot.services import Services
from bot.telegram.callback_data import Action, for_job
from bot.telegram.helpers import reply_to, topic_kwargs
from storage.jobs import Job, JobPatch, ReleasePatch
from storage.kept_songs import UPLOAD_FAILED, KeptSongs
from storage.states import TERMINAL, JobState

log = logging.getLogger(__name__)

MAX_TRANSIENT: Final = 8  # consecutive transient failures of one step before giving up
# Failures the same request may well survive a second time: their message gets 🔁 Try again
# (#25.7), which makes the same request through the same checks (handlers/remake.py), so nobody
# has to paste it again. Not for refusals that need a change (content rules, a bad request).
RETRYABLE: Final = frozenset(
    {
        "error_generic",
        "error_timeout",
        "error_generation_failed",
        "error_generation_failed_reason",
        "error_provider_unavailable",
        "error_provider_rate_limited",
        "error_unknown_generation",
        "error_interrupted",
        "error_audio_download",
        "error_audio_expired",
        "error_audio_not_audio",
    }
)

__all__ = ["RETRYABLE", "UPLOAD_FAILED", "Outcomes"]


class Outcomes:
    """Compare-and-set moves under this runner's lease, and the ways a job can end."""

    def __init__(self, services: Services, bot: Bot, owner: str, status: StatusUpdates) -> None:
        self.s = services
        self.bot = bot
        self.owner = owner
        self.status = status

    async def move(self, job: Job, dst: JobState, **fields: Unpack[JobPatch]) -> Job | None:
        """CAS to `dst`; returns the fresh job, or None if someone else changed it first."""
        won = await self.s.jobs.transition(
            job.id, JobState(job.state), dst, owner=self.owner, now=time.time(), **fields
        )
        if not won:
            log.info("job changed under us (%s → %s lost); leaving it", job.state, dst)
            return None
        return await self.s.jobs.get(job.id)

    async def release(self, job: Job, delay: float, **fields: Unpack[ReleasePatch]) -> None:
        """Hand the job back, to be looked at again in `delay` seconds."""
        now = time.time()
        await self.s.jobs.release(
            job.id, owner=self.owner, next_check_at=now + max(0.0, delay), now=now, **fields
        )

    async def transient(self, job: Job, detail: str, *, retry_after: float | None = None) -> None:
        """A step failed for a reason that may pass: back off, and give up after a while."""
        fresh = await self.s.jobs.get(job.id)
        if fresh is None or JobState(fresh.state) in TERMINAL:
            return
        count = (fresh.transient_errors or 0) + 1
        if count > MAX_TRANSIENT or time.time() > fresh.deadline_at:
            # Name the party that kept failing (#16.6): at delivery it is Telegram, not the
            # music service, in the state's error key, the failure metric and the reply.
            key = (
                UPLOAD_FAILED
                if JobState(fresh.state) is JobState.DELIVERING
                else "error_provider_unavailable"
            )
            # A song Telegram refused was made and charged (#24.1): it keeps counting, and its
            # credit or free song stays spent (migration 007); the re-send of it is free.
            await self.fail(
                fresh, JobState.FAILED, key, detail=detail, refund=key != UPLOAD_FAILED
            )
            return
        delay = retry_after if retry_after is not None else min(60.0, 2.0**count)
        delay += random.uniform(0, 0.5)
        log.warning(
            "transient problem (%d/%d), retrying in %.1fs: %s", count, MAX_TRANSIENT, delay, detail
        )
        await self.release(fresh, delay, transient_errors=count, error_detail=detail[:500])

    async def fail(
        self,
        job: Job,
        dst: JobState,
        key: str,
        *,
        detail: str = "",
        user_text: str | None = None,
        refund: bool = True,
    ) -> None:
        """End the job without a song and tell the user exactly once."""
        moved = await self.move(job, dst, error_key=key, error_detail=detail[:1000])
        if moved is None:
            return
        log.info("job ended %s: %s %s", dst.value, key, detail)
        self.s.metrics.failures.labels(job.model, key).inc()
        if refund:
            await self.s.usage.refund(job.id)
        await self.notify(moved, user_text=user_text)

    async def fail_with(self, job: Job, exc: SongbotError, *, detail: str) -> None:
        """End the job with the error's own user message; nothing was charged for it."""
        await self.fail(
            job,
            JobState.FAILED,
            exc.key,
            detail=detail,
            user_text=exc.user_message(job.user_lang),
            refund=False,
        )

    async def undeliverable(self, job: Job, exc: TelegramError) -> None:
        """The chat cannot receive the song (bot blocked or removed, chat gone): the job ends
        with nobody left to tell, and its files go."""
        await self.move(
            job,
            JobState.FAILED,
            error_key="error_undeliverable",
            error_detail=str(exc),
            outcome_sent_at=time.time(),
        )
        # Nobody can see its status message any more: no edit or replacement may follow.
        self.status.forget(job.id)
        self.s.temp.cleanup_job(job.key)

    async def notify(self, job: Job, *, user_text: str | None = None) -> None:
        """The one failure message; `outcome_sent_at` records it, so a crash before it is
        repaired at the next start (`send_missing`) and nothing is said twice."""
        lang = job.user_lang
        try:
            text = user_text or t(job.error_key or "error_generic", lang, **_error_params(job))
        except (KeyError, IndexError):
            # A repaired outcome whose message needed parameters we no longer have.
            text = t("error_generic", lang)
        if await self.s.stars.released_credit(job.id):  # the migration-004 trigger gave it back
            text += "\n\n" + t("stars_credit_returned", lang)
        keyboard = None
        if await self._keep_unsent(job):
            text += "\n\n" + t("upload_kept_hint", lang)
            keyboard = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            plain("button_send_again", lang),
                            callback_data=for_job(Action.RESEND, job.id),
                        )
                    ]
                ]
            )
        elif job.error_key in RETRYABLE:
            keyboard = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            plain("button_try_again", lang),
                            callback_data=for_job(Action.AGAIN, job.id),
                        )
                    ]
                ]
            )
        message = render_status(job, lang=lang, error_text=text)
        try:
            await self.bot.send_message(
                chat_id=job.chat_id,
                text=message,
                reply_parameters=reply_to(job.request_message_id),
                reply_markup=keyboard,
                **topic_kwargs(job.topic_id),
            )
        except (Forbidden, BadRequest) as exc:
            log.warning("cannot tell the user about the outcome (%s); giving up", exc)
        except TelegramError as exc:
            log.warning("outcome message failed, will retry at next start: %s", exc)
            return
        await self.s.jobs.update(job.id, owner=None, now=time.time(), outcome_sent_at=time.time())
        await self.drop_status_message(job)
        self.s.temp.cleanup_job(job.key)

    async def _keep_unsent(self, job: Job) -> bool:
        """A song Telegram kept refusing stays for a re-send (#16.6): it moves out of the job's
        folder, which goes, into the kept folder, which the retention sweep empties after
        `SONGBOT_KEEP_UNSENT_DAYS`. True when the song is kept (so the user may ask again)."""
        if (
            job.error_key != UPLOAD_FAILED
            or not job.result_path
            or job.delivered_message_id is not None
            or self.s.config.unsent_audio_days <= 0
        ):
            return False
        path = Path(job.result_path)
        try:
            kept = await asyncio.to_thread(self.s.temp.keep, job.key, path)
        except OSError as exc:  # e.g. the file is gone: nothing to offer
            log.warning("could not keep the unsent song: %s", exc)
            return False
        if kept != path:
            await self.s.jobs.update(job.id, owner=None, now=time.time(), result_path=str(kept))
        log.info("kept the unsent song for a re-send")
        await self._bound_kept(job.user_id)
        return True

    async def _bound_kept(self, user_id: int) -> None:
        """At most `SONGBOT_KEEP_UNSENT_PER_USER` kept songs per requester: the oldest go (a
        requester whose every upload is refused would otherwise fill the disk for days)."""
        bound = self.s.config.unsent_per_user
        if bound <= 0:
            return
        store = KeptSongs(self.s.db)
        for old in (await store.of_requester(user_id))[bound:]:
            if await store.forget(old.id, time.time()) and old.result_path:
                await asyncio.to_thread(Path(old.result_path).unlink, missing_ok=True)
                log.info("dropped the kept song of job %s: over the bound of %d", old.id, bound)

    async def drop_status_message(self, job: Job) -> None:
        """The status message has said its piece once the song or the failure is out.

        The one to go is the newest: the painter may have replaced a deleted one after `job`
        was read (during the upload), so its id comes from the painter or a fresh read.
        """
        message_id = await self.status.finish(job.id)
        if message_id is None:
            fresh = await self.s.jobs.get(job.id)
            message_id = fresh.status_message_id if fresh is not None else None
            message_id = message_id or job.status_message_id
        if message_id is None:
            return
        if job.chat_type != "private":
            # The group board is shared with other requests: refresh it instead of deleting it.
            self.s.boards.touch(job.chat_id, message_id, job.user_lang)
            return
        with contextlib.suppress(TelegramError):
            await self.bot.delete_message(chat_id=job.chat_id, message_id=message_id)

    async def send_missing(self) -> None:
        """Repair: failures recorded in the DB whose message never went out (crash in between)."""
        for job in await self.s.jobs.unnotified_failures(since=time.time() - 86400):
            token = current_job_key.set(job.key)
            try:
                await self.notify(job)
            finally:
                current_job_key.reset(token)


def _error_params(job: Job) -> dict[str, Any]:
    """Parameters some failure messages need (limits, model)."""
    return {
        "model": job.model,
        "waited": wait_length(job.deadline_at - job.created_at, job.user_lang),
    }
