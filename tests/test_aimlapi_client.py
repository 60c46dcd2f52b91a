"""The client against the fake AI/ML API: every model's happy path and every error class."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.aimlapi.bodies import build_body
from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.errors import (
    ContentRejected,
    GenerationFailed,
    InvalidApiKey,
    InvalidRequest,
    OutOfCredits,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnknownGeneration,
)
from bot.aimlapi.models import MODELS, Endpoint
from bot.aimlapi.types import GenerationRequest, GenerationStatus, PollResult
from bot.errors import SongbotError
from bot.i18n import t
from songbot_fakes.aimlapi import MSG_401, FakeAimlApi, LogRow, nanoid
from songbot_fakes.audio_fixtures import make_mp3, make_ogg_opus, make_wav
from tests.support.fixtures_aimlapi import make_aimlapi_client

LYRICS = "[Verse]\nStreetlights flicker, the night breeze sighs\n[Chorus]\nStay with me"
STYLE = "dreamy synth-pop with female vocals"
REF_URL = "https://cdn.example.com/reference.mp3"

HAPPY: dict[str, GenerationRequest] = {
    "minimax/music-2.0": GenerationRequest("minimax/music-2.0", STYLE, LYRICS),
    "minimax/music-2.6": GenerationRequest("minimax/music-2.6", STYLE, instrumental=True),
    "minimax/music-1.5": GenerationRequest("minimax/music-1.5", STYLE, LYRICS),
    "minimax/music-cover": GenerationRequest(
        "minimax/music-cover", STYLE, LYRICS, reference_url=REF_URL
    ),
    "stable-audio": GenerationRequest("stable-audio", STYLE, duration_seconds=12),
    "google/lyria2": GenerationRequest(
        "google/lyria2", STYLE, instrumental=True, options={"negative_prompt": "drums", "seed": 7}
    ),
    "elevenlabs/eleven_music": GenerationRequest(
        "elevenlabs/eleven_music", STYLE, duration_seconds=30
    ),
    "minimax-music": GenerationRequest("minimax-music", "", "la la la", reference_url=REF_URL),
}


async def poll_until_done(client: AimlApiClient, generation_id: str) -> PollResult:
    for _ in range(200):
        result = await client.poll(generation_id)
        if not result.is_pending:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError("generation never finished")


def test_every_async_model_has_a_happy_path_case() -> None:
    async_models = {k for k, s in MODELS.items() if s.endpoint is Endpoint.ASYNC}
    assert set(HAPPY) == async_models


@pytest.mark.parametrize("model", sorted(HAPPY))
async def test_async_model_happy_path(
    model: str, fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    request = HAPPY[model]
    job_key = f"sb-{model.replace('/', '-')}"
    submission = await aimlapi_client.submit(request, client_request_id=job_key)
    assert submission.status == "queued"
    assert submission.credits_used is not None and submission.credits_used > 0
    assert submission.usd_spent == pytest.approx(submission.credits_used / 2_000_000)

    [sent] = fake_aimlapi.requests_to("POST /v2/generate/audio")
    assert sent.json == build_body(request)[1]
    assert sent.header("authorization") == f"Bearer {fake_aimlapi.api_key}"
    assert sent.header("x-client-request-id") == job_key
    assert sent.header("content-type") == "application/json"

    result = await poll_until_done(aimlapi_client, submission.generation_id)
    assert result.status is GenerationStatus.COMPLETED and result.is_done
    assert result.audio_url is not None

    got = await aimlapi_client.download(result.audio_url, tmp_path / "song")
    assert got.format == MODELS[model].output
    assert (tmp_path / "song").read_bytes() == fake_aimlapi.audio_for(submission.generation_id)
    assert got.size_bytes == len(fake_aimlapi.audio_for(submission.generation_id))
    [fetch] = fake_aimlapi.requests_to("GET /files")
    assert fetch.header("authorization") is None
    assert fake_aimlapi.api_key not in json.dumps(fetch.headers)
    assert len(fake_aimlapi.paid_submissions(job_key)) == 1


async def test_poll_reports_what_the_provider_gives(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    wav = await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="job-wav")
    mini = await aimlapi_client.submit(HAPPY["minimax/music-2.0"], client_request_id="job-mp3")
    wav_result = await poll_until_done(aimlapi_client, wav.generation_id)
    assert wav_result.content_type == "application/octet-stream"
    assert wav_result.file_name == "output.wav"
    assert wav_result.size_bytes == len(fake_aimlapi.audio_for(wav.generation_id))
    mini_result = await poll_until_done(aimlapi_client, mini.generation_id)
    assert mini_result.duration_seconds == pytest.approx(fake_aimlapi.audio_seconds)
    assert mini_result.sample_rate == 44100
    assert mini_result.credits_used == 120_000


async def test_music_01_upload_then_synchronous_generate(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    reference = tmp_path / "take.wav"
    reference.write_bytes(make_wav(12.0))
    upload = await aimlapi_client.upload_reference(reference, purpose="song")
    assert upload.voice_id and upload.voice_id.startswith("vocal-")
    assert upload.instrumental_id and upload.instrumental_id.startswith("instrumental-")
    assert upload.trace_id

    [sent] = fake_aimlapi.requests_to("POST /v2/generate/audio/minimax/upload")
    assert sent.header("content-type").startswith("multipart/form-data")
    assert sent.form == {"purpose": "song"}
    filename, content_type, data = sent.files["file"]
    assert (filename, content_type) == ("take.wav", "audio/wav")
    assert data == reference.read_bytes()

    request = GenerationRequest(
        "music-01",
        prompt="ignored style",
        lyrics="I see a skyline painted in dreams",
        refer_voice=upload.voice_id,
        refer_instrumental=upload.instrumental_id,
    )
    audio = await aimlapi_client.generate_sync(request, client_request_id="sb-m01")
    [generate] = fake_aimlapi.requests_to("POST /v2/generate/audio/minimax/generate")
    assert generate.json == {
        "model": "music-01",
        "lyrics": "##I see a skyline painted in dreams##",
        "refer_voice": upload.voice_id,
        "refer_instrumental": upload.instrumental_id,
    }
    assert generate.header("x-client-request-id") == "sb-m01"
    [generation] = fake_aimlapi.generations.values()
    assert audio.data == fake_aimlapi.audio_for(generation.id)
    assert audio.format == "mp3"
    assert audio.duration_seconds == pytest.approx(fake_aimlapi.audio_seconds)
    assert audio.trace_id == generation.trace_id


@pytest.mark.parametrize(
    ("purpose", "voice", "instrumental"),
    [("voice", True, False), ("instrumental", False, True)],
)
async def test_upload_purpose_decides_which_ids_come_back(
    aimlapi_client: AimlApiClient, tmp_path: Path, purpose: str, voice: bool, instrumental: bool
) -> None:
    reference = tmp_path / "take.mp3"
    reference.write_bytes(make_mp3(12.0))
    upload = await aimlapi_client.upload_reference(reference, purpose=purpose)
    assert (upload.voice_id is not None, upload.instrumental_id is not None) == (
        voice,
        instrumental,
    )


async def test_upload_refuses_what_is_not_mp3_or_wav(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    voice_note = tmp_path / "voice.ogg"
    voice_note.write_bytes(make_ogg_opus(12.0))
    with pytest.raises(SongbotError) as info:
        await aimlapi_client.upload_reference(voice_note, purpose="voice")
    assert info.value.key == "error_reference_format"
    reference = tmp_path / "take.mp3"
    reference.write_bytes(make_mp3(12.0))
    with pytest.raises(SongbotError) as info:
        await aimlapi_client.upload_reference(reference, purpose="karaoke")
    assert info.value.key == "error_option_invalid"
    assert fake_aimlapi.requests == []


async def test_ids_with_colon_and_slash_are_url_encoded(tmp_path: Path) -> None:
    async with (
        FakeAimlApi(generation_seconds=0.05, id_style="uuid_model") as fake,
        make_aimlapi_client(fake) as client,
    ):
        submission = await client.submit(HAPPY["minimax/music-2.0"], client_request_id="j1")
        assert submission.generation_id.endswith(":minimax/music-2.0")
        result = await poll_until_done(client, submission.generation_id)
        assert result.generation_id == submission.generation_id and result.is_done
        poll = fake.requests_to("GET /v2/generate/audio")[0]
        assert poll.query["generation_id"] == submission.generation_id


async def test_submit_accepts_201_and_the_legacy_generation_id_field() -> None:
    async with FakeAimlApi(submit_status=201) as fake, make_aimlapi_client(fake) as client:
        submission = await client.submit(HAPPY["stable-audio"], client_request_id="j201")
        assert submission.generation_id in fake.generations
        fake.script(
            "POST /v2/generate/audio",
            status=200,
            body={"generation_id": "legacy-id-1", "status": "queued"},
        )
        legacy = await client.submit(HAPPY["stable-audio"], client_request_id="j-legacy")
        assert legacy.generation_id == "legacy-id-1"
        assert legacy.credits_used is None


# --- error classes ------------------------------------------------------------------------------


async def test_wrong_key_is_invalid_api_key(fake_aimlapi: FakeAimlApi) -> None:
    async with make_aimlapi_client(fake_aimlapi, api_key="wrong") as client:
        with pytest.raises(InvalidApiKey) as info:
            await client.submit(HAPPY["minimax/music-2.0"], client_request_id="j")
        assert info.value.provider_message == MSG_401
        assert info.value.http_status == 401 and not info.value.retryable
        assert "API key" in info.value.user_message("en")
        with pytest.raises(InvalidApiKey):
            await client.check_key()
        with pytest.raises(InvalidApiKey):
            await client.poll("anything")
    assert fake_aimlapi.paid_submissions() == []
    assert len(fake_aimlapi.requests) == 3  # 401 is final: no retries


async def test_out_of_credits_is_403() -> None:
    async with (
        FakeAimlApi(no_credit_keys={"broke"}) as fake,
        make_aimlapi_client(fake, api_key="broke") as client,
    ):
        with pytest.raises(OutOfCredits) as info:
            await client.submit(HAPPY["minimax/music-2.0"], client_request_id="j")
        assert "credits" in info.value.user_message("en")
        assert fake.paid_submissions() == []


@pytest.mark.parametrize("status_code", [400, 422])
async def test_provider_validation_text_goes_to_the_log_not_the_user(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, status_code: int
) -> None:
    envelope = {
        "message": "Body validation error!\nString must contain at most 3000 character(s)",
        "path": "/v2/generate/audio",
        "requestId": "hRNOI9BMsuLeZ76UNdGhS",
        "statusCode": str(status_code),  # the docs print it as a string
        "timestamp": "2025-03-11T07:13:27.813Z",
    }
    fake_aimlapi.script("POST /v2/generate/audio", status=status_code, body=envelope)
    with pytest.raises(InvalidRequest) as info:
        await aimlapi_client.submit(HAPPY["minimax/music-2.0"], client_request_id="j")
    error = info.value
    assert error.request_id == "hRNOI9BMsuLeZ76UNdGhS" and not error.retryable
    # English provider text would land inside a Russian or Spanish reply (issue #25 item 11):
    # the user reads the catalogue's reason, the operator the provider's in the log.
    assert "at most 3000 character(s)" in error.provider_message or ""
    assert error.user_message("ru") == t("error_provider_invalid_request", "ru")
    assert "validation" not in error.user_message("en")
    assert len(fake_aimlapi.requests) == 1


async def test_poll_failed_generation_reads_the_opaque_error(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.set_outcome(fail="Downstream service error.")
    first = await aimlapi_client.submit(HAPPY["minimax-music"], client_request_id="j1")
    fake_aimlapi.set_outcome(fail="Could not detect a voice", fail_detail=True)
    second = await aimlapi_client.submit(HAPPY["minimax-music"], client_request_id="j2")
    one = await poll_until_done(aimlapi_client, first.generation_id)
    two = await poll_until_done(aimlapi_client, second.generation_id)
    assert one.is_failed and one.error_text == "Downstream service error."
    assert two.is_failed and two.error_text == "Could not detect a voice"
    assert one.audio_url is None
    [row] = [r for r in fake_aimlapi.log_rows if r.inference_id == first.generation_id]
    assert row.status() == "failed"


async def test_unknown_status_is_still_pending(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.set_outcome(unknown_status="processing", never_complete=True)
    submission = await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="j")
    result = await aimlapi_client.poll(submission.generation_id)
    assert result.raw_status == "processing"
    assert result.status is GenerationStatus.PENDING_UNKNOWN and result.is_pending


async def test_completed_without_url_is_a_failure(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.set_outcome(completed_without_url=True)
    submission = await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="j")
    result = await poll_until_done(aimlapi_client, submission.generation_id)
    assert result.raw_status == "completed" and result.is_failed
    assert result.error_text and "no audio URL" in result.error_text


async def test_polling_an_unknown_id_is_unknown_generation(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    with pytest.raises(UnknownGeneration) as info:
        await aimlapi_client.poll("NDxdQ2xZY1L6PYQNkJgbA")
    assert info.value.http_status == 404
    assert len(fake_aimlapi.requests) == 1


async def test_submit_answering_status_error_is_generation_failed(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.script(
        "POST /v2/generate/audio",
        status=200,
        body={"id": "x1", "status": "error", "error": {"name": "E", "message": "model busy"}},
    )
    with pytest.raises(GenerationFailed) as info:
        await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="j")
    # The provider's English words stay in the log (issue #25 item 11).
    assert info.value.provider_message == "model busy"
    assert "model busy" not in info.value.user_message("ru")
    assert info.value.user_message("en") == t("error_generation_failed", "en")


async def test_2xx_carrying_an_error_envelope_is_mapped_by_its_status_code(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    envelope = {"message": MSG_401, "statusCode": "401", "path": "/v2/generate/audio"}
    fake_aimlapi.script("POST /v2/generate/audio", status=200, body=envelope)
    with pytest.raises(InvalidApiKey):
        await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="j")


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (1002, RateLimited),
        (1004, InvalidApiKey),
        (2049, InvalidApiKey),
        (1008, OutOfCredits),
        (1026, ContentRejected),
        (1027, ContentRejected),
        (2013, InvalidRequest),
        (1024, ProviderUnavailable),
        (4321, GenerationFailed),
    ],
)
async def test_base_resp_failures_with_http_200(
    fake_aimlapi: FakeAimlApi,
    aimlapi_client: AimlApiClient,
    code: int,
    error_class: type[ProviderError],
) -> None:
    fake_aimlapi.set_outcome(base_resp_code=code)
    request = GenerationRequest("music-01", "", "la la la", refer_voice="vocal-1")
    with pytest.raises(error_class) as info:
        await aimlapi_client.generate_sync(request, client_request_id="j-m01")
    assert type(info.value) is error_class
    assert str(code) in info.value.detail
    assert info.value.user_message("en")
    assert fake_aimlapi.paid_submissions() == []
    assert len(fake_aimlapi.requests) == 1  # never retried, not even 1002


async def test_upload_base_resp_failure(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    fake_aimlapi.set_outcome(base_resp_code=2013, base_resp_msg="invalid params")
    reference = tmp_path / "take.mp3"
    reference.write_bytes(make_mp3(12.0))
    with pytest.raises(InvalidRequest) as info:
        await aimlapi_client.upload_reference(reference, purpose="voice")
    assert info.value.provider_message == "invalid params"


async def test_content_rejected_message_is_neutral_and_hides_provider_text(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.set_outcome(base_resp_code=1026, base_resp_msg="input new_sensitive")
    request = GenerationRequest("music-01", "", "la la la", refer_instrumental="inst-1")
    with pytest.raises(ContentRejected) as info:
        await aimlapi_client.generate_sync(request, client_request_id="j")
    text = info.value.user_message("en")
    assert "content rules" in text and "new_sensitive" not in text


async def test_wrong_endpoint_for_the_model_is_a_local_failure(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    with pytest.raises(SongbotError) as info:
        await aimlapi_client.submit(
            GenerationRequest("music-01", "", "la", refer_voice="v"), client_request_id="j"
        )
    assert info.value.key == "error_internal"
    with pytest.raises(SongbotError):
        await aimlapi_client.generate_sync(HAPPY["stable-audio"], client_request_id="j")
    assert fake_aimlapi.requests == []


async def test_validation_failure_sends_nothing(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    request = GenerationRequest("minimax/music-2.0", STYLE, "x" * 3001)
    with pytest.raises(SongbotError) as info:
        await aimlapi_client.submit(request, client_request_id="j")
    assert info.value.key == "error_lyrics_too_long"
    assert fake_aimlapi.requests == []


# --- logs, key check, lifecycle -----------------------------------------------------------------


async def test_find_generation_pages_through_the_logs(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    submission = await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="sb-old")
    now = fake_aimlapi.log_rows[0].created_epoch
    for i in range(150):  # newer traffic pushes our row onto the second page
        fake_aimlapi.log_rows.append(
            LogRow(now + 1, "openai/gpt-5", nanoid(), nanoid(), f"other-{i}", 10, None)
        )
    entry = await aimlapi_client.find_generation("sb-old")
    assert entry is not None
    assert entry.inference_id == submission.generation_id
    assert entry.status == "succeeded" and entry.succeeded
    assert entry.credits == 100_000 and entry.usd == pytest.approx(0.05)
    assert entry.model == "stable-audio" and entry.created_at
    offsets = [r.query["offset"] for r in fake_aimlapi.requests_to("GET /v2/logs")]
    assert offsets == ["0", "100"]
    assert all(r.query["period"] == "48h" for r in fake_aimlapi.requests_to("GET /v2/logs"))
    assert await aimlapi_client.find_generation("never-sent") is None


async def test_find_generation_prefers_a_succeeded_row(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    submission = await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="sb-2")
    row = fake_aimlapi.log_rows[0]
    fake_aimlapi.log_rows.append(
        LogRow(row.created_epoch + 1, "stable-audio", "r", "failed-one", "sb-2", 0, None, True)
    )
    entry = await aimlapi_client.find_generation("sb-2")
    assert entry is not None and entry.inference_id == submission.generation_id


async def test_find_generation_accepts_a_bare_list(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    rows = [{"client_request_id": "sb-9", "inference_id": "gen-9", "status": "failed"}]
    fake_aimlapi.script("GET /v2/logs", status=200, body=json.dumps(rows))
    entry = await aimlapi_client.find_generation("sb-9")
    assert entry is not None and entry.inference_id == "gen-9" and not entry.succeeded


async def test_check_key_is_a_read_only_logs_call(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    await aimlapi_client.check_key()
    [sent] = fake_aimlapi.requests
    assert (sent.method, sent.path) == ("GET", "/v2/logs")
    assert sent.query == {"period": "1h", "limit": "1"}
    assert fake_aimlapi.generations == {}


async def test_a_shared_http_client_is_left_open(fake_aimlapi: FakeAimlApi) -> None:
    async with httpx.AsyncClient() as http:
        client = make_aimlapi_client(fake_aimlapi, http=http)
        await client.check_key()
        await client.aclose()
        assert not http.is_closed
        await client.check_key()  # still usable
    own = make_aimlapi_client(fake_aimlapi)
    await own.aclose()
    assert own._http.is_closed


async def test_client_repr_hides_key(fake_aimlapi: FakeAimlApi) -> None:
    async with make_aimlapi_client(fake_aimlapi) as client:
        assert fake_aimlapi.api_key not in repr(client)
        assert "***" in repr(client)


async def test_a_422_outside_the_envelope_keeps_its_reason(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    # What a JSON Schema validator in front of the API (Stoplight Prism) answers.
    problem = {
        "type": "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY",
        "title": "Invalid request",
        "status": 422,
        "detail": "Your request is not valid",
        "validation": [
            {
                "location": ["body", "prompt"],
                "severity": "Error",
                "code": "minLength",
                "message": "must NOT have fewer than 10 characters",
            }
        ],
    }
    fake_aimlapi.script("POST /v2/generate/audio", status=422, body=problem)
    with pytest.raises(InvalidRequest) as info:
        await aimlapi_client.submit(HAPPY["stable-audio"], client_request_id="j")
    reason = info.value.provider_message or ""
    assert "Invalid request" in reason
    assert "body.prompt: must NOT have fewer than 10 characters" in reason


def test_a_style_of_emoji_is_short_by_code_points_too() -> None:
    from bot.aimlapi.bodies import build_body
    from bot.aimlapi.types import GenerationRequest
    from bot.errors import ValidationError

    six_emoji = "🎸🥁🎹🎺🎻🎷"  # 12 UTF-16 units, 6 code points; music-2.0 needs 10
    request = GenerationRequest(
        model="minimax/music-2.0", prompt=six_emoji, lyrics="[Verse]\nla la la la la la"
    )
    with pytest.raises(ValidationError) as info:
        build_body(request)
    assert info.value.key == "error_prompt_too_short"


async def test_the_fake_counts_code_points_like_a_schema_validator(
    fake_aimlapi: FakeAimlApi,
) -> None:
    import httpx

    body = {
        "model": "minimax/music-2.0",
        "prompt": "🎸🥁🎹🎺🎻🎷",
        "lyrics": "[Verse]\nla la la la la la",
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{fake_aimlapi.base_url}/v2/generate/audio",
            json=body,
            headers={"Authorization": f"Bearer {fake_aimlapi.api_key}"},
        )
    assert response.status_code in (400, 422), response.text
