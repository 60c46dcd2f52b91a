"""A song's deadline passing is not the end of a song that was made meanwhile.

The bot looks once more past the deadline: a generation that finished since the last look was
made and paid for and is delivered; one still running ends `timed_out`, as before.
"""

from __future__ import annotations

import time

from songbot_fakes.aimlapi import FakeAimlApi
from storage.jobs import Job
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import SONG


async def _between_polls_past_the_deadline(harness: BotHarness) -> Job:
    """A pending job, looked at once, whose next look is due now and whose deadline has gone."""
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.state == "pending" and j.poll_count >= 1 and j.lease_owner is None,
        timeout=20,
    )
    now = time.time()
    changed = await harness.services.db.execute_write(
        "UPDATE jobs SET next_check_at = ?, deadline_at = ? "
        "WHERE id = ? AND lease_owner IS NULL AND state = 'pending'",
        (now + 3600, now - 1, job.id),
    )
    assert changed == 1, "the job moved on before the test could pass its deadline"
    return job


async def _look_now(harness: BotHarness, job: Job) -> Job:
    await harness.services.db.execute_write(
        "UPDATE jobs SET next_check_at = ? WHERE id = ?", (time.time(), job.id)
    )
    harness.runner.link.wake()
    return await harness.wait_for_job(
        lambda j: j.id == job.id and j.state in ("delivered", "timed_out", "failed"), timeout=20
    )


async def test_a_song_finished_by_its_deadline_is_delivered_not_timed_out(
    harness: BotHarness, fake_aimlapi: FakeAimlApi
) -> None:
    fake_aimlapi.set_outcome(never_complete=True)
    job = await _between_polls_past_the_deadline(harness)
    assert job.generation_id is not None
    fake_aimlapi.complete_now(job.generation_id)
    done = await _look_now(harness, job)
    assert done.state == "delivered", (done.state, done.error_key)
    assert harness.tg.calls_to("sendAudio")


async def test_a_song_still_running_at_its_deadline_times_out(
    harness: BotHarness, fake_aimlapi: FakeAimlApi
) -> None:
    fake_aimlapi.set_outcome(never_complete=True)
    job = await _between_polls_past_the_deadline(harness)
    done = await _look_now(harness, job)
    assert (done.state, done.error_key) == ("timed_out", "error_timeout")
    assert not harness.tg.calls_to("sendAudio")
