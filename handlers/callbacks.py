"""The buttons: 🔁 Again, 📝 Lyrics, 🎲 Variation under songs, ▶️ re-send in /jobs, and the
/model and /language menus.

Why these rules:
- Callback data is `v1:<action>:<arg>` with a job id or a small index, so it fits Telegram's
  64 bytes and still means the same after a restart (nothing is kept in memory).
- Every press is answered at once (the spinner stops), with at most 200 characters of plain text;
  a refusal longer than that goes to the chat as a normal reply.
- Again and Variation make a new job through the same checks as `/song` (access, limits, model
  rules; `handlers/song.py::check_request` / `store_job`), so a button is never a way around them.
- A double tap within a few seconds is taken as one press: a paid song must not be made twice
  by a jittery thumb.
"""

from __future__ import annotations

import html
import logging
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.aimlapi.client import validate_request
from bot.aimlapi.models import MODELS, ModelSpec
from bot.delivery.send import song_caption, song_keyboard
from bot.errors import SongbotError
from bot.i18n import LANGUAGES, t
from bot.intake.access import Silent, check_access
from bot.intake.chat_admins import is_chat_admin
from bot.intake.language import resolve_language, user_language
from bot.intake.references import TelegramReference
from bot.intake.requests import build_request
from bot.services import Services, get_services
from bot.telegram.helpers import display_name, topic_kwargs
from bot.textutil import safe_title, truncate_utf16, utf16_len
from handlers.settings import (
    LANGUAGE_NAMES,
    language_keyboard,
    language_menu,
    model_from_callback,
    model_keyboard,
    model_menu,
    plain,
)
from handlers.song import Draft, Origin, check_request, store_job
from storage.jobs import Job
from storage.settings import Requester, load_requester

log = logging.getLogger(__name__)

ANSWER_LIMIT: Final = 200  # answerCallbackQuery text, characters
TEXT_LIMIT: Final = 4096  # a message, after entity parsing
MAX_LYRICS_MESSAGES: Final = 3
# A second press of the same button on the same song within this window is the same press.
REPEAT_WINDOW: Final[dict[str, float]] = {
    "again": 10.0,
    "vary": 10.0,
    "lyrics": 5.0,
    "resend": 5.0,
}
# Style twists for a variation when no other model fits; they go to the provider, which reads
# English style descriptions best, and are shown to the user in the reply and the caption.
TWISTS: Final[tuple[str, ...]] = (
    "acoustic version",
    "upbeat, faster tempo",
    "slow, intimate and stripped-down",
    "big cinematic arrangement",
    "lo-fi, warm and dusty",
)
MY_ACTIONS: Final = r"^v1:(again|lyrics|vary|resend|model|lang|cancel):"


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [
        CallbackQueryHandler(on_again, pattern=r"^v1:again:\d{1,18}$"),
        CallbackQueryHandler(on_vary, pattern=r"^v1:vary:\d{1,18}$"),
        CallbackQueryHandler(on_lyrics, pattern=r"^v1:lyrics:\d{1,18}$"),
        CallbackQueryHandler(on_resend, pattern=r"^v1:resend:\d{1,18}$"),
        CallbackQueryHandler(on_model_button, pattern=r"^v1:model:(\d{1,3}|default)$"),
        CallbackQueryHandler(on_language_button, pattern=r"^v1:lang:[a-z]{2,4}$"),
    ]


def fallback_handlers() -> list[BaseHandler[Update, Any, Any]]:
    """Our actions with data no handler accepts (a menu from an older version): stop the spinner.

    Register after every other callback handler.
    """
    return [CallbackQueryHandler(on_stale, pattern=MY_ACTIONS)]


# ---- plumbing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Press:
    """One button press with what every handler needs."""

    query: CallbackQuery
    services: Services
    bot: Bot
    user: User
    chat: Chat
    message: Message | None  # the pressed message, if Telegram still lets us see it
    requester: Requester  # the presser's record and this chat's settings, read once per press
    lang: str
    arg: str

    @property
    def message_id(self) -> int | None:
        return self.query.message.message_id if self.query.message is not None else None

    def topic(self, job: Job | None = None) -> int | None:
        """The forum topic the pressed message is in (replies must land there too)."""
        if self.message is not None and self.message.is_topic_message:
            return self.message.message_thread_id
        if job is not None and job.chat_id == self.chat.id:
            return job.topic_id
        return None

    def stand_in(self) -> Message:
        """A message "from" the presser in this chat, for checks written for commands."""
        message = Message(
            message_id=self.message_id or 0,
            date=_EPOCH,
            chat=self.chat,
            from_user=self.user,
        )
        message.set_bot(self.bot)
        return message


async def _press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Press | None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        if query is not None:
            await answer(query)
        return None
    services = get_services(context)
    chat = query.message.chat
    requester = await load_requester(services.db, query.from_user.id, chat.id)
    pressed = query.message if isinstance(query.message, Message) else None
    return Press(
        query=query,
        services=services,
        bot=context.bot,
        user=query.from_user,
        chat=chat,
        message=pressed,
        requester=requester,
        lang=resolve_language(
            requester, chat_type=chat.type, language_code=query.from_user.language_code
        ),
        arg=query.data.rsplit(":", 1)[1],
    )


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """Stop the button's spinner; never fails the handler (the query may be too old)."""
    if text is not None:
        text = truncate_utf16(text, ANSWER_LIMIT)
    try:
        await query.answer(text=text, show_alert=alert)
    except BadRequest as exc:
        log.info("callback answer refused: %s", exc)


def plain_text(html_text: str) -> str:
    """What an HTML catalogue message reads like as plain text (for callback answers)."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


async def refuse(press: Press, error: SongbotError) -> None:
    """Say why not: as an alert when it fits, else as a reply in the chat."""
    if isinstance(error, Silent):
        await answer(press.query)
        return
    message = error.user_message(press.lang)
    short = plain_text(message)
    if utf16_len(short) <= ANSWER_LIMIT:
        await answer(press.query, short, alert=True)
        return
    await answer(press.query, plain("answer_refused", press.lang))
    await _reply(press, message)


async def _reply(press: Press, text: str, job: Job | None = None) -> Message:
    reply = (
        ReplyParameters(message_id=press.message_id, allow_sending_without_reply=True)
        if press.message_id
        else None
    )
    return await press.bot.send_message(
        chat_id=press.chat.id,
        text=text,
        reply_parameters=reply,
        **topic_kwargs(press.topic(job)),
    )


def _repeated(press: Press, action: str, job_id: int) -> bool:
    """True for the second press of the same button on the same song within its window."""
    recent: dict[tuple[int, str, int], float] = press.services.extras.setdefault(
        "ux_recent_presses", {}
    )
    now = time.monotonic()
    for key, when in list(recent.items()):
        if now - when > 60.0:
            del recent[key]
    key = (press.user.id, action, job_id)
    last = recent.get(key)
    if last is not None and now - last < REPEAT_WINDOW.get(action, 5.0):
        return True
    recent[key] = now
    return False


async def _job(press: Press) -> Job | None:
    """The job the button names, if the presser may see it here; otherwise answer and None.

    A song's buttons work in the chat it was made in, and for its requester anywhere (a song
    re-sent from /jobs into a private chat).
    """
    job = await press.services.jobs.get(int(press.arg))
    if job is None or (job.chat_id != press.chat.id and job.user_id != press.user.id):
        await answer(press.query, plain("answer_not_found", press.lang))
        return None
    return job


async def _job_press(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Press, Job] | None:
    """A press on a song's button and its job, or None once the press has been answered."""
    press = await _press(update, context)
    if press is None:
        return None
    job = await _job(press)
    return None if job is None else (press, job)


# ---- 🔁 Again and 🎲 Variation -------------------------------------------------------------


async def on_again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _remake_from(update, context, "again")


async def on_vary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _remake_from(update, context, "vary")


async def _remake_from(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> None:
    """🔁 Again (the same request) or 🎲 Variation (another model or a style twist)."""
    found = await _job_press(update, context)
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
    """The shared path of Again and Variation: checks, answer, anchor message, new job."""
    if _repeated(press, action, job.id):
        await answer(press.query, plain("answer_busy", press.lang))
        return
    try:
        await check_access(press.services, press.stand_in(), press.requester)
        request = await check_request(press.services, press.user.id, draft)
    except SongbotError as exc:
        await refuse(press, exc)
        return
    await answer(press.query, answer_text)
    # The anchor is the new job's "request": the status and the song reply to it, and it says
    # what this take is (which model, which twist) for everyone in the chat.
    anchor = await _reply(press, anchor_text, job)
    origin = Origin(
        chat_id=press.chat.id,
        chat_type=press.chat.type,
        topic_id=press.topic(job),
        user_id=press.user.id,
        user_name=display_name(press.user),
        lang=press.lang,
        request_message_id=anchor.message_id,
    )
    try:
        await store_job(press.services, press.bot, origin, draft, request)
    except SongbotError as exc:  # the daily limit, taken by a parallel request meanwhile
        await _reply(press, exc.user_message(press.lang), job)


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
    if job.has_reference:
        return None  # a reference pins the model: the variation changes the style instead
    order = list(MODELS.values())
    start = next((i for i, s in enumerate(order) if s.id == spec.id), -1)
    for step in range(1, len(order)):
        candidate = order[(start + step) % len(order)]
        if candidate.id == spec.id or candidate.reference_required:
            continue
        if job.lyrics is None and not candidate.instrumental:
            continue
        if _fits(candidate, job.prompt, job.lyrics):
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
    same = _same_as(job, spec)
    other = next_model(job, spec)
    if other is not None:
        text = t("vary_model", lang, title=other.title, model=other.id, previous=spec.id)
        return replace(same, spec=other), text
    if not spec.takes_prompt:
        return same, t("vary_retake", lang, model=spec.id)
    style = twist_style(job.prompt, spec, job.id)
    return replace(same, style=style), t("vary_style", lang, model=spec.id, style=_short(style))


def _short(style: str) -> str:
    return truncate_utf16(" ".join(style.split()), 200)


# ---- 📝 Lyrics -------------------------------------------------------------------------------


def lyrics_messages(title: str, lyrics: str, lang: str | None) -> list[str]:
    """The lyrics as messages within Telegram's 4096, split at line breaks, escaped."""
    header = t("lyrics_header", lang, title=title)
    budget = TEXT_LIMIT - utf16_len(plain_text(header)) - 2
    chunks: list[str] = []
    current = ""
    for line in lyrics.split("\n"):
        while utf16_len(line) > budget:  # one enormous line: cut it where it must be cut
            head = truncate_utf16(line, budget, "")
            if current:
                chunks.append(current)
                current = ""
            chunks.append(head)
            line = line[len(head) :]
        candidate = f"{current}\n{line}" if current else line
        if current and utf16_len(candidate) > budget:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    if len(chunks) > MAX_LYRICS_MESSAGES:
        tail = plain_text(t("lyrics_truncated", lang))
        chunks = chunks[:MAX_LYRICS_MESSAGES]
        room = budget - utf16_len(tail) - 1
        chunks[-1] = f"{truncate_utf16(chunks[-1], room)}\n{tail}"
    bodies = [html.escape(chunk, quote=False) for chunk in chunks]
    return [f"{header}\n\n{bodies[0]}", *bodies[1:]] if bodies else [header]


async def on_lyrics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = await _job_press(update, context)
    if found is None:
        return
    press, job = found
    if not job.lyrics:
        await answer(press.query, plain("answer_no_lyrics", press.lang))
        return
    if _repeated(press, "lyrics", job.id):
        await answer(press.query)
        return
    await answer(press.query)
    title = safe_title(job.prompt, job.lyrics)
    for text in lyrics_messages(title, job.lyrics, press.lang):
        await _reply(press, text, job)


# ---- ▶️ re-send from /jobs ---------------------------------------------------------------------


async def on_resend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a delivered song again by its Telegram file_id: no download, no upload, no charge."""
    found = await _job_press(update, context)
    if found is None:
        return
    press, job = found
    if not job.delivered_file_id:
        await answer(press.query, plain("answer_no_file", press.lang))
        return
    if _repeated(press, "resend", job.id):
        await answer(press.query)
        return
    await answer(press.query, plain("answer_resend", press.lang))
    reply = (
        ReplyParameters(message_id=press.message_id, allow_sending_without_reply=True)
        if press.message_id
        else None
    )
    try:
        await press.bot.send_audio(
            chat_id=press.chat.id,
            audio=job.delivered_file_id,
            caption=song_caption(job, press.lang),
            reply_markup=song_keyboard(job, press.lang),
            reply_parameters=reply,
            **topic_kwargs(press.topic()),
        )
    except BadRequest as exc:  # e.g. the file is gone on Telegram's side
        log.warning("re-sending job %s failed: %s", job.id, exc)
        await _reply(press, t("resend_failed", press.lang))


# ---- /model and /language menus ----------------------------------------------------------------


async def on_model_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    press = await _press(update, context)
    if press is None:
        return
    valid, model = model_from_callback(press.arg)
    if not valid:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    if not await is_chat_admin(press.services, press.bot, press.chat.id, press.user.id):
        await answer(press.query, plain("answer_admins_only", press.lang), alert=True)
        return
    await press.services.chat_settings.set_model(press.chat.id, model)
    if model is None:
        await answer(press.query, plain("answer_model_cleared", press.lang))
    else:
        await answer(press.query, plain("answer_model_set", press.lang, model=MODELS[model].title))
    await _edit(press, model_menu(model, press.lang), model_keyboard(model, press.lang))


async def on_language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    press = await _press(update, context)
    if press is None:
        return
    code = press.arg
    if code != "auto" and code not in LANGUAGES:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    chosen = None if code == "auto" else code
    await press.services.users.set_language(press.user.id, chosen)
    lang = await user_language(press.services, press.user, press.chat)
    await answer(
        press.query, plain("answer_language_set", lang, language=LANGUAGE_NAMES.get(lang, lang))
    )
    await _edit(press, language_menu(chosen, lang), language_keyboard(chosen))


async def _edit(press: Press, text: str, keyboard: Any) -> None:
    if press.message_id is None:
        return
    try:
        await press.bot.edit_message_text(
            chat_id=press.chat.id, message_id=press.message_id, text=text, reply_markup=keyboard
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.info("menu edit failed: %s", exc)
    except TelegramError as exc:
        log.info("menu edit failed: %s", exc)


async def on_stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    services = get_services(context)
    chat = query.message.chat if query.message is not None else None
    lang = await user_language(services, query.from_user, chat)
    await answer(query, plain("answer_stale", lang))


_EPOCH: Final = datetime.fromtimestamp(0, tz=UTC)
