"""/songs, the library (issue #26.1): every song a user received, paged and searchable, and a
card per song with ▶️ 📝 ↗️ 🔗 🔁 🎲 ✏️ 🗑.

Why the rules here: a private chat shows the user's own songs (from every chat); a group shows
the group's songs, and in it anyone may play, read and remake a song (a remake is the presser's,
on their own limits, through the same intake as /song), while renaming, deleting and sharing by
link are for the person who asked for it or a chat admin, as with a /write preview.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from telegram import InlineKeyboardButton, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from bot.aimlapi.models import MODELS
from bot.bot_data import SongbotContext
from bot.delivery.app_buttons import app_button
from bot.delivery.send import inline_mode_on
from bot.i18n import plain, t
from bot.intake.chat_admins import is_chat_admin
from bot.intake.language import chat_language
from bot.intake.request import Draft
from bot.services import Services
from bot.telegram.callback_data import Action, pattern
from bot.telegram.helpers import edit_in_place, reply_to, requester_id, topic_kwargs
from handlers import remake
from handlers.buttons import Press, answer, read_press, repeated, reply_to_press
from handlers.commands import Command
from handlers.library_view import (
    PAGE,
    card_button,
    card_keyboard,
    confirm_keyboard,
    render_card,
    render_list,
    share_link,
    song_caption_of,
)
from handlers.song_lyrics import lyrics_messages
from storage.songs import Song, search_words

log = logging.getLogger(__name__)


COMMANDS: Final = (Command("songs", private=7, group=5),)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [
        CommandHandler("songs", on_songs, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(on_page, pattern=pattern(Action.SONGS)),
        CallbackQueryHandler(on_card, pattern=pattern(Action.SONG)),
        CallbackQueryHandler(on_card_of_job, pattern=pattern(Action.SONG_OF_JOB)),
        CallbackQueryHandler(on_send, pattern=pattern(Action.SONG_SEND)),
        CallbackQueryHandler(on_lyrics, pattern=pattern(Action.SONG_LYRICS)),
        CallbackQueryHandler(on_delete, pattern=pattern(Action.SONG_DELETE)),
        CallbackQueryHandler(on_delete_yes, pattern=pattern(Action.SONG_DELETE_YES)),
        CallbackQueryHandler(on_link, pattern=pattern(Action.SONG_LINK)),
        CallbackQueryHandler(on_job_link, pattern=pattern(Action.JOB_LINK)),
        CallbackQueryHandler(on_unshare, pattern=pattern(Action.SONG_UNSHARE)),
        CallbackQueryHandler(on_again, pattern=pattern(Action.SONG_AGAIN)),
        CallbackQueryHandler(on_vary, pattern=pattern(Action.SONG_VARY)),
    ]


# --- the list ----------------------------------------------------------------------------------


def _words_of(text: str | None) -> str:
    """The search of a `/songs words` message: everything after the command."""
    parts = (text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 and parts[0].startswith("/") else ""


async def _page(
    services: Services, chat_id: int, chat_type: str, user_id: int, words: str, offset: int
) -> tuple[list[Song], bool]:
    if chat_type == "private":
        return await services.songs.page(
            owner_id=user_id, words=search_words(words), offset=offset, limit=PAGE
        )
    return await services.songs.page(
        chat_id=chat_id, words=search_words(words), offset=offset, limit=PAGE
    )


def _app(
    services: Services, bot_username: str | None, chat_id: int, chat_type: str, lang: str
) -> InlineKeyboardButton | None:
    """The Mini App's 📚 button for this chat, when SONGBOT_PUBLIC_URL switches the app on."""
    return app_button(
        services.config.public_url, bot_username or "songbot", chat_id, chat_type, lang
    )


async def on_songs(update: Update, context: SongbotContext) -> None:
    """`/songs [words]`: the newest songs (or those matching the words), one page."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    words = _words_of(message.text)
    user_id = requester_id(message) or message.from_user.id
    songs, more = await _page(services, message.chat_id, message.chat.type, user_id, words, 0)
    text, keyboard = render_list(
        songs,
        offset=0,
        more=more,
        words=words,
        group=message.chat.type != "private",
        lang=lang,
        app=_app(services, context.bot.username, message.chat_id, message.chat.type, lang),
    )
    await message.reply_text(text, reply_markup=keyboard, do_quote=True)


async def on_page(update: Update, context: SongbotContext) -> None:
    """◀️ ▶️ (and 📚 under /jobs): another page, in place; a search keeps its words, read
    from the /songs message the list replies to (no room for them in 64 bytes of data)."""
    press = await read_press(update, context)
    if press is None:
        return
    offset = int(press.arg)
    source = press.message.reply_to_message if press.message is not None else None
    command = ((source.text or "") if source is not None else "").split(maxsplit=1)
    words = ""
    if source is not None and command and command[0].split("@")[0] == "/songs":
        words = _words_of(source.text)
    songs, more = await _page(
        press.services, press.chat.id, press.chat.type, press.user.id, words, offset
    )
    text, keyboard = render_list(
        songs,
        offset=offset,
        more=more,
        words=words,
        group=press.chat.type != "private",
        lang=press.lang,
        app=_app(press.services, press.bot.username, press.chat.id, press.chat.type, press.lang),
    )
    await answer(press.query)
    if press.message is not None and _is_list(press.message):
        await edit_in_place(press.message, text, keyboard)
        return
    # 📚 under /jobs or under a song: a list of its own.
    await press.bot.send_message(
        chat_id=press.chat.id,
        text=text,
        reply_markup=keyboard,
        reply_parameters=reply_to(press.message_id),
        **topic_kwargs(press.topic()),
    )


def _is_list(message: Message | None) -> bool:
    """Whether the pressed message is a library list (its buttons page it in place)."""
    if message is None or message.reply_markup is None:
        return False
    prefixes = (f"v1:{Action.SONG.value}:", f"v1:{Action.SONGS.value}:")
    return any(
        isinstance(button.callback_data, str) and button.callback_data.startswith(prefixes)
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


# --- a song's card -----------------------------------------------------------------------------


async def song_of_press(press: Press, song_id: int) -> Song | None:
    """The song a button names, if the presser may see it here; otherwise answered and None.

    A song shows in the chat it was made in, and to the person who asked for it anywhere.
    """
    song = await press.services.songs.get(song_id)
    if song is None or (song.chat_id != press.chat.id and song.owner_id != press.user.id):
        await answer(press.query, plain("answer_song_gone", press.lang))
        return None
    return song


async def _song_press(update: Update, context: SongbotContext) -> tuple[Press, Song] | None:
    press = await read_press(update, context)
    if press is None:
        return None
    song = await song_of_press(press, int(press.arg))
    return None if song is None else (press, song)


async def may_manage(press: Press, song: Song) -> bool:
    """Rename, delete, share by link: the person who asked for the song, or a chat admin of the
    chat it was made in (the rule of a /write preview's buttons)."""
    if press.user.id == song.owner_id:
        return True
    if song.chat_type == "private" or song.chat_id != press.chat.id:
        return False
    return await is_chat_admin(press.services, press.bot, song.chat_id, press.user.id)


async def _managed_press(update: Update, context: SongbotContext) -> tuple[Press, Song] | None:
    found = await _song_press(update, context)
    if found is None:
        return None
    press, song = found
    if not await may_manage(press, song):
        await answer(press.query, plain("answer_song_not_yours", press.lang), alert=True)
        return None
    return press, song


def _card(press: Press, song: Song) -> tuple[str, Any]:
    text = render_card(song, lang=press.lang, bot_username=press.services.bot_username)
    return text, card_keyboard(song, lang=press.lang, inline=inline_mode_on(press.bot))


async def send_card(press: Press, song: Song) -> None:
    text, keyboard = _card(press, song)
    await press.bot.send_message(
        chat_id=press.chat.id,
        text=text,
        reply_markup=keyboard,
        reply_parameters=reply_to(press.message_id),
        **topic_kwargs(press.topic()),
    )


async def on_card(update: Update, context: SongbotContext) -> None:
    """A song of the list: its card; "Keep it" on a delete question turns it back into the card."""
    found = await _song_press(update, context)
    if found is None:
        return
    press, song = found
    await answer(press.query)
    if press.message is not None and _asks_delete(press.message, song):
        text, keyboard = _card(press, song)
        await edit_in_place(press.message, text, keyboard)
        return
    await send_card(press, song)


def _asks_delete(message: Message, song: Song) -> bool:
    data = f"v1:{Action.SONG_DELETE_YES.value}:{song.id}"
    markup = message.reply_markup
    return markup is not None and any(
        button.callback_data == data for row in markup.inline_keyboard for button in row
    )


async def on_card_of_job(update: Update, context: SongbotContext) -> None:
    """📚 under a delivered song: that song's card."""
    press = await read_press(update, context)
    if press is None:
        return
    song = await song_of_job(press)
    if song is None:
        return
    await answer(press.query)
    await send_card(press, song)


async def song_of_job(press: Press) -> Song | None:
    """The library song a job made (the argument of 📚 / ↗️ under a delivered song), if the
    presser may see it; otherwise answered (deleted, or not kept yet) and None."""
    job_id = int(press.arg)
    song = await press.services.songs.by_job(job_id)
    if song is None:
        job = await press.services.jobs.get(job_id)
        waiting = job is not None and job.delivered_message_id is None
        await answer(
            press.query, plain("answer_no_song_yet" if waiting else "answer_song_gone", press.lang)
        )
        return None
    return await song_of_press(press, song.id)


async def on_send(update: Update, context: SongbotContext) -> None:
    """▶️ Send: the song again by its Telegram file_id: no provider call, no charge."""
    found = await _song_press(update, context)
    if found is None:
        return
    press, song = found
    if repeated(press, "ssend", song.id):
        await answer(press.query)
        return
    await answer(press.query, plain("answer_song_sending", press.lang))
    try:
        await press.bot.send_audio(
            chat_id=press.chat.id,
            audio=song.file_id,
            caption=song_caption_of(song, press.lang),
            reply_markup=card_button(song, press.lang),
            reply_parameters=reply_to(press.message_id),
            **topic_kwargs(press.topic()),
        )
    except BadRequest as exc:  # e.g. the file is gone on Telegram's side
        log.warning("sending song %s from the library failed: %s", song.id, exc)
        await reply_to_press(press, t("resend_failed", press.lang))


async def on_lyrics(update: Update, context: SongbotContext) -> None:
    found = await _song_press(update, context)
    if found is None:
        return
    press, song = found
    if not song.lyrics:
        await answer(press.query, plain("answer_no_lyrics", press.lang))
        return
    if repeated(press, "slyr", song.id):
        await answer(press.query)
        return
    await answer(press.query)
    for text in lyrics_messages(song.title, song.lyrics, press.lang):
        await reply_to_press(press, text)


# --- delete ------------------------------------------------------------------------------------


async def on_delete(update: Update, context: SongbotContext) -> None:
    """🗑: ask first, in place of the card."""
    found = await _managed_press(update, context)
    if found is None:
        return
    press, song = found
    await answer(press.query)
    text = t("song_delete_confirm", press.lang, title=song.title)
    if press.message is not None:
        await edit_in_place(press.message, text, confirm_keyboard(song, press.lang))


async def on_delete_yes(update: Update, context: SongbotContext) -> None:
    """🗑 Yes: gone from the library, the inline results and its link, at once."""
    found = await _managed_press(update, context)
    if found is None:
        return
    press, song = found
    await press.services.songs.delete(song.id)
    log.info("song %s deleted from the library by user %s", song.id, press.user.id)
    await answer(press.query)
    if press.message is not None:
        await edit_in_place(press.message, t("song_deleted", press.lang, title=song.title), None)


# --- share by link -----------------------------------------------------------------------------


async def _make_link(press: Press, song: Song) -> Song | None:
    token = await press.services.songs.share(song.id, time.time())
    if token is None:
        await answer(press.query, plain("answer_song_gone", press.lang))
        return None
    return await press.services.songs.get(song.id)


async def on_link(update: Update, context: SongbotContext) -> None:
    """🔗 on the card: make the song's link (once) and show it on the card with its plays."""
    found = await _managed_press(update, context)
    if found is None:
        return
    press, song = found
    shared = await _make_link(press, song)
    if shared is None:
        return
    await answer(press.query)
    if press.message is not None:
        text, keyboard = _card(press, shared)
        await edit_in_place(press.message, text, keyboard)


async def on_job_link(update: Update, context: SongbotContext) -> None:
    """↗️ under a delivered song when inline mode is off: the song's link as a reply."""
    press = await read_press(update, context)
    if press is None:
        return
    song = await song_of_job(press)
    if song is None:
        return
    if not await may_manage(press, song):
        await answer(press.query, plain("answer_song_not_yours", press.lang), alert=True)
        return
    shared = await _make_link(press, song)
    if shared is None or shared.share_token is None:
        return
    await answer(press.query)
    link = share_link(press.services.bot_username, shared.share_token)
    await reply_to_press(press, t("song_link_made", press.lang, title=shared.title, link=link))


async def on_unshare(update: Update, context: SongbotContext) -> None:
    """⛔ Stop sharing: the link dies; a later 🔗 makes a new one."""
    found = await _managed_press(update, context)
    if found is None:
        return
    press, song = found
    await press.services.songs.stop_sharing(song.id, time.time())
    await answer(press.query, plain("answer_link_stopped", press.lang))
    fresh = await press.services.songs.get(song.id)
    if fresh is not None and press.message is not None:
        text, keyboard = _card(press, fresh)
        await edit_in_place(press.message, text, keyboard)


# --- 🔁 / 🎲 from the library ------------------------------------------------------------------


async def on_again(update: Update, context: SongbotContext) -> None:
    await _remake(update, context, "sagain")


async def on_vary(update: Update, context: SongbotContext) -> None:
    await _remake(update, context, "svary")


async def _remake(update: Update, context: SongbotContext, action: str) -> None:
    """The same 🔁 / 🎲 as under the song (handlers/remake.py), through the same intake: the
    job's request while retention keeps it (with its reference), else the song's own words."""
    found = await _song_press(update, context)
    if found is None:
        return
    press, song = found
    job = await press.services.jobs.get(song.job_id) if song.job_id is not None else None
    spec = MODELS.get(job.model if job is not None else song.model)
    if spec is None:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    if job is not None:
        same = remake._same_as(job, spec)
        has_reference, seed = job.has_reference, job.id
    else:
        same = Draft(spec=spec, style=song.style, lyrics=song.lyrics, title=song.title)
        has_reference, seed = False, song.id
    if action == "sagain":
        draft = same
        anchor = t(
            "again_started", press.lang, style=remake.short_style(same.style), model=spec.id
        )
        answer_text = plain("answer_again", press.lang)
    else:
        draft, anchor = remake.variation_of(
            same, press.lang, has_reference=has_reference, seed=seed
        )
        answer_text = plain("answer_vary", press.lang)
    await remake.remake(press, job, action, draft, anchor, answer_text, key=song.id)


__all__ = ["handlers", "may_manage", "song_of_press"]
