"""One private `/song` request and its single outcome (an audio or one failure text)."""

from __future__ import annotations

from tests.support.harness import BotHarness
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
