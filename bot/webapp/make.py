"""A song asked for in the Mini App's form: the same intake as `/song`, answered in the chat.

Why through the chat: the job's status, its ❌ Cancel, the song and any failure belong in the
user's private chat, as for every other song. So the form's request first becomes a message
there (the recording, when there is one, sent by the bot as a file: from then on it is a
Telegram file like any voice note, downloaded, measured and converted by the same code with the
same caps), and that message is the request `accept_request` stores, exactly once: a form sent
twice (a double tap, a retry after a lost answer) carries the same token and makes one job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.multipart import BodyPartReader
from telegram import Bot, Chat, InputFile, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.aimlapi.models import MODELS
from bot.errors import SongbotError
from bot.i18n import plain, t
from bot.intake.accept import accept_request
from bot.intake.access import Silent, check_access
from bot.intake.parser import MAX_TOTAL_LENGTH
from bot.intake.references import find_reference, intake_purpose
from bot.intake.request import Draft, Origin
from bot.intake.requests import ReferenceInfo, choose_model
from bot.services import Services
from bot.telegram.helpers import reply_to
from bot.telegram.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.textutil import truncate_utf16, utf16_len
from bot.webapp.init_data import InitData
from storage.meta import MetaStore
from storage.settings import load_requester

log = logging.getLogger(__name__)

FIELD_LIMIT: Final = 16_384
PURPOSES: Final = frozenset({"voice", "song", "instrumental"})
# A form token is remembered this long: long enough for any retry, short enough to stay small.
TOKEN_SECONDS: Final = 24 * 3600
TOKEN_PREFIX: Final = "app-submit:"  # noqa: S105 - a key prefix, not a secret


class MakeFailed(Exception):
    """A form the bot will not turn into a job; `message` is for the person, in their language."""

    def __init__(self, message: str, *, status: int = 422, paywall: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.paywall = paywall


@dataclass(frozen=True, slots=True)
class Form:
    token: str
    style: str
    lyrics: str | None
    model: str | None
    instrumental: bool
    purpose: str | None
    recording: bytes | None
    recording_name: str
    recording_type: str


async def read_form(request: web.Request, lang: str) -> Form:
    """The multipart form, every field and the recording bounded while it is read."""
    if not request.content_type.startswith("multipart/"):
        raise MakeFailed(plain("app_bad_form", lang), status=400)
    fields: dict[str, str] = {}
    recording: bytes | None = None
    name, kind = "recording", "application/octet-stream"
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.name == "recording" and part.filename is not None:
            recording = await _read_capped(part, TELEGRAM_DOWNLOAD_LIMIT, lang, upload=True)
            name = _safe_name(part.filename)
            kind = part.headers.get("Content-Type", kind)[:100]
        elif part.name in {"token", "style", "lyrics", "model", "instrumental", "purpose"}:
            fields[part.name] = (await _read_capped(part, FIELD_LIMIT, lang)).decode(
                "utf-8", "replace"
            )
    token = fields.get("token", "").strip()
    if not 8 <= len(token) <= 64 or not token.replace("-", "").isalnum():
        raise MakeFailed(plain("app_bad_form", lang), status=400)
    lyrics = (fields.get("lyrics") or "").replace("\r\n", "\n").strip() or None
    model = (fields.get("model") or "").strip() or None
    if model is not None and model not in MODELS:
        raise MakeFailed(plain("app_bad_form", lang), status=400)
    purpose = (fields.get("purpose") or "").strip() or None
    return Form(
        token=token,
        style=" ".join((fields.get("style") or "").split()),
        lyrics=lyrics,
        model=model,
        instrumental=fields.get("instrumental") == "1",
        purpose=purpose if purpose in PURPOSES else None,
        recording=recording or None,
        recording_name=name,
        recording_type=kind,
    )


async def _read_capped(
    part: BodyPartReader, limit: int, lang: str, *, upload: bool = False
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            key = "app_recording_too_big" if upload else "app_bad_form"
            raise MakeFailed(plain(key, lang), status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _safe_name(name: str) -> str:
    cleaned = "".join(c for c in name if c.isalnum() or c in "._- ")[:60].strip()
    return cleaned or "recording"


async def make_song(
    services: Services, bot: Bot, who: InitData, lang: str, request: web.Request
) -> int | None:
    """Store one job for the form (None: this form token already made one)."""
    form = await read_form(request, lang)
    _check_text(form, lang)
    user_id = who.user.id
    requester = await load_requester(services.db, user_id, user_id)
    try:
        await check_access(services, bot, Chat(id=user_id, type=Chat.PRIVATE), user_id, requester)
    except Silent:
        raise MakeFailed(plain("app_not_allowed", lang), status=403) from None
    except SongbotError as exc:
        raise MakeFailed(_plain_html(exc.user_message(lang)), status=403) from None
    meta = MetaStore(services.db)
    now = time.time()
    await _forget_old_tokens(services, now)
    key = f"{TOKEN_PREFIX}{user_id}:{form.token}"
    if not await meta.add(key, f"{int(now):012d}"):
        raise MakeFailed(plain("app_already_sent", lang), status=409)
    try:
        return await _accept(services, bot, who, lang, form, requester.chat.model)
    except MakeFailed:
        # Nothing was stored for this form: the same form may be sent again.
        await meta.remove(key)
        raise


async def _accept(
    services: Services, bot: Bot, who: InitData, lang: str, form: Form, chat_model: str | None
) -> int | None:
    user_id = who.user.id
    anchor = await _post_request(bot, user_id, form, lang)
    reference = find_reference(anchor, include_reply=False) if form.recording else None
    spec = choose_model(
        explicit=form.model,
        chat_default=chat_model,
        has_lyrics=form.lyrics is not None,
        reference=ReferenceInfo(kind="telegram") if reference is not None else None,
        config=services.config,
    )
    draft = Draft(
        spec=spec,
        style=form.style,
        lyrics=form.lyrics,
        reference=reference,
        purpose=intake_purpose(spec, reference, form.purpose),
    )
    origin = Origin(
        chat_id=user_id,
        chat_type=Chat.PRIVATE,
        topic_id=None,
        user_id=user_id,
        user_name=who.user.first_name[:64] or str(user_id),
        lang=lang,
        request_message_id=anchor.message_id,
    )
    try:
        job = await accept_request(services, bot, origin, draft)
    except Silent:
        # Not queued: the chat shows what a song costs and the packs (or was told already).
        raise MakeFailed(plain("app_see_chat", lang), status=402, paywall=True) from None
    except SongbotError as exc:
        text = exc.user_message(lang)
        await _answer_in_chat(bot, anchor, text)
        raise MakeFailed(_plain_html(text)) from None
    return job.id if job is not None else None


def _check_text(form: Form, lang: str) -> None:
    """What the page can say at once, as /song would: no style, too long, no lyrics."""
    if not form.style and not form.recording:
        raise MakeFailed(plain("app_need_style", lang))
    total = utf16_len(form.style) + utf16_len(form.lyrics or "")
    if total > MAX_TOTAL_LENGTH:
        raise MakeFailed(
            _plain_html(t("usage_too_long", lang, length=total, limit=MAX_TOTAL_LENGTH))
        )
    if form.lyrics is None and not form.instrumental and not form.recording:
        raise MakeFailed(plain("app_need_lyrics", lang))


async def _post_request(bot: Bot, user_id: int, form: Form, lang: str) -> Message:
    """The request as a message in the private chat: what the status and the song reply to."""
    style = truncate_utf16(form.style, 200) or "—"
    try:
        if form.recording is not None:
            caption = plain("app_request_caption", lang, style=style)
            return await bot.send_document(
                chat_id=user_id,
                document=InputFile(form.recording, filename=form.recording_name),
                caption=caption,
                disable_content_type_detection=False,
            )
        lyrics = truncate_utf16(form.lyrics or "", 3000)
        text = plain("app_request_text", lang, style=style)
        if lyrics:
            text = f"{text}\n\n{lyrics}"
        return await bot.send_message(chat_id=user_id, text=text)
    except Forbidden:
        raise MakeFailed(plain("app_start_chat_first", lang), status=409) from None
    except BadRequest as exc:
        if "chat not found" not in str(exc).lower():
            raise MakeFailed(plain("app_try_again", lang), status=502) from None
        raise MakeFailed(plain("app_start_chat_first", lang), status=409) from None
    except TelegramError as exc:
        log.warning("mini app: the request could not be posted to the chat: %s", exc)
        raise MakeFailed(plain("app_try_again", lang), status=502) from None


async def _answer_in_chat(bot: Bot, anchor: Message, text: str) -> None:
    try:
        await bot.send_message(
            chat_id=anchor.chat_id, text=text, reply_parameters=reply_to(anchor.message_id)
        )
    except TelegramError as exc:
        log.warning("mini app: the refusal could not be posted to the chat: %s", exc)


async def _forget_old_tokens(services: Services, now: float) -> None:
    await services.db.execute_write(
        "DELETE FROM meta WHERE key LIKE ? AND value < ?",
        (TOKEN_PREFIX + "%", f"{int(now - TOKEN_SECONDS):012d}"),
    )


def _plain_html(text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", text))
