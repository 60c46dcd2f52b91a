"""From an idea to a song, guided (#26.3), and an answer to every private message (#25.1).

Why so: a newcomer writes "make me a song about my cat" and must not meet silence. In a private
chat a plain message, a recording or `/new` starts a short flow — what it is (an idea for /write,
own lyrics, an instrumental, a recording to sing like), a style, a voice, a preview — answered by
buttons or by typing. Its state is a row (storage/flows.py: survives a restart, a day long, one
per user and chat), never PTB's in-memory ConversationHandler. The song goes through the same
intake as `/song` (bot/intake/kept.py → accept_request); an idea goes to the /write path. Groups
keep their one-message commands: there the flow is only a button opening the private chat.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.bot_data import SongbotContext
from bot.errors import SongbotError
from bot.i18n import plain, t
from bot.intake.access import Silent, check_access
from bot.intake.guided import (
    PRESETS,
    PREVIEW,
    REF_LYRICS,
    STYLE,
    TEXT,
    VOICE,
    WHAT,
    next_step,
    voice_from_text,
    with_voice,
)
from bot.intake.kept import AlreadyMade, make_claimed, make_kept
from bot.intake.kept_rows import reference_data, reference_from
from bot.intake.language import language_for
from bot.intake.lyrics import check_draft_limit
from bot.intake.references import intake_purpose, pick_reference
from bot.intake.request import Draft, Origin
from bot.intake.requests import ReferenceInfo, choose_model
from bot.services import Services
from bot.telegram.callback_data import Action, build, pattern
from bot.telegram.helpers import reply_to, requester_name, thread_kwargs
from bot.textutil import truncate_utf16
from handlers.buttons import Press, answer, read_press, refuse
from handlers.commands import Command
from handlers.replies import reply, reply_error
from handlers.write import IDEA_MAX, start_writing
from storage.flows import Flow
from storage.settings import load_requester

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
DEEP_LINK: Final = "new"  # t.me/<bot>?start=new opens the flow in the private chat
_SHOWN_TEXT: Final = 600  # how much of the idea or lyrics the panel repeats


# /new: the guided flow (#26.3), private chats only; groups get a link to it.
COMMANDS: Final = (Command("new", private=3),)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    """/new, `/start new` (the groups' deep link) and the flow's buttons."""
    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("new", on_new, filters=only_new),
        CommandHandler(
            "start", on_new, filters=only_new & filters.Regex(rf"^/start(@\w+)?\s+{DEEP_LINK}\s*$")
        ),
        CallbackQueryHandler(on_button, pattern=pattern(Action.FLOW)),
    ]


def fallback_handlers() -> list[BaseHandler[Update, Any, Any]]:
    """After every feature: what no command took. Private chats always get an answer; groups
    only an unknown command addressed to this bot."""
    only_new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE
    recording = (
        filters.VOICE | filters.AUDIO | filters.Document.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
    )
    groups = filters.ChatType.GROUPS
    return [
        MessageHandler(only_new & private & filters.TEXT & ~filters.COMMAND, on_private_text),
        MessageHandler(only_new & private & recording, on_recording),
        # A group message that mentions the bot is addressed to it: the link to the flow.
        MessageHandler(
            only_new & groups & filters.TEXT & ~filters.COMMAND & filters.Entity("mention"),
            on_group_mention,
        ),
        MessageHandler(only_new & filters.COMMAND, on_unknown_command),
        MessageHandler(
            only_new & private & ~filters.StatusUpdate.ALL & ~filters.SUCCESSFUL_PAYMENT,
            on_other,
        ),
    ]


# --- starting ----------------------------------------------------------------------------------


async def on_new(update: Update, context: SongbotContext) -> None:
    """/new (or the deep link): the flow from its first question; in a group, the link to it."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    requester = await load_requester(services.db, message.from_user.id, message.chat_id)
    lang = language_for(message, requester)
    if message.chat.type != "private":
        await _offer_private(services, message, lang)
        return
    await _start(services, message, lang, {})


async def on_private_text(update: Update, context: SongbotContext) -> None:
    """A plain message: the answer to the flow's open question, or a new flow from it."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.text:
        return
    services = context.services
    requester = await load_requester(services.db, message.from_user.id, message.chat_id)
    lang = language_for(message, requester)
    flow = await services.flows.guided(message.chat_id, message.from_user.id, time.time())
    if flow is not None and flow.step in (TEXT, STYLE, VOICE, REF_LYRICS):
        await _typed(services, message, lang, flow, message.text)
        return
    await _start(services, message, lang, {"text": _clip(message.text)})


async def on_recording(update: Update, context: SongbotContext) -> None:
    """A voice note or audio without `/song`: offered as a reference ("sing it like this")."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    services = context.services
    requester = await load_requester(services.db, message.from_user.id, message.chat_id)
    lang = language_for(message, requester)
    reference = pick_reference(message, None)
    if reference is None:
        await reply(message, t("flow_other", lang))
        return
    data = {"what": "reference", "ref": reference_data(reference)}
    await _start(services, message, lang, data)


async def on_group_mention(update: Update, context: SongbotContext) -> None:
    """`@ThisBot make me a song` in a group: the flow lives in private; a button opens it."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.text:
        return
    services = context.services
    ours = f"@{services.bot_username}".lower()
    mentions = message.parse_entities(["mention"]).values()
    if not services.bot_username or ours not in (m.lower() for m in mentions):
        return
    requester = await load_requester(services.db, message.from_user.id, message.chat_id)
    await _offer_private(services, message, language_for(message, requester))


async def on_unknown_command(update: Update, context: SongbotContext) -> None:
    """A command nobody handles: one line naming /help (in groups only when addressed to us)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    services = context.services
    word = message.text.split()[0]
    command, _, mention = word.partition("@")
    if message.chat.type != "private":
        if not mention or mention.lower() != services.bot_username.lower():
            return
    elif mention and mention.lower() != services.bot_username.lower():
        return
    requester = await load_requester(services.db, message.from_user.id if message.from_user else 0,
                                     message.chat_id)  # fmt: skip
    await reply(
        message, t("flow_unknown_command", language_for(message, requester), command=command)
    )


async def on_other(update: Update, context: SongbotContext) -> None:
    """A photo, a sticker, a location…: one short line and /help. Messages with nothing a user
    sent (service notes such as a refund's) get no answer."""
    message = update.effective_message
    if message is None or message.from_user is None or message.effective_attachment is None:
        return
    services = context.services
    requester = await load_requester(services.db, message.from_user.id, message.chat_id)
    await reply(message, t("flow_other", language_for(message, requester)))


async def _start(services: Services, message: Message, lang: str, data: dict[str, Any]) -> None:
    """A new flow (replacing the user's older one here) and its first question."""
    assert message.from_user is not None
    try:  # a banned user is told once, then meets silence, as with /song
        await check_access(services, message.get_bot(), message.chat, message.from_user.id)
    except Silent:
        return
    except SongbotError as exc:
        await reply_error(message, exc, lang)
        return
    data = {
        **data,
        "lang": lang,
        "request": message.message_id,
        "name": requester_name(message),
    }
    step = WHAT if data.get("what") is None else next_step(data)
    flow = await services.flows.start_guided(
        chat_id=message.chat_id, user_id=message.from_user.id, step=step, data=data,
        now=time.time(),
    )  # fmt: skip
    await _ask(services, message, flow, lang, edit=False)


async def _offer_private(services: Services, message: Message, lang: str) -> None:
    """Groups: the flow lives in the private chat; a button opens it there."""
    link = f"https://t.me/{services.bot_username}?start={DEEP_LINK}"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain("button_flow_open", lang), url=link)]]
    )
    await message.get_bot().send_message(
        chat_id=message.chat_id,
        text=t("flow_group_offer", lang),
        reply_markup=keyboard,
        reply_parameters=reply_to(message.message_id),
        **thread_kwargs(message),
    )


# --- asking ------------------------------------------------------------------------------------


def _button(label_key: str, lang: str, flow: Flow, answer_code: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        plain(label_key, lang), callback_data=build(Action.FLOW, f"{flow.id}-{answer_code}")
    )


def _question(flow: Flow, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and the buttons of the flow's open question."""
    data, step = flow.data, flow.step
    if step == WHAT:
        if data.get("text"):
            text = t("flow_what_text", lang, text=_clip(str(data["text"]), _SHOWN_TEXT))
            keys = ("button_flow_idea_text", "button_flow_inst_text", "button_flow_lyrics_text")
        else:
            text = t("flow_what_new", lang)
            keys = ("button_flow_idea", "button_flow_lyrics", "button_flow_inst")
        codes = {
            "button_flow_idea": "idea",
            "button_flow_lyrics": "lyr",
            "button_flow_inst": "inst",
        }
        rows = [[_button(k, lang, flow, codes[k.removesuffix("_text")])] for k in keys]
        return text, InlineKeyboardMarkup(rows)
    if step == TEXT:
        key = {"idea": "flow_ask_idea", "lyrics": "flow_ask_lyrics"}.get(
            str(data.get("what")), "flow_ask_mood"
        )
        return t(key, lang), None
    if step == STYLE:
        intro = "flow_reference_intro" if data.get("what") == "reference" else "flow_ask_style"
        presets = [_button(f"flow_preset_{n}", lang, flow, f"s{n}") for n in range(1, PRESETS + 1)]
        rows = [presets[i : i + 2] for i in range(0, len(presets), 2)]
        return t(intro, lang), InlineKeyboardMarkup(rows)
    if step == VOICE:
        row = [
            _button("button_voice_female", lang, flow, "vf"),
            _button("button_voice_male", lang, flow, "vm"),
            _button("button_voice_any", lang, flow, "va"),
        ]
        return t("flow_ask_voice", lang), InlineKeyboardMarkup([row])
    if step == REF_LYRICS:
        row = [_button("button_flow_no_words", lang, flow, "nowords")]
        return t("flow_ask_ref_lyrics", lang), InlineKeyboardMarkup([row])
    return _preview(flow, lang)


def _preview(flow: Flow, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    data = flow.data
    what = str(data.get("what"))
    voice = data.get("voice")
    voice_line = ""
    if voice in ("female", "male", "any"):
        label = {"female": "button_voice_female", "male": "button_voice_male"}.get(
            str(voice), "button_voice_any"
        )
        voice_line = t("flow_preview_voice", lang, voice=plain(label, lang))
    words = data.get("lyrics") if what == "reference" else data.get("text")
    text = t(
        "flow_preview",
        lang,
        what=plain(f"flow_kind_{what}", lang),
        style=str(data.get("style") or ""),
        voice=voice_line,
        text=_clip(str(words), _SHOWN_TEXT) if words else plain("flow_no_text", lang),
    )
    make = "button_flow_write" if what == "idea" else "button_flow_make"
    rows = [
        [_button(make, lang, flow, "make")],
        [
            _button("button_flow_change", lang, flow, "chg"),
            _button("button_flow_cancel", lang, flow, "x"),
        ],
    ]
    return text, InlineKeyboardMarkup(rows)


async def _ask(services: Services, anchor: Message, flow: Flow, lang: str, *, edit: bool) -> None:
    """Show the open question: in the pressed panel (a button answer) or as a new reply (a
    typed answer or a new flow), which then becomes the panel its buttons must come from."""
    text, keyboard = _question(flow, lang)
    bot = anchor.get_bot()
    if edit:
        try:
            await bot.edit_message_text(
                chat_id=anchor.chat_id,
                message_id=anchor.message_id,
                text=text,
                reply_markup=keyboard,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        return
    sent = await bot.send_message(
        chat_id=anchor.chat_id,
        text=text,
        reply_markup=keyboard,
        reply_parameters=reply_to(anchor.message_id),
        **thread_kwargs(anchor),
    )
    await services.flows.save(
        flow.id, step=flow.step, data=flow.data, now=time.time(),
        panel_message_id=sent.message_id,
    )  # fmt: skip


async def _advance(
    services: Services, anchor: Message, flow: Flow, lang: str, data: dict[str, Any], *, edit: bool
) -> None:
    """Record the answers, then ask what is still open."""
    step = next_step(data)
    await services.flows.save(flow.id, step=step, data=data, now=time.time())
    fresh = Flow(**{**_fields(flow), "step": step, "data": data})
    await _ask(services, anchor, fresh, lang, edit=edit)


def _fields(flow: Flow) -> dict[str, Any]:
    return {name: getattr(flow, name) for name in Flow.__dataclass_fields__}


async def _typed(services: Services, message: Message, lang: str, flow: Flow, text: str) -> None:
    """A typed answer to the open question."""
    data = dict(flow.data)
    if flow.step == TEXT:
        data["text"] = _clip(text)
    elif flow.step == STYLE:
        data["style"] = " ".join(text.split())[:300]
    elif flow.step == VOICE:
        voice = voice_from_text(text)
        if voice is None:
            await reply(message, t("flow_voice_again", lang))
            return
        data["voice"] = voice
    elif flow.step == REF_LYRICS:
        data["lyrics"] = text.strip()
    await _advance(services, message, flow, lang, data, edit=False)


# --- buttons -----------------------------------------------------------------------------------


async def on_button(update: Update, context: SongbotContext) -> None:
    """Every flow button: `<flow id>-<answer>`. Only the flow's owner, only its current panel."""
    press = await read_press(update, context)
    if press is None:
        return
    raw_id, _, code = press.arg.partition("-")
    flow = await press.services.flows.get(int(raw_id))
    now = time.time()
    if flow is None or flow.chat_id != press.chat.id:
        await answer(press.query, plain("answer_flow_expired", press.lang))
        return
    if flow.user_id != press.user.id:
        await answer(press.query, plain("answer_flow_not_yours", press.lang))
        return
    if flow.job_id is not None:
        await answer(press.query, plain("answer_flow_done", press.lang))
        return
    if now >= flow.expires_at:
        await answer(press.query, plain("answer_flow_expired", press.lang))
        return
    app = context.application
    if flow.kind == "ask":
        await _on_ask(press, flow, code, app)
        return
    if flow.kind != "guided" or flow.panel_message_id != press.message_id:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    await _on_guided(press, flow, code, app)


async def _on_guided(press: Press, flow: Flow, code: str, app: App) -> None:
    data = dict(flow.data)
    lang = str(data.get("lang") or press.lang)
    what = {"idea": "idea", "lyr": "lyrics", "inst": "instrumental"}
    if flow.step == WHAT and code in what:
        data["what"] = what[code]
        if data["what"] == "instrumental":
            data.pop("voice", None)
    elif flow.step == STYLE and code.startswith("s") and code[1:].isdigit():
        number = int(code[1:])
        if not 1 <= number <= PRESETS:
            await answer(press.query, plain("answer_stale", press.lang))
            return
        data["style"] = plain(f"flow_preset_{number}", lang)
    elif flow.step == VOICE and code in ("vf", "vm", "va"):
        data["voice"] = {"vf": "female", "vm": "male", "va": "any"}[code]
    elif flow.step == REF_LYRICS and code == "nowords":
        data["lyrics"] = None
    elif flow.step == PREVIEW and code == "chg":
        # Back to the first question; the words (or the recording) stay.
        for key in ("style", "voice", "lyrics"):
            data.pop(key, None)
        if data.get("what") != "reference":
            data.pop("what", None)
    elif flow.step == PREVIEW and code == "x":
        await press.services.flows.delete(flow.id)
        await answer(press.query, plain("answer_flow_cancelled", press.lang))
        if press.message is not None:
            await _edit(press.message, t("flow_cancelled", lang))
        return
    elif flow.step == PREVIEW and code == "make":
        await _make(press, flow, lang, app)
        return
    else:
        await answer(press.query, plain("answer_stale", press.lang))
        return
    await answer(press.query)
    if press.message is None:
        return
    step = WHAT if "what" not in data else next_step(data)
    await press.services.flows.save(flow.id, step=step, data=data, now=time.time())
    fresh = Flow(**{**_fields(flow), "step": step, "data": data})
    await _ask(press.services, press.message, fresh, lang, edit=True)


async def _make(press: Press, flow: Flow, lang: str, app: App) -> None:
    """🎵 Make it: the one intake as `/song` (or, for an idea, the /write path), once."""
    services, data = press.services, flow.data
    what = str(data.get("what"))
    origin = Origin(
        chat_id=press.chat.id,
        chat_type=press.chat.type,
        topic_id=press.topic(),
        user_id=press.user.id,
        user_name=str(data.get("name") or press.user.full_name),
        lang=lang,
        # The status and the song reply to the preview (one song per preview).
        request_message_id=flow.panel_message_id or press.message_id or 0,
    )
    try:
        await check_access(services, press.bot, press.chat, press.user.id, press.requester)
        if what == "idea":
            await _write(press, flow, origin, app)
            return
        draft = _draft(services, press, flow)
        if await make_claimed(services, press.bot, flow, origin, draft) is None:
            raise AlreadyMade  # its song was made meanwhile (the paywall's, once paid)
    except AlreadyMade:
        await answer(press.query, plain("answer_flow_done", press.lang))
        return
    except SongbotError as exc:  # Silent (the packs were offered) included
        await refuse(press, exc)
        return
    await answer(press.query, plain("answer_flow_making", press.lang))
    if press.message is not None:
        await _edit(press.message, _preview(flow, lang)[0] + "\n\n" + t("flow_made", lang))


async def _write(press: Press, flow: Flow, origin: Origin, app: App) -> None:
    """An idea: the /write path writes the lyrics and shows its own preview to make it from."""
    services, data = press.services, flow.data
    await check_draft_limit(services, press.user.id)
    if not await services.flows.claim(flow.id, time.time()):
        raise AlreadyMade
    voice = _voice_words(data, origin.lang)
    idea = str(data.get("text") or "")
    style = with_voice(str(data.get("style") or ""), voice)
    # The chosen style goes with the idea: the lyrics model proposes the style it is told.
    idea = _clip(f"{idea}\n\n{style}", IDEA_MAX)
    try:
        started = await start_writing(
            services, app, origin, idea, model=press.requester.chat.model
        )
    except BaseException:
        await services.flows.release(flow.id, time.time())
        raise
    # Handed over: the /write draft has its own buttons; the flow stays claimed (job_id 0).
    await answer(press.query, plain("answer_flow_making", press.lang) if started else None)
    if press.message is not None:
        text = _preview(flow, origin.lang)[0] + "\n\n" + t("flow_handed_to_write", origin.lang)
        await _edit(press.message, text)


def _voice_words(data: dict[str, Any], lang: str) -> str | None:
    voice = data.get("voice")
    if voice in ("female", "male"):
        return plain(f"flow_voice_{voice}", lang)
    return None


def _draft(services: Services, press: Press, flow: Flow) -> Draft:
    """The flow's answers as the request `/song` would have made (same model rules)."""
    data = flow.data
    what = str(data.get("what"))
    style = with_voice(str(data.get("style") or ""), _voice_words(data, str(data.get("lang"))))
    reference = reference_from(data.get("ref")) if what == "reference" else None
    lyrics: str | None
    if what == "reference":
        lyrics = data.get("lyrics") or None
    elif what == "lyrics":
        lyrics = str(data.get("text") or "") or None
    else:
        lyrics = None
    spec = choose_model(
        explicit=None,
        chat_default=press.requester.chat.model,
        has_lyrics=lyrics is not None,
        reference=ReferenceInfo(kind="telegram") if reference is not None else None,
        config=services.config,
    )
    return Draft(
        spec=spec,
        style=style,
        lyrics=lyrics,
        reference=reference,
        purpose=intake_purpose(spec, reference, None),
    )


# --- the lyrics question of a /song without lyrics (#25.2) ---------------------------------------


def ask_keyboard(flow_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain("button_ask_write", lang),
                    callback_data=build(Action.FLOW, f"{flow_id}-write"),
                ),
                InlineKeyboardButton(
                    plain("button_ask_inst", lang),
                    callback_data=build(Action.FLOW, f"{flow_id}-inst"),
                ),
            ]
        ]
    )


async def _on_ask(press: Press, flow: Flow, code: str, app: App) -> None:
    """[✍️ Write lyrics for it] → the /write path; [🎹 Instrumental] → the kept request as is."""
    services = press.services
    kept = flow.data.get("draft") or {}
    raw_origin = flow.data.get("origin") or {}
    try:
        await check_access(services, press.bot, press.chat, press.user.id, press.requester)
        if code == "inst" and await make_kept(services, press.bot, flow) is None:
            raise AlreadyMade  # the message has its song already (an edit added the lyrics)
        elif code == "write":
            await check_draft_limit(services, press.user.id)
            if not await services.flows.claim(flow.id, time.time()):
                raise AlreadyMade
            origin = Origin(**raw_origin)
            try:
                await start_writing(
                    services, app, origin,
                    _clip(str(kept.get("style") or ""), IDEA_MAX),
                    model=press.requester.chat.model,
                )  # fmt: skip
            except BaseException:
                await services.flows.release(flow.id, time.time())
                raise
        else:
            await answer(press.query, plain("answer_stale", press.lang))
            return
    except AlreadyMade:
        await answer(press.query, plain("answer_flow_done", press.lang))
        return
    except SongbotError as exc:
        await refuse(press, exc)
        return
    await answer(press.query, plain("answer_flow_making", press.lang))
    if press.message is not None:
        # The question is answered: its buttons go, the words stay.
        try:
            await press.message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:
            log.info("lyrics question %s keeps its buttons: %s", flow.id, exc)


# --- messages ----------------------------------------------------------------------------------


def _clip(text: str, limit: int = 4000) -> str:
    return truncate_utf16(text.strip(), limit)


async def _edit(message: Message, text: str) -> None:
    try:
        await message.get_bot().edit_message_text(
            chat_id=message.chat_id, message_id=message.message_id, text=text, reply_markup=None
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
