"""Keeping each request's status message current, without ever holding a job up.

Why apart from the steps: a status message is cosmetic. Whatever goes wrong with it (flood
limits, a deleted message, an unexpected answer) is logged and forgotten; the job goes on. Queue
positions are the one high-volume kind (every start moves everyone's place), so they are
coalesced here — only the newest position per job, painted one edit at a time with the flood
limiter's spare budget — while every other message goes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from typing import Any, Final

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.progress.status import StatusEditor, cancel_keyboard, render_status
from bot.services import Services
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)

STATUS_GRACE: Final = 60.0  # how long the handler's first status message may queue
_CANCELLABLE: Final = frozenset(
    {JobState.RECEIVED, JobState.PREPARING, JobState.SUBMITTING, JobState.PENDING}
)


class StatusUpdates:
    """Paints each job's state into its status message, in the background and coalesced.

    `show` and `positions` only note what a message should say; one painter task sends the
    newest text per job, oldest request first, each with the flood limiter's spare budget. So no
    step ever waits for a status edit, and under load the edits thin out instead of the songs.
    """

    def __init__(self, services: Services, bot: Bot) -> None:
        self.s = services
        self.editor = StatusEditor(bot)
        self._wanted: dict[int, tuple[Job, dict[str, Any]]] = {}
        self._painted_place: dict[int, int] = {}
        # Status messages the painter sent in place of a vanished one, noted the moment they are
        # out: a job can end before its row says so (`finish`).
        self._replaced: dict[int, int] = {}
        self._painter: asyncio.Task[None] | None = None
        self._painting: int | None = None
        self._closed = False

    def due(self, job: Job, now: float) -> bool:
        return self.editor.due(job, now)

    def forget(self, job_id: int) -> None:
        """The job's status message has said its piece (or is gone): nothing more for it."""
        self.editor.forget(job_id)
        self._wanted.pop(job_id, None)
        self._painted_place.pop(job_id, None)
        self._replaced.pop(job_id, None)
        if self._painting == job_id and self._painter is not None:
            self._painter.cancel()  # an edit still waiting for budget would come after the song

    async def finish(self, job_id: int) -> int | None:
        """`forget` the job, once the painter has let go of it; returns the status message the
        painter sent in place of a vanished one, if any.

        Why: the step that ends a job read its status message id before the painter (running
        beside the upload) replaced a message the user deleted; deleting that stale id would
        leave the replacement under the song for good.
        """
        painter = self._painter if self._painting == job_id else None
        replaced = self._replaced.get(job_id)
        self.forget(job_id)
        if painter is not None:
            await asyncio.wait({painter})  # cancelled by forget: wait until it has stopped
        return replaced

    async def show(self, job: Job, **render: Any) -> None:
        """Note what `job`'s status message should say now; the painter sends it."""
        self._wanted[job.id] = (job, render)
        self._start_painter()

    def positions(self, waiting: dict[int, tuple[Job, int]]) -> None:
        """The newest place in line of every waiting job (from one walk); only places that
        changed are painted, and no more often than the editor's cadence."""
        now = time.time()
        for job_id, (job, position) in waiting.items():
            if self._painted_place.get(job_id) == position or job_id in self._wanted:
                continue
            if self.editor.due(job, now):
                self._wanted[job_id] = (job, {"position": position, "_place": True})
        for job_id in [j for j, (_, r) in self._wanted.items() if r.get("_place")]:
            if job_id not in waiting:
                del self._wanted[job_id]  # started (or gone) meanwhile: its place is old news
        self._start_painter()

    async def close(self) -> None:
        self._closed = True
        if self._painter is not None:
            self._painter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._painter

    def _start_painter(self) -> None:
        if self._closed or not self._wanted:
            return
        if self._painter is None or self._painter.done():
            self._painter = asyncio.create_task(self._paint(), name="songbot-status")

    async def _paint(self) -> None:
        while self._wanted:
            job_id = min(self._wanted)  # oldest request first
            job, render = self._wanted.pop(job_id)
            render = dict(render)
            place = render.pop("_place", False)
            if place:
                self._painted_place[job_id] = int(render["position"])
            self._painting = job_id
            try:
                await self._show(job, place=bool(place), **render)
            except asyncio.CancelledError:
                if self._painting == job_id and job_id not in self._wanted:
                    # forget() stopped a stale edit: go on with the others.
                    self._painting = None
                    asyncio.get_running_loop().call_soon(self._start_painter)
                raise
            except Exception as exc:  # cosmetic: a broken status must not fail or delay a job
                log.warning("status update skipped: %r", exc)
            finally:
                self._painting = None

    async def _show(self, job: Job, *, place: bool, **render: Any) -> None:
        if job.status_message_id is None:
            if JobState(job.state) is JobState.RECEIVED and not place:
                return  # the handler is still sending the first status message
            # In a burst the engine can start a job before the handler's first status message
            # (queued behind the flood limiter) is out; sending our own would leave two.
            fresh = await self.s.jobs.get(job.id)
            if fresh is not None and fresh.status_message_id is not None:
                job = dataclasses.replace(job, status_message_id=fresh.status_message_id)
            elif place or time.time() - job.created_at < STATUS_GRACE:
                return
        if job.chat_type != "private":
            # Groups share one coalesced board per burst (bot/progress/boards.py).
            if job.status_message_id is not None:
                self.s.boards.touch(job.chat_id, job.status_message_id, job.user_lang)
            return
        current = await self.s.jobs.get(job.id)
        if current is None or current.state != job.state:
            return  # cancelled (or moved on) meanwhile: never paint a stale state over it
        keyboard = (
            cancel_keyboard(job, job.user_lang) if JobState(job.state) in _CANCELLABLE else None
        )
        text = render_status(job, lang=job.user_lang, **render)
        try:
            message_id = await self.editor.show(
                job, text, keyboard=keyboard, background=True, replace=not place
            )
        except Forbidden:
            return
        except BadRequest as exc:
            if "chat not found" not in str(exc).lower():
                log.warning("status update failed: %s", exc)
            return  # a vanished chat is logged once, when the delivery finds it
        except TelegramError as exc:
            log.warning("status update failed: %s", exc)
            return
        if message_id is not None and message_id != job.status_message_id:
            self._replaced[job.id] = message_id
            await self.s.jobs.update(
                job.id, owner=None, now=time.time(), status_message_id=message_id
            )
