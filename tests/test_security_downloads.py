"""Issue #17.8: the provider's audio URL cannot lead the bot anywhere or hold a job for ever.

Through the real bot against the fakes: a redirect to the cloud metadata address is refused
before any connection; a redirect that stays on the (local) provider host is followed; a file
served one byte a second is cut off by the download deadline (bounded by SONGBOT_JOB_TIMEOUT).
"""

from __future__ import annotations

import time

import pytest

from songbot_fakes.audio_fixtures import make_ogg_opus
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import FILES, SONG, one_outcome


async def test_a_redirect_to_the_metadata_address_is_refused(harness: BotHarness) -> None:
    harness.api.file_redirect = "http://169.254.169.254/latest/meta-data/iam/"
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0 and "couldn't download" in failures[0]
    job = (await harness.jobs())[0]
    assert job.state == "failed" and job.error_key == "error_audio_download"
    assert len(harness.api.requests_to(FILES)) == 1  # refused, not retried


async def test_a_redirect_on_the_provider_host_is_followed(harness: BotHarness) -> None:
    harness.api.file_redirect = "self"
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, _ = await one_outcome(harness, request["message_id"])
    assert audios == 1
    assert len(harness.api.requests_to(FILES)) == 2


# The download's deadline is the job's: 2 s, of which the song needs a few tenths first.
@pytest.mark.harness_env(SONGBOT_JOB_TIMEOUT="2")
async def test_a_dripping_file_is_cut_off_by_the_deadline(harness: BotHarness) -> None:
    harness.api.file_drip_seconds = 1.0
    started = time.monotonic()
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0 and "couldn't download" in failures[0]
    assert time.monotonic() - started < 10
    job = (await harness.jobs())[0]
    assert job.state == "failed" and job.error_key == "error_audio_download"


# The download's deadline is the job's: 1.5 s, and the reference is the job's first step.
@pytest.mark.harness_env(SONGBOT_JOB_TIMEOUT="1.5")
async def test_a_dripping_reference_download_is_cut_off_by_the_deadline(
    harness: BotHarness,
) -> None:
    harness.tg.download_drip_seconds = 1.0
    started = time.monotonic()
    request = harness.tg.send_media(
        PRIVATE_CHAT,
        USER,
        "voice",
        make_ogg_opus(12.0),
        caption="/song voice: folk\nI sing in the morning light\nAnd the day is bright",
    )
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0 and "couldn't get your voice note" in failures[0]
    assert time.monotonic() - started < 10
    job = (await harness.jobs())[0]
    assert job.error_key == "error_reference_unavailable"
    assert harness.api.requests == []  # nothing uploaded, nothing charged
