"""End to end: real PTB Application ↔ fake Bot API, real runner ↔ fake AI/ML API."""

from __future__ import annotations

import io

import mutagen
import pytest

from bot.i18n import t
from songbot_fakes.aimlapi import FakeAimlApi
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay"


def submits(api: FakeAimlApi) -> list[dict[str, object]]:
    return [
        r.json
        for r in api.requests
        if r.method == "POST" and r.path == "/v2/generate/audio" and isinstance(r.json, dict)
    ]


async def test_song_with_lyrics_is_delivered_as_reply(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    request = tg.send_text(
        PRIVATE_CHAT, USER, f"/song dreamy synth-pop with female vocals\n{LYRICS}"
    )
    call = await tg.wait_for_call("sendAudio", timeout=20)
    job = await harness.wait_for_job(lambda j: j.state == "delivered")

    sent = submits(api)
    assert len(sent) == 1
    assert sent[0]["model"] == "minimax/music-2.0"
    assert sent[0]["prompt"] == "dreamy synth-pop with female vocals"
    assert sent[0]["lyrics"] == LYRICS  # line breaks and tags kept exactly
    assert "audio_setting" not in sent[0]
    paid = [r for r in api.requests if r.method == "POST"]
    assert paid[0].headers.get("x-client-request-id") == job.key

    # The delivered bytes are exactly the provider's bytes (MP3 needs no conversion).
    uploaded = call.files["audio"]
    assert uploaded.data == api.audio_for(job.generation_id or "")
    assert uploaded.filename.endswith(".mp3")
    params = call.params
    assert params["reply_parameters"]["message_id"] == request["message_id"]
    assert params["reply_parameters"]["allow_sending_without_reply"] is True
    assert params["title"]
    assert params["performer"]
    assert int(params["duration"]) >= 1
    assert job.delivered_message_id is not None
    assert job.delivered_file_id

    # The status message was a reply to the request, and it is gone after delivery.
    status_calls = [
        c
        for c in tg.calls_to("sendMessage")
        if c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
    ]
    assert status_calls, "the bot must acknowledge the request with a reply"
    await tg.wait_for_call("deleteMessage")


async def test_single_line_form(harness: BotHarness) -> None:
    harness.tg.send_text(
        PRIVATE_CHAT, USER, "/song sad country ballad | I lost my truck and my dog today"
    )
    await harness.wait_for_job(lambda j: j.state == "delivered")
    sent = submits(harness.api)
    assert sent[0]["prompt"] == "sad country ballad"
    assert sent[0]["lyrics"] == "I lost my truck and my dog today"


async def test_reply_to_text_uses_it_as_lyrics(harness: BotHarness) -> None:
    tg = harness.tg
    lyrics = tg.send_text(PRIVATE_CHAT, USER, "Morning coffee, evening tea\nYou and me")
    tg.send_text(PRIVATE_CHAT, USER, "/song acoustic folk duet", reply_to=lyrics["message_id"])
    await harness.wait_for_job(lambda j: j.state == "delivered")
    assert submits(harness.api)[0]["lyrics"] == "Morning coffee, evening tea\nYou and me"


async def test_instrumental_uses_instrumental_model_and_converts_wav(harness: BotHarness) -> None:
    tg = harness.tg
    tg.send_text(PRIVATE_CHAT, USER, "/song calm ambient piano for studying")
    call = await tg.wait_for_call("sendAudio", timeout=20)
    sent = submits(harness.api)
    assert sent[0]["model"] == "stable-audio"
    assert "lyrics" not in sent[0]
    data = call.files["audio"].data
    assert data[:3] == b"ID3" or data[0] == 0xFF  # converted from WAV to MP3
    audio = mutagen.File(io.BytesIO(data))  # type: ignore[attr-defined]
    assert audio is not None and audio.info.length > 1.0


async def test_bare_command_gets_usage_and_no_provider_call(harness: BotHarness) -> None:
    tg = harness.tg
    tg.send_text(PRIVATE_CHAT, USER, "/song")
    call = await tg.wait_for_call("sendMessage")
    assert "/song" in call.params["text"]
    assert not [r for r in harness.api.requests if r.method == "POST"]
    assert await harness.jobs() == []


async def test_other_bots_command_and_edits_are_ignored(harness: BotHarness) -> None:
    tg = harness.tg
    tg.send_text(PRIVATE_CHAT, USER, "/song@OtherBot rock anthem\nla la la la la la")
    msg = tg.send_text(PRIVATE_CHAT, USER, "/start")
    await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == msg["message_id"],
    )
    tg.edit_text(PRIVATE_CHAT, msg["message_id"], "/song rock anthem\nla la la la la la la")
    probe = tg.send_text(PRIVATE_CHAT, USER, "/help")
    await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == probe["message_id"],
    )
    assert await harness.jobs() == []
    assert not [r for r in harness.api.requests if r.method == "POST"]


async def test_too_long_lyrics_get_precise_reply_before_any_charge(harness: BotHarness) -> None:
    tg = harness.tg
    tg.send_text(PRIVATE_CHAT, USER, "/song epic power metal\n" + ("la " * 1100).strip())
    call = await tg.wait_for_call("sendMessage")
    text = call.params["text"]
    assert "3,000" in text and "3,299" in text
    assert not [r for r in harness.api.requests if r.method == "POST"]


async def test_provider_error_produces_exactly_one_message(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(fail="The content violates our policy")
    request = tg.send_text(PRIVATE_CHAT, USER, f"/song grunge\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "failed" and bool(j.outcome_sent_at))
    replies = [
        c
        for c in tg.calls_to("sendMessage")
        if c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
        and "⚠️" in c.params["text"]
    ]
    assert len(replies) == 1
    # The provider's English words are not shown; its reason is, in the user's language.
    assert "violates our policy" not in replies[0].params["text"]
    assert t("error_content_rejected", "en") in replies[0].params["text"]
    assert not tg.calls_to("sendAudio")


@pytest.mark.harness_env(SONGBOT_JOB_TIMEOUT="1")
async def test_job_timeout_produces_one_message(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)
    tg.send_text(PRIVATE_CHAT, USER, f"/song jazz\n{LYRICS}")
    job = await harness.wait_for_job(
        lambda j: j.state == "timed_out" and bool(j.outcome_sent_at), timeout=20
    )
    failures = [c for c in tg.calls_to("sendMessage") if "⚠️" in c.params["text"]]
    assert len(failures) == 1
    assert job.error_key == "error_timeout"
    # Below a minute the wait is said in seconds, never "(0 min)".
    assert "(1 sec)" in failures[0].params["text"], failures[0].params["text"]
    assert "0 min" not in failures[0].params["text"]


async def test_our_own_diagnosis_reads_in_the_users_language(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(completed_without_url=True)
    tg.add_user(USER, language_code="ru")
    tg.send_text(PRIVATE_CHAT, USER, f"/song jazz\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "failed" and bool(j.outcome_sent_at))
    failure = [c for c in tg.calls_to("sendMessage") if "⚠️" in c.params["text"]][-1]
    assert t("diagnosis_no_audio", "ru") in failure.params["text"]
    assert "completed but gave no audio URL" not in failure.params["text"]


async def test_restart_with_pending_job_delivers_exactly_once(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(never_complete=True)  # still generating across the restart
    tg.send_text(PRIVATE_CHAT, USER, f"/song bossa nova\n{LYRICS}")
    job = await harness.wait_for_job(lambda j: j.state == "pending" and bool(j.generation_id))
    await harness.stop()
    await harness.start()
    api.complete_now(job.generation_id or "")
    done = await harness.wait_state(job.id, "delivered", timeout=20)
    assert len(tg.calls_to("sendAudio")) == 1
    assert len(submits(api)) == 1
    assert done.delivered_message_id is not None
