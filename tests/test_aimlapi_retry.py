"""The retry rules of bot/aimlapi/session.py's docstring, against real sockets.

Free calls retry (bounded, exponential backoff with jitter, Retry-After honoured); a paid POST
is retried only when it certainly did not reach the provider, and otherwise raises
SubmitOutcomeUnknown so the job can be reconciled through GET /v2/logs.
"""

from __future__ import annotations

import asyncio
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.errors import (
    ProviderUnavailable,
    RateLimited,
    SubmitOutcomeUnknown,
)
from bot.aimlapi.responses import parse_retry_after
from bot.aimlapi.session import Timeouts
from bot.aimlapi.types import GenerationRequest
from bot.errors import LocalFailure
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.audio_fixtures import make_mp3
from tests.support.fixtures_aimlapi import make_aimlapi_client

REQUEST = GenerationRequest(
    "minimax/music-2.0", "calm piano and soft strings", "[Verse]\nStreetlights flicker tonight"
)
MUSIC_01 = GenerationRequest("music-01", "", "la la la", refer_voice="vocal-1")
SUBMIT = "POST /v2/generate/audio"
POLL = "GET /v2/generate/audio"
GENERATE = "POST /v2/generate/audio/minimax/generate"


class SleepRecorder:
    """Records backoff delays instead of sleeping (tests stay fast and exact)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client_for(fake: FakeAimlApi, sleep: SleepRecorder, **overrides: object) -> AimlApiClient:
    return make_aimlapi_client(
        fake,
        sleep=sleep,
        rng=random.Random(7),
        backoff_base=0.5,
        backoff_cap=3.0,
        **overrides,
    )


# --- free calls ------------------------------------------------------------------------------


async def test_poll_backs_off_exponentially_with_jitter_and_is_bounded(
    fake_aimlapi: FakeAimlApi,
) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(POLL, status=500, times=None)
    async with client_for(fake_aimlapi, sleep, max_attempts=5) as client:
        with pytest.raises(ProviderUnavailable) as info:
            await client.poll("some-id")
    assert info.value.retryable and info.value.http_status == 500
    assert len(fake_aimlapi.requests_to(POLL)) == 5
    assert len(sleep.delays) == 4
    for attempt, delay in enumerate(sleep.delays, start=1):
        ceiling = min(3.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert sleep.delays[3] <= 3.0  # capped
    assert len(set(sleep.delays)) == 4  # jittered, not constant


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_poll_recovers_after_transient_statuses(
    fake_aimlapi: FakeAimlApi, status: int
) -> None:
    sleep = SleepRecorder()
    async with client_for(fake_aimlapi, sleep) as client:
        submission = await client.submit(REQUEST, client_request_id="job-1")
        fake_aimlapi.script(POLL, status=status, times=2)
        result = await client.poll(submission.generation_id)
    assert result.generation_id == submission.generation_id
    assert len(fake_aimlapi.requests_to(POLL)) == 3
    assert len(sleep.delays) == 2


async def test_retry_after_is_honoured(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    async with client_for(fake_aimlapi, sleep) as client:
        submission = await client.submit(REQUEST, client_request_id="job-1")
        fake_aimlapi.script(POLL, status=429, retry_after=2)
        fake_aimlapi.script(POLL, status=429, retry_after=0.25)
        await client.poll(submission.generation_id)
    assert sleep.delays == [2.0, 0.25]


async def test_retry_after_longer_than_we_wait_is_handed_to_the_caller(
    fake_aimlapi: FakeAimlApi,
) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(POLL, status=429, retry_after=120)
    async with client_for(fake_aimlapi, sleep, max_retry_after=30) as client:
        with pytest.raises(RateLimited) as info:
            await client.poll("id")
    assert info.value.retry_after == 120 and info.value.retryable
    assert sleep.delays == []
    assert len(fake_aimlapi.requests) == 1


async def test_429_without_retry_after_uses_backoff_then_raises_rate_limited(
    fake_aimlapi: FakeAimlApi,
) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(POLL, status=429, times=None)
    async with client_for(fake_aimlapi, sleep, max_attempts=3) as client:
        with pytest.raises(RateLimited) as info:
            await client.poll("id")
    assert info.value.retry_after is None
    assert len(sleep.delays) == 2 and 0.25 <= sleep.delays[0] <= 0.5


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-4") == 0.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 31


async def test_poll_retries_timeouts_dropped_connections_and_garbled_bodies(
    fake_aimlapi: FakeAimlApi,
) -> None:
    sleep = SleepRecorder()
    timeouts = Timeouts(connect=2, poll=0.3, submit=2, logs=2)
    async with client_for(fake_aimlapi, sleep, timeouts=timeouts, max_attempts=4) as client:
        submission = await client.submit(REQUEST, client_request_id="job-1")
        fake_aimlapi.script(POLL, delay=1.0)  # longer than the 0.3 s read timeout
        fake_aimlapi.script(POLL, drop_connection=True)
        fake_aimlapi.script(POLL, status=200, body="{not json")
        result = await client.poll(submission.generation_id)
    assert result.generation_id == submission.generation_id
    assert len(fake_aimlapi.requests_to(POLL)) == 4
    assert len(sleep.delays) == 3


async def test_upload_retries_5xx(fake_aimlapi: FakeAimlApi, tmp_path: Path) -> None:
    sleep = SleepRecorder()
    reference = tmp_path / "take.mp3"
    reference.write_bytes(make_mp3(12.0))
    fake_aimlapi.script("POST /v2/generate/audio/minimax/upload", status=503)
    async with client_for(fake_aimlapi, sleep) as client:
        upload = await client.upload_reference(reference, purpose="voice")
    assert upload.voice_id
    uploads = fake_aimlapi.requests_to("POST /v2/generate/audio/minimax/upload")
    assert len(uploads) == 2 and uploads[0].files == uploads[1].files


async def test_logs_lookup_retries_too(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script("GET /v2/logs", status=502)
    async with client_for(fake_aimlapi, sleep) as client:
        assert await client.find_generation("nothing") is None
    assert len(fake_aimlapi.requests_to("GET /v2/logs")) == 2


# --- paid POSTs --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_paid_submit_is_never_retried_after_a_5xx_that_may_hide_a_job(
    fake_aimlapi: FakeAimlApi, status: int
) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(SUBMIT, status=status, times=None)
    async with client_for(fake_aimlapi, sleep) as client:
        with pytest.raises(SubmitOutcomeUnknown) as info:
            await client.submit(REQUEST, client_request_id="job-5xx")
    assert info.value.client_request_id == "job-5xx" and info.value.http_status == status
    assert len(fake_aimlapi.requests_to(SUBMIT)) == 1
    assert sleep.delays == []


@pytest.mark.parametrize(("status", "retry_after"), [(429, None), (429, 1.0), (503, None)])
async def test_paid_submit_retries_a_429_or_503_response(
    fake_aimlapi: FakeAimlApi, status: int, retry_after: float | None
) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(SUBMIT, status=status, times=2, retry_after=retry_after)
    async with client_for(fake_aimlapi, sleep) as client:
        submission = await client.submit(REQUEST, client_request_id="job-429")
    sent = fake_aimlapi.requests_to(SUBMIT)
    assert len(sent) == 3
    assert all(r.header("x-client-request-id") == "job-429" for r in sent)
    assert list(fake_aimlapi.generations) == [submission.generation_id]
    assert len(fake_aimlapi.paid_submissions()) == 1
    if retry_after is not None:
        assert sleep.delays == [retry_after, retry_after]


async def test_paid_submit_gives_up_on_429_after_the_bound(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(SUBMIT, status=429, times=None)
    async with client_for(fake_aimlapi, sleep, max_attempts=3) as client:
        with pytest.raises(RateLimited):
            await client.submit(REQUEST, client_request_id="job")
    assert len(fake_aimlapi.requests_to(SUBMIT)) == 3
    assert fake_aimlapi.paid_submissions() == []


async def test_read_timeout_after_send_is_outcome_unknown_then_reconciled_via_logs(
    fake_aimlapi: FakeAimlApi,
) -> None:
    sleep = SleepRecorder()
    timeouts = Timeouts(connect=2, submit=0.3, poll=2, logs=2)
    # The provider creates and bills the job, but its answer comes too late.
    fake_aimlapi.script(SUBMIT, delay=1.5, process=True)
    async with client_for(fake_aimlapi, sleep, timeouts=timeouts) as client:
        with pytest.raises(SubmitOutcomeUnknown) as info:
            await client.submit(REQUEST, client_request_id="sb-job-42")
        assert info.value.client_request_id == "sb-job-42"
        assert "ReadTimeout" in info.value.detail
        assert len(fake_aimlapi.requests_to(SUBMIT)) == 1  # not retried
        assert len(fake_aimlapi.paid_submissions("sb-job-42")) == 1

        entry = await client.find_generation("sb-job-42")
        assert entry is not None and entry.succeeded
        [generation] = fake_aimlapi.generations.values()
        assert entry.inference_id == generation.id
        fake_aimlapi.complete_now(generation.id)
        result = await client.poll(entry.inference_id)
        assert result.is_done and result.audio_url
    assert sleep.delays == []


async def test_connection_dropped_after_the_job_was_created(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(SUBMIT, drop_connection=True, process=True)
    async with client_for(fake_aimlapi, sleep) as client:
        with pytest.raises(SubmitOutcomeUnknown) as info:
            await client.submit(REQUEST, client_request_id="sb-drop")
        assert "RemoteProtocolError" in info.value.detail
        entry = await client.find_generation("sb-drop")
    assert entry is not None and entry.inference_id in fake_aimlapi.generations
    assert len(fake_aimlapi.requests_to(SUBMIT)) == 1


async def test_connection_dropped_before_processing_reconciles_to_nothing(
    fake_aimlapi: FakeAimlApi,
) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(SUBMIT, drop_connection=True)
    async with client_for(fake_aimlapi, sleep) as client:
        with pytest.raises(SubmitOutcomeUnknown):
            await client.submit(REQUEST, client_request_id="sb-lost")
        # Nothing was logged for this id: the caller may now safely submit again.
        assert await client.find_generation("sb-lost") is None
        again = await client.submit(REQUEST, client_request_id="sb-lost")
    assert [g.id for g in fake_aimlapi.generations.values()] == [again.generation_id]
    assert len(fake_aimlapi.paid_submissions("sb-lost")) == 1


async def test_garbled_2xx_on_a_paid_submit_is_outcome_unknown(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(SUBMIT, status=200, body="<html>gateway</html>")
    async with client_for(fake_aimlapi, sleep) as client:
        with pytest.raises(SubmitOutcomeUnknown) as info:
            await client.submit(REQUEST, client_request_id="sb-garbled")
    assert info.value.http_status == 200
    assert len(fake_aimlapi.requests_to(SUBMIT)) == 1


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connect_errors_are_retried_even_for_paid_posts() -> None:
    """Nothing listens: the request never left, so retrying cannot double-charge."""
    sleep = SleepRecorder()
    client = AimlApiClient(
        base_url=f"http://127.0.0.1:{_closed_port()}",
        api_key="k",
        max_attempts=3,
        sleep=sleep,
        rng=random.Random(1),
    )
    async with client:
        with pytest.raises(ProviderUnavailable) as info:
            await client.submit(REQUEST, client_request_id="sb-offline")
    assert "ConnectError" in info.value.detail
    assert len(sleep.delays) == 2


async def test_music_01_generate_timeout_is_outcome_unknown(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.set_outcome(never_complete=True)
    timeouts = Timeouts(connect=2, generate=0.3)
    async with client_for(fake_aimlapi, sleep, timeouts=timeouts) as client:
        with pytest.raises(SubmitOutcomeUnknown):
            await client.generate_sync(MUSIC_01, client_request_id="sb-m01")
    assert len(fake_aimlapi.requests_to(GENERATE)) == 1
    assert len(fake_aimlapi.paid_submissions("sb-m01")) == 1


async def test_music_01_generate_retries_503(fake_aimlapi: FakeAimlApi) -> None:
    sleep = SleepRecorder()
    fake_aimlapi.script(GENERATE, status=503)
    async with client_for(fake_aimlapi, sleep) as client:
        audio = await client.generate_sync(MUSIC_01, client_request_id="sb-m01")
    assert audio.data
    assert len(fake_aimlapi.requests_to(GENERATE)) == 2
    assert len(fake_aimlapi.paid_submissions()) == 1


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 129, "ünicode", "a/b"])
async def test_unusable_client_request_ids_are_refused_before_sending(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, bad_id: str
) -> None:
    with pytest.raises(LocalFailure):
        await aimlapi_client.submit(REQUEST, client_request_id=bad_id)
    with pytest.raises(LocalFailure):
        await aimlapi_client.generate_sync(MUSIC_01, client_request_id=bad_id)
    assert fake_aimlapi.requests == []


async def test_concurrent_polls_share_one_client(fake_aimlapi: FakeAimlApi) -> None:
    async with make_aimlapi_client(fake_aimlapi) as client:
        submissions = await asyncio.gather(
            *(client.submit(REQUEST, client_request_id=f"job-{i}") for i in range(8))
        )
        results = await asyncio.gather(*(client.poll(s.generation_id) for s in submissions))
    assert {r.generation_id for r in results} == {s.generation_id for s in submissions}
    assert len(fake_aimlapi.paid_submissions()) == 8
