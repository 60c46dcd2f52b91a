"""End to end: the song message (audio, cover, caption, buttons), live status and every button
under it (❌ Cancel, 🔁 Again, 📝 Lyrics, 🎲 Variation), against the fake Bot API and AI/ML API."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from bot.aimlapi.models import MODELS
from bot.i18n import t
from songbot_fakes.telegram_html import utf16_len
from storage.states import JobState
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import (
    BOT,
    GROUP,
    LYRICS,
    TITLE,
    all_handled,
    button_data,
    deliver,
    edited,
    ok_reply_to,
    press,
    replies_to,
    seed_history,
    shown,
    submits,
)


async def test_song_arrives_as_rich_audio_with_cover_and_buttons(harness: BotHarness) -> None:
    tg = harness.tg
    job, audio_message = await deliver(harness)
    call = tg.calls_to("sendAudio")[-1]
    params = call.params

    # Cover: uploaded in the same request, referenced as attach://, a small JPEG.
    thumb_ref = params["thumbnail"]
    assert isinstance(thumb_ref, str) and thumb_ref.startswith("attach://")
    thumb = call.files[thumb_ref.removeprefix("attach://")]
    assert 0 < thumb.size <= 200_000
    image = Image.open(io.BytesIO(thumb.data))
    assert image.format == "JPEG"
    assert max(image.size) <= 320
    assert "thumbnail" in audio_message["audio"]

    # Title, performer, duration, caption with the style.
    assert params["title"] and "\n" not in params["title"]
    assert MODELS[job.model].title in params["performer"]
    assert int(params["duration"]) >= 1
    caption = audio_message["caption"]
    assert "dreamy synth-pop with female vocals" in caption
    assert utf16_len(caption) <= 1024

    # Buttons: compact callback data naming the job.
    data = button_data(audio_message)
    assert data == [
        f"v1:again:{job.id}",
        f"v1:lyrics:{job.id}",
        f"v1:vary:{job.id}",
        f"v1:sjob:{job.id}",  # 📚 its card in the library (#26.1)
        f"v1:jlink:{job.id}",  # ↗️ Share: its link, inline mode being off (#26.2)
    ]
    assert all(len(d.encode()) <= 64 for d in data)


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE="20")  # the per-group pacing, sped up
async def test_group_caption_names_the_requester_and_stays_within_limits(
    harness: BotHarness,
) -> None:
    tg = harness.tg
    tg.add_user(3003, first_name="Bo <b>&", language_code="en")
    tg.add_chat(GROUP, type="supergroup")
    style = "stadium rock anthem " * 40  # a very long style: the caption must still fit
    job, audio_message = await deliver(
        harness, f"/song@{BOT} {style.strip()}\n{LYRICS}", chat_id=GROUP, user_id=3003
    )
    caption = audio_message["caption"]
    assert utf16_len(caption) <= 1024
    assert "Bo <b>&" in caption  # escaped on the way out, shown as typed
    links = [e for e in audio_message.get("caption_entities", []) if e["type"] == "text_link"]
    assert links and links[0]["url"] == "tg://user?id=3003"
    assert job.chat_type == "supergroup"


async def test_status_shows_state_model_elapsed_and_expected_time(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    await seed_history(harness, "minimax/music-2.0", seconds=40.0)
    api.set_outcome(never_complete=True)  # finished below, once the status was checked
    request = tg.send_text(PRIVATE_CHAT, USER, f"/song indie pop\n{LYRICS}")

    first = await tg.wait_for_call("sendMessage", ok_reply_to(PRIVATE_CHAT, request["message_id"]))
    job = await harness.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    # The song's title (its chorus line, #25.12) heads the status.
    assert first.result["text"] == shown(
        f"<b>{TITLE}</b>\n" + t("status_queued", "en", model="minimax/music-2.0")
    )
    assert button_data(first.result) == [f"v1:cancel:{job.id}"]

    # Once submitted: state, model, elapsed time and the estimate learned from history.
    edit = await tg.wait_for_call(
        "editMessageText", lambda c: c.ok and "usually about" in str(c.params.get("text"))
    )
    text = edit.result["text"]
    assert text.startswith(f"{TITLE}\n🎵 Generating")
    assert "MiniMax-2.0" in text
    assert "usually about 0:40" in text
    assert button_data(edit.result) == [f"v1:cancel:{job.id}"]
    done = await harness.wait_for_job(lambda j: j.id == job.id and bool(j.generation_id))
    api.complete_now(done.generation_id or "")
    await harness.wait_state(job.id, "delivered", timeout=20)


async def test_status_without_history_has_no_estimate(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)  # finished below, once "Generating" was shown
    tg.send_text(PRIVATE_CHAT, USER, f"/song indie pop\n{LYRICS}")
    await tg.wait_for_call(
        "editMessageText", lambda c: c.ok and "Generating" in str(c.params.get("text"))
    )
    pending = await harness.wait_for_job(lambda j: bool(j.generation_id))
    api.complete_now(pending.generation_id or "")
    job = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    texts = [c.result["text"] for c in tg.calls_to("editMessageText") if c.ok]
    assert any(text.startswith(f"{TITLE}\n🎵 Generating") for text in texts)
    assert not any("usually" in text for text in texts)
    assert job.model == "minimax/music-2.0"


async def test_cancel_button_stops_tracking_and_warns_about_charges(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)
    tg.send_text(PRIVATE_CHAT, USER, f"/song slow jazz\n{LYRICS}")
    job = await harness.wait_for_job(lambda j: j.state == "pending")
    assert job.status_message_id is not None
    # The user sees "Generating" (with ❌) before tapping it.
    await tg.wait_for_call(
        "editMessageText", lambda c: c.ok and "Generating" in str(c.params.get("text"))
    )

    # Somebody else can't cancel it.
    tg.add_user(5005, language_code="en")
    other = await press(harness, PRIVATE_CHAT, 5005, job.status_message_id, f"v1:cancel:{job.id}")
    assert other.params["text"] == t("not_your_job", "en")
    assert (await harness.services.jobs.get(job.id)).state == JobState.PENDING  # type: ignore[union-attr]

    answer = await press(harness, PRIVATE_CHAT, USER, job.status_message_id, f"v1:cancel:{job.id}")
    assert answer.params["text"] == t("cancelled_short", "en")
    done = await harness.wait_state(job.id, "cancelled")
    assert done.error_key == "status_cancelled"
    status = await edited(harness, PRIVATE_CHAT, job.status_message_id, count=2)
    assert "still counts toward your songs" in status["text"]
    assert button_data(status) == []  # the ❌ is gone

    # The runner stops: no song, no further polls after a moment.
    await asyncio.sleep(0.5)
    polls = len(api.requests_to("GET /v2/generate/audio"))
    await asyncio.sleep(0.8)
    assert len(api.requests_to("GET /v2/generate/audio")) == polls
    assert not tg.calls_to("sendAudio")


async def test_again_makes_a_new_job_through_the_song_path(harness: BotHarness) -> None:
    tg = harness.tg
    job, audio_message = await deliver(harness)
    answer = await press(
        harness, PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:again:{job.id}"
    )
    assert answer.params["text"] == t("answer_again", "en")

    again = await harness.wait_for_job(
        lambda j: j.id != job.id and j.state == "delivered", timeout=30
    )
    assert (again.model, again.prompt, again.lyrics) == (job.model, job.prompt, job.lyrics)
    # The anchor says what happens and replies to the song it repeats; the new song replies to it.
    anchors = replies_to(tg, PRIVATE_CHAT, audio_message["message_id"])
    assert [a["message_id"] for a in anchors] == [again.request_message_id]
    assert "Once more" in anchors[0]["text"]
    new_audio = tg.message(PRIVATE_CHAT, again.delivered_message_id or 0)
    assert new_audio["reply_to_message"]["message_id"] == again.request_message_id
    assert len(submits(harness)) == 2
    assert await harness.services.usage.count_today(USER, now=again.created_at) == 2


async def test_double_tap_on_again_makes_one_job(harness: BotHarness) -> None:
    job, audio_message = await deliver(harness)
    first = harness.tg.press_button(
        PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:again:{job.id}"
    )
    second = harness.tg.press_button(
        PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:again:{job.id}"
    )
    for query_id in (first, second):
        await harness.tg.wait_for_call(
            "answerCallbackQuery", lambda c, q=query_id: c.params.get("callback_query_id") == q
        )
    texts = sorted(str(harness.tg.callback_answers[q].get("text")) for q in (first, second))
    assert texts == sorted([t("answer_again", "en"), t("answer_busy", "en")])
    # The new job is stored after its anchor message, which may wait for the chat's pace.
    deadline = asyncio.get_running_loop().time() + 5
    while len(await harness.jobs()) < 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    await all_handled(harness)
    assert len(await harness.jobs()) == 2


@pytest.mark.harness_env(SONGBOT_USER_DAILY_LIMIT="1")
async def test_again_respects_the_daily_limit(harness: BotHarness) -> None:
    job, audio_message = await deliver(harness)
    answer = await press(
        harness, PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:again:{job.id}"
    )
    assert answer.params.get("show_alert") is True
    assert answer.params["text"] == t("error_daily_limit", "en", limit=1)
    await all_handled(harness)
    assert [j.id for j in await harness.jobs()] == [job.id]
    assert len(submits(harness)) == 1


async def test_lyrics_button_shows_the_sung_lyrics_escaped(harness: BotHarness) -> None:
    tg = harness.tg
    lyrics = "[Verse]\nI <b>love</b> you & me\nFish &amp; chips"
    job, audio_message = await deliver(harness, f"/song sea shanty\n{lyrics}")
    answer = await press(
        harness, PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:lyrics:{job.id}"
    )
    assert "text" not in answer.params or len(answer.params["text"]) <= 200
    reply = await tg.wait_for_call(
        "sendMessage", ok_reply_to(PRIVATE_CHAT, audio_message["message_id"])
    )
    text = reply.result["text"]
    assert text.endswith(lyrics)  # exactly what was sung, markup shown as typed
    assert reply.result["entities"][0]["type"] == "bold"  # only our header is formatted


async def test_lyrics_button_absent_and_refused_for_instrumentals(harness: BotHarness) -> None:
    job, audio_message = await deliver(harness, "/song calm ambient piano for studying")
    assert f"v1:lyrics:{job.id}" not in button_data(audio_message)
    answer = await press(
        harness,
        PRIVATE_CHAT,
        USER,
        audio_message["message_id"],
        f"v1:lyrics:{job.id}",
        check_button=False,
    )
    assert answer.params["text"] == t("answer_no_lyrics", "en")


async def test_variation_uses_the_next_model_and_says_which(harness: BotHarness) -> None:
    tg = harness.tg
    job, audio_message = await deliver(harness)
    assert job.model == "minimax/music-2.0"
    answer = await press(
        harness, PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:vary:{job.id}"
    )
    assert answer.params["text"] == t("answer_vary", "en")
    varied = await harness.wait_for_job(
        lambda j: j.id != job.id and j.state == "delivered", timeout=30
    )
    assert varied.model == "minimax/music-2.6"
    assert (varied.prompt, varied.lyrics) == (job.prompt, job.lyrics)
    anchor = tg.message(PRIVATE_CHAT, varied.request_message_id)
    assert MODELS["minimax/music-2.6"].title in anchor["text"]
    assert MODELS["minimax/music-2.0"].title in anchor["text"]
    assert submits(harness)[-1]["model"] == "minimax/music-2.6"


async def test_variation_of_an_instrumental_stays_instrumental(harness: BotHarness) -> None:
    job, audio_message = await deliver(harness, "/song calm ambient piano for studying")
    assert job.model == "stable-audio"
    await press(harness, PRIVATE_CHAT, USER, audio_message["message_id"], f"v1:vary:{job.id}")
    varied = await harness.wait_for_job(
        lambda j: j.id != job.id and j.state == "delivered", timeout=30
    )
    assert varied.model == "google/lyria2"
    assert varied.lyrics is None
    assert "lyrics" not in submits(harness)[-1]


async def test_buttons_of_another_chat_are_refused(harness: BotHarness) -> None:
    tg = harness.tg
    job, _ = await deliver(harness)
    tg.add_user(6006, language_code="en")
    tg.send_text(6006, 6006, "/start")
    await tg.wait_for_call("sendMessage", lambda c: c.ok and c.params.get("chat_id") == 6006)
    reply = tg.bot_messages(6006)[-1]
    answer = await press(
        harness, 6006, 6006, reply["message_id"], f"v1:again:{job.id}", check_button=False
    )
    assert answer.params["text"] == t("answer_not_found", "en")
    await all_handled(harness)
    assert len(await harness.jobs()) == 1


async def test_unknown_button_data_is_answered(harness: BotHarness) -> None:
    tg = harness.tg
    tg.send_text(PRIVATE_CHAT, USER, "/start")
    await tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params.get("chat_id") == PRIVATE_CHAT
    )
    reply = tg.bot_messages(PRIVATE_CHAT)[-1]
    for data in ("v1:model:99", "v1:lang:xx", "v1:again:abc"):
        answer = await press(
            harness, PRIVATE_CHAT, USER, reply["message_id"], data, check_button=False
        )
        assert answer.params["text"] == t("answer_stale", "en")
