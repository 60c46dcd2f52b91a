"""The newcomer's first minute and the guided flow (#25.1, #26.3), the lyrics question of a /song
without lyrics (#25.2) and the request kept at the paywall (#25.4), through the real bot against
the fake Bot API and the fake AI/ML API."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import plain, t
from songbot_fakes.audio_fixtures import make_ogg_opus
from tests.support.groups import fast_flood_clock
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.stars import PAID, buy, pack_offer, pay, wait_text
from tests.support.ux import (
    BOT,
    GROUP,
    LYRICS,
    all_handled,
    button_data,
    buttons,
    edited,
    ok_reply_to,
    press,
    shown,
)
from tests.support.write import song_json


async def reply_to(h: BotHarness, message_id: int, chat_id: int = PRIVATE_CHAT) -> dict[str, Any]:
    """The bot's (first) reply to `message_id`, as Telegram has it now."""
    call = await h.tg.wait_for_call("sendMessage", ok_reply_to(chat_id, message_id), timeout=15)
    return h.tg.message(chat_id, call.result["message_id"])


def replies(h: BotHarness, message_id: int) -> list[Any]:
    return [c for c in h.tg.calls_to("sendMessage") if ok_reply_to(PRIVATE_CHAT, message_id)(c)]


def labels(message: dict[str, Any]) -> list[str]:
    return [str(b["text"]) for b in buttons(message)]


def data_for(message: dict[str, Any], label: str) -> str:
    return next(str(b["callback_data"]) for b in buttons(message) if b["text"] == label)


async def tap(h: BotHarness, message: dict[str, Any], label: str, user: int = USER) -> Any:
    return await press(
        h, message["chat"]["id"], user, message["message_id"], data_for(message, label)
    )


async def test_a_plain_message_is_offered_as_a_song_and_the_flow_makes_it_once(
    harness: BotHarness,
) -> None:
    """Text → what it is → style (a preset) → voice (typed) → preview → 🎵 Make it: one job with
    the lyrics, the style and the voice in the prompt, made through the /song intake."""
    h = harness
    sent = h.tg.send_text(PRIVATE_CHAT, USER, LYRICS)
    panel = await reply_to(h, sent["message_id"])
    assert shown(t("flow_what_text", "en", text="x")).split("\n")[0] in panel["text"]
    assert labels(panel) == [
        plain("button_flow_idea_text", "en"),
        plain("button_flow_inst_text", "en"),
        plain("button_flow_lyrics_text", "en"),
    ]
    await tap(h, panel, plain("button_flow_lyrics_text", "en"))
    panel = await edited(h, PRIVATE_CHAT, panel["message_id"])
    assert panel["text"] == shown(t("flow_ask_style", "en"))
    await tap(h, panel, plain("flow_preset_3", "en"))  # energetic rock
    panel = await edited(h, PRIVATE_CHAT, panel["message_id"], count=2)
    assert panel["text"] == plain("flow_ask_voice", "en")
    typed = h.tg.send_text(PRIVATE_CHAT, USER, "female")  # answered by typing
    preview = await reply_to(h, typed["message_id"])
    assert "energetic rock" in preview["text"] and "Neon lights over the bay" in preview["text"]
    assert labels(preview) == [
        plain("button_flow_make", "en"),
        plain("button_flow_change", "en"),
        plain("button_flow_cancel", "en"),
    ]
    # The older panel's buttons are dead now: only the current panel speaks for the flow.
    stale = await press(
        h, PRIVATE_CHAT, USER, panel["message_id"], button_data(panel)[0], check_button=False
    )
    assert stale.params["text"] == plain("answer_stale", "en")

    answer = await tap(h, preview, plain("button_flow_make", "en"))
    assert answer.params["text"] == plain("answer_flow_making", "en")
    job = await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert job.lyrics == LYRICS
    assert job.prompt == "energetic rock, female vocals"
    assert job.request_message_id == preview["message_id"]
    # A second tap (an old client still showing the button) makes nothing more.
    again = await press(
        h, PRIVATE_CHAT, USER, preview["message_id"], button_data(preview)[0], check_button=False
    )
    assert again.params["text"] == plain("answer_flow_done", "en")
    await all_handled(h)
    assert len(await h.jobs()) == 1


async def test_new_survives_a_restart_and_obeys_the_paywall_like_song(
    harness: BotHarness,
) -> None:
    """/new → my lyrics → typed lyrics → restart → typed style → voice → make: with no credit the
    packs are offered (the same intake as /song), and paying makes that very song, once."""
    h = harness
    # Telegram's pace 20x faster on both sides: the fake's count of the messages just before the
    # restart below outlives the bot's (a 429 and its 1 s wait otherwise).
    await h.restart(**PAID, SONGBOT_TG_RATE_SCALE="20")
    new = h.tg.send_text(PRIVATE_CHAT, USER, "/new")
    panel = await reply_to(h, new["message_id"])
    assert panel["text"] == shown(t("flow_what_new", "en"))
    await tap(h, panel, plain("button_flow_lyrics", "en"))
    panel = await edited(h, PRIVATE_CHAT, panel["message_id"])
    assert panel["text"] == plain("flow_ask_lyrics", "en")
    words = h.tg.send_text(PRIVATE_CHAT, USER, LYRICS)
    style_q = await reply_to(h, words["message_id"])
    assert style_q["text"] == shown(t("flow_ask_style", "en"))

    await h.restart()  # the flow is a row: it survives
    style = h.tg.send_text(PRIVATE_CHAT, USER, "sea shanty")
    voice_q = await reply_to(h, style["message_id"])
    await tap(h, voice_q, plain("button_voice_male", "en"))
    preview = await edited(h, PRIVATE_CHAT, voice_q["message_id"])
    assert "sea shanty" in preview["text"]
    await tap(h, preview, plain("button_flow_make", "en"))
    offer = await pack_offer(h)  # no free song, no credit: the packs, and no job
    await all_handled(h)
    assert await h.jobs() == []

    invoice = await buy(h, offer, 1)
    await pay(h, invoice)
    job = await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert job.lyrics == LYRICS and job.prompt == "sea shanty, male vocals"
    assert job.request_message_id == preview["message_id"]
    await wait_text(h, t("kept_paid_making", "en"))
    # The payment update again (a lost confirmation): no second song, no second charge.
    charge = next(iter(h.tg.star_payments))
    h.tg.redeliver_payment(charge)
    await all_handled(h)
    assert len(await h.jobs()) == 1


async def test_an_idea_goes_through_the_write_path(harness: BotHarness) -> None:
    h, api = harness, harness.api
    api.script_chat(song_json(title="Whiskers"))
    sent = h.tg.send_text(PRIVATE_CHAT, USER, "hi! can you make me a song about my cat?")
    panel = await reply_to(h, sent["message_id"])
    await tap(h, panel, plain("button_flow_idea_text", "en"))
    panel = await edited(h, PRIVATE_CHAT, panel["message_id"])
    typed = h.tg.send_text(PRIVATE_CHAT, USER, "cheerful ukulele pop")
    voice_q = await reply_to(h, typed["message_id"])
    await tap(h, voice_q, plain("button_voice_any", "en"))
    preview = await edited(h, PRIVATE_CHAT, voice_q["message_id"])
    assert labels(preview)[0] == plain("button_flow_write", "en")
    await tap(h, preview, plain("button_flow_write", "en"))
    # The /write preview replies to the flow's preview; its 🎵 goes through the usual intake.
    placeholder = await reply_to(h, preview["message_id"])
    written = await edited(h, PRIVATE_CHAT, placeholder["message_id"])
    assert written["text"].startswith("📝 Whiskers")
    [call] = api.chat_requests()
    content = call.json["messages"][1]["content"]
    assert "my cat" in content and "cheerful ukulele pop" in content
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, placeholder["message_id"])
    assert draft is not None
    await press(h, PRIVATE_CHAT, USER, placeholder["message_id"], f"v1:wmake:{draft.id}")
    job = await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert job.lyrics == draft.lyrics


async def test_a_voice_note_is_offered_as_a_reference(harness: BotHarness) -> None:
    h = harness
    voice = h.tg.send_media(PRIVATE_CHAT, USER, "voice", make_ogg_opus(12.0))
    panel = await reply_to(h, voice["message_id"])
    assert panel["text"] == shown(t("flow_reference_intro", "en"))
    await tap(h, panel, plain("flow_preset_2", "en"))
    panel = await edited(h, PRIVATE_CHAT, panel["message_id"])
    assert panel["text"] == plain("flow_ask_ref_lyrics", "en")
    typed = h.tg.send_text(PRIVATE_CHAT, USER, LYRICS)
    preview = await reply_to(h, typed["message_id"])
    assert plain("flow_kind_reference", "en") in preview["text"]
    made = await tap(h, preview, plain("button_flow_make", "en"))
    assert made.params.get("text") == plain("answer_flow_making", "en")
    job = await h.wait_for_job(lambda j: j.reference_file_id is not None, timeout=15)
    assert job.reference_file_id == voice["voice"]["file_id"]
    assert job.lyrics == LYRICS


async def test_every_private_message_gets_an_answer_and_groups_stay_quiet(
    harness: BotHarness,
) -> None:
    h = harness
    await fast_flood_clock(h, 20.0)  # three replies in a group: a group slot every 0.175 s
    photo = h.tg.send_media(PRIVATE_CHAT, USER, "photo", b"not really a picture")
    reply = await reply_to(h, photo["message_id"])
    assert reply["text"] == plain("flow_other", "en")
    sticker = h.tg.send_media(PRIVATE_CHAT, USER, "sticker", b"RIFF0000WEBP")
    assert (await reply_to(h, sticker["message_id"]))["text"] == plain("flow_other", "en")
    unknown = h.tg.send_text(PRIVATE_CHAT, USER, "/sing")
    reply = await reply_to(h, unknown["message_id"])
    assert reply["text"] == shown(t("flow_unknown_command", "en", command="/sing"))

    h.tg.add_chat(GROUP, type="supergroup")
    quiet = [
        h.tg.send_text(GROUP, USER, "hello everyone"),
        h.tg.send_text(GROUP, USER, "/sing"),
        h.tg.send_text(GROUP, USER, "/sing@OtherBot"),
        h.tg.send_text(GROUP, USER, "@OtherBot make me a song"),
    ]
    mention = h.tg.send_text(GROUP, USER, f"@{BOT} make me a song about our band")
    offer = await reply_to(h, mention["message_id"], GROUP)
    assert [b.get("url") for b in buttons(offer)] == [f"https://t.me/{BOT}?start=new"]
    addressed = h.tg.send_text(GROUP, USER, f"/sing@{BOT}")
    reply = await reply_to(h, addressed["message_id"], GROUP)
    assert "/help" in reply["text"]
    new = h.tg.send_text(GROUP, USER, "/new")
    offer = await reply_to(h, new["message_id"], GROUP)
    assert [b.get("url") for b in buttons(offer)] == [f"https://t.me/{BOT}?start=new"]
    for message in quiet:
        assert not [
            c
            for c in h.tg.calls_to("sendMessage")
            if c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]
            and c.params.get("chat_id") == GROUP
        ]
    # The deep link opens the flow in the private chat.
    start = h.tg.send_text(PRIVATE_CHAT, USER, "/start new")
    panel = await reply_to(h, start["message_id"])
    assert panel["text"] == shown(t("flow_what_new", "en"))


async def test_an_edited_song_that_fixes_an_error_is_made_once(harness: BotHarness) -> None:
    h = harness
    wrong = h.tg.send_text(PRIVATE_CHAT, USER, "/song model:nonsense dreamy pop\n" + LYRICS)
    await reply_to(h, wrong["message_id"])  # the error
    h.tg.edit_text(PRIVATE_CHAT, wrong["message_id"], "/song dreamy pop\n" + LYRICS)
    job = await h.wait_for_job(lambda j: j.request_message_id == wrong["message_id"])
    h.tg.edit_text(PRIVATE_CHAT, wrong["message_id"], "/song dreamy pop, again\n" + LYRICS)
    await h.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params.get("text") == t("song_edit_made", "en")
    )
    assert [j.id for j in await h.jobs()] == [job.id]


async def test_a_song_idea_without_lyrics_asks_once(harness: BotHarness) -> None:
    h = harness
    sent = h.tg.send_text(PRIVATE_CHAT, USER, "/song a happy birthday song for my sister Anna")
    question = await reply_to(h, sent["message_id"])
    assert labels(question) == [plain("button_ask_write", "en"), plain("button_ask_inst", "en")]
    h.tg.enqueue_raw_update({"message": sent})  # the same update again: asked once
    await all_handled(h)
    assert len(replies(h, sent["message_id"])) == 1
    assert await h.jobs() == []
    await h.restart()
    # A double tap: one job.
    first = h.tg.press_button(
        PRIVATE_CHAT, USER, question["message_id"], data_for(question, "🎹 Instrumental")
    )
    second = h.tg.press_button(
        PRIVATE_CHAT, USER, question["message_id"], data_for(question, "🎹 Instrumental")
    )
    job = await h.wait_for_job(lambda j: j.request_message_id == sent["message_id"])
    assert job.lyrics is None and job.prompt.startswith("a happy birthday song")
    for query in (first, second):
        await h.tg.wait_for_call(
            "answerCallbackQuery", lambda c, q=query: c.params.get("callback_query_id") == q
        )
    await all_handled(h)
    assert len(await h.jobs()) == 1

    # A style stays a one-message instrumental, and `instrumental:` skips the question.
    for text in ("/song calm ambient piano for studying", "/song instrumental: a song for my cat"):
        message = h.tg.send_text(PRIVATE_CHAT, USER, text)
        made = await h.wait_for_job(lambda j, m=message: j.request_message_id == m["message_id"])
        assert made.lyrics is None


async def test_the_lyrics_question_writes_lyrics_on_request(harness: BotHarness) -> None:
    h, api = harness, harness.api
    api.script_chat(song_json(title="For Anna"))
    sent = h.tg.send_text(PRIVATE_CHAT, USER, "/song a happy birthday song for my sister Anna")
    question = await reply_to(h, sent["message_id"])
    await tap(h, question, plain("button_ask_write", "en"))
    placeholder = await h.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("text") == t("write_working", "en"),
        timeout=15,
    )
    written = await edited(h, PRIVATE_CHAT, placeholder.result["message_id"])
    assert written["text"].startswith("📝 For Anna")
    body = json.dumps(api.chat_requests()[0].json)
    assert "sister Anna" in body
    assert await h.jobs() == []


async def test_change_cancel_one_flow_per_chat_and_a_day_to_answer(harness: BotHarness) -> None:
    h = harness
    first = h.tg.send_text(PRIVATE_CHAT, USER, "a song about rain on the roof")
    old_panel = await reply_to(h, first["message_id"])
    second = h.tg.send_text(PRIVATE_CHAT, USER, "a song about the sea")
    panel = await reply_to(h, second["message_id"])
    rows = await h.services.db.fetchall("SELECT id FROM song_flows WHERE kind = 'guided'")
    assert len(rows) == 1  # one flow per user and chat: the newer message replaced it
    stale = await tap(h, old_panel, plain("button_flow_inst_text", "en"))
    assert stale.params["text"] == plain("answer_stale", "en")

    await tap(h, panel, plain("button_flow_inst_text", "en"))
    panel = await edited(h, PRIVATE_CHAT, panel["message_id"])
    await tap(h, panel, plain("flow_preset_6", "en"))
    preview = await edited(h, PRIVATE_CHAT, panel["message_id"], count=2)  # no voice question
    assert plain("flow_kind_instrumental", "en") in preview["text"]
    await tap(h, preview, plain("button_flow_change", "en"))  # back to the first question
    again = await edited(h, PRIVATE_CHAT, panel["message_id"], count=3)
    assert "a song about the sea" in again["text"]
    assert labels(again)[0] == plain("button_flow_idea_text", "en")
    await tap(h, again, plain("button_flow_lyrics_text", "en"))
    style_q = await edited(h, PRIVATE_CHAT, panel["message_id"], count=4)
    await tap(h, style_q, plain("flow_preset_1", "en"))
    voice_q = await edited(h, PRIVATE_CHAT, panel["message_id"], count=5)
    await tap(h, voice_q, plain("button_voice_any", "en"))
    preview = await edited(h, PRIVATE_CHAT, panel["message_id"], count=6)
    cancelled = await tap(h, preview, plain("button_flow_cancel", "en"))
    assert cancelled.params["text"] == plain("answer_flow_cancelled", "en")
    closed = await edited(h, PRIVATE_CHAT, panel["message_id"], count=7)
    assert closed["text"] == plain("flow_cancelled", "en") and "reply_markup" not in closed
    assert await h.jobs() == []

    # A day later the buttons say so, and a new message starts afresh.
    third = h.tg.send_text(PRIVATE_CHAT, USER, "a song about my grandmother's garden")
    panel = await reply_to(h, third["message_id"])
    await h.services.db.execute_write("UPDATE song_flows SET expires_at = 0")
    late = await tap(h, panel, plain("button_flow_lyrics_text", "en"))
    assert late.params["text"] == plain("answer_flow_expired", "en")
    fourth = h.tg.send_text(PRIVATE_CHAT, USER, "sea shanty")
    fresh = await reply_to(h, fourth["message_id"])
    assert labels(fresh)[0] == plain("button_flow_idea_text", "en")


async def test_the_flow_speaks_the_users_language(harness: BotHarness) -> None:
    h = harness
    h.tg.add_user(3303, first_name="Оля", language_code="ru")
    sent = h.tg.send_text(3303, 3303, "песня про нашего кота Барсика")
    panel = await reply_to(h, sent["message_id"], 3303)
    assert labels(panel)[0] == plain("button_flow_idea_text", "ru")
    await tap(h, panel, plain("button_flow_lyrics_text", "ru"), user=3303)
    panel = await edited(h, 3303, panel["message_id"])
    assert labels(panel)[:2] == [plain("flow_preset_1", "ru"), plain("flow_preset_2", "ru")]
    await tap(h, panel, plain("flow_preset_1", "ru"), user=3303)
    typed = h.tg.send_text(3303, 3303, "женский")
    preview = await reply_to(h, typed["message_id"], 3303)
    assert (
        "бодрый поп" in preview["text"] and plain("button_voice_female", "ru") in preview["text"]
    )
    await tap(h, preview, plain("button_flow_make", "ru"), user=3303)
    job = await h.wait_for_job(lambda j: j.user_id == 3303)
    assert job.prompt == "бодрый поп, женский вокал" and job.user_lang == "ru"
