"""Telegram misbehaving around a finished song: flood control, 5xx, timeouts, blocked or vanished
chats, deleted messages. The real bot runs in-process against the fakes (tests/support/harness.py).

Each test checks the promise that matters: the song arrives exactly once, or the job ends as
undeliverable quietly (one log line, no retry storm), and nothing is ever charged twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from songbot_fakes.telegram import ApiCall, FakeTelegram, ScriptedFault
from storage.jobs import Job
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import retry_now
from tests.support.subprocess_bot import outcome_messages

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
GROUP = -1001234567890


def audio_calls(harness: BotHarness) -> list[ApiCall]:
    return harness.tg.calls_to("sendAudio")


def paid(harness: BotHarness) -> int:
    return len(harness.api.paid_submissions())


def real_seconds(harness: BotHarness, fake_seconds: float) -> float:
    """The fake counts call times on a clock that runs SONGBOT_TG_RATE_SCALE times as fast
    (tests/support/harness.py); a gap on it in real seconds."""
    return fake_seconds / float(harness.env_extra["SONGBOT_TG_RATE_SCALE"])


async def mid_generation(harness: BotHarness, text: str = SONG, chat: int = PRIVATE_CHAT) -> Job:
    """A song the music service is still making: it finishes when the test says so
    (`harness.api.complete_now`), not on a clock the test would race."""
    harness.api.set_outcome(generation_seconds=60)
    harness.tg.send_text(chat, USER, text)
    return await harness.wait_for_job(lambda j: j.state == "pending")


def finish(harness: BotHarness, job: Job) -> None:
    assert job.generation_id is not None
    harness.api.complete_now(job.generation_id)


@pytest.mark.slow  # waits out Telegram's retry_after (1 s, the shortest it sends)
async def test_flood_control_on_send_audio_waits_retry_after(harness: BotHarness) -> None:
    tg = harness.tg
    tg.script("sendAudio", status=429, retry_after=1, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    calls = audio_calls(harness)
    assert [c.http_status for c in calls] == [429, 200]
    # Waited retry_after, did not hammer.
    assert real_seconds(harness, calls[1].time - calls[0].time) >= 0.95
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    assert job.delivered_message_id == calls[1].result["message_id"]
    assert paid(harness) == 1


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_on_send_audio_are_retried_with_backoff(
    harness: BotHarness, status: int
) -> None:
    tg = harness.tg
    tg.script("sendAudio", status=status, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    handed_back = await retry_now(harness, job.id)
    # Backed off, not an immediate retry loop: the retry was planned seconds later, and nothing
    # was sent meanwhile (test_the_backoff_is_waited_in_real_time waits it out for real).
    assert handed_back.next_check_at is not None
    assert handed_back.next_check_at - handed_back.updated_at >= 1.5
    assert [c.http_status for c in audio_calls(harness)] == [status]
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert [c.http_status for c in audio_calls(harness)] == [status, 200]
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])


@pytest.mark.slow  # waits out the engine's backoff after a 5xx (2**1 s, bot/engine/outcomes.py)
async def test_the_backoff_is_waited_in_real_time(harness: BotHarness) -> None:
    tg = harness.tg
    tg.script("sendAudio", status=500, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    calls = audio_calls(harness)
    assert [c.http_status for c in calls] == [500, 200]
    assert real_seconds(harness, calls[1].time - calls[0].time) >= 1.5
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])


async def test_send_audio_timeout_is_retried(harness: BotHarness) -> None:
    tg = harness.tg
    # A 1 s read timeout instead of 30 s, so the test is quick (PTB keeps it on its httpx client).
    client = harness.app.bot.request._client
    client.timeout = httpx.Timeout(connect=2.0, read=1.0, write=5.0, pool=2.0)
    # The first upload hangs; Telegram never completes it once the client gives up.
    tg.script("sendAudio", status=None, delay=4.0, abandon_if_gone=True, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    await retry_now(harness, job.id)  # the backoff after the timeout, not tested here
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=25)
    calls = audio_calls(harness)
    assert [c.http_status for c in calls][-1] == 200
    assert len([c for c in calls if c.ok]) == 1
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    assert paid(harness) == 1


async def _ends_undeliverable(
    harness: BotHarness, chat: int, caplog: pytest.LogCaptureFixture
) -> None:
    job = await harness.wait_for_job(
        lambda j: j.state == "failed" and j.error_key == "error_undeliverable", timeout=20
    )
    # The runner is done with it: terminal, told, and never scheduled again.
    assert job.outcome_sent_at is not None and job.next_check_at is None
    before = len(harness.tg.calls)
    # A retry storm would show here: half a second is five of the engine's 0.1 s poll intervals
    # (SONGBOT_POLL_INTERVAL) and ten of the status painter's looks for spare flood budget.
    await asyncio.sleep(0.5)
    later = [c for c in harness.tg.calls[before:] if c.params.get("chat_id") == chat]
    assert later == [], [c.brief() for c in later]
    assert len(audio_calls(harness)) == 1
    # Nothing new is sent into a chat Telegram said is gone (a status "replacement" included).
    gone = next(
        i
        for i, c in enumerate(harness.tg.calls)
        if c.params.get("chat_id") == chat and c.http_status in (400, 403)
    )
    sent = [
        c.brief()
        for c in harness.tg.calls[gone:]
        if c.params.get("chat_id") == chat and c.method == "sendMessage"
    ]
    assert sent == [], sent
    # Logged once: one "job ends" line, and no component repeats itself (no warning per status
    # edit or retry). In groups the shared status board may note the refusal once too.
    warnings = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("bot")
    ]
    ends = [r for r in warnings if "job ends" in r.getMessage()]
    assert len(ends) == 1, [r.getMessage() for r in warnings]
    assert ends[0].name == "bot.engine.deliver"
    per_logger = {r.name: sum(w.name == r.name for w in warnings) for r in warnings}
    assert max(per_logger.values()) == 1, [r.getMessage() for r in warnings]
    ours = ("bot.engine.", "bot.progress.")
    assert all(name.startswith(ours) for name in per_logger), per_logger
    assert paid(harness) == 1


async def test_user_blocked_the_bot_mid_generation(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    job = await mid_generation(harness)
    harness.tg.block_chat(PRIVATE_CHAT)
    finish(harness, job)
    await _ends_undeliverable(harness, PRIVATE_CHAT, caplog)
    assert audio_calls(harness)[0].http_status == 403


async def test_bot_kicked_from_group_mid_generation(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await harness.restart(SONGBOT_TG_RATE_SCALE="20")  # group pacing is 3.5 s a message
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Choir")
    job = await mid_generation(harness, f"/song@{tg.username} gospel choir\n{LYRICS}", GROUP)
    # The group's board says "generating" first (its next refresh is 20 s away, MIN_EDIT_INTERVAL):
    # kicked later, the bot learns it from the song's upload.
    await tg.wait_for_call("editMessageText", lambda c: c.ok and c.params["chat_id"] == GROUP)
    tg.block_chat(GROUP, kicked=True)
    finish(harness, job)
    await _ends_undeliverable(harness, GROUP, caplog)
    assert "kicked" in audio_calls(harness)[0].description


async def test_chat_not_found(harness: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    job = await mid_generation(harness)
    harness.tg.forget_chat(PRIVATE_CHAT)
    finish(harness, job)
    await _ends_undeliverable(harness, PRIVATE_CHAT, caplog)
    assert "chat not found" in audio_calls(harness)[0].description


def delete_when_edited(tg: FakeTelegram, words: str) -> ScriptedFault:
    """The user deletes the status message just as the bot's edit saying `words` reaches
    Telegram, so that edit finds it gone: no race between the test and the bot's own pace."""

    def delete_it(params: dict[str, Any]) -> bool:
        if words not in str(params.get("text", "")):
            return False
        tg.delete_message(params["chat_id"], params["message_id"])
        return True

    return tg.script("editMessageText", status=None, match=delete_it, times=1)


async def test_deleted_status_message_is_replaced(harness: BotHarness) -> None:
    tg = harness.tg
    deleted = delete_when_edited(tg, "Generating")
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    done = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    assert deleted.hits == 1
    # The edit hit the deleted message; a fresh status message took its place.
    failed_edits = [c for c in tg.calls_to("editMessageText") if not c.ok]
    assert len(failed_edits) == 1 and "not found" in failed_edits[0].description
    old_status = failed_edits[0].params["message_id"]
    replacement = [
        c
        for c in tg.calls_to("sendMessage")
        if c.ok and c.time > failed_edits[0].time and c.params["chat_id"] == PRIVATE_CHAT
    ]
    assert replacement, "a new status message must be sent"
    assert done.status_message_id == replacement[0].result["message_id"] != old_status
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    # …and that one is cleaned up after delivery like the original would have been.
    await tg.wait_for_call(
        "deleteMessage", lambda c: c.params["message_id"] == done.status_message_id
    )


async def test_a_status_replaced_during_the_upload_is_cleaned_up_too(
    harness: BotHarness,
) -> None:
    """Deleted after the last edit while generating: the "sending" edit replaces it while the
    song uploads, after the delivery step read the job. The replacement must go with the rest,
    not stay under the song for good."""
    tg = harness.tg
    sending = "Sending your song"
    delete_when_edited(tg, sending)
    # Telegram takes a moment to answer both, so the replacement is recorded only after the
    # delivery step read the job, and is out before the song is (uploads take longer).
    tg.script("sendMessage", status=None, delay=0.25, match=lambda p: sending in p["text"])
    tg.script("sendAudio", status=None, delay=0.5)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    sent = [c for c in tg.calls_to("sendMessage") if c.ok and sending in c.params["text"]]
    assert sent, "the deleted status message must be replaced while the song uploads"
    replacement = sent[0].result["message_id"]
    await tg.wait_for_call(
        "deleteMessage", lambda c: c.ok and c.params["message_id"] == replacement
    )
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    assert [m for m in tg.bot_messages(PRIVATE_CHAT) if "audio" not in m] == []


async def test_deleted_request_message_still_gets_the_song(harness: BotHarness) -> None:
    tg = harness.tg
    job = await mid_generation(harness)
    tg.delete_message(PRIVATE_CHAT, job.request_message_id)
    finish(harness, job)
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    audios = [m for m in tg.bot_messages(PRIVATE_CHAT) if "audio" in m]
    assert len(audios) == 1
    assert "reply_to_message" not in audios[0]  # delivered anyway, just not as a reply
    call = audio_calls(harness)[0]
    assert call.params["reply_parameters"]["allow_sending_without_reply"] is True
