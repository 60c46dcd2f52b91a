"""Sharing a song (issue #26.2) and renaming one: inline mode, the song's link, ✏️ Rename.

Why these rules:
- Inline mode (`@bot words` in any chat) lists only the asker's own songs, marked personal
  (`is_personal`), with a short cache, so a deleted song stops showing at once and nobody ever
  sees another user's songs. The query `#<job id>` (what ↗️ Share puts in the chat picker)
  picks one song, still only among the asker's own.
- A link is `t.me/<bot>?start=s_<token>`, the token a random secret made on demand (never an
  id someone could count through); deleting the song or ⛔ kills it. Whoever opens it gets the
  song by its file_id, free, with who made it and how to make their own; each play is counted.
- ✏️ Rename: the user's next private text message is the new name. The pending rename is a row
  (storage/songs.py), so it survives a restart; the text handler's filter can only read memory,
  so it also takes any reply to the rename prompt (the prompt forces a reply), and a text it took
  with no rename pending is handed on to the other handlers.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Final

from telegram import (
    ForceReply,
    InlineQueryResultCachedAudio,
    InlineQueryResultsButton,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.bot_data import BotData, SongbotContext, bot_data_of
from bot.i18n import plain, t
from bot.intake.language import chat_language, user_language
from bot.telegram.callback_data import Action, pattern
from bot.textutil import truncate_utf16
from handlers.buttons import answer, read_press
from handlers.library import may_manage, song_of_press
from storage.songs import RENAME_SECONDS, Song, search_words

log = logging.getLogger(__name__)

INLINE_PAGE: Final = 20  # results per answer (Telegram allows 50)
# Seconds Telegram may cache an answer: short, so a deleted or renamed song goes at once.
INLINE_CACHE: Final = 1
TITLE_LIMIT: Final = 64
_PICK: Final = re.compile(r"^#(\d{1,18})$")
_LINK_ARG: Final = r"s_[A-Za-z0-9_-]{16,60}"
_LINK_COMMAND: Final = re.compile(rf"^/start(@\w+)?\s+{_LINK_ARG}\s*$")
RENAME_PROMPT_MARK: Final = "✏️"


class _RenameText(filters.MessageFilter):
    """A private text that may be a new song name: its sender has a rename pending here, or it
    replies to the bot's rename prompt (after a restart, memory is empty; the database is not)."""

    def __init__(self, hints: dict[int, float], handed_on: set[tuple[int, int]]) -> None:
        super().__init__(name="songbot.rename")
        self._hints, self._handed_on = hints, handed_on

    def filter(self, message: Message) -> bool:
        if (message.chat_id, message.message_id) in self._handed_on:
            return False
        user = message.from_user
        if user is None:
            return False
        if self._hints.get(user.id, 0.0) >= time.time():
            return True
        replied = message.reply_to_message
        return (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.is_bot
            and (replied.text or "").startswith(RENAME_PROMPT_MARK)
        )


def handlers(bot_data: BotData) -> list[BaseHandler[Update, Any, Any]]:
    """The sharing and renaming handlers; `bot_data` holds the rename hints the filter reads."""
    hints = bot_data.rename_hints
    handed_on = bot_data.rename_handed_on
    text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    return [
        CommandHandler(
            "start",
            on_shared_start,
            filters=filters.UpdateType.MESSAGE
            & filters.Regex(rf"^/start(@\w+)?\s+{_LINK_ARG}\s*$"),
        ),
        InlineQueryHandler(on_inline_query),
        ChosenInlineResultHandler(on_chosen),
        CallbackQueryHandler(on_rename, pattern=pattern(Action.SONG_RENAME)),
        MessageHandler(
            text & filters.UpdateType.MESSAGE & _RenameText(hints, handed_on), on_rename_text
        ),
    ]


# --- inline mode -------------------------------------------------------------------------------


def _offset(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) <= 6 else 0


async def on_inline_query(update: Update, context: SongbotContext) -> None:
    """`@bot words`: the asker's own songs matching the words, newest first, paged."""
    query = update.inline_query
    if query is None:
        return
    services = context.services
    user = query.from_user
    lang = await user_language(services, user, None)
    offset = _offset(query.offset)
    text = query.query.strip()
    pick = _PICK.match(text)
    songs: list[Song]
    if pick is not None:
        one = await services.songs.by_job(int(pick[1]))
        songs = [one] if one is not None and one.owner_id == user.id and offset == 0 else []
        more = False
    else:
        songs, more = await services.songs.page(
            owner_id=user.id, words=search_words(text), offset=offset, limit=INLINE_PAGE
        )
    if await services.users.is_banned(user.id):
        songs, more = [], False  # a banned user shares nothing through the bot
    bot = services.bot_username or (context.bot.username or "songbot")
    results = [
        InlineQueryResultCachedAudio(
            id=str(song.id),
            audio_file_id=song.file_id,
            caption=t("inline_caption", lang, title=truncate_utf16(song.title, 200), bot=bot),
            parse_mode=ParseMode.HTML,
        )
        for song in songs
    ]
    button = None
    if not results and offset == 0:
        # Nothing to share yet: a way into the bot instead of an empty list.
        button = InlineQueryResultsButton(
            text=plain("inline_make_button", lang), start_parameter="inline"
        )
    await query.answer(
        results,
        cache_time=INLINE_CACHE,
        is_personal=True,
        # No more pages: no next_offset at all (PTB 22 encodes an empty string as "[]").
        next_offset=str(offset + len(results)) if more else None,
        button=button,
    )


async def on_chosen(update: Update, context: SongbotContext) -> None:
    """A song was sent through inline mode (with BotFather's inline feedback on): logged."""
    chosen = update.chosen_inline_result
    if chosen is not None:
        log.info("song %s shared inline by user %s", chosen.result_id, chosen.from_user.id)


# --- a song's link -----------------------------------------------------------------------------


async def on_shared_start(update: Update, context: SongbotContext) -> None:
    """Someone opened a song's link: the song, free, with who made it; or why not."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    token = message.text.split(maxsplit=1)[1].strip().removeprefix("s_")
    song = await services.songs.by_token(token)
    if song is None:
        await message.reply_text(t("shared_link_dead", lang), do_quote=True)
        return
    bot = services.bot_username or (context.bot.username or "songbot")
    caption = t(
        "shared_song_caption",
        lang,
        title=truncate_utf16(song.title, TITLE_LIMIT),
        name=song.owner_name or "—",
        bot=bot,
    )
    await message.reply_audio(audio=song.file_id, caption=caption, do_quote=True)
    await services.songs.count_play(song.id)
    log.info("song %s played through its link", song.id)


# --- ✏️ Rename ----------------------------------------------------------------------------------


async def on_rename(update: Update, context: SongbotContext) -> None:
    """✏️: ask for the new name in the private chat (in a group too: privacy mode would hide
    the answer there) and remember, in the database, which song it is for."""
    press = await read_press(update, context)
    if press is None:
        return
    song = await song_of_press(press, int(press.arg))
    if song is None:
        return
    if not await may_manage(press, song):
        await answer(press.query, plain("answer_song_not_yours", press.lang), alert=True)
        return
    now = time.time()
    await press.services.songs.start_rename(press.user.id, song.id, now)
    hints = bot_data_of(context).rename_hints
    hints[press.user.id] = now + RENAME_SECONDS
    prompt = t("song_rename_prompt", press.lang, title=song.title)
    try:
        await press.bot.send_message(
            chat_id=press.user.id,
            text=prompt,
            reply_markup=ForceReply(input_field_placeholder=truncate_utf16(song.title, 64)),
        )
    except (Forbidden, BadRequest) as exc:  # never started a private chat with the bot
        log.info("rename prompt not sent to user %s: %s", press.user.id, exc)
        await press.services.songs.take_rename(press.user.id, now)
        hints.pop(press.user.id, None)
        await answer(press.query, plain("answer_rename_start", press.lang), alert=True)
        return
    private = press.chat.type == "private"
    await answer(press.query, None if private else plain("answer_rename_private", press.lang))


async def on_rename_text(update: Update, context: SongbotContext) -> None:
    """The new name; with no rename pending after all, the text goes on to the other handlers."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    services = context.services
    user_id = message.from_user.id
    hints = bot_data_of(context).rename_hints
    song_id = await services.songs.pending_rename(user_id, time.time())
    if song_id is None:
        hints.pop(user_id, None)
        await _hand_on(update, context, message)
        return
    lang = await chat_language(services, message)
    title = truncate_utf16(" ".join(message.text.split()), TITLE_LIMIT)
    if not any(ch.isalnum() for ch in title):
        await message.reply_text(t("song_rename_empty", lang), do_quote=True)
        return
    await services.songs.take_rename(user_id, time.time())
    hints.pop(user_id, None)
    if not await services.songs.rename(song_id, title, time.time()):
        await message.reply_text(t("answer_song_gone", lang), do_quote=True)
        return
    log.info("song %s renamed by user %s", song_id, user_id)
    await message.reply_text(t("song_renamed", lang, title=title), do_quote=True)


async def _hand_on(update: Update, context: SongbotContext, message: Message) -> None:
    """Process the update again with this handler out of the way (whatever else handles a
    private text — a newcomer's reply, a guided flow — gets it as if we had never looked)."""
    handed_on = bot_data_of(context).rename_handed_on
    key = (message.chat_id, message.message_id)
    handed_on.add(key)
    try:
        await context.application.process_update(update)
    finally:
        handed_on.discard(key)
