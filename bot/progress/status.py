"""The status message under each request: what it says, and editing it without tripping limits.

Why throttled and coalesced: every edit counts against Telegram's per-chat and per-group flood
limits (20 messages a minute in a group), so the text only changes at state changes and, while
generating, in coarse elapsed-time steps; identical text is never sent ("message is not modified").
"""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.i18n import t
from bot.telegram.callback_data import Action, for_job
from bot.telegram.flood import BACKGROUND
from bot.telegram.helpers import reply_to, topic_kwargs
from bot.textutil import html_escape, human_duration, job_title, safe_title, truncate_utf16
from storage.jobs import Job
from storage.states import JobState

log = logging.getLogger(__name__)

GROUP_EDIT_STEP = 60.0  # seconds between elapsed-time edits in groups
PRIVATE_EDIT_STEP = 15.0


def render_status(
    job: Job,
    *,
    lang: str | None = None,
    now: float | None = None,
    position: int | None = None,
    expected: float | None = None,
    error_text: str | None = None,
) -> str:
    """The status text for `job` right now, under the song's title (#25.12)."""
    body = _status_body(
        job, lang=lang, now=now, position=position, expected=expected, error_text=error_text
    )
    return f"<b>{html_escape(job_title(job))}</b>\n{body}"


def _status_body(
    job: Job,
    *,
    lang: str | None,
    now: float | None,
    position: int | None,
    expected: float | None,
    error_text: str | None,
) -> str:
    now = time.time() if now is None else now
    lang = lang or job.user_lang
    model = job.model
    state = JobState(job.state)
    if state is JobState.RECEIVED:
        if job.transient_errors:
            # Back in line because the music service refused the start (429/5xx), not because
            # of other songs: say so, not "waiting for a free slot · position 1" (#25 item 17).
            return t("status_provider_busy", lang, model=model)
        if position:
            return t("status_waiting", lang, model=model, position=position)
        return t("status_queued", lang, model=model)
    if state is JobState.PREPARING:
        return t("status_preparing", lang, model=model)
    if state in (JobState.SUBMITTING, JobState.PENDING):
        started = job.submitted_at or job.created_at
        elapsed = human_duration(max(0.0, now - started))
        if expected:
            return t(
                "status_generating_eta",
                lang,
                model=model,
                elapsed=elapsed,
                expected=human_duration(expected),
            )
        return t("status_generating", lang, model=model, elapsed=elapsed)
    if state in (JobState.FETCHING, JobState.DELIVERING):
        return t("status_sending", lang, model=model)
    if state is JobState.DELIVERED:
        took = human_duration(max(0.0, (job.delivered_at or now) - job.created_at))
        return t("status_done", lang, model=model, elapsed=took)
    if state is JobState.CANCELLED:
        # The title is the status's first line already (render_status).
        return t("status_cancelled", lang)
    if error_text is None:
        try:
            error_text = t(job.error_key or "error_generic", lang)
        except (KeyError, IndexError):
            # The failure's parameters (limits, sizes) are not stored with the job.
            error_text = t("error_generic", lang)
    reason = error_text
    return t("status_failed", lang, model=model, reason_html=_raw(reason))


SONG_NAME_LIMIT = 60


def song_name(job: Job) -> str:
    """What a user calls the song in a sentence: its title once it has one, else its style."""
    title = getattr(job, "title", None)
    if isinstance(title, str) and title.strip():
        return truncate_utf16(title.strip(), SONG_NAME_LIMIT)
    return safe_title(job.prompt, job.lyrics, SONG_NAME_LIMIT)


def _raw(text: str) -> Any:
    from bot.i18n import Raw

    return Raw(text)


def cancel_keyboard(job: Job, lang: str | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("button_cancel", lang), callback_data=for_job(Action.CANCEL, job.id)
                )
            ]
        ]
    )


class StatusEditor:
    """Edits status messages at a sane cadence; sends a new one when the old one is gone."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._last_text: dict[int, str] = {}
        self._last_edit: dict[int, float] = {}

    def due(self, job: Job, now: float) -> bool:
        """Whether an elapsed-time refresh is worth an edit now (state changes always are)."""
        step = PRIVATE_EDIT_STEP if job.chat_type == "private" else GROUP_EDIT_STEP
        return now - self._last_edit.get(job.id, 0.0) >= step

    async def show(
        self,
        job: Job,
        text: str,
        *,
        keyboard: InlineKeyboardMarkup | None = None,
        background: bool = False,
        replace: bool = True,
    ) -> int | None:
        """Make the status message say `text`; returns the (possibly new) message id.

        `background` messages wait for spare flood budget (bot/telegram/flood.py); without
        `replace`, a vanished message is not sent anew (a queue position is not worth one).

        A status message is cosmetic (#16.5): anything but Telegram's own errors (the caller
        handles those), e.g. an AttributeError from an answer of an unexpected shape, is logged
        and swallowed here, so it can never delay or fail the job.
        """
        try:
            return await self._show(
                job, text, keyboard=keyboard, background=background, replace=replace
            )
        except TelegramError:
            raise
        except Exception as exc:
            log.warning("status message update failed: %s: %s", type(exc).__name__, exc)
            return job.status_message_id

    async def _show(
        self,
        job: Job,
        text: str,
        *,
        keyboard: InlineKeyboardMarkup | None,
        background: bool,
        replace: bool,
    ) -> int | None:
        if self._last_text.get(job.id) == text:
            return job.status_message_id
        self._last_text[job.id] = text
        self._last_edit[job.id] = time.time()
        spare: dict[str, Any] = {}
        if background and isinstance(self._bot, ExtBot):
            spare["rate_limit_args"] = BACKGROUND
        if job.status_message_id is not None:
            try:
                await self._bot.edit_message_text(
                    chat_id=job.chat_id,
                    message_id=job.status_message_id,
                    text=text,
                    reply_markup=keyboard,
                    **spare,
                )
                return job.status_message_id
            except BadRequest as exc:
                lowered = str(exc).lower()
                if "not modified" in lowered:
                    return job.status_message_id
                if "chat not found" in lowered:
                    raise  # the chat is gone, not the message: a new one could not go either
                if "not found" not in lowered and "can't be edited" not in lowered:
                    log.warning("status edit failed: %s", exc)
                    return job.status_message_id
            except Forbidden:
                raise
            except TelegramError as exc:
                log.warning("status edit failed: %s", exc)
                return job.status_message_id
        if not replace:
            return job.status_message_id
        message = await self._bot.send_message(
            chat_id=job.chat_id,
            text=text,
            reply_markup=keyboard,
            reply_parameters=reply_to(job.request_message_id),
            **topic_kwargs(job.topic_id),
            **spare,
        )
        return message.message_id

    def forget(self, job_id: int) -> None:
        self._last_text.pop(job_id, None)
        self._last_edit.pop(job_id, None)
