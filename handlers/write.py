"""/write <idea>: lyrics written for you, shown as a preview to approve, rewrite or edit.

Why a preview: a song costs money and a chat completion costs little, so the words are shown
first and nothing goes to a music model until 🎵 Make this song, which takes the normal intake
(`bot/intake/accept.py`: the same checks, caps, daily limit and queue as `/song`). The preview is
a row in the database (`storage/lyrics.py`), so its buttons work after a restart; only the
requester or an admin may press them.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from bot.aimlapi.models import MODELS
from bot.bot_data import SongbotContext
from bot.errors import SongbotError, UserInputError
from bot.i18n import plain, t
from bot.intake.accept import check_request, store_job
from bot.intake.access import Silent, check_access
from bot.intake.chat_admins import is_chat_admin
from bot.intake.language import message_asker
from bot.intake.lyrics import (
    Target,
    check_draft_limit,
    lyrics_budget,
    target_for,
    write_lyrics,
)
from bot.intake.request import Draft, Origin
from bot.services import Services
from bot.telegram.callback_data import Action, build, pattern
from bot.telegram.helpers import (
    display_name,
    edit_in_place,
    reply_to,
    topic_kwargs,
)
from bot.textutil import utf16_len
from handlers.buttons import Press, answer, read_press, refuse, repeated, reply_to_press
from handlers.commands import Command
from handlers.replies import reply_error
from storage.lyrics import LyricsDraft

log = logging.getLogger(__name__)

IDEA_MAX: Final = 1000  # UTF-16 units: an idea, not a manuscript
_COMMAND: Final = re.compile(r"^/write(?:@(\w+))?(?:\s+|$)", re.IGNORECASE)


COMMANDS: Final = (Command("write", private=4, group=1),)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    return [
        # New messages only: editing a /write must not write (and count) another draft.
        CommandHandler("write", on_write, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(on_make, pattern=pattern(Action.WRITE_MAKE)),
        CallbackQueryHandler(on_redo, pattern=pattern(Action.WRITE_REDO)),
        CallbackQueryHandler(on_edit, pattern=pattern(Action.WRITE_EDIT)),
    ]


def parse_idea(text: str, *, bot_username: str, reply_text: str | None) -> str | None:
    """The idea of a `/write` message; None when it is addressed to another bot.

    Raises `UserInputError` when there is no idea or it is too long.
    """
    match = _COMMAND.match(text)
    if match is None:
        return None
    mention = match.group(1)
    if mention is not None and mention.lower() != bot_username.lstrip("@").lower():
        return None
    idea = " ".join(text[match.end() :].split())
    if not idea and reply_text:
        idea = " ".join(reply_text.split())
    if not idea:
        raise UserInputError("usage_write")
    length = utf16_len(idea)
    if length > IDEA_MAX:
        raise UserInputError("error_write_idea_too_long", length=length, limit=IDEA_MAX)
    return idea


async def on_write(update: Update, context: SongbotContext) -> None:
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    services = context.services
    services.metrics.updates.inc()
    # The requester `/song` uses (#24.5): a channel or a group's anonymous admins, not the
    # @Channel_Bot / @GroupAnonymousBot in `from` that every one of them shares.
    asker = await message_asker(services, message)
    assert asker is not None
    who, requester, lang = asker.who, asker.requester, asker.lang
    replied = message.reply_to_message
    reply_text = replied.text if replied is not None and replied.text else None
    try:
        idea = parse_idea(message.text, bot_username=services.bot_username, reply_text=reply_text)
        if idea is None:
            return  # addressed to another bot
        await check_access(services, message.get_bot(), message.chat, who, requester)
        await check_draft_limit(services, who)
    except Silent:
        return
    except SongbotError as exc:
        await reply_error(message, exc, lang)
        return
    await start_writing(
        services,
        context.application,
        Origin.from_message(message, lang),
        idea,
        model=requester.chat.model,
        update=update,
    )


async def start_writing(
    services: Services,
    application: Application[Any, Any, Any, Any, Any, Any],
    origin: Origin,
    idea: str,
    *,
    model: str | None,
    update: object = None,
) -> bool:
    """The /write path from an idea: a draft row, a placeholder reply to the request, and the
    completion off the update path. Also the guided flow's and the lyrics question's way in
    (#25.1, #25.2). False when this request already has a draft (the update came twice).
    The caller checked access and the daily draft limit (`check_draft_limit`)."""
    target = target_for(services, model)
    draft, created = await services.lyrics.create_draft(
        chat_id=origin.chat_id,
        chat_type=origin.chat_type,
        topic_id=origin.topic_id,
        user_id=origin.user_id,
        user_lang=origin.lang,
        request_message_id=origin.request_message_id,
        idea=idea,
        target_model=target.limits_spec.id,
        now=time.time(),
    )
    if not created:
        log.info(
            "duplicate /write in chat %s message %s", origin.chat_id, draft.request_message_id
        )
        return False
    # A placeholder at once (the completion takes seconds); it becomes the preview.
    working = await application.bot.send_message(
        chat_id=origin.chat_id,
        text=t("write_working", origin.lang),
        reply_parameters=reply_to(origin.request_message_id),
        **topic_kwargs(origin.topic_id),
    )
    await services.lyrics.set_preview(draft.id, working.message_id, time.time())
    # The completion takes seconds: off the update path, so getUpdates never waits for it.
    application.create_task(
        _write_into(services, working, draft, target, origin.lang, origin.user_id),
        update=update,
        name=f"songbot-write-{draft.id}",
    )
    return True


async def _write_into(
    services: Services,
    preview: Message,
    draft: LyricsDraft,
    target: Target,
    lang: str,
    user_id: int,
) -> None:
    """Write a version of `draft` and show it in `preview` (or why there is none); the call
    counts against `user_id`'s drafts."""
    try:
        written = await write_lyrics(
            services,
            user_id=user_id,
            draft_id=draft.id,
            idea=draft.idea,
            lang=lang,
            target=target,
        )
    except SongbotError as exc:
        log.info("draft %s not written: %s", draft.id, exc)
        if not draft.lyrics:  # the first version: the placeholder says why there is none
            await edit_in_place(preview, exc.user_message(lang), None)
            return
        # A failed rewrite keeps the version the user already has, and says why below it.
        await _show(preview, draft, lang)
        await reply_error(preview, exc, lang)
        return
    await services.lyrics.save_version(
        draft.id,
        title=written.title,
        style=written.style,
        lyrics=written.lyrics,
        target_model=target.limits_spec.id,
        now=time.time(),
    )
    fresh = await services.lyrics.get(draft.id)
    assert fresh is not None
    await _show(preview, fresh, lang)


async def _show(preview: Message, draft: LyricsDraft, lang: str) -> None:
    """The preview of `draft`'s current version, with its buttons."""
    spec = MODELS.get(draft.target_model)
    text = t(
        "write_preview",
        lang,
        title=draft.title,
        style=draft.style or "—",
        model=draft.target_model,
        length=utf16_len(draft.lyrics),
        limit=lyrics_budget(spec) if spec is not None else utf16_len(draft.lyrics),
        lyrics=draft.lyrics,
    )
    await edit_in_place(preview, text, preview_keyboard(draft.id, lang))


def preview_keyboard(draft_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain("button_write_make", lang),
                    callback_data=build(Action.WRITE_MAKE, draft_id),
                )
            ],
            [
                InlineKeyboardButton(
                    plain("button_write_redo", lang),
                    callback_data=build(Action.WRITE_REDO, draft_id),
                ),
                InlineKeyboardButton(
                    plain("button_write_edit", lang),
                    callback_data=build(Action.WRITE_EDIT, draft_id),
                ),
            ],
        ]
    )


# --- buttons -----------------------------------------------------------------------------------


async def _draft_press(
    update: Update, context: SongbotContext
) -> tuple[Press, LyricsDraft] | None:
    """The press and its draft, if the presser may use it; otherwise answered and None."""
    press = await read_press(update, context)
    if press is None:
        return None
    draft = await press.services.lyrics.get(int(press.arg))
    if draft is None or draft.chat_id != press.chat.id or not draft.lyrics:
        await answer(press.query, plain("answer_stale", press.lang))
        return None
    if press.user.id != draft.user_id and not await is_chat_admin(
        press.services, press.bot, press.chat.id, press.user.id
    ):
        await answer(press.query, plain("answer_write_not_yours", press.lang))
        return None
    if draft.job_id is not None:
        await answer(press.query, plain("answer_write_made", press.lang))
        return None
    return press, draft


async def on_make(update: Update, context: SongbotContext) -> None:
    """🎵 Make this song: the preview's style and lyrics through the normal intake."""
    found = await _draft_press(update, context)
    if found is None:
        return
    press, draft = found
    if repeated(press, "wmake", draft.id):
        await answer(press.query, plain("answer_busy", press.lang))
        return
    services = press.services
    target = target_for(services, press.requester.chat.model)
    song = Draft(spec=target.make_spec, style=draft.style, lyrics=draft.lyrics, title=draft.title)
    try:
        await check_access(services, press.bot, press.chat, press.user.id, press.requester)
        request = await check_request(services, press.user.id, song)
    except SongbotError as exc:
        await refuse(press, exc)
        return
    if not await services.lyrics.claim_for_song(draft.id, time.time()):
        await answer(press.query, plain("answer_write_made", press.lang))
        return
    origin = Origin(
        chat_id=press.chat.id,
        chat_type=press.chat.type,
        topic_id=press.topic() if press.message is not None else draft.topic_id,
        user_id=press.user.id,
        user_name=display_name(press.user),
        lang=press.lang,
        # The status and the song reply to the preview.
        request_message_id=draft.preview_message_id or press.message_id or 0,
    )
    try:
        job = await store_job(services, press.bot, origin, song, request)
    except Silent:  # no free song and no credit: the price and the packs were offered
        await services.lyrics.release(draft.id, time.time())
        await answer(press.query)
        return
    except SongbotError as exc:  # the daily limit or the waiting cap, taken meanwhile
        await services.lyrics.release(draft.id, time.time())
        await refuse(press, exc)
        return
    except BaseException:
        await services.lyrics.release(draft.id, time.time())
        raise
    if job is None:  # the preview already has a song (an older version made it)
        await services.lyrics.release(draft.id, time.time())
        await answer(press.query, plain("answer_write_made", press.lang))
        return
    await services.lyrics.set_job(draft.id, job.id, time.time())
    await answer(press.query, plain("answer_write_making", press.lang))
    if press.message is not None:
        # The buttons go (one song per preview; 🔁 under the song makes more); the words stay.
        try:
            await press.message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:
            log.info("preview %s keeps its buttons: %s", draft.id, exc)


async def on_redo(update: Update, context: SongbotContext) -> None:
    """🔄 Rewrite: a new version of the same idea in place of the preview."""
    found = await _draft_press(update, context)
    if found is None:
        return
    press, draft = found
    if repeated(press, "wredo", draft.id) or press.message is None:
        await answer(press.query, plain("answer_busy", press.lang))
        return
    try:
        await check_access(press.services, press.bot, press.chat, press.user.id, press.requester)
        await check_draft_limit(press.services, press.user.id)
    except SongbotError as exc:
        await refuse(press, exc)
        return
    await answer(press.query, plain("answer_write_redo", press.lang))
    lang = draft.user_lang or press.lang
    target = target_for(press.services, press.requester.chat.model)
    await edit_in_place(press.message, t("write_working", lang), None)
    context.application.create_task(
        _write_into(press.services, press.message, draft, target, lang, press.user.id),
        update=update,
        name=f"songbot-rewrite-{draft.id}",
    )


async def on_edit(update: Update, context: SongbotContext) -> None:
    """✏️ Edit: how to change the words (the reply-to-text form of /song)."""
    found = await _draft_press(update, context)
    if found is None:
        return
    press, draft = found
    if repeated(press, "wedit", draft.id):
        await answer(press.query)
        return
    await answer(press.query, plain("answer_write_edit", press.lang))
    command = "/song"
    if press.chat.type != "private" and press.services.bot_username:
        command = f"/song@{press.services.bot_username}"  # privacy mode shows only these
    hint = t("write_edit_hint", press.lang, command=command, style=draft.style or "pop")
    await reply_to_press(press, hint)


# --- messages ----------------------------------------------------------------------------------
