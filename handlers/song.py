"""`/song` in all its forms: validate, store the job, acknowledge, return.

Why so little here: the update path must feel instant and must never wait for the provider. The
handler only parses, checks limits, writes one row (idempotent on chat + message id, so a re-sent
update never makes a second job) and replies with the status message; the runner does the rest.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.bot_data import SongbotContext
from bot.errors import SongbotError
from bot.i18n import t
from bot.intake.accept import accept_request, check_request
from bot.intake.access import Silent, check_access
from bot.intake.guided import reads_as_idea
from bot.intake.kept_rows import keep
from bot.intake.language import language_for, message_asker
from bot.intake.parser import SongCommand, UsageError, parse_song_command
from bot.intake.references import (
    intake_purpose,
    needs_spoken_notice,
    pick_reference,
)
from bot.intake.request import Draft, Origin
from bot.intake.requests import ReferenceInfo, choose_model
from bot.services import Services
from bot.telegram.helpers import reply_to, thread_kwargs
from handlers.commands import Command
from handlers.flow import ask_keyboard
from handlers.replies import reply, reply_error
from storage.settings import ChatSettings, load_requester

log = logging.getLogger(__name__)

SONG_CAPTION = filters.CaptionRegex(r"(?i)^/song(@\w+)?(\s|$)")
REFUSED_MEMORY = 86_400.0  # seconds an edit may still correct a refused /song
SONG_TEXT = filters.Regex(r"(?i)^/song(@\w+)?(\s|$)")


COMMANDS: Final = (Command("song", private=2, group=0),)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    """The `/song` handlers, in the order the composition root registers them."""
    return [
        # Text commands only from new messages: an edit must never start a second, charged job.
        CommandHandler("song", on_song, filters=filters.UpdateType.MESSAGE),
        # An edited /song (#25.1): a request whose first version was refused is made from the
        # corrected text, once (jobs are unique per message); a request that made its song
        # says so instead of making another.
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & (SONG_TEXT | SONG_CAPTION), on_edited),
        # Voice/audio/document/video with a `/song …` caption: a reference request.
        MessageHandler(
            filters.UpdateType.MESSAGE
            & SONG_CAPTION
            & (
                filters.VOICE
                | filters.AUDIO
                | filters.Document.ALL
                | filters.VIDEO
                | filters.VIDEO_NOTE
                | filters.PHOTO
                | filters.Sticker.ALL
            ),
            on_song,
        ),
    ]


async def on_song(update: Update, context: SongbotContext) -> None:
    """Accept a song request or explain, in one reply, why it cannot be made."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    services.metrics.updates.inc()
    asker = await message_asker(services, message)
    assert asker is not None
    who, requester, lang = asker.who, asker.requester, asker.lang
    text = message.text if message.text is not None else (message.caption or "")
    reply_text = None
    replied = message.reply_to_message
    if replied is not None and replied.text:
        reply_text = replied.text
        # A reply to a /write preview sings the preview's lyrics, not its title and style lines.
        preview = await services.lyrics.by_preview(message.chat_id, replied.message_id)
        if preview is not None and preview.lyrics:
            reply_text = preview.lyrics
    try:
        command = parse_song_command(
            text, bot_username=services.bot_username, reply_text=reply_text
        )
    except UsageError as exc:
        _refused(services, message)
        await reply_error(message, exc, lang)
        return
    if command is None:
        return  # addressed to another bot
    try:
        await check_access(services, message.get_bot(), message.chat, who, requester)
        await _accept(services, message, command, lang, requester.chat)
    except Silent:
        return  # told once already (an outsider chat or a banned user): silence now
    except SongbotError as exc:
        _refused(services, message)
        await reply_error(message, exc, lang)


async def on_edited(update: Update, context: SongbotContext) -> None:
    """An edited `/song`: made if the message has no song yet, else one line saying so."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    key = (message.chat_id, message.message_id)
    if await services.jobs.get_by_request(*key) is not None:
        requester = await load_requester(services.db, message.from_user.id, message.chat_id)
        await reply(message, t("song_edit_made", language_for(message, requester)))
        return
    if services.memo.refused_songs.pop(key, None) is None:
        return  # not a refused /song (another message turned into one, or said long ago)
    await on_song(update, context)


def _refused(services: Services, message: Message) -> None:
    """Remember a /song refused with a reply, so an edit that corrects it is made (#25.1)."""
    refused = services.memo.refused_songs
    now = time.monotonic()
    for key, when in list(refused.items()):
        if now - when > REFUSED_MEMORY:
            del refused[key]
    refused[(message.chat_id, message.message_id)] = now


async def _accept(
    services: Services, message: Message, command: SongCommand, lang: str, settings: ChatSettings
) -> None:
    assert message.from_user is not None
    reference = pick_reference(message, command.reference_url)
    ref_info: ReferenceInfo | None = None
    if command.reference_url:
        ref_info = ReferenceInfo(kind="url", url=command.reference_url)
    elif reference is not None:
        ref_info = ReferenceInfo(kind="telegram")
    spec = choose_model(
        explicit=command.model,
        chat_default=settings.model,
        has_lyrics=command.lyrics is not None,
        reference=ref_info,
        config=services.config,
    )
    draft = Draft(
        spec=spec,
        style=command.style,
        lyrics=command.lyrics,
        reference_url=command.reference_url,
        reference=reference,
        purpose=intake_purpose(spec, reference, command.purpose),
    )
    origin = Origin.from_message(message, lang)
    if _no_words(command, reference) and reads_as_idea(command.style):
        # An idea without lyrics (#25.2): ask once whether to write lyrics for it; the checks
        # run now, so the question never leads to a refusal of the instrumental.
        await check_request(services, origin.user_id, draft)
        flow = await keep(services, "ask", origin, draft)
        if flow is None:
            return  # asked already: the same update came twice
        command_word = (
            "/song" if message.chat.type == "private" else f"/song@{services.bot_username}"
        )
        await message.get_bot().send_message(
            chat_id=message.chat_id,
            text=t("ask_lyrics_question", lang, style=command.style, command=command_word),
            reply_markup=ask_keyboard(flow.id, lang),
            reply_parameters=reply_to(message.message_id),
            **thread_kwargs(message),
        )
        return
    job = await accept_request(services, message.get_bot(), origin, draft)
    if (
        job is not None
        and needs_spoken_notice(reference, command.purpose)
        and await services.notices.first_time("spoken_voice", job.user_id)
    ):
        await reply(message, t("reference_spoken_notice", lang))


def _no_words(command: SongCommand, reference: object) -> bool:
    """No lyrics, no recording, and nothing that says what was meant (`instrumental:`,
    `model:`): a request the user may have meant as a song with words."""
    return (
        command.lyrics is None
        and reference is None
        and command.reference_url is None
        and command.purpose is None
        and command.model is None
    )
