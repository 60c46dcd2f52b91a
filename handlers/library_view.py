"""What the library looks like: the /songs list and a song's card, as text and buttons.

Why apart from the handlers: the rendering is pure (songs in, text and keyboard out), so its
limits — 4096 characters a message, 100 buttons, 64-byte callback data — are checked in one
place, and the list and the card look the same from every button that shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.aimlapi.models import MODELS
from bot.delivery.send import CAPTION_STYLE_LIMIT, share_button
from bot.i18n import Raw, plain, t
from bot.telegram.callback_data import Action, build
from bot.telegram.helpers import mention_html
from bot.textutil import html_escape, human_duration, truncate_utf16
from storage.songs import Song

PAGE: Final = 8  # songs per list page: 8 song buttons and a ◀️ ▶️ row, far under 100 buttons
BUTTON_TITLE: Final = 40
CARD_STYLE: Final = 300


def day(timestamp: float) -> str:
    """A date that reads the same in every language (the i18n helper owns locale formats)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")


def model_name(model: str) -> str:
    spec = MODELS.get(model)
    return spec.title if spec is not None else model


def share_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start=s_{token}"


def render_list(
    songs: list[Song],
    *,
    offset: int,
    more: bool,
    words: str,
    group: bool,
    lang: str,
    app: InlineKeyboardButton | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the library, newest first; `words` is the search, if any. `app` (the Mini
    App's 📚 button, when it is on) goes last, even under an empty library: the app can make
    the first song."""
    if words:
        head = t("library_search_title", lang, words=truncate_utf16(words, 100))
    else:
        head = t("library_title_group" if group else "library_title", lang)
    if not songs:
        empty = t("library_no_match", lang, words=truncate_utf16(words, 100)) if words else None
        keyboard = InlineKeyboardMarkup([[app]]) if app is not None else None
        return f"{head}\n\n{empty or t('library_empty', lang)}", keyboard
    lines = [head]
    rows: list[list[InlineKeyboardButton]] = []
    for number, song in enumerate(songs, start=offset + 1):
        lines.append(
            t(
                "library_line",
                lang,
                n=number,
                title=song.title,
                duration=human_duration(song.duration),
                date=day(song.created_at),
            )
        )
        label = f"{number}. {truncate_utf16(song.title, BUTTON_TITLE)}"
        rows.append([InlineKeyboardButton(label, callback_data=build(Action.SONG, song.id))])
    nav: list[InlineKeyboardButton] = []
    if offset > 0:
        previous = build(Action.SONGS, max(0, offset - PAGE))
        nav.append(InlineKeyboardButton(plain("button_prev", lang), callback_data=previous))
    if more:
        following = build(Action.SONGS, offset + PAGE)
        nav.append(InlineKeyboardButton(plain("button_next", lang), callback_data=following))
    if nav:
        rows.append(nav)
        lines.append(t("library_page", lang, page=offset // PAGE + 1))
    if app is not None:
        rows.append([app])
    lines.append(t("library_hint", lang))
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def render_card(song: Song, *, lang: str, bot_username: str) -> str:
    """Title, style, model, duration, date; who asked (in groups); the link and its plays."""
    parts = [
        t(
            "song_card",
            lang,
            title=song.title,
            style=truncate_utf16(" ".join(song.style.split()), CARD_STYLE) or "—",
            model=model_name(song.model),
            duration=human_duration(song.duration),
            date=day(song.created_at),
        )
    ]
    if song.chat_type != "private":
        mention = mention_html(song.owner_id, song.owner_name or str(song.owner_id))
        parts.append(t("song_card_requester", lang, mention=mention))
    if song.share_token and bot_username:
        parts.append(
            t(
                "song_card_link",
                lang,
                link=share_link(bot_username, song.share_token),
                plays=song.plays,
            )
        )
    return "\n".join(parts)


def card_keyboard(song: Song, *, lang: str, inline: bool) -> InlineKeyboardMarkup:
    """▶️ 📝 / ↗️ 🔗 (or ⛔) / 🔁 🎲 / ✏️ 🗑."""

    def button(key: str, action: Action) -> InlineKeyboardButton:
        return InlineKeyboardButton(plain(key, lang), callback_data=build(action, song.id))

    play = [button("button_song_send", Action.SONG_SEND)]
    if song.lyrics:
        play.append(button("button_lyrics", Action.SONG_LYRICS))
    share: list[InlineKeyboardButton] = []
    if inline and song.job_id is not None:
        share.append(share_button(song.job_id, lang, inline=True))
    if song.share_token:
        share.append(button("button_song_unshare", Action.SONG_UNSHARE))
    else:
        share.append(button("button_song_link", Action.SONG_LINK))
    remake = [button("button_again", Action.SONG_AGAIN), button("button_vary", Action.SONG_VARY)]
    manage = [button("button_song_rename", Action.SONG_RENAME)]
    manage.append(button("button_song_delete", Action.SONG_DELETE))
    return InlineKeyboardMarkup([play, share, remake, manage])


def confirm_keyboard(song: Song, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain("button_song_delete_yes", lang),
                    callback_data=build(Action.SONG_DELETE_YES, song.id),
                ),
                InlineKeyboardButton(
                    plain("button_song_delete_no", lang), callback_data=build(Action.SONG, song.id)
                ),
            ]
        ]
    )


def song_caption_of(song: Song, lang: str) -> str:
    """The caption of a song sent from the library: as under a delivered song, title first."""
    style = truncate_utf16(song.style.replace("\n", " "), CAPTION_STYLE_LIMIT)
    head = f"<b>{html_escape(song.title)}</b>\n"
    if song.chat_type != "private":
        mention = mention_html(song.owner_id, song.owner_name or str(song.owner_id))
        return head + t(
            "song_caption_group", lang, style=style, model=song.model, mention=Raw(mention)
        )
    return head + t("song_caption", lang, style=style, model=song.model)


def card_button(song: Song, lang: str) -> InlineKeyboardMarkup:
    """Under a song sent from the library: 📚 back to its card."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain("button_library", lang), callback_data=build(Action.SONG, song.id)
                )
            ]
        ]
    )
