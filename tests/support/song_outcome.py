"""One private `/song` request and its single outcome (an audio or one failure text), and a song
refused by Telegram (every sendAudio fails) that is kept for a re-send."""

from __future__ import annotations

from typing import Any

from songbot_fakes.telegram import ScriptedFault
from storage.jobs import Job
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.subprocess_bot import outcome_messages

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
SUBMIT = "POST /v2/generate/audio"
POLL = "GET /v2/generate/audio"
FILES = "GET /files"


async def one_outcome(harness: BotHarness, request_id: int) -> tuple[int, list[str]]:
    """Wait until the job's outcome went out; return (audios, failure texts) for the request."""
    job = await harness.wait_for_job(
        lambda j: j.request_message_id == request_id and j.outcome_sent_at is not None,
        timeout=25,
    )
    audios, failures = outcome_messages(harness.tg, job.chat_id, request_id)
    assert audios + len(failures) == 1, (audios, failures)
    return audios, failures


def failure_message(harness: BotHarness, request_id: int) -> dict[str, Any]:
    """The one failure (⚠️) message that answers the request."""
    [message] = [
        m
        for m in harness.tg.bot_messages(PRIVATE_CHAT)
        if (m.get("reply_to_message") or {}).get("message_id") == request_id
        and "⚠️" in m.get("text", "")
    ]
    return message


async def refused_song(harness: BotHarness) -> tuple[Job, dict[str, Any], ScriptedFault]:
    """A song made while every sendAudio fails; returns the failed job and its message."""
    await harness.restart(SONGBOT_JOB_TIMEOUT="3")
    uploads = harness.tg.script("sendAudio", status=500, times=None)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await one_outcome(harness, request["message_id"])
    job = (await harness.jobs())[0]
    return job, failure_message(harness, request["message_id"]), uploads
