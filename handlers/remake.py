"""🔁 Again and 🎲 Variation under a song: a new job from an old one.

Why through the intake: they make a new job through the same checks as `/song` (access, limits,
model rules; `bot/intake/accept.py`), so a button is never a way around them.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Final

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
)

from bot.aimlapi.bodies import validate_request
from bot.aimlapi.models import MODELS, ModelSpec
from bot.bot_data import SongbotContext
from bot.errors import SongbotError
from bot.i18n import plain, t
from bot.intake.accept import check_request, ensure_credit, store_job
from bot.intake.access import Silent, check_access
from bot.intake.references import TelegramReference
from bot.intake.request import Draft, Origin
from bot.intake.requests import build_request
from bot.telegram.callback_data import Action, pattern
from bot.telegram.helpers import display_name
from bot.textutil import shown_style, truncate_utf16, utf16_len
from handlers.buttons import (
    Press,
    answer,
    job_press,
    refuse,
    repeated,
    reply_to_press,
)
from storage.jobs import Job

# Style twists for a variation when no other model fits; they go to the provider, which reads
# English style descriptions best, and are shown to the user in the reply and the caption.
TWISTS: Final[tuple[str, ...]] = (
    "acoustic version",
    "upbeat, faster tempo",
    "slow, intimate and stripped-down",
    "big cinematic arrangement",
    "lo-fi, warm and dusty",
)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [
        CallbackQueryHandler(on_again, pattern=pattern(Action.AGAIN)),
        CallbackQueryHandler(on_vary, pattern=pattern(Action.VARY)),
    ]


async def on_again(update: Update, context: SongbotContext) -> None:
    await _remake_from(update, context, "again")


async def on_vary(update: Update, context: SongbotContext) -> None:
    await _remake_from(update, context, "vary")


async def _remake_from(update: Update, context: SongbotContext, action: str) -> None:
    """🔁 Again (the same request) or 🎲 Variation (another model or a style twist)."""
    found = await job_press(update, context)
    if found is None:
        return
    press, job = found
    spec = MODELS.get(job.model)
    if spec is None:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    if action == "again":
        draft = _same_as(job, spec)
        anchor = t("again_started", press.lang, style=_short(job.prompt), model=spec.id)
        answer_text = plain("answer_again", press.lang)
    else:
        draft, anchor = variation(job, spec, press.lang)
        answer_text = plain("answer_vary", press.lang)
    await _remake(press, job, action, draft, anchor, answer_text)


async def _remake(
    press: Press, job: Job, action: str, draft: Draft, anchor_text: str, answer_text: str
) -> None:
    """The shared path of Again and Variation under a song (#25.5, #25.18: see `remake`)."""
    await remake(press, job, action, draft, anchor_text, answer_text, key=job.id)


async def remake(
    press: Press,
    job: Job | None,
    action: str,
    draft: Draft,
    anchor_text: str,
    answer_text: str,
    *,
    key: int,
) -> None:
    """Again or Variation of a job, or of a library song whose job retention deleted (`job`
    None; `key` names what was pressed, for the double-tap guard): the same checks either way.

    Everything that can refuse runs before anything is promised (#25.5): with no credit left the
    user sees the paywall only. Someone else's song in a group is confirmed first (#25.18): the
    new song is the tapper's, on the tapper's own songs, and the popup says so before any charge.
    """
    if job is not None and not _confirmed(press, job, action):
        await answer(press.query, plain("answer_remake_confirm", press.lang), alert=True)
        return
    if repeated(press, action, key):
        await answer(press.query, plain("answer_busy", press.lang))
        return
    services = press.services
    try:
        await check_access(services, press.bot, press.chat, press.user.id, press.requester)
        request = await check_request(services, press.user.id, draft)
        # The paywall answers under the song itself (and keeps this take for after the payment).
        await ensure_credit(services, press.bot, _origin(press, job, press.message_id or 0), draft)
    except SongbotError as exc:
        await refuse(press, exc)
        return
    await answer(press.query, answer_text)
    # The anchor is the new job's "request": the status and the song reply to it, and it says
    # what this take is (which model, which twist) for everyone in the chat.
    anchor = await reply_to_press(press, anchor_text, job)
    origin = _origin(press, job, anchor.message_id)
    try:
        await store_job(press.services, press.bot, origin, draft, request)
    except Silent:
        return  # answered already (no credit left: the packs were offered)
    except SongbotError as exc:  # the daily limit, taken by a parallel request meanwhile
        await reply_to_press(press, exc.user_message(press.lang), job)


CONFIRM_WINDOW: Final = 30.0  # seconds a second tap has to confirm someone else's song


def _confirmed(press: Press, job: Job, action: str) -> bool:
    """Whether this tap may make a song: always on one's own song or in a private chat; on
    someone else's song in a group, only the second tap within `CONFIRM_WINDOW` seconds."""
    if press.chat.type == "private" or press.user.id == job.user_id:
        return True
    recent = press.services.memo.recent_presses
    key = (press.user.id, f"confirm-{action}", job.id)
    now = time.monotonic()
    warned = recent.get(key)
    if warned is not None and now - warned < CONFIRM_WINDOW:
        del recent[key]
        return True
    recent[key] = now
    return False


def _origin(press: Press, job: Job | None, request_message_id: int) -> Origin:
    return Origin(
        chat_id=press.chat.id,
        chat_type=press.chat.type,
        topic_id=press.topic(job),
        user_id=press.user.id,
        user_name=display_name(press.user),
        lang=press.lang,
        request_message_id=request_message_id,
    )


def _reference_of(job: Job) -> TelegramReference | None:
    if not job.reference_file_id or not job.reference_file_unique_id:
        return None
    return TelegramReference(
        kind=job.reference_kind or "audio",
        file_id=job.reference_file_id,
        file_unique_id=job.reference_file_unique_id,
        mime_type=job.reference_mime,
        duration=job.reference_duration,
        file_size=job.reference_size,
    )


def _same_as(job: Job, spec: ModelSpec) -> Draft:
    return Draft(
        spec=spec,
        style=job.prompt,
        lyrics=job.lyrics,
        reference_url=job.reference_url,
        reference=_reference_of(job),
        purpose=job.reference_purpose,
        title=job.title,
    )


def _fits(spec: ModelSpec, style: str, lyrics: str | None) -> bool:
    """Would this model take this style and these lyrics as they are (no charge, no limits)?"""
    try:
        validate_request(build_request(spec, style=style, lyrics=lyrics))
    except SongbotError:
        return False
    return True


def next_model(job: Job, spec: ModelSpec) -> ModelSpec | None:
    """The next model in registry order that takes the same lyrics (or makes instrumentals)."""
    return next_model_for(spec, job.prompt, job.lyrics, has_reference=job.has_reference)


def next_model_for(
    spec: ModelSpec, style: str, lyrics: str | None, *, has_reference: bool
) -> ModelSpec | None:
    """`next_model` from the request's parts (a library song may have outlived its job)."""
    if has_reference:
        return None  # a reference pins the model: the variation changes the style instead
    order = list(MODELS.values())
    start = next((i for i, s in enumerate(order) if s.id == spec.id), -1)
    for step in range(1, len(order)):
        candidate = order[(start + step) % len(order)]
        if candidate.id == spec.id or candidate.reference_required:
            continue
        if lyrics is None and not candidate.instrumental:
            continue
        if _fits(candidate, style, lyrics):
            return candidate
    return None


def twist_style(style: str, spec: ModelSpec, seed: int) -> str:
    """`style` plus a twist; a twist from an earlier variation is replaced, not stacked."""
    base = style
    previous = -1
    for index, twist in enumerate(TWISTS):
        if base.endswith(f", {twist}"):
            base = base[: -len(twist) - 2]
            previous = index
    choice = seed % len(TWISTS)
    if choice == previous:
        choice = (choice + 1) % len(TWISTS)
    twist = TWISTS[choice]
    room = spec.prompt_max - utf16_len(twist) - 2 if spec.prompt_max else len(base)
    return f"{truncate_utf16(base, max(0, room), '')}, {twist}"


def variation(job: Job, spec: ModelSpec, lang: str) -> tuple[Draft, str]:
    """The variation of `job` and the sentence saying what changed.

    Another model with the same lyrics when one fits; otherwise the same model with a twist to
    the style; for a model that ignores the style (music-01), simply another take.
    """
    return variation_of(_same_as(job, spec), lang, has_reference=job.has_reference, seed=job.id)


def variation_of(same: Draft, lang: str, *, has_reference: bool, seed: int) -> tuple[Draft, str]:
    """`variation` of a request given as its `Draft` (a job's, or a library song's)."""
    spec = same.spec
    other = next_model_for(spec, same.style, same.lyrics, has_reference=has_reference)
    if other is not None:
        text = t("vary_model", lang, title=other.title, model=other.id, previous=spec.id)
        return replace(same, spec=other), text
    if not spec.takes_prompt:
        return same, t("vary_retake", lang, model=spec.id)
    style = twist_style(same.style, spec, seed)
    return replace(same, style=style), t("vary_style", lang, model=spec.id, style=_short(style))


def short_style(style: str) -> str:
    return _short(style)


def _short(style: str) -> str:
    return truncate_utf16(" ".join(shown_style(style).split()), 200)
