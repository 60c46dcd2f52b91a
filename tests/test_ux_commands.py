"""End to end: the command menu, /start, /help, /model, /language, /jobs and /cancel against the
fake Bot API, in every catalogue language."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.ext import CommandHandler

from bot.aimlapi.models import MODELS
from bot.i18n import t
from bot.progress.status import song_name
from handlers.help import declared_commands, menu_commands
from handlers.settings import MODEL_ORDER
from songbot_fakes.telegram_html import utf16_len
from storage.states import JobState
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import (
    BOT,
    GROUP,
    LYRICS,
    TITLE,
    all_handled,
    ask,
    button_data,
    deliver,
    edited,
    help_section,
    ok_reply_to,
    press,
    shown,
    submits,
)


def entities_of(message: dict[str, Any], kind: str) -> list[str]:
    text = message["text"].encode("utf-16-le")
    return [
        text[e["offset"] * 2 : (e["offset"] + e["length"]) * 2].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == kind
    ]


async def test_command_menus_are_registered_per_scope_and_language(harness: BotHarness) -> None:
    tg = harness.tg
    private = {"type": "all_private_chats"}
    groups = {"type": "all_group_chats"}
    menus = menu_commands(harness.services.config)
    PRIVATE_COMMANDS, GROUP_COMMANDS = ([c.name for c in menu] for menu in menus)
    assert [c["command"] for c in tg.commands(private)] == list(PRIVATE_COMMANDS)
    assert [c["command"] for c in tg.commands(groups)] == list(GROUP_COMMANDS)
    english = {c["command"]: c["description"] for c in tg.commands(private)}
    assert english["song"] == "Make a song: /song <style> + lyrics"  # plain text, not HTML
    for lang, word in (("ru", "песню"), ("es", "canción")):
        translated = {c["command"]: c["description"] for c in tg.commands(private, lang)}
        assert list(translated) == list(PRIVATE_COMMANDS)
        assert word in translated["help"]
        assert [c["command"] for c in tg.commands(groups, lang)] == list(GROUP_COMMANDS)


def served_commands(harness: BotHarness) -> set[str]:
    """The commands a CommandHandler of the real Application answers."""
    return {
        command
        for group in harness.app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


async def test_every_menu_command_has_a_handler_and_every_handled_command_is_declared(
    harness: BotHarness,
) -> None:
    """Issue #27 item 2: commands are declared once beside their handlers and the menu is built
    from those declarations; the two cannot drift apart unnoticed."""
    declared = declared_commands()
    assert len({c.name for c in declared}) == len(declared)  # each command declared once
    assert served_commands(harness) == {c.name for c in declared}
    for scope in ("private", "group"):
        places = [getattr(c, scope) for c in declared if getattr(c, scope) is not None]
        assert sorted(places) == list(range(len(places)))  # one place each, no gaps
    for env, paid in (({}, False), ({"SONGBOT_STARS_PER_SONG": "50"}, True)):
        await harness.restart(**env)
        private, group = menu_commands(harness.services.config)
        assert {c.name for c in (*private, *group)} <= served_commands(harness)
        assert ("buy" in {c.name for c in private}) is paid
        for menu, scope in ((private, "all_private_chats"), (group, "all_group_chats")):
            registered = harness.tg.commands({"type": scope})
            assert [c["command"] for c in registered] == [c.name for c in menu]
            assert [c["description"] for c in registered] == [t(c.key, "en") for c in menu]


async def test_start_welcomes_with_an_example_to_tap(harness: BotHarness) -> None:
    reply = (await ask(harness, PRIVATE_CHAT, USER, "/start")).result
    codes = entities_of(reply, "code")
    assert codes and codes[0].startswith("/song ")
    assert "\n" in codes[0]  # style line plus lyrics: the whole example copies in one tap
    assert "/help" in reply["text"]


@pytest.mark.harness_env(SONGBOT_USER_DAILY_LIMIT="5")
async def test_help_fits_one_screen_with_more_buttons(harness: BotHarness) -> None:
    """Issue #25 item 15: the first /help screen is short; the rest is one tap away."""
    reply = (await ask(harness, PRIVATE_CHAT, USER, "/help")).result
    text = reply["text"]
    assert len(text.splitlines()) <= 14 and utf16_len(text) <= 700, text
    assert button_data(reply) == [
        "v1:help:ways",
        "v1:help:models",
        "v1:help:refs",
        "v1:help:groups",
        "v1:help:limits",
    ]
    assert entities_of(reply, "code")[0].startswith("/song ")
    models = await help_section(harness, PRIVATE_CHAT, USER, "models")
    for spec in MODELS.values():
        assert spec.title in models
    limits = await help_section(harness, PRIVATE_CHAT, USER, "limits")
    assert "10,000 characters" in limits and "5 songs per person per day" in limits
    assert f"/song@{BOT}" in await help_section(harness, PRIVATE_CHAT, USER, "groups")
    ways = await help_section(harness, PRIVATE_CHAT, USER, "ways")
    assert "/song model:" in ways and "|" in ways


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE="32")  # the per-group pacing, sped up
async def test_help_in_a_group_is_short_and_model_for_members_is_one_line(
    harness: BotHarness,
) -> None:
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band", admins=[7777])
    member = 7778
    tg.add_user(member, language_code="en")
    reply = (await ask(harness, GROUP, member, f"/help@{BOT}")).result
    assert len(reply["text"].splitlines()) <= 3 and "reply_markup" not in reply
    model = (await ask(harness, GROUP, member, f"/model@{BOT}")).result
    assert len(model["text"].splitlines()) == 1 and "reply_markup" not in model
    admin = (await ask(harness, GROUP, 7777, f"/model@{BOT}")).result
    assert button_data(admin)  # an admin still gets the menu


async def test_song_can_name_a_model_inline(harness: BotHarness) -> None:
    harness.tg.send_text(PRIVATE_CHAT, USER, "/song model:lyria calm ambient piano")
    job = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert job.model == "google/lyria2"
    assert submits(harness)[0]["model"] == "google/lyria2"


async def test_model_menu_choice_is_saved_per_chat_and_used(harness: BotHarness) -> None:
    menu = (await ask(harness, PRIVATE_CHAT, USER, "/model")).result
    data = button_data(menu)
    assert data == [f"v1:model:{i}" for i in range(len(MODELS))] + ["v1:model:default"]
    assert "✅" in menu["reply_markup"]["inline_keyboard"][-1][0]["text"]  # automatic now
    assert "lyrics required (up to 3,000 characters)" in menu["text"]

    index = MODEL_ORDER.index("minimax/music-2.6")
    answer = await press(harness, PRIVATE_CHAT, USER, menu["message_id"], f"v1:model:{index}")
    assert answer.params["text"] == "Default model: MiniMax-2.6"
    settings = await harness.services.chat_settings.get(PRIVATE_CHAT)
    assert settings.model == "minimax/music-2.6"
    after = await edited(harness, PRIVATE_CHAT, menu["message_id"])
    marked = [b["text"] for row in after["reply_markup"]["inline_keyboard"] for b in row]
    assert "✅ MiniMax-2.6" in marked
    assert "Now: MiniMax-2.6" in after["text"]

    # The chat's default now makes songs with lyrics; the menu survives a restart.
    await harness.restart()
    job, _ = await deliver(harness, f"/song indie folk\n{LYRICS}")
    assert job.model == "minimax/music-2.6"
    await press(harness, PRIVATE_CHAT, USER, menu["message_id"], "v1:model:default")
    assert (await harness.services.chat_settings.get(PRIVATE_CHAT)).model is None


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE="20")  # the per-group pacing, sped up
async def test_model_choice_in_a_group_is_for_admins(harness: BotHarness) -> None:
    tg = harness.tg
    admin, member = 7001, 7002
    tg.add_chat(GROUP, type="supergroup", admins=[admin])
    tg.add_user(member, language_code="en")
    menu = (await ask(harness, GROUP, admin, f"/model@{BOT}")).result
    index = MODEL_ORDER.index("elevenlabs/eleven_music")

    refused = await press(harness, GROUP, member, menu["message_id"], f"v1:model:{index}")
    assert refused.params["text"] == t("answer_admins_only", "en")
    assert refused.params.get("show_alert") is True
    assert (await harness.services.chat_settings.get(GROUP)).model is None

    accepted = await press(harness, GROUP, admin, menu["message_id"], f"v1:model:{index}")
    assert accepted.params["text"] == "Default model: ElevenLabs"
    assert (await harness.services.chat_settings.get(GROUP)).model == "elevenlabs/eleven_music"
    assert tg.calls_to("getChatMember")


@pytest.mark.parametrize(
    ("language_code", "lang"), [("ru", "ru"), ("es-419", "es"), ("en-GB", "en"), ("de", "en")]
)
async def test_language_follows_telegram_language_code(
    harness: BotHarness, language_code: str, lang: str
) -> None:
    tg = harness.tg
    user = 8000 + len(language_code)
    tg.add_user(user, language_code=language_code)
    reply = (await ask(harness, user, user, "/start")).result
    username = tg.bot_user["username"]
    assert reply["text"] == shown(t("start", lang, bot=username))
    helped = (await ask(harness, user, user, "/help")).result
    assert helped["text"].startswith(shown(t("help_main", lang)).split("\n")[0])


async def test_song_flow_speaks_the_users_language(harness: BotHarness) -> None:
    tg = harness.tg
    user = 8100
    tg.add_user(user, language_code="es")
    tg.send_text(user, user, f"/song bolero\n{LYRICS}")
    job = await harness.wait_for_job(lambda j: j.user_id == user and j.state == "delivered")
    assert job.user_lang == "es"
    first = next(c for c in tg.calls_to("sendMessage") if c.params.get("chat_id") == user)
    assert first.result["text"].startswith(f"{TITLE}\n⏳ En cola")
    audio = tg.message(user, job.delivered_message_id or 0)
    assert [b["text"] for b in audio["reply_markup"]["inline_keyboard"][0]] == [
        "🔁 Otra vez",
        "📝 Letra",
        "🎲 Variación",
    ]


async def test_language_override_with_the_menu(harness: BotHarness) -> None:
    menu = (await ask(harness, PRIVATE_CHAT, USER, "/language")).result
    assert button_data(menu) == ["v1:lang:en", "v1:lang:ru", "v1:lang:es", "v1:lang:auto"]
    answer = await press(harness, PRIVATE_CHAT, USER, menu["message_id"], "v1:lang:ru")
    assert answer.params["text"] == "Язык: Русский"
    record = await harness.services.users.get(USER)
    assert record is not None and record.language == "ru"
    assert "Сейчас: Русский" in (await edited(harness, PRIVATE_CHAT, menu["message_id"]))["text"]
    reply = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert reply["text"] == shown(t("jobs_empty", "ru"))

    await press(harness, PRIVATE_CHAT, USER, menu["message_id"], "v1:lang:auto")
    record = await harness.services.users.get(USER)
    assert record is not None and record.language is None
    reply = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert reply["text"] == shown(t("jobs_empty", "en"))


async def test_jobs_lists_songs_and_resends_by_file_id(harness: BotHarness) -> None:
    tg = harness.tg
    job, _ = await deliver(harness)
    uploads = len(tg.uploaded_audio)
    listing = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert f"1. ✅ {TITLE}" in listing["text"]  # the song's title, not its style (#25.12)
    assert "delivered · MiniMax-2.0 · just now" in listing["text"]
    assert button_data(listing) == [f"v1:resend:{job.id}", "v1:songs:0"]

    answer = await press(harness, PRIVATE_CHAT, USER, listing["message_id"], f"v1:resend:{job.id}")
    assert answer.params["text"] == t("answer_resend", "en")
    call = await tg.wait_for_call("sendAudio", lambda c: c.ok, count=2)
    assert call.params["audio"] == job.delivered_file_id  # by file_id: nothing uploaded
    assert not call.files
    assert len(tg.uploaded_audio) == uploads
    assert (
        call.result["audio"]["file_unique_id"]
        == (tg.message(PRIVATE_CHAT, job.delivered_message_id or 0)["audio"]["file_unique_id"])
    )
    assert button_data(call.result) == [
        f"v1:again:{job.id}",
        f"v1:lyrics:{job.id}",
        f"v1:vary:{job.id}",
        f"v1:sjob:{job.id}",
        f"v1:jlink:{job.id}",
    ]


async def test_jobs_in_a_group_shows_only_that_groups_songs(harness: BotHarness) -> None:
    tg = harness.tg
    await deliver(harness)  # a private song
    tg.add_chat(GROUP, type="supergroup")
    reply = (await ask(harness, GROUP, USER, f"/jobs@{BOT}")).result
    assert reply["text"] == shown(t("jobs_empty", "en"))


async def test_cancel_command_and_jobs_for_a_pending_song(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)
    tg.send_text(PRIVATE_CHAT, USER, f"/song slow jazz\n{LYRICS}")
    job = await harness.wait_for_job(lambda j: j.state == "pending")
    await tg.wait_for_call(
        "editMessageText", lambda c: c.ok and "Generating" in str(c.params.get("text"))
    )

    listing = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert "generating" in listing["text"]
    assert button_data(listing) == [f"v1:cancel:{job.id}", "v1:songs:0"]

    reply = (await ask(harness, PRIVATE_CHAT, USER, "/cancel")).result
    assert reply["text"] == shown(t("cancelled", "en", song=song_name(job)))
    done = await harness.wait_state(job.id, "cancelled")
    assert done.state == JobState.CANCELLED
    status = await edited(harness, PRIVATE_CHAT, job.status_message_id or 0, count=2)
    assert status["text"] == shown(f"<b>{job.title}</b>\n" + t("status_cancelled", "en"))
    assert button_data(status) == []

    again = (await ask(harness, PRIVATE_CHAT, USER, "/cancel")).result
    assert again["text"] == t("nothing_to_cancel", "en")
    await all_handled(harness)
    assert not tg.calls_to("sendAudio")


@pytest.mark.harness_env(SONGBOT_MAX_JOBS_PER_USER="1")
async def test_cancel_before_the_paid_call_says_nothing_was_charged(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)
    tg.send_text(PRIVATE_CHAT, USER, f"/song slow jazz\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "pending")
    tg.send_text(PRIVATE_CHAT, USER, f"/song fast punk\n{LYRICS}")
    waiting = await harness.wait_for_job(lambda j: j.state == "received")
    listing = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert button_data(listing)[0] == f"v1:cancel:{waiting.id}"  # newest first
    answer = await press(
        harness, PRIVATE_CHAT, USER, listing["message_id"], f"v1:cancel:{waiting.id}"
    )
    assert answer.params["text"] == t("cancelled_short", "en")
    await harness.wait_state(waiting.id, "cancelled")
    note = await tg.wait_for_call("sendMessage", ok_reply_to(PRIVATE_CHAT, listing["message_id"]))
    assert "doesn't count" in note.result["text"]
    assert len(submits(harness)) == 1
