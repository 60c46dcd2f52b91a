"""/model and /language: the chat's default model and the user's language, each with a keyboard.

Why keyboards with indexes: callback data is capped at 64 bytes and model ids like
`elevenlabs/eleven_music` are long, so a button carries the model's position in the registry's
stable order (`v1:model:3`); the data never expires, so an old menu still works after a restart.
The presses themselves are handled in `handlers/callbacks.py`; the rendering lives here so the
command and the button produce the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.aimlapi.models import MODELS, ModelSpec, ReferenceKind
from bot.bot_data import SongbotContext
from bot.i18n import LANGUAGES, Raw, plain, t
from bot.intake.chat_admins import is_chat_admin
from bot.intake.language import (
    chat_language,
    language_for,
    load_message_requester,
    user_language,
)
from bot.services import Services
from bot.telegram import callback_data
from bot.telegram.callback_data import LANGUAGE_AUTO, MODEL_DEFAULT, Action, pattern
from bot.telegram.helpers import requester_id
from handlers.buttons import Press, answer, read_press
from handlers.commands import Command

log = logging.getLogger(__name__)

# Button order and callback index of every model; new models go at the end to keep old menus valid.
MODEL_ORDER: Final[tuple[str, ...]] = tuple(MODELS)
# Each language's own name, so the choice reads right whatever language the menu is in.
LANGUAGE_NAMES: Final[dict[str, str]] = {"en": "English", "ru": "Русский", "es": "Español"}
CHECK: Final = "✅ "


COMMANDS: Final = (Command("model", private=5, group=3), Command("language", private=9))


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("model", on_model, filters=only_new),
        CommandHandler("language", on_language, filters=only_new),
        CallbackQueryHandler(on_model_button, pattern=pattern(Action.MODEL)),
        CallbackQueryHandler(on_language_button, pattern=pattern(Action.LANGUAGE)),
    ]


# ---- languages -----------------------------------------------------------------------------


def language_keyboard(current: str | None, *, automatic: bool = True) -> InlineKeyboardMarkup:
    """One button per language, plus "automatic" (Telegram's) in private chats; a group always
    has a language of its own, so its menu has no automatic choice."""
    rows = [
        [
            InlineKeyboardButton(
                (CHECK if code == current else "") + LANGUAGE_NAMES.get(code, code),
                callback_data=callback_data.build(Action.LANGUAGE, code),
            )
        ]
        for code in LANGUAGES
    ]
    if not automatic:
        return InlineKeyboardMarkup(rows)
    rows.append(
        [
            InlineKeyboardButton(
                (CHECK if current is None else "") + plain("button_language_auto", current),
                callback_data=callback_data.build(Action.LANGUAGE, LANGUAGE_AUTO),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def language_menu(chosen: str | None, effective: str) -> str:
    """The /language message: what is in force now and why."""
    if chosen is None:
        now = t("language_auto", effective, language=LANGUAGE_NAMES.get(effective, effective))
    else:
        now = LANGUAGE_NAMES.get(chosen, chosen)
    return t("language_menu", effective, current=now)


async def on_language(update: Update, context: SongbotContext) -> None:
    """Private chat: the user's language. Group: the group's one language, admins only."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    if message.chat.type != Chat.PRIVATE:
        await _group_language(services, context, message)
        return
    requester = await load_message_requester(services, message)
    lang = language_for(message, requester)
    chosen = requester.user.language if requester.user is not None else None
    await message.reply_text(
        language_menu(chosen, lang),
        reply_markup=language_keyboard(chosen),
        do_quote=True,
    )


async def _group_language(services: Services, context: SongbotContext, message: Message) -> None:
    lang = await chat_language(services, message)
    who = requester_id(message) or 0
    if not await is_chat_admin(services, context.bot, message.chat_id, who):
        await message.reply_text(t("language_group_admins_only", lang), do_quote=True)
        return
    name = LANGUAGE_NAMES.get(lang, lang)
    await message.reply_text(
        t("language_group_menu", lang, current=name),
        reply_markup=language_keyboard(lang, automatic=False),
        do_quote=True,
    )


# ---- models --------------------------------------------------------------------------------


def model_facts(spec: ModelSpec, lang: str | None) -> str:
    """What the model needs and makes: lyrics, reference, instrumental, length (plain HTML)."""
    parts: list[str] = []
    lyrics_limit = spec.lyrics_max - spec.lyrics_wrap_overhead
    if not spec.takes_lyrics:
        parts.append(t("model_lyrics_none", lang))
    elif spec.lyrics_required and not spec.instrumental:
        parts.append(t("model_lyrics_required", lang, limit=lyrics_limit))
    else:
        parts.append(t("model_lyrics_optional", lang, limit=lyrics_limit))
    if spec.reference != ReferenceKind.NONE:
        kind = {
            ReferenceKind.UPLOAD: "model_ref_upload",
            ReferenceKind.URL: "model_ref_url",
            ReferenceKind.URL_OR_BASE64: "model_ref_any",
        }[spec.reference]
        key = "model_reference_required" if spec.reference_required else "model_reference_optional"
        parts.append(t(key, lang, kind=Raw(t(kind, lang))))
    if spec.instrumental:
        parts.append(t("model_instrumental", lang))
    if spec.max_output_seconds:
        parts.append(_length(spec.max_output_seconds, lang))
    return " · ".join(parts)


def _length(seconds: float, lang: str | None) -> str:
    return t("model_length_seconds", lang, seconds=seconds)


def model_lines(
    lang: str | None, current: str | None = None, moved: Mapping[str, str] | None = None
) -> str:
    """One entry per model, in registry order; `current` is marked, and a model the provider
    retired (`moved`: its id -> the fallback's) says where its requests go now."""
    moved = moved or {}

    def facts(spec: ModelSpec) -> str:
        text = model_facts(spec, lang)
        if spec.id in moved:
            text += " · " + t("model_moved", lang, model=MODELS[moved[spec.id]].title)
        return text

    return "\n".join(
        t(
            "model_line",
            lang,
            mark=CHECK if spec.id == current else "",
            title=spec.title,
            facts=Raw(facts(spec)),
        )
        for spec in (MODELS[model_id] for model_id in MODEL_ORDER)
    )


def model_menu(
    current: str | None, lang: str | None, moved: Mapping[str, str] | None = None
) -> str:
    spec = MODELS.get(current or "")
    now = (
        t("model_now", lang, title=spec.title, model=spec.id)
        if spec is not None
        else t("model_now_auto", lang)
    )
    lines = model_lines(lang, current, moved)
    return t("model_menu", lang, current=Raw(now), lines_html=Raw(lines))


def model_keyboard(current: str | None, lang: str | None) -> InlineKeyboardMarkup:
    rows: list[Sequence[InlineKeyboardButton]] = [
        [
            InlineKeyboardButton(
                (CHECK if model_id == current else "") + MODELS[model_id].title,
                callback_data=callback_data.build(Action.MODEL, index),
            )
        ]
        for index, model_id in enumerate(MODEL_ORDER)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                (CHECK if MODELS.get(current or "") is None else "")
                + plain("button_model_default", lang),
                callback_data=callback_data.build(Action.MODEL, MODEL_DEFAULT),
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def model_from_callback(value: str) -> tuple[bool, str | None]:
    """(`valid`, model id or None for "automatic") from the part after `v1:model:`."""
    if value == "default":
        return True, None
    if value.isdigit() and int(value) < len(MODEL_ORDER):
        return True, MODEL_ORDER[int(value)]
    return False, None


async def on_model(update: Update, context: SongbotContext) -> None:
    """Show the models with what each needs; everyone may look, admins choose (in groups)."""
    message = update.effective_message
    if message is None:
        return
    services = context.services
    requester = await load_message_requester(services, message)
    lang = language_for(message, requester)
    settings = requester.chat
    who = requester_id(message) or 0
    if message.chat.type != Chat.PRIVATE and not await is_chat_admin(
        services, context.bot, message.chat_id, who
    ):
        # A member cannot change it: one line, no catalogue, no buttons (issue #25 item 15).
        spec = MODELS.get(settings.model or "")
        now = Raw(t("model_now", lang, title=spec.title) if spec else t("model_now_auto", lang))
        await message.reply_text(t("model_member", lang, current=now), do_quote=True)
        return
    await message.reply_text(
        model_menu(settings.model, lang, context.services.models.moved()),
        reply_markup=model_keyboard(settings.model, lang),
        do_quote=True,
    )


async def on_model_button(update: Update, context: SongbotContext) -> None:
    press = await read_press(update, context)
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
    menu = model_menu(model, press.lang, press.services.models.moved())
    await _edit(press, menu, model_keyboard(model, press.lang))


async def on_language_button(update: Update, context: SongbotContext) -> None:
    press = await read_press(update, context)
    if press is None:
        return
    code = press.arg
    if code != "auto" and code not in LANGUAGES:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    chosen = None if code == "auto" else code
    if press.chat.type != Chat.PRIVATE:
        await _set_group_language(press, chosen)
        return
    await press.services.users.set_language(press.user.id, chosen)
    lang = await user_language(press.services, press.user, press.chat)
    await answer(
        press.query, plain("answer_language_set", lang, language=LANGUAGE_NAMES.get(lang, lang))
    )
    await _edit(press, language_menu(chosen, lang), language_keyboard(chosen))


async def _set_group_language(press: Press, chosen: str | None) -> None:
    """A group's language button: admins set the group's language, nobody's private one."""
    if chosen is None:  # an old private-style menu: a group keeps a language
        await answer(press.query, plain("answer_stale", press.lang))
        return
    if not await is_chat_admin(press.services, press.bot, press.chat.id, press.user.id):
        await answer(press.query, plain("answer_admins_only", press.lang), alert=True)
        return
    await press.services.chat_settings.set_language(press.chat.id, chosen)
    name = LANGUAGE_NAMES.get(chosen, chosen)
    await answer(press.query, plain("answer_language_set", chosen, language=name))
    text = t("language_group_menu", chosen, current=name)
    await _edit(press, text, language_keyboard(chosen, automatic=False))


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
