"""One private `/song` request and its single outcome (an audio or one failure text), a song
refused by Telegram (every sendAudio fails) that is kept for a re-send, and `retry_now`, which
spares a test the backoff of a retry it does not test."""

from __future__ import annotations

import time
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


async def retry_now(
    harness: BotHarness, job_id: int, *, errors: int = 1, deadline_passed: bool = False
) -> Job:
    """Once the job is handed back after its `errors`-th transient failure (outcomes.transient:
    2**count s, then again), make that retry due now (and, with `deadline_passed`, its deadline
    gone) and wake the engine, which then does just what it does once the time has passed.

    Why: the backoff is seconds of real time and not what most tests test; the schedule itself
    is waited out for real by test_faults_telegram.py::test_the_backoff_is_waited_in_real_time.
    Returns the job as it was handed back, with the backoff it was given.
    """
    job = await harness.wait_for_job(
        lambda j: (
            j.id == job_id
            and j.transient_errors >= errors
            and j.lease_owner is None
            and j.next_check_at is not None
        ),
        timeout=20,
    )
    now = time.time()
    changed = await harness.services.db.execute_write(
        "UPDATE jobs SET next_check_at = ?, deadline_at = ? "
        "WHERE id = ? AND lease_owner IS NULL AND transient_errors = ?",
        (now, now - 1 if deadline_passed else job.deadline_at, job_id, job.transient_errors),
    )
    assert changed == 1, f"job {job_id} moved on before its retry was due"
    harness.runner.link.wake()
    return job


async def refused_song(harness: BotHarness) -> tuple[Job, dict[str, Any], ScriptedFault]:
    """A song made while every sendAudio fails; returns the failed job and its message.

    Telegram refuses the upload, the engine backs off, refuses again past the job's deadline
    (SONGBOT_JOB_TIMEOUT) and gives up: `retry_now` spares the wait in between."""
    uploads = harness.tg.script("sendAudio", status=500, times=None)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    await retry_now(harness, job.id, deadline_passed=True)
    await one_outcome(harness, request["message_id"])
    job = (await harness.jobs())[0]
    return job, failure_message(harness, request["message_id"]), uploads
