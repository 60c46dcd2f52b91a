"""The fake AI/ML API itself, spoken to with raw HTTP: it must be as strict as the provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from songbot_fakes.aimlapi import MSG_401, FakeAimlApi
from songbot_fakes.audio_fixtures import make_mp3, make_ogg_opus, make_wav

LYRICS = "[Verse]\nStreetlights flicker, the night breeze sighs"
STYLE = "calm piano and soft strings"
GOOD = {"model": "minimax/music-2.0", "prompt": STYLE, "lyrics": LYRICS}
EMOJI = "\U0001f3b5"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def auth(fake: FakeAimlApi, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}", **extra}


async def submit(
    http: httpx.AsyncClient, fake: FakeAimlApi, body: Any, **headers: str
) -> httpx.Response:
    return await http.post(
        f"{fake.base_url}/v2/generate/audio", json=body, headers=auth(fake, **headers)
    )


# --- auth and routing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-key", "Basic dGVzdC1haW1sYXBpLWtleQ==", "test-aimlapi-key"],
)
async def test_401_envelope_for_missing_or_bad_keys(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("POST", "/v2/generate/audio"), ("GET", "/v2/generate/audio")):
        response = await http.request(
            method, f"{fake_aimlapi.base_url}{path}?generation_id=x", json=GOOD, headers=headers
        )
        assert response.status_code == 401
        envelope = response.json()
        assert set(envelope) == {"message", "path", "requestId", "statusCode", "timestamp"}
        assert envelope["message"] == MSG_401
        assert envelope["statusCode"] == 401 and envelope["path"] == path
    assert fake_aimlapi.generations == {}


async def test_unknown_routes_and_methods_are_404(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    for method, path in (("GET", "/v1/nothing"), ("PUT", "/v2/generate/audio")):
        response = await http.request(method, f"{fake_aimlapi.base_url}{path}")
        assert response.status_code == 404
        assert response.json()["statusCode"] == 404


# --- body validation (MUST tier) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": STYLE, "lyrics": LYRICS}, "Invalid enum value"),
        ({**GOOD, "model": "minimax/music-9"}, "received 'minimax/music-9'"),
        ({**GOOD, "prompt": "too short"}, "at least 10 character(s)"),
        ({**GOOD, "prompt": "x" * 2001}, "at most 2000 character(s)"),
        ({**GOOD, "prompt": EMOJI * 1001}, "at most 2000 character(s)"),  # 2002 UTF-16 units
        ({**GOOD, "lyrics": None}, 'Required at "lyrics"'),
        ({**GOOD, "lyrics": 42}, "Expected string, received number"),
        ({**GOOD, "audio_setting": "mp3"}, "Expected object"),
        ({**GOOD, "audio_setting": {"sample_rate": "44100", "format": "mp3"}}, "received string"),
        ({**GOOD, "audio_setting": {"audio_sample_rate": 48000}}, "Invalid enum value"),
        ({**GOOD, "audio_setting": {"bitrate": 96000}}, "Invalid enum value"),
        ({**GOOD, "audio_setting": {"format": "ogg"}}, "Invalid enum value"),
        ({"model": "stable-audio", "prompt": STYLE, "seconds_start": 0}, "greater than or equal"),
        ({"model": "stable-audio", "prompt": STYLE, "seconds_total": 48}, "less than or equal"),
        ({"model": "stable-audio", "prompt": STYLE, "steps": 2.5}, "Expected integer"),
        ({"model": "stable-audio"}, 'Required at "prompt"'),
        ({"model": "minimax-music", "prompt": "##la##"}, 'Required at "reference_audio_url"'),
        (
            {"model": "minimax-music", "prompt": "##la##", "reference_audio_url": "not a url"},
            "Invalid url",
        ),
        ({"model": "minimax/music-1.5", "prompt": "x" * 301, "lyrics": LYRICS}, "at most 300"),
        ({"model": "elevenlabs/eleven_music", "prompt": STYLE, "music_length_ms": 9999}, "10000"),
        ({"model": "google/lyria2", "prompt": STYLE, "seed": -1}, "greater than or equal"),
        ({"model": "minimax/music-2.6", "prompt": STYLE, "is_instrumental": "yes"}, "boolean"),
    ],
)
async def test_schema_violations_are_400_body_validation_error(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    response = await submit(http, fake_aimlapi, body)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Body validation error")
    assert fragment in message
    assert fake_aimlapi.generations == {} and fake_aimlapi.paid_submissions() == []


@pytest.mark.parametrize(
    "body",
    [
        GOOD,
        {**GOOD, "prompt": "x" * 2000, "unknown_extra": {"ignored": True}},  # Zod strips extras
        {**GOOD, "lyrics": EMOJI * 1500},  # exactly 3000 UTF-16 units
        {**GOOD, "audio_setting": {"sample_rate": 44100, "bitrate": 256000, "format": "mp3"}},
        {**GOOD, "audio_setting": {"audio_sample_rate": 16000}},  # current docs: no format needed
        {"model": "stable-audio", "prompt": STYLE, "seconds_total": 30.0},  # a JS integer
        {"model": "minimax/music-2.6", "prompt": STYLE, "is_instrumental": True},
        {"model": "minimax/music-cover", "prompt": STYLE, "reference_audio_url": "https://a.b/c"},
        {"model": "google/lyria2", "prompt": "x" * 900},  # 600 is prose only: strict mode
    ],
)
async def test_valid_bodies_are_accepted(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await submit(http, fake_aimlapi, body)
    assert response.status_code == 200, response.text
    assert len(response.json()["id"]) == 21


async def test_body_that_is_not_json_is_400(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        f"{fake_aimlapi.base_url}/v2/generate/audio",
        content=b"{model: music}",
        headers=auth(fake_aimlapi, **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({**GOOD, "audio_setting": {"sample_rate": 44100}}, 'Required at "audio_setting.format"'),
        ({"model": "google/lyria2", "prompt": "x" * 601}, "at most 600"),
        (
            {
                "model": "minimax-music",
                "prompt": "a" * 601,
                "reference_audio_url": "https://a.b/c",
            },
            "600",
        ),
        ({"model": "minimax/music-2.6", "prompt": STYLE}, 'Required at "lyrics"'),
        ({"model": "minimax/music-2.6", "prompt": "short", "lyrics": LYRICS}, "at least 10"),
        (
            {
                "model": "minimax/music-cover",
                "prompt": STYLE,
                "reference_audio_url": "data:audio/mpeg;base64,@@@",
            },
            "not valid base64",
        ),
    ],
)
async def test_strict_mode_adds_the_should_tier(
    strict_fake_aimlapi: FakeAimlApi,
    fake_aimlapi: FakeAimlApi,
    http: httpx.AsyncClient,
    body: dict[str, Any],
    fragment: str,
) -> None:
    strict = await submit(http, strict_fake_aimlapi, body)
    assert strict.status_code == 400 and fragment in strict.json()["message"]
    lenient = await submit(http, fake_aimlapi, body)
    assert lenient.status_code == 200


# --- submit, poll, logs -------------------------------------------------------------------------


async def test_submit_response_headers_and_charging(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    response = await submit(http, fake_aimlapi, GOOD, **{"X-Client-Request-Id": "sb-job.1:x_y"})
    body = response.json()
    assert body["status"] == "queued"
    assert body["meta"]["usage"] == {"credits_used": 120000, "usd_spent": 0.06}
    assert response.headers["x-inference-id"] == body["id"]
    assert response.headers["x-client-request-id"] == "sb-job.1:x_y"
    assert response.headers["x-aimlapi-credits-used"] == "120000"
    invalid = await submit(http, fake_aimlapi, GOOD, **{"X-Client-Request-Id": "has space"})
    assert "x-client-request-id" not in invalid.headers  # silently dropped, still billed
    assert [g.client_request_id for g in fake_aimlapi.generations.values()] == [
        "sb-job.1:x_y",
        None,
    ]
    assert len(fake_aimlapi.paid_submissions()) == 2
    assert len(fake_aimlapi.paid_submissions("sb-job.1:x_y")) == 1


async def test_status_walks_through_polls(http: httpx.AsyncClient) -> None:
    async with FakeAimlApi(polls_until_done=3) as fake:
        generation_id = (await submit(http, fake, GOOD)).json()["id"]
        seen = []
        for _ in range(3):
            response = await http.get(
                f"{fake.base_url}/v2/generate/audio",
                params={"generation_id": generation_id},
                headers=auth(fake),
            )
            seen.append(response.json()["status"])
        assert seen == ["queued", "generating", "completed"]
        body = response.json()
        assert set(body["audio_file"]) == {"url"}  # MiniMax 2.x: only the url
        assert body["extra_info"]["music_size"] == len(fake.audio_for(generation_id))
        assert fake.generations[generation_id].poll_count == 3


async def test_status_walks_through_time_and_records_completion(
    http: httpx.AsyncClient,
) -> None:
    async def wait_until(generation_id: str, status: str) -> None:
        for _ in range(300):
            if fake.generations[generation_id].status == status:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{generation_id} never became {status}")

    async with FakeAimlApi() as fake:
        fake.generation_time_fn = lambda body: 0.1 if body["model"] == "stable-audio" else 1.0
        slow = (await submit(http, fake, GOOD)).json()["id"]
        quick = (await submit(http, fake, {"model": "stable-audio", "prompt": STYLE})).json()["id"]
        await wait_until(quick, "completed")
        assert fake.generations[slow].status in ("queued", "generating")
        assert slow not in fake.completed_at
        await wait_until(slow, "completed")
        for generation_id, seconds in ((quick, 0.1), (slow, 1.0)):
            gen = fake.generations[generation_id]
            assert gen.generation_seconds == seconds
            assert fake.completed_at[generation_id] - gen.created_at >= seconds - 0.01


async def test_poll_errors(fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient) -> None:
    url = f"{fake_aimlapi.base_url}/v2/generate/audio"
    missing = await http.get(url, headers=auth(fake_aimlapi))
    assert missing.status_code == 400
    unknown = await http.get(url, params={"generation_id": "nope"}, headers=auth(fake_aimlapi))
    assert unknown.status_code == 404 and unknown.json()["statusCode"] == 404


async def test_percent_encoded_uuid_model_ids(http: httpx.AsyncClient) -> None:
    async with FakeAimlApi(id_style="uuid_model") as fake:
        generation_id = (await submit(http, fake, GOOD)).json()["id"]
        assert generation_id.endswith(":minimax/music-2.0")
        url = f"{fake.base_url}/v2/generate/audio?generation_id={quote(generation_id, safe='')}"
        response = await http.get(url, headers=auth(fake))
        assert response.status_code == 200 and response.json()["id"] == generation_id


async def test_served_audio_matches_what_was_announced(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    generation_id = (
        await submit(http, fake_aimlapi, {"model": "stable-audio", "prompt": STYLE})
    ).json()["id"]
    fake_aimlapi.complete_now(generation_id)
    poll = await http.get(
        f"{fake_aimlapi.base_url}/v2/generate/audio",
        params={"generation_id": generation_id},
        headers=auth(fake_aimlapi),
    )
    audio_file = poll.json()["audio_file"]
    assert audio_file["content_type"] == "application/octet-stream"
    assert audio_file["file_name"] == "output.wav"
    assert "Expires=" in audio_file["url"]
    served = await http.get(audio_file["url"])  # a CDN: no auth needed
    assert served.status_code == 200
    assert served.content == fake_aimlapi.audio_for(generation_id)
    assert served.content[:4] == b"RIFF"


async def test_logs_endpoint_validates_and_pages(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    for i in range(3):
        await submit(http, fake_aimlapi, GOOD, **{"X-Client-Request-Id": f"job-{i}"})
    url = f"{fake_aimlapi.base_url}/v2/logs"
    for params in (
        {},
        {"period": "24h", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
        {"period": "24x"},
        {"period": "24h", "limit": "101"},
        {"period": "24h", "status": "succeeded,failed"},
    ):
        response = await http.get(url, params=params, headers=auth(fake_aimlapi))
        assert response.status_code == 400, params
    page = await http.get(
        url, params={"period": "1h", "limit": 2, "offset": 0}, headers=auth(fake_aimlapi)
    )
    body = page.json()
    assert [row["client_request_id"] for row in body["data"]] == ["job-2", "job-1"]
    assert body["pagination"] == {"limit": 2, "offset": 0, "total": 3, "has_more": True}
    row = body["data"][0]
    assert row["status"] == "succeeded" and row["cost"] == {"usd": 0.06, "credits": 120000}
    assert row["inference_id"] in fake_aimlapi.generations
    window = await http.get(
        url,
        params=[
            ("start", "2020-01-01T00:00:00Z"),
            ("end", "2020-01-02T00:00:00Z"),
            ("status", "succeeded"),
            ("status", "failed"),
        ],
        headers=auth(fake_aimlapi),
    )
    assert window.status_code == 200 and window.json()["data"] == []
    unauth = await http.get(url, params={"period": "1h"})
    assert unauth.status_code == 401


# --- music-01 -----------------------------------------------------------------------------------


async def upload(
    http: httpx.AsyncClient, fake: FakeAimlApi, data: bytes, purpose: str | None = "song"
) -> httpx.Response:
    form = {} if purpose is None else {"purpose": purpose}
    return await http.post(
        f"{fake.base_url}/v2/generate/audio/minimax/upload",
        files={"file": ("take.mp3", data, "audio/mpeg")},
        data=form,
        headers=auth(fake),
    )


async def test_upload_must_be_multipart_with_file_and_purpose(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    url = f"{fake_aimlapi.base_url}/v2/generate/audio/minimax/upload"
    as_json = await http.post(url, json={"purpose": "song"}, headers=auth(fake_aimlapi))
    assert as_json.status_code == 400
    assert (await upload(http, fake_aimlapi, make_mp3(12.0), None)).status_code == 400
    bad = await upload(http, fake_aimlapi, make_mp3(12.0), "karaoke")
    assert bad.status_code == 400 and "Invalid enum value" in bad.json()["message"]
    good = await upload(http, fake_aimlapi, make_mp3(12.0), "instrumental")
    body = good.json()
    assert set(body) == {"instrumental_id", "trace_id", "base_resp"}
    assert body["base_resp"] == {"status_code": 0, "status_msg": "success"}
    [*_, recorded] = fake_aimlapi.requests
    assert recorded.files["file"] == ("take.mp3", "audio/mpeg", make_mp3(12.0))


@pytest.mark.parametrize(
    "data", [make_ogg_opus(12.0), make_mp3(5.0), make_wav(9.0), b"not audio at all"]
)
async def test_strict_upload_rejects_wrong_format_or_duration_via_base_resp(
    strict_fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient, data: bytes
) -> None:
    response = await upload(http, strict_fake_aimlapi, data)
    assert response.status_code == 200
    assert response.json()["base_resp"]["status_code"] == 2013
    assert "voice_id" not in response.json()


async def test_strict_generate_requires_issued_reference_ids(
    strict_fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    url = f"{strict_fake_aimlapi.base_url}/v2/generate/audio/minimax/generate"
    body: dict[str, Any] = {"model": "music-01", "lyrics": "##la la la##"}
    neither = await http.post(url, json=body, headers=auth(strict_fake_aimlapi))
    assert neither.json()["base_resp"]["status_code"] == 2013
    made_up = await http.post(
        url, json={**body, "refer_voice": "vocal-1"}, headers=auth(strict_fake_aimlapi)
    )
    assert made_up.json()["base_resp"]["status_code"] == 2013
    voice_id = (await upload(http, strict_fake_aimlapi, make_mp3(12.0), "voice")).json()[
        "voice_id"
    ]
    ok = await http.post(
        url, json={**body, "refer_voice": voice_id}, headers=auth(strict_fake_aimlapi)
    )
    payload = ok.json()
    assert payload["base_resp"]["status_code"] == 0
    assert bytes.fromhex(payload["data"]["audio"])[:3] == b"ID3"
    assert strict_fake_aimlapi.paid_submissions() == strict_fake_aimlapi.requests[-1:]


async def test_generate_schema_is_enforced(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    url = f"{fake_aimlapi.base_url}/v2/generate/audio/minimax/generate"
    for body in (
        {"model": "music-02", "lyrics": "la"},
        {"model": "music-01"},
        {"model": "music-01", "lyrics": "la", "audio_setting": {"sample_rate": 44100}},
    ):
        response = await http.post(url, json=body, headers=auth(fake_aimlapi))
        assert response.status_code == 400, body
    assert fake_aimlapi.paid_submissions() == []


# --- scripting --------------------------------------------------------------------------------


async def test_scripted_faults_are_consumed_in_order(
    fake_aimlapi: FakeAimlApi, http: httpx.AsyncClient
) -> None:
    fake_aimlapi.script("POST /v2/generate/audio", status=429, retry_after=3)
    fake_aimlapi.script("POST /v2/generate/audio", status=503, times=2)
    statuses = []
    for _ in range(4):
        response = await submit(http, fake_aimlapi, GOOD)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["retry-after"] == "3"
            assert response.json()["message"] == "Too Many Requests"
    assert statuses == [429, 503, 503, 200]
    assert len(fake_aimlapi.paid_submissions()) == 1
    fake_aimlapi.script("GET /v2/logs", status=500, times=None)
    for _ in range(3):
        response = await http.get(
            f"{fake_aimlapi.base_url}/v2/logs", params={"period": "1h"}, headers=auth(fake_aimlapi)
        )
        assert response.status_code == 500
    fake_aimlapi.clear_faults()
    response = await http.get(
        f"{fake_aimlapi.base_url}/v2/logs", params={"period": "1h"}, headers=auth(fake_aimlapi)
    )
    assert response.status_code == 200
    with pytest.raises(ValueError, match="unknown route"):
        fake_aimlapi.script("POST /v9/nothing")
