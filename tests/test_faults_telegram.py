"""Telegram misbehaving around a finished song: flood control, 5xx, timeouts, blocked or vanished
chats, deleted messages. The real bot runs in-process against the fakes (tests/support/harness.py).

Each test checks the promise that matters: the song arrives exactly once, or the job ends as
undeliverable quietly (one log line, no retry storm), and nothing is ever charged twice.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from songbot_fakes.telegram import ApiCall
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.subprocess_bot import outcome_messages

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
GROUP = -1001234567890


def audio_calls(harness: BotHarness) -> list[ApiCall]:
    return harness.tg.calls_to("sendAudio")


def paid(harness: BotHarness) -> int:
    return len(harness.api.paid_submissions())


async def test_flood_control_on_send_audio_waits_retry_after(harness: BotHarness) -> None:
    tg = harness.tg
    tg.script("sendAudio", status=429, retry_after=1, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    calls = audio_calls(harness)
    assert [c.http_status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 0.95  # waited retry_after, did not hammer
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
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    calls = audio_calls(harness)
    assert [c.http_status for c in calls] == [status, 200]
    assert calls[1].time - calls[0].time >= 1.5  # backed off, not an immediate retry loop
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])


async def test_send_audio_timeout_is_retried(harness: BotHarness) -> None:
    tg = harness.tg
    # A 1 s read timeout instead of 30 s, so the test is quick (PTB keeps it on its httpx client).
    client = harness.app.bot.request._client
    client.timeout = httpx.Timeout(connect=2.0, read=1.0, write=5.0, pool=2.0)
    # The first upload hangs; Telegram never completes it once the client gives up.
    tg.script("sendAudio", status=None, delay=4.0, abandon_if_gone=True, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
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
    await asyncio.sleep(1.0)  # a retry storm would show here
    later = [c for c in harness.tg.calls[before:] if c.params.get("chat_id") == chat]
    assert later == [], [c.brief() for c in later]
    assert len(audio_calls(harness)) == 1
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
    tg, api = harness.tg, harness.api
    api.set_outcome(generation_seconds=1.0)
    tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == "pending")
    tg.block_chat(PRIVATE_CHAT)
    await _ends_undeliverable(harness, PRIVATE_CHAT, caplog)
    assert audio_calls(harness)[0].http_status == 403


async def test_bot_kicked_from_group_mid_generation(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await harness.restart(SONGBOT_TG_RATE_SCALE="20")  # group pacing is 3.5 s a message
    tg, api = harness.tg, harness.api
    tg.add_chat(GROUP, type="supergroup", title="Choir")
    api.set_outcome(generation_seconds=1.0)
    tg.send_text(GROUP, USER, f"/song@{tg.username} gospel choir\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "pending")
    tg.block_chat(GROUP, kicked=True)
    await _ends_undeliverable(harness, GROUP, caplog)
    assert "kicked" in audio_calls(harness)[0].description


async def test_chat_not_found(harness: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    tg, api = harness.tg, harness.api
    api.set_outcome(generation_seconds=1.0)
    tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == "pending")
    tg.forget_chat(PRIVATE_CHAT)
    await _ends_undeliverable(harness, PRIVATE_CHAT, caplog)
    assert "chat not found" in audio_calls(harness)[0].description


async def test_deleted_status_message_is_replaced(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(generation_seconds=1.5)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.state == "pending" and j.status_message_id is not None
    )
    old_status = job.status_message_id
    assert old_status is not None
    tg.delete_message(PRIVATE_CHAT, old_status)
    done = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    # The edit hit the deleted message; a fresh status message took its place.
    failed_edits = [
        c
        for c in tg.calls_to("editMessageText")
        if c.params.get("message_id") == old_status and not c.ok
    ]
    assert failed_edits and "not found" in failed_edits[0].description
    replacement = [
        c
        for c in tg.calls_to("sendMessage")
        if c.ok and c.time > failed_edits[0].time and c.params["chat_id"] == PRIVATE_CHAT
    ]
    assert replacement, "a new status message must be sent"
    assert done.status_message_id == replacement[0].result["message_id"]
    assert outcome_messages(tg, PRIVATE_CHAT, request["message_id"]) == (1, [])
    # …and that one is cleaned up after delivery like the original would have been.
    await tg.wait_for_call(
        "deleteMessage", lambda c: c.params["message_id"] == done.status_message_id
    )


async def test_deleted_request_message_still_gets_the_song(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.set_outcome(generation_seconds=1.0)
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == "pending")
    tg.delete_message(PRIVATE_CHAT, request["message_id"])
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=20)
    audios = [m for m in tg.bot_messages(PRIVATE_CHAT) if "audio" in m]
    assert len(audios) == 1
    assert "reply_to_message" not in audios[0]  # delivered anyway, just not as a reply
    call = audio_calls(harness)[0]
    assert call.params["reply_parameters"]["allow_sending_without_reply"] is True
