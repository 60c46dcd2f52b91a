"""Getting a finished song into the chat: fetch, convert, describe, upload.

Why its own module: this is where Telegram's rules for audio live (MP3 for the music player, 50 MB
upload cap, caption ≤ 1024, thumbnail ≤ 200 kB / 320 px via attach://, topics, replies), apart
from the runner's bookkeeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    SwitchInlineQueryChosenChat,
)
from telegram.constants import ChatAction

from bot.aimlapi.client import AimlApiClient
from bot.audio_format import sniff_format
from bot.delivery.app_buttons import private_app_button
from bot.delivery.cover_art import render_cover
from bot.delivery.media import TempFiles, probe, to_mp3
from bot.i18n import Raw, t
from bot.telegram.callback_data import Action, for_job
from bot.telegram.helpers import mention_html, reply_to, topic_kwargs
from bot.textutil import file_stem, html_escape, job_title, shown_style, truncate_utf16
from storage.jobs import Job

log = logging.getLogger(__name__)

TELEGRAM_UPLOAD_LIMIT = 50 * 1000 * 1000
CAPTION_STYLE_LIMIT = 400
PLAYABLE = ("mp3", "m4a")


@dataclass(frozen=True, slots=True)
class PreparedAudio:
    path: Path
    size: int
    duration: float | None
    format: str


async def fetch_audio(client: AimlApiClient, temp: TempFiles, job: Job, url: str) -> PreparedAudio:
    """Download the provider's audio right away (signed links expire) and make it playable."""
    raw = temp.path_for(job.key, ".download")
    downloaded = await client.download(url, raw)
    return await make_playable(temp, job, downloaded.path, downloaded.format)


async def make_playable(temp: TempFiles, job: Job, path: Path, fmt: str | None) -> PreparedAudio:
    """MP3/M4A go as they are; WAV and anything else become MP3 for Telegram's music player."""
    if fmt is None:
        head = await asyncio.to_thread(_read_head, path)
        fmt = sniff_format(head)
    if fmt in PLAYABLE:
        final = temp.path_for(job.key, f".{fmt}")
        if final != path:
            await asyncio.to_thread(path.replace, final)
    else:
        final = temp.path_for(job.key, ".mp3")
        await to_mp3(path, final)
        await asyncio.to_thread(path.unlink, True)
        fmt = "mp3"
    info = await probe(final)
    size = (await asyncio.to_thread(final.stat)).st_size
    return PreparedAudio(path=final, size=size, duration=info.duration, format=fmt)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(64)


def song_caption(job: Job, lang: str | None) -> str:
    """Style, model and (in groups) who asked, within Telegram's 1024-character caption limit."""
    style = truncate_utf16(shown_style(job.prompt).replace("\n", " "), CAPTION_STYLE_LIMIT)
    # The song's title heads the caption, as in the player and the file name (#25.12).
    head = f"<b>{html_escape(job_title(job))}</b>\n"
    if job.chat_type != "private":
        return head + t(
            "song_caption_group",
            lang,
            style=style,
            model=job.model,
            mention=mention_html(job.user_id, job.user_name or str(job.user_id)),
        )
    return head + t("song_caption", lang, style=style, model=job.model)


def inline_mode_on(bot: Bot) -> bool:
    """Whether BotFather's inline mode is on (getMe), so ↗️ Share can open the chat picker."""
    try:
        return bool(bot.supports_inline_queries)
    except RuntimeError:  # a bot not initialised (benchmarks build one bare)
        return False


def share_query(job_id: int) -> str:
    """The inline query that picks exactly one of the asker's songs: the job that made it."""
    return f"#{job_id}"


def share_button(job_id: int, lang: str | None, *, inline: bool) -> InlineKeyboardButton:
    """↗️ Share: the chat picker with this song when inline mode is on, else its link (#26.2)."""
    label = t("button_song_share", lang)
    if inline:
        return InlineKeyboardButton(
            label,
            switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat(
                query=share_query(job_id),
                allow_user_chats=True,
                allow_group_chats=True,
            ),
        )
    return InlineKeyboardButton(label, callback_data=for_job(Action.JOB_LINK, job_id))


def song_keyboard(
    job: Job, lang: str | None, *, inline: bool = False, public_url: str | None = None
) -> InlineKeyboardMarkup:
    """🔁 Again, 📝 Lyrics, 🎲 Variation, and 📚 its card in the library and ↗️ Share: compact
    callback data that survives restarts. With the Mini App on, a private chat also gets a
    button that opens it (Telegram takes `web_app` buttons only there: a user's chat id is
    positive, a group's negative)."""
    row = [
        InlineKeyboardButton(t("button_again", lang), callback_data=for_job(Action.AGAIN, job.id))
    ]
    if job.lyrics:
        row.append(
            InlineKeyboardButton(
                t("button_lyrics", lang), callback_data=for_job(Action.LYRICS, job.id)
            )
        )
    row.append(
        InlineKeyboardButton(t("button_vary", lang), callback_data=for_job(Action.VARY, job.id))
    )
    library = [
        InlineKeyboardButton(
            t("button_library", lang), callback_data=for_job(Action.SONG_OF_JOB, job.id)
        ),
        share_button(job.id, lang, inline=inline),
    ]
    rows = [row, library]
    if public_url is not None and job.chat_type == "private" and job.chat_id > 0:
        rows.append([private_app_button(public_url, lang)])
    return InlineKeyboardMarkup(rows)


async def send_song(
    bot: Bot,
    job: Job,
    audio: PreparedAudio,
    *,
    lang: str | None,
    temp: TempFiles,
    public_url: str | None = None,
) -> Message:
    """Upload the song as a reply to the request, in its topic, with title, cover and buttons."""
    title = job_title(job)
    cover: Path | None = None
    try:
        async with _cover_slot():
            cover = await render_cover(audio.path, temp.path_for(job.key, ".jpg"), title=title)
    except Exception as exc:  # a missing cover must never cost the user the song
        log.warning("cover art failed: %s", exc)
    await _chat_action(bot, job)
    thumb = await asyncio.to_thread(cover.read_bytes) if cover is not None else None
    # Streamed from disk by bot/telegram/transport.py: a song is never held in memory whole.
    handle = await asyncio.to_thread(audio.path.open, "rb")
    try:
        return await bot.send_audio(
            chat_id=job.chat_id,
            audio=InputFile(
                handle, filename=f"{file_stem(title)}.{audio.format}", read_file_handle=False
            ),
            title=title,
            performer=t("song_performer", lang, model=job.model),
            duration=round(audio.duration) if audio.duration else None,
            caption=song_caption(job, lang),
            thumbnail=InputFile(thumb, filename="cover.jpg", attach=True) if thumb else None,
            reply_parameters=reply_to(job.request_message_id),
            reply_markup=song_keyboard(
                job, lang, inline=inline_mode_on(bot), public_url=public_url
            ),
            **topic_kwargs(job.topic_id),
        )
    finally:
        await asyncio.to_thread(handle.close)


async def upload(
    bot: Bot,
    job: Job,
    audio: PreparedAudio,
    *,
    lang: str | None,
    temp: TempFiles,
    public_url: str | None = None,
) -> tuple[Message, str | None]:
    """The song into the chat: uploaded, or as a link when over Telegram's 50 MB cap; the sent
    message and the audio's file_id (None for a link)."""
    if audio.size > TELEGRAM_UPLOAD_LIMIT and job.audio_url:
        return await send_link(bot, job, job.audio_url, audio.size, lang=lang), None
    message = await send_song(bot, job, audio, lang=lang, temp=temp, public_url=public_url)
    return message, message.audio.file_id if message.audio else None


def prepared(job: Job) -> PreparedAudio:
    """The job's fetched song as the database describes it."""
    return PreparedAudio(
        path=Path(job.result_path or ""),
        size=job.result_bytes or 0,
        duration=job.result_duration,
        format=job.result_format or "mp3",
    )


_COVER_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _cover_slot() -> asyncio.Semaphore:
    """One cover at a time per core. An MP3 cover costs about 50 ms of CPU (audio_levels.py
    samples 72 short stretches of the song); other formats are decoded whole by ffmpeg, which
    takes seconds for a long song, so when 20 songs finish together, taking turns lets the
    first songs go out while the later covers are drawn (bench/bench_delivery.py)."""
    loop = asyncio.get_running_loop()
    slot = _COVER_SLOTS.get(loop)
    if slot is None:
        slot = _COVER_SLOTS[loop] = asyncio.Semaphore(max(1, os.cpu_count() or 1))
    return slot


async def send_link(bot: Bot, job: Job, url: str, size: int, *, lang: str | None) -> Message:
    """A song over Telegram's 50 MB upload cap goes out as a link instead."""
    return await bot.send_message(
        chat_id=job.chat_id,
        text=t(
            "song_too_big_link",
            lang,
            size_mb=round(size / 1_000_000, 1),
            link=Raw(f'<a href="{_attr(url)}">{t("song_link_label", lang)}</a>'),
        ),
        reply_parameters=reply_to(job.request_message_id),
        **topic_kwargs(job.topic_id),
    )


async def _chat_action(bot: Bot, job: Job) -> None:
    if job.chat_type != "private":
        return  # in groups every call counts against the 20-a-minute budget; songs come first
    try:
        await bot.send_chat_action(
            chat_id=job.chat_id, action=ChatAction.UPLOAD_VOICE, **topic_kwargs(job.topic_id)
        )
    except Exception as exc:  # cosmetic: never block a delivery on it
        log.debug("chat action failed: %s", exc)


def _attr(url: str) -> str:
    import html

    return html.escape(url, quote=True)
