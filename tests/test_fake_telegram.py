"""The fake Bot API server, driven by the real python-telegram-bot 22.8 `Bot` and `Application`.

Why PTB and not raw HTTP: the fake is only useful if PTB's own encoding, error mapping and polling
loop work against it exactly as against Telegram. A few wire-level checks use httpx directly.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from songbot_fakes.audio_fixtures import make_mp3, make_ogg_opus
from songbot_fakes.telegram import FakeTelegram
from songbot_fakes.telegram_html import HtmlParseError, parse_html, utf16_len
from songbot_fakes.telegram_spec import FAKE_METHODS, load_spec, parse_extract, render_extract

USER = 501
PRIVATE = 501
GROUP = -100777
FORUM = -100888


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(
        token or fake.token,
        base_url=f"{fake.base_url}/bot",
        base_file_url=f"{fake.base_url}/file/bot",
    )


def make_app(fake: FakeTelegram) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(f"{fake.base_url}/file/bot")
        .build()
    )


@asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """PTB's manual lifecycle, as songbot's tests use it."""
    await app.initialize()
    await app.updater.start_polling(timeout=1, poll_interval=0)  # type: ignore[union-attr]
    await app.start()
    try:
        yield
    finally:
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake_telegram) as b:
        yield b


def seconds(value: int | timedelta) -> float:
    """RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA=1 (set in conftest)."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def jpeg(size: int = 200, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


# ---- identity, auth, routing ----------------------------------------------------------------


async def test_get_me_and_username(fake_telegram: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert bot.username == "SongTestBot"
    assert me.is_bot and me.can_read_all_group_messages is False
    first = fake_telegram.calls_to("getMe")[0]
    # initialize() sends getMe as a POST without any body or Content-Type.
    assert (first.http_method, first.content_type, first.params) == ("POST", "", {})


async def test_custom_username() -> None:
    async with FakeTelegram(username="OtherNameBot") as fake, make_bot(fake) as b:
        assert b.username == "OtherNameBot"


async def test_wrong_token_and_unknown_method(fake_telegram: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(fake_telegram, "999:WRONG-token"):
            pass
    assert fake_telegram.calls[-1].http_status == 401
    base = fake_telegram.base_url
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{base}/bot{fake_telegram.token}/sendNothing")
        other = await client.get(f"{base}/whatever")
        lower = await client.get(f"{base}/bot{fake_telegram.token}/getme")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert other.status_code == 404
    assert lower.json()["result"]["username"] == "SongTestBot"  # method names ignore case


async def test_request_styles_are_decoded_with_spec_types(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(PRIVATE)
    url = f"{fake_telegram.base_url}/bot{fake_telegram.token}/sendMessage"
    reply_markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with httpx.AsyncClient() as client:
        by_query = await client.get(url, params={"chat_id": str(PRIVATE), "text": "q"})
        by_form = await client.post(
            url,
            data={
                "chat_id": str(PRIVATE),
                "text": "123",
                "disable_notification": "true",
                "reply_markup": json.dumps(reply_markup),
            },
        )
        by_json = await client.post(url, json={"chat_id": PRIVATE, "text": "j", "x_unknown": 1})
        bad_bool = await client.post(
            url, data={"chat_id": str(PRIVATE), "text": "t", "protect_content": "maybe"}
        )
        bad_json = await client.post(
            url, data={"chat_id": str(PRIVATE), "text": "t", "reply_markup": "{nope"}
        )
        missing = await client.post(url, data={"chat_id": str(PRIVATE)})
    assert [r.status_code for r in (by_query, by_form, by_json)] == [200, 200, 200]
    assert by_form.json()["result"]["reply_markup"] == reply_markup
    form_call = fake_telegram.calls_to("sendMessage")[1]
    assert form_call.params["chat_id"] == PRIVATE  # Integer-or-String decoded as Integer
    assert form_call.params["text"] == "123"  # String stays a string
    assert form_call.params["disable_notification"] is True
    assert fake_telegram.calls_to("sendMessage")[2].params["x_unknown"] == 1
    for response in (bad_bool, bad_json, missing):
        body = response.json()
        assert response.status_code == 400 and body["ok"] is False and body["error_code"] == 400
    assert missing.json()["description"] == "Bad Request: message text is empty"


# ---- updates and handlers -------------------------------------------------------------------


async def test_command_addressing_and_edits_with_application(fake_telegram: FakeTelegram) -> None:
    app = make_app(fake_telegram)
    commands: list[str] = []
    edits: list[tuple[str, bool]] = []
    seen: list[int] = []

    async def on_song(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        commands.append(update.message.text)

    async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.edited_message
        assert message is not None and message.text is not None
        edits.append((message.text, message.edit_date is not None))

    async def on_any(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    app.add_handler(CommandHandler("song", on_song, filters=filters.UpdateType.MESSAGE))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit))
    app.add_handler(MessageHandler(filters.ALL, on_any), group=1)
    fake_telegram.add_chat(GROUP, type="supergroup", title="Band")
    async with polling(app):
        other = fake_telegram.send_text(GROUP, USER, "/song@OtherBot rock")
        ours = fake_telegram.send_text(GROUP, USER, "/song@SongTestBot pop\nla la")
        shouty = fake_telegram.send_text(GROUP, USER, "/SONG@songtestbot jazz")
        fake_telegram.edit_text(GROUP, ours["message_id"], "/song@SongTestBot disco")
        for _ in range(200):
            if len(seen) == 4:
                break
            await asyncio.sleep(0.02)
    assert other["entities"] == [{"type": "bot_command", "offset": 0, "length": 14}]
    assert ours["entities"][0]["length"] == len("/song@SongTestBot")
    assert shouty["entities"][0]["length"] == len("/SONG@songtestbot")
    assert commands == ["/song@SongTestBot pop\nla la", "/SONG@songtestbot jazz"]
    assert edits == [("/song@SongTestBot disco", True)]
    assert len(seen) == 4
    # Updater.stop() confirmed the last offset: nothing is left queued.
    assert fake_telegram.pending_updates == 0
    assert fake_telegram.messages(GROUP)[1]["text"] == "/song@SongTestBot disco"


async def test_injected_updates_parse_in_ptb(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_user(USER, first_name="Ana", username="ana", language_code="pt-br")
    fake_telegram.add_chat(GROUP, type="supergroup")
    voice = fake_telegram.send_media(PRIVATE, USER, "voice", make_ogg_opus(1.0), caption="/song x")
    fake_telegram.send_media(PRIVATE, USER, "audio", make_mp3(1.0), file_name="demo.mp3")
    fake_telegram.send_media(PRIVATE, USER, "document", b"ID3...", mime_type="audio/mpeg")
    fake_telegram.send_media(PRIVATE, USER, "video_note", b"\x00" * 10, duration=3)
    fake_telegram.send_media(PRIVATE, USER, "video", b"\x00" * 10, duration=3)
    fake_telegram.send_media(PRIVATE, USER, "photo", jpeg(64))
    fake_telegram.send_media(PRIVATE, USER, "sticker", b"RIFF")
    root = fake_telegram.send_text(GROUP, USER, "thread root")
    fake_telegram.send_text(GROUP, USER, "in thread", reply_to=root["message_id"], thread_id=9)
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 9
    msgs = [u.message for u in updates]
    assert all(m is not None for m in msgs)
    m = [x for x in msgs if x is not None]
    assert m[0].voice is not None and m[0].voice.mime_type == "audio/ogg"
    assert m[0].voice.duration == timedelta(seconds=1)
    assert m[0].caption_entities[0].type == "bot_command"
    assert m[0].from_user is not None and m[0].from_user.language_code == "pt-br"
    assert m[1].audio is not None and m[1].audio.file_name == "demo.mp3"
    assert m[2].document is not None and m[2].document.mime_type == "audio/mpeg"
    assert m[3].video_note is not None and m[4].video is not None
    assert m[5].photo[-1].width == 64
    assert m[6].sticker is not None
    threaded = m[8]
    assert threaded.message_thread_id == 9 and threaded.is_topic_message is None
    assert threaded.reply_to_message is not None
    assert threaded.reply_to_message.message_id == root["message_id"]
    assert voice["voice"]["file_size"] == len(make_ogg_opus(1.0))


async def test_get_updates_offset_limit_and_wakeup(fake_telegram: FakeTelegram, bot: Bot) -> None:
    for n in range(5):
        fake_telegram.send_text(PRIVATE, USER, f"m{n}")
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in first if u.message] == ["m0", "m1"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["m2", "m3", "m4"]
    await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
    assert fake_telegram.pending_updates == 0

    async def inject_later() -> None:
        await asyncio.sleep(0.2)
        fake_telegram.send_text(PRIVATE, USER, "late")

    task = asyncio.create_task(inject_later())
    started = asyncio.get_running_loop().time()
    woken = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=5)
    await task
    assert [u.message.text for u in woken if u.message] == ["late"]
    assert asyncio.get_running_loop().time() - started < 2  # woken early, not at the timeout
    # allowed_updates filters (and drops) update types the bot did not ask for.
    fake_telegram.send_text(PRIVATE, USER, "skipped")
    assert await bot.get_updates(offset=woken[-1].update_id + 1, allowed_updates=["poll"]) == ()
    assert fake_telegram.pending_updates == 0


async def test_concurrent_get_updates_conflict(fake_telegram: FakeTelegram) -> None:
    async with make_bot(fake_telegram) as first, make_bot(fake_telegram) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        for _ in range(100):
            if fake_telegram.polls_waiting:
                break
            await asyncio.sleep(0.01)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await waiting


# ---- sending text ---------------------------------------------------------------------------


async def test_send_message_html(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    sent = await bot.send_message(
        PRIVATE,
        '<b>Song</b> &amp; <i>lyrics</i> 🎵 <a href="https://x.example/?a=1&amp;b=2">link</a>',
        parse_mode=ParseMode.HTML,
    )
    assert sent.text == "Song & lyrics 🎵 link"
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [("bold", 0, 4), ("italic", 7, 6), ("text_link", 17, 4)]
    assert sent.entities[2].url == "https://x.example/?a=1&b=2"
    assert sent.from_user is not None and sent.from_user.username == "SongTestBot"
    assert fake_telegram.bot_messages(PRIVATE)[0]["text"] == "Song & lyrics 🎵 link"

    bad = ["<b>open", "<foo>x</foo>", "1 < 2", "rock & roll", "</b>", "<b><i>x</b></i>", "&nbsp;"]
    for text in bad:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(PRIVATE, text, parse_mode=ParseMode.HTML)
    # Without parse_mode the same text is fine and kept verbatim.
    plain = await bot.send_message(PRIVATE, "1 < 2 & <b>")
    assert plain.text == "1 < 2 & <b>" and not plain.entities


async def test_text_length_limits(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    fake_telegram.flood_limits = False
    ok = await bot.send_message(PRIVATE, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(ok.text or "") == 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(PRIVATE, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(PRIVATE, "🎵" * 2049)  # 4098 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(PRIVATE, "<b> </b>\n", parse_mode=ParseMode.HTML)
    trimmed = await bot.send_message(PRIVATE, "  <b>hi</b>  ", parse_mode=ParseMode.HTML)
    assert trimmed.text == "hi" and trimmed.entities[0].offset == 0


async def test_edit_and_delete(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Retry", callback_data="v1:retry:7")]])
    sent = await bot.send_message(PRIVATE, "queued", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("queued", PRIVATE, sent.message_id, reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "<i>working</i>", PRIVATE, sent.message_id, parse_mode=ParseMode.HTML
    )
    assert isinstance(edited, Message) and edited.text == "working"
    assert edited.edit_date is not None and edited.entities[0].type == "italic"
    assert fake_telegram.message(PRIVATE, sent.message_id)["text"] == "working"
    assert "reply_markup" not in fake_telegram.message(PRIVATE, sent.message_id)
    await bot.edit_message_reply_markup(PRIVATE, sent.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(PRIVATE, sent.message_id, reply_markup=keyboard)
    assert await bot.delete_message(PRIVATE, sent.message_id) is True
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("done", PRIVATE, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(PRIVATE, sent.message_id)
    user_msg = fake_telegram.send_text(PRIVATE, USER, "mine")
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("hijack", PRIVATE, user_msg["message_id"])
    assert [m["text"] for m in fake_telegram.messages(PRIVATE)] == ["mine"]


async def test_replies_and_topics(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(FORUM, type="supergroup", title="Forum", is_forum=True)
    fake_telegram.add_chat(GROUP, type="supergroup")
    topic_msg = fake_telegram.send_text(
        FORUM, USER, "/song@SongTestBot x", thread_id=7, is_topic=True
    )
    plain_group = fake_telegram.send_text(GROUP, USER, "hello", thread_id=3)
    updates = await bot.get_updates(timeout=0)
    topic_update, group_update = updates
    assert topic_update.message is not None and group_update.message is not None
    # PTB's shortcut copies the thread only for real topics and quotes in groups.
    reply = await topic_update.message.reply_text("on it")
    assert reply.message_thread_id == 7 and reply.is_topic_message is True
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == topic_msg["message_id"]
    assert reply.reply_to_message.reply_to_message is None
    call = fake_telegram.calls_to("sendMessage")[-1]
    assert call.params["message_thread_id"] == 7
    assert call.params["reply_parameters"] == {"message_id": topic_msg["message_id"]}
    group_reply = await group_update.message.reply_text("hi")
    assert "message_thread_id" not in fake_telegram.calls_to("sendMessage")[-1].params
    assert group_reply.reply_to_message is not None
    assert group_reply.reply_to_message.message_id == plain_group["message_id"]

    for chat, thread in ((FORUM, 1), (FORUM, 99), (GROUP, 3)):
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(chat, "x", message_thread_id=thread)
    fake_telegram.delete_message(FORUM, topic_msg["message_id"])
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(
            FORUM, "x", reply_parameters=ReplyParameters(topic_msg["message_id"])
        )
    lenient = await bot.send_message(
        FORUM,
        "x",
        reply_parameters=ReplyParameters(
            topic_msg["message_id"], allow_sending_without_reply=True
        ),
    )
    assert lenient.reply_to_message is None


# ---- files ----------------------------------------------------------------------------------


async def test_send_audio_multipart_and_file_id_resend(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    fake_telegram.add_chat(PRIVATE)
    audio = make_mp3(2.0)
    thumb = jpeg(200)
    sent = await bot.send_audio(
        PRIVATE,
        audio=audio,
        filename="Neon Nights.mp3",
        title="Neon Nights",
        performer="songbot",
        duration=2,
        caption="<b>Neon</b> Nights",
        parse_mode=ParseMode.HTML,
        thumbnail=thumb,
    )
    assert sent.audio is not None
    assert (sent.audio.title, sent.audio.performer) == ("Neon Nights", "songbot")
    assert (sent.audio.file_name, sent.audio.mime_type) == ("Neon Nights.mp3", "audio/mpeg")
    assert sent.audio.file_size == len(audio) and sent.audio.duration == timedelta(seconds=2)
    assert sent.audio.thumbnail is not None and sent.audio.thumbnail.width == 200
    assert sent.caption == "Neon Nights" and sent.caption_entities[0].type == "bold"
    call = fake_telegram.calls_to("sendAudio")[0]
    assert call.files["audio"].data == audio
    assert call.files["audio"].content_type == "audio/mpeg"
    assert call.params["title"] == "Neon Nights" and call.params["duration"] == 2
    assert str(call.params["thumbnail"]).startswith("attach://")
    thumb_part = call.file("thumbnail")
    assert thumb_part is not None and thumb_part.data == thumb
    assert [u.data for u in fake_telegram.uploaded_audio] == [audio]

    again = await bot.send_audio(PRIVATE, audio=sent.audio.file_id)
    assert again.audio is not None and again.audio.file_unique_id == sent.audio.file_unique_id
    assert len(fake_telegram.uploaded_audio) == 1
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_audio(PRIVATE, audio="CQACAgIAAxkBAAInvented")
    voice = await bot.send_voice(PRIVATE, voice=make_ogg_opus(1.0), filename="v.ogg")
    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
        await bot.send_audio(PRIVATE, audio=voice.voice.file_id)
    document = await bot.send_document(PRIVATE, document=b"%PDF-1.4", filename="a.pdf")
    assert document.document is not None and document.document.file_name == "a.pdf"
    photo = await bot.send_photo(PRIVATE, photo=jpeg(90), filename="p.jpg")
    assert photo.photo[-1].width == 90


async def test_upload_checks(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    fake_telegram.flood_limits = False
    mp3 = make_mp3(1.0)
    with pytest.raises(BadRequest, match=r"(?i)thumbnail"):
        await bot.send_audio(PRIVATE, audio=mp3, filename="a.mp3", thumbnail=jpeg(100, "PNG"))
    with pytest.raises(BadRequest, match=r"(?i)thumbnail"):
        await bot.send_audio(PRIVATE, audio=mp3, filename="a.mp3", thumbnail=jpeg(400))
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_audio(PRIVATE, audio=mp3, filename="a.mp3", caption="c" * 1025)
    fake_telegram.upload_limit = 1000
    with pytest.raises(NetworkError) as excinfo:
        await bot.send_audio(PRIVATE, audio=mp3, filename="a.mp3")
    assert not isinstance(excinfo.value, BadRequest)
    assert fake_telegram.calls_to("sendAudio")[-1].http_status == 413
    assert fake_telegram.uploaded_audio == []


async def test_get_file_and_download(fake_telegram: FakeTelegram, bot: Bot) -> None:
    data = make_ogg_opus(1.0)
    sent = fake_telegram.send_media(PRIVATE, USER, "voice", data)
    file = await bot.get_file(sent["voice"]["file_id"])
    assert file.file_size == len(data)
    assert file.file_path is not None and file.file_path.endswith(".oga")
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == data
    assert bytes(await file.download_as_bytearray()) == data
    assert (
        fake_telegram.downloads == [fake_telegram.calls_to("getFile")[0].result["file_path"]] * 2
    )
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")

    big = fake_telegram.send_media(PRIVATE, USER, "audio", b"x" * 10, declared_size=20_000_001)
    assert big["audio"]["file_size"] == 20_000_001
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big["audio"]["file_id"])


# ---- errors, scripting, flood control -------------------------------------------------------


async def test_scripted_faults(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    fake_telegram.add_chat(GROUP, type="supergroup")
    fault = fake_telegram.script("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(PRIVATE, "hi")
    assert excinfo.value.retry_after == timedelta(seconds=3)
    assert (await bot.send_message(PRIVATE, "again")).text == "again"
    assert fault.hits == 1 and fault.exhausted
    assert [c.scripted for c in fake_telegram.rate_limited] == [True]

    fake_telegram.script("sendMessage", status=500, times=2, match=lambda p: p["chat_id"] == GROUP)
    await bot.send_message(PRIVATE, "not matched")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(GROUP, "x")
    await bot.send_message(GROUP, "third works")
    fake_telegram.script("sendChatAction", status=403)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_chat_action(PRIVATE, "typing")
    fake_telegram.script("getMe", status=None, delay=1.0)
    with pytest.raises(TimedOut):
        await bot.get_me(read_timeout=0.2)


async def test_flood_limits(fake_telegram: FakeTelegram, bot: Bot) -> None:
    now = [1000.0]
    fake_telegram.clock = lambda: now[0]
    fake_telegram.add_chat(GROUP, type="supergroup")
    fake_telegram.add_chat(PRIVATE)
    # A burst in a private chat: the bucket lets a few through, then 429 until it refills.
    waits: list[float] = []
    for n in range(8):
        try:
            await bot.send_message(PRIVATE, f"p{n}")
        except RetryAfter as exc:
            waits.append(seconds(exc.retry_after))
    assert len(waits) == 8 - fake_telegram.chat_burst
    assert all(wait >= 1 for wait in waits)
    now[0] += 1.0
    await bot.send_message(PRIVATE, "after a second")
    # 25 messages in one group inside a minute, paced under the per-chat rate: the 21st fails.
    outcomes: list[str] = []
    for n in range(25):
        now[0] += 1.5
        try:
            await bot.send_message(GROUP, f"g{n}")
            outcomes.append("ok")
        except RetryAfter as exc:
            outcomes.append(f"429:{seconds(exc.retry_after):.0f}")
    assert outcomes[:20] == ["ok"] * 20
    assert outcomes[20] == "429:30"  # the window's oldest message leaves it 30 s later
    assert all(o.startswith("429:") for o in outcomes[20:])
    assert len(fake_telegram.rate_limited) == len(waits) + 5
    assert all(c.response["parameters"]["retry_after"] >= 1 for c in fake_telegram.rate_limited)
    # Global limit: 30 messages per second across all chats.
    now[0] += 120
    for chat_id in range(2001, 2031):
        fake_telegram.add_chat(chat_id)
        await bot.send_message(chat_id, "broadcast")
    fake_telegram.add_chat(2031)
    with pytest.raises(RetryAfter):
        await bot.send_message(2031, "one too many")
    now[0] += 1.0
    await bot.send_message(2031, "next second")
    # A stalled receiver's allowance narrows the window; it does not let a real burst through.
    now[0] += 5.0
    fake_telegram.flood_jitter = 0.2
    for chat_id in range(2101, 2131):
        fake_telegram.add_chat(chat_id)
        await bot.send_message(chat_id, "burst")
    fake_telegram.add_chat(2131)
    with pytest.raises(RetryAfter):
        await bot.send_message(2131, "a burst is still a burst")
    # Even messages over 1.2 s whose first ones were handled late pass with the allowance.
    now[0] += 5.0
    for n, chat_id in enumerate(range(2201, 2233)):
        fake_telegram.add_chat(chat_id)
        now[0] += 0.0375 if n else 0.0
        await bot.send_message(chat_id, "even")
    fake_telegram.flood_jitter = 0.0
    # Chat actions and callback answers are not counted.
    for _ in range(5):
        await bot.send_chat_action(GROUP, "typing")
    fake_telegram.flood_limits = False
    await bot.send_message(GROUP, "unlimited now")


async def test_flood_limit_real_clock_burst(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(GROUP, type="supergroup")
    results = await asyncio.gather(
        *(bot.send_message(GROUP, f"n{n}") for n in range(25)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RetryAfter)]
    assert refused and len(refused) == len(fake_telegram.rate_limited)
    assert all(not c.scripted for c in fake_telegram.rate_limited)
    assert len(fake_telegram.bot_messages(GROUP)) == 25 - len(refused)


async def test_chat_states(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    fake_telegram.add_chat(GROUP, type="supergroup")
    fake_telegram.block_chat(PRIVATE)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(PRIVATE, "x")
    fake_telegram.block_chat(GROUP, kicked=True)
    with pytest.raises(Forbidden, match=r"(?i)kicked from the supergroup chat"):
        await bot.send_message(GROUP, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-42, "x")
    fake_telegram.unblock_chat(PRIVATE)
    await bot.send_message(PRIVATE, "back")
    fake_telegram.forget_chat(PRIVATE)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_chat_action(PRIVATE, "typing")
    assert [m["text"] for m in fake_telegram.messages(PRIVATE)] == ["back"]


# ---- other methods --------------------------------------------------------------------------


async def test_callback_queries_with_application(fake_telegram: FakeTelegram) -> None:
    app = make_app(fake_telegram)
    answered = asyncio.Event()

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data == "v1:retry:7"
        await query.answer("Retrying")
        answered.set()

    app.add_handler(CallbackQueryHandler(on_button))
    fake_telegram.add_chat(PRIVATE)
    async with polling(app):
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Retry", callback_data="v1:retry:7")]]
        )
        sent = await app.bot.send_message(PRIVATE, "failed", reply_markup=markup)
        with pytest.raises(ValueError, match="no button"):
            fake_telegram.press_button(PRIVATE, USER, sent.message_id, "v1:other")
        query_id = fake_telegram.press_button(PRIVATE, USER, sent.message_id, "v1:retry:7")
        await asyncio.wait_for(answered.wait(), 5)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(query_id, "twice")
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("X", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await app.bot.send_message(PRIVATE, "bad", reply_markup=too_long)
    assert fake_telegram.callback_answers[query_id]["text"] == "Retrying"


async def test_commands_members_chat_actions(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(GROUP, type="supergroup", admins=[USER])
    fake_telegram.add_user(602, first_name="Bo")
    fake_telegram.set_member_status(GROUP, 602, "creator")
    song = [BotCommand("song", "Make a song")]
    assert await bot.set_my_commands(song)
    group_scope = BotCommandScopeAllGroupChats()
    await bot.set_my_commands([BotCommand("help", "Help")], scope=group_scope)
    assert [c.command for c in await bot.get_my_commands()] == ["song"]
    assert [c.command for c in await bot.get_my_commands(scope=group_scope)] == ["help"]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(GROUP)) == ()
    assert fake_telegram.commands() == [{"command": "song", "description": "Make a song"}]
    for bad in ([BotCommand("Song", "x")], [BotCommand(f"c{n}", "d") for n in range(101)]):
        with pytest.raises(BadRequest):
            await bot.set_my_commands(bad)

    admin = await bot.get_chat_member(GROUP, USER)
    assert isinstance(admin, ChatMemberAdministrator) and admin.can_delete_messages
    assert isinstance(await bot.get_chat_member(GROUP, 602), ChatMemberOwner)
    fake_telegram.add_user(603)
    assert (await bot.get_chat_member(GROUP, 603)).status == "member"
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(GROUP, 999999)
    chat = await bot.get_chat(GROUP)
    assert chat.id == GROUP and chat.type == "supergroup"

    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]])
    sent = await bot.send_message(GROUP, "pick", reply_markup=markup)
    query_id = fake_telegram.press_button(GROUP, USER, sent.message_id, "go")
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(query_id, "x" * 201)
    assert await bot.answer_callback_query(query_id, "x" * 200)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")

    assert await bot.send_chat_action(GROUP, "upload_voice") is True
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(GROUP, "dancing")


async def test_webhook_mode(fake_telegram: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[dict[str, Any], str | None, str]] = []
    fail_first = [True]

    async def endpoint(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret_-":
            return web.Response(status=403)
        if fail_first[0]:
            fail_first[0] = False
            return web.Response(status=500)
        received.append(
            (
                await request.json(),
                request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                request.headers["Content-Type"],
            )
        )
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", endpoint)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake_telegram.webhook_backoff = 0.01
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret_-", allowed_updates=["message"])
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates(timeout=0)
        sent = fake_telegram.send_text(PRIVATE, USER, "/song via webhook")
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
        assert received and received[0][0]["message"]["text"] == "/song via webhook"
        assert received[0][0]["message"]["message_id"] == sent["message_id"]
        assert received[0][1:] == ("s3cret_-", "application/json")
        assert fake_telegram.webhook_deliveries[0].attempts == 2
        update = {"update_id": 1, "message": sent}
        assert await fake_telegram.post_raw_update(update, secret="wrong") == 403
        assert await fake_telegram.post_raw_update(update, secret=None) == 403
        assert await fake_telegram.post_raw_update(update, secret="s3cret_-") == 200
        with pytest.raises(BadRequest):
            await bot.set_webhook(url, secret_token="bad secret!")
        assert await bot.delete_webhook()
        fake_telegram.send_text(PRIVATE, USER, "polled again")
        polled = await bot.get_updates(timeout=0)
        assert [u.message.text for u in polled if u.message] == ["polled again"]
    finally:
        await runner.cleanup()


async def test_an_unacknowledged_update_is_redelivered_until_the_webhook_takes_it(
    fake_telegram: FakeTelegram, bot: Bot, unused_tcp_port: int
) -> None:
    """Telegram keeps an update the webhook never answered 2xx and retries it (the kill test
    in webhook mode relies on it): while nothing listens, and after a 500, until a 200."""
    received: list[int] = []
    statuses = [500]

    async def endpoint(request: web.Request) -> web.Response:
        received.append((await request.json())["update_id"])
        return web.Response(status=statuses.pop() if statuses else 200)

    fake_telegram.webhook_attempts = None
    fake_telegram.webhook_backoff, fake_telegram.webhook_backoff_max = 0.01, 0.05
    url = f"http://127.0.0.1:{unused_tcp_port}/hook"
    assert await bot.set_webhook(url, secret_token="s3cret_-")
    fake_telegram.send_text(PRIVATE, USER, "nobody listens yet")
    for _ in range(500):
        if len(fake_telegram.webhook_posts) >= 5:
            break
        await asyncio.sleep(0.01)
    refused = list(fake_telegram.webhook_posts)
    assert len(refused) >= 5 and all(p.done and p.status is None for p in refused)
    assert all("Connection failed" in p.error for p in refused)
    assert not fake_telegram.webhook_deliveries  # not given up on

    receiver = web.Application()
    receiver.router.add_post("/hook", endpoint)
    runner = web.AppRunner(receiver)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        for _ in range(500):
            if fake_telegram.webhook_deliveries:
                break
            await asyncio.sleep(0.01)
        [delivery] = fake_telegram.webhook_deliveries
        assert delivery.status == 200 and delivery.attempts == len(fake_telegram.webhook_posts)
        assert delivery.attempts >= len(refused) + 2
        assert len(received) == 2 and len(set(received)) == 1  # the same update: 500, then 200
        assert [p.status for p in fake_telegram.webhook_posts[-2:]] == [500, 200]
        await asyncio.sleep(0.1)
        assert len(received) == 2  # acknowledged: never again
    finally:
        await runner.cleanup()


async def test_wait_for_call_explains_timeout(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.add_chat(PRIVATE)
    await bot.send_message(PRIVATE, "one")
    call = await fake_telegram.wait_for_call("sendMessage", lambda c: c.params["text"] == "one")
    assert call.ok and call.result["text"] == "one"
    with pytest.raises(TimeoutError, match=r"(?s)sendAudio.*sendMessage -> 200"):
        await fake_telegram.wait_for_call("sendAudio", timeout=0.1)

    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(PRIVATE, "two")

    task = asyncio.create_task(later())
    second = await fake_telegram.wait_for_call("sendMessage", count=2, timeout=5)
    await task
    assert second.params["text"] == "two"


async def test_results_match_the_spec(fake_telegram: FakeTelegram, bot: Bot) -> None:
    """Every result the fake returned carries what the official spec marks as required."""
    fake_telegram.add_chat(FORUM, type="supergroup", is_forum=True, admins=[USER])
    fake_telegram.send_media(FORUM, USER, "voice", make_ogg_opus(1.0), thread_id=4, is_topic=True)
    updates = await bot.get_updates(timeout=0)
    assert updates[0].message is not None
    await updates[0].message.reply_audio(make_mp3(1.0), filename="s.mp3", thumbnail=jpeg(100))
    await bot.send_message(
        FORUM, "<pre><code class='language-py'>x = 1</code></pre>", parse_mode=ParseMode.HTML
    )
    await bot.get_chat(FORUM)
    await bot.get_chat_member(FORUM, USER)
    await bot.get_file(updates[0].message.voice.file_id)  # type: ignore[union-attr]
    await bot.get_webhook_info()
    spec = fake_telegram.spec
    checked = 0
    for call in fake_telegram.calls:
        if not call.ok:
            continue
        returns = spec.methods[call.method].returns
        error = spec.check(call.result, returns, f"{call.method}.result")
        assert error is None, error
        checked += 1
    assert checked == len(fake_telegram.calls) >= 8
    pre = fake_telegram.bot_messages(FORUM)[-1]["entities"][0]
    assert pre == {"type": "pre", "offset": 0, "length": 5, "language": "py"}


# ---- the HTML parser and the spec extract on their own --------------------------------------


def test_html_parser_entities() -> None:
    parsed = parse_html(
        "<b>b<i>bi</i></b><u>u</u><s>s</s><tg-spoiler>sp</tg-spoiler>"
        '<span class="tg-spoiler">x</span><code>c</code><blockquote expandable>q</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>&#x1F600;&#39;&quot;'
    )
    assert parsed.text == "bbiusspxcq👍😀'\""
    assert [(e["type"], e["offset"], e["length"]) for e in parsed.entities] == [
        ("bold", 0, 3),
        ("italic", 1, 2),
        ("underline", 3, 1),
        ("strikethrough", 4, 1),
        ("spoiler", 5, 2),
        ("spoiler", 7, 1),
        ("code", 8, 1),
        ("expandable_blockquote", 9, 1),
        ("custom_emoji", 10, 2),
    ]
    for bad in ('<span class="x">a</span>', "<a>x</a>", "<b", '<a href="x>y</a>', "<br/>", "&#0;"):
        with pytest.raises(HtmlParseError):
            parse_html(bad)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_round_trips(text: str) -> None:
    assert parse_html(html.escape(text)).text == text
    wrapped = parse_html(f"<b>{html.escape(text, quote=False)}</b>")
    assert wrapped.text == text
    expected = [{"type": "bold", "offset": 0, "length": utf16_len(text)}] if text else []
    assert wrapped.entities == expected


def test_embedded_spec_extract_is_consistent() -> None:
    spec = load_spec()
    assert spec.version.startswith("Bot API")
    assert set(FAKE_METHODS) <= set(spec.methods) and len(spec.all_method_names) > 150
    assert parse_extract(render_extract(spec)).methods == spec.methods
    primitives = {"String", "Integer", "Boolean", "Float", "InputFile", "True"}
    for method in FAKE_METHODS:
        for field_spec in spec.methods[method].fields.values():
            for type_name in field_spec.types:
                base = type_name.replace("Array of ", "")
                assert base in primitives or base in spec.types, (method, type_name)
    assert spec.methods["sendAudio"].fields["chat_id"].required
    assert spec.methods["sendAudio"].fields["audio"].types == ("InputFile", "String")


# --- inline mode (#26.2) ---------------------------------------------------------------------


async def test_inline_queries_and_their_answers_are_checked_like_telegram(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    from telegram import (
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        InlineQueryResultCachedAudio,
        InlineQueryResultCachedVoice,
        SwitchInlineQueryChosenChat,
    )

    tg = fake_telegram
    tg.add_chat(PRIVATE)
    with pytest.raises(RuntimeError):  # BotFather's inline mode is off: no inline queries
        tg.send_inline_query(USER, "x")
    sent = await bot.send_audio(PRIVATE, audio=make_mp3(1.0), filename="a.mp3")
    assert sent.audio is not None
    file_id = sent.audio.file_id
    tg.set_inline_mode(True)
    assert (await bot.get_me()).supports_inline_queries is True

    def audio(result_id: str, fid: str = file_id) -> InlineQueryResultCachedAudio:
        return InlineQueryResultCachedAudio(result_id, fid, caption="<b>t</b>", parse_mode="HTML")

    async def refused(results: list[Any], description: str, **kwargs: Any) -> None:
        query = tg.send_inline_query(USER, "song")
        with pytest.raises(BadRequest, match=f"(?i){description}"):
            await bot.answer_inline_query(query, results, **kwargs)

    await refused([audio("1"), audio("1")], "RESULT_ID_DUPLICATE")
    await refused([audio(str(n)) for n in range(51)], "RESULTS_TOO_MUCH")
    await refused([audio("x" * 65)], "RESULT_ID_INVALID")
    await refused([audio("1", "CQACAgIAAxkBAAIunknown")], "wrong file identifier")
    await refused([InlineQueryResultCachedVoice("1", file_id, "t")], "type of file mismatch")
    await refused([audio("1")], "NEXT_OFFSET_INVALID", next_offset="9" * 65)
    query = tg.send_inline_query(USER, "song", offset="20")
    assert await bot.answer_inline_query(query, [audio("1")], is_personal=True, next_offset="40")
    assert tg.inline_answers[query]["results"][0]["audio_file_id"] == file_id
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):  # answered once only
        await bot.answer_inline_query(query, [])
    stale = tg.send_inline_query(USER, "late")
    tg.clock = lambda: 10**9  # far past the query's lifetime
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(stale, [])
    tg.clock = time.monotonic

    # The updates parse in PTB; choosing a result posts it via the bot and says so.
    updates = await bot.get_updates(timeout=0)
    inline = [u.inline_query for u in updates if u.inline_query is not None]
    assert [(q.query, q.offset) for q in inline][-2:] == [("song", "20"), ("late", "")]
    message = tg.choose_inline_result(query, "1", PRIVATE)
    assert message["via_bot"]["username"] == tg.username
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert [u.chosen_inline_result.result_id for u in updates if u.chosen_inline_result] == ["1"]

    # switch_inline_query_chosen_chat is typed by the spec; an empty keyboard is refused.
    picker = InlineKeyboardButton(
        "share", switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat("#1", True)
    )
    ok = await bot.send_message(PRIVATE, "x", reply_markup=InlineKeyboardMarkup([[picker]]))
    assert ok.reply_markup is not None
    raw = {"inline_keyboard": [[{"text": "s", "switch_inline_query_chosen_chat": "#1"}]]}
    with pytest.raises(BadRequest, match="switch_inline_query_chosen_chat"):
        await bot.send_message(PRIVATE, "x", reply_markup=raw)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="inline_keyboard"):
        await bot.send_message(
            PRIVATE, "x", api_kwargs={"reply_markup": json.dumps({"inline_keyboard": []})}
        )
