"""📝 Lyrics under a song: the words that were sung, as typed, in as few messages as fit."""

from __future__ import annotations

import html
from typing import Any, Final

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
)

from bot.bot_data import SongbotContext
from bot.i18n import t
from bot.telegram.callback_data import Action, pattern
from bot.textutil import job_title, truncate_utf16, utf16_len
from handlers.buttons import (
    answer,
    plain_text,
    reply_to_press,
    song_press,
)

TEXT_LIMIT: Final = 4096  # a message, after entity parsing


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [CallbackQueryHandler(on_lyrics, pattern=pattern(Action.LYRICS))]


MAX_LYRICS_MESSAGES: Final = 3


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


async def on_lyrics(update: Update, context: SongbotContext) -> None:
    found = await song_press(
        update, context, "lyrics", has=lambda j: j.lyrics, missing_key="answer_no_lyrics"
    )
    if found is None:
        return
    press, job = found
    assert job.lyrics is not None  # `has` checked it
    await answer(press.query)
    title = job_title(job)
    for text in lyrics_messages(title, job.lyrics, press.lang):
        await reply_to_press(press, text, job)
