"""Audio handling: byte sniffing, strict hex decoding, capped downloads without our key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.aimlapi.audio import HexDecodeError, decode_hex_audio, sniff_audio_format
from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.errors import AudioDownloadError, GenerationFailed
from bot.aimlapi.types import GenerationRequest
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.audio_fixtures import make_m4a, make_mp3, make_ogg_opus, make_wav
from tests.support.fixtures_aimlapi import make_aimlapi_client

MUSIC_01 = GenerationRequest("music-01", "", "la la la", refer_voice="vocal-1")
STABLE = GenerationRequest("stable-audio", "warm analog pads")


# --- sniffing and hex ---------------------------------------------------------------------------


def test_sniffing_real_files() -> None:
    assert sniff_audio_format(make_mp3(1.0)[:16]) == "mp3"
    assert sniff_audio_format(make_wav(1.0)[:16]) == "wav"
    assert sniff_audio_format(make_ogg_opus(1.0)[:16]) == "ogg"
    assert sniff_audio_format(make_m4a(1.0)[:16]) == "m4a"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xfb\x90\x64\x00", "mp3"),  # MPEG-1 layer III frame, no ID3 tag
        (b"\xff\xf3\x88\xc4\x00", "mp3"),  # MPEG-2 layer III
        (b"\xff\xf1\x50\x80\x00", None),  # ADTS AAC shares the sync word but is not MP3
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"RIFF\x24\x00\x00\x00AVI ", None),
        (b"<html><body>expired", None),
        (b'{"message": "x"}', None),
        (b"", None),
    ],
)
def test_sniffing_edge_cases(head: bytes, expected: str | None) -> None:
    assert sniff_audio_format(head) == expected


def test_hex_decoding_is_strict() -> None:
    data = make_mp3(1.0)
    assert decode_hex_audio(data.hex()) == data
    assert decode_hex_audio(data.hex().upper()) == data
    for bad in ("", "abc", "ab cd", "ab\ncd", "zz", "0x00", "ab+d"):
        with pytest.raises(HexDecodeError):
            decode_hex_audio(bad)


@given(st.binary(max_size=64))
def test_hex_round_trip(data: bytes) -> None:
    if data:
        assert decode_hex_audio(data.hex()) == data


# odd length; even length with spaces (bytes.fromhex would accept it); junk; empty
@pytest.mark.parametrize("audio", ["49443", "49 4433 ", "49443G", ""])
async def test_music_01_bad_hex_is_a_failed_generation(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, audio: str
) -> None:
    body = {
        "data": {"status": 2, "audio": audio},
        "base_resp": {"status_code": 0, "status_msg": ""},
    }
    fake_aimlapi.script("POST /v2/generate/audio/minimax/generate", status=200, body=body)
    with pytest.raises(GenerationFailed):
        await aimlapi_client.generate_sync(MUSIC_01, client_request_id="sb-hex")


async def test_music_01_hex_that_is_not_audio_is_refused(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    body = {"data": {"status": 2, "audio": b"<html>".hex()}, "base_resp": {"status_code": 0}}
    fake_aimlapi.script("POST /v2/generate/audio/minimax/generate", status=200, body=body)
    with pytest.raises(GenerationFailed) as info:
        await aimlapi_client.generate_sync(MUSIC_01, client_request_id="sb-hex")
    assert "not a known audio format" in info.value.detail


async def test_music_01_url_output_is_fetched_without_auth(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    submission = await aimlapi_client.submit(STABLE, client_request_id="sb-wav")
    url = fake_aimlapi.audio_url_for(submission.generation_id)
    body = {"data": {"status": 2, "audio": url}, "base_resp": {"status_code": 0}}
    fake_aimlapi.script("POST /v2/generate/audio/minimax/generate", status=200, body=body)
    audio = await aimlapi_client.generate_sync(MUSIC_01, client_request_id="sb-url")
    assert audio.data == fake_aimlapi.audio_for(submission.generation_id)
    assert audio.format == "wav"
    [fetch] = fake_aimlapi.requests_to("GET /files")
    assert fetch.header("authorization") is None


# --- downloads ----------------------------------------------------------------------------------


async def _completed(fake: FakeAimlApi, client: AimlApiClient) -> str:
    submission = await client.submit(STABLE, client_request_id="sb-dl")
    fake.complete_now(submission.generation_id)
    return submission.generation_id


async def test_download_cap_refuses_and_leaves_nothing(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    generation_id = await _completed(fake_aimlapi, aimlapi_client)
    size = len(fake_aimlapi.audio_for(generation_id))
    dest = tmp_path / "song.wav"
    with pytest.raises(AudioDownloadError) as info:
        await aimlapi_client.download(
            fake_aimlapi.audio_url_for(generation_id), dest, max_bytes=size - 1
        )
    assert info.value.key == "error_audio_too_big" and not info.value.retryable
    assert list(tmp_path.iterdir()) == []
    got = await aimlapi_client.download(
        fake_aimlapi.audio_url_for(generation_id), dest, max_bytes=size
    )
    assert got.size_bytes == size and dest.read_bytes() == fake_aimlapi.audio_for(generation_id)


@pytest.fixture
async def chunked_server() -> AsyncIterator[str]:
    """Serves 3 MB in 64 kB chunks with no Content-Length (so only the stream count can cap)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        first = make_mp3(1.0)
        await response.write(first)
        for _ in range(48):
            await response.write(b"\x00" * 65536)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/big.mp3", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/big.mp3"
    finally:
        await runner.cleanup()


async def test_download_cap_applies_to_streams_without_content_length(
    chunked_server: str, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    with pytest.raises(AudioDownloadError) as info:
        await aimlapi_client.download(chunked_server, tmp_path / "big.mp3", max_bytes=1_000_000)
    assert info.value.key == "error_audio_too_big"
    assert list(tmp_path.iterdir()) == []
    got = await aimlapi_client.download(chunked_server, tmp_path / "big.mp3", max_bytes=4_000_000)
    assert got.size_bytes > 3_000_000 and got.format == "mp3"


async def test_expired_audio_url(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    fake_aimlapi.set_outcome(expire_audio=True)
    generation_id = await _completed(fake_aimlapi, aimlapi_client)
    with pytest.raises(AudioDownloadError) as info:
        await aimlapi_client.download(fake_aimlapi.audio_url_for(generation_id), tmp_path / "a")
    assert info.value.key == "error_audio_expired" and info.value.http_status == 403
    missing = f"{fake_aimlapi.base_url}/files/nope.mp3"
    with pytest.raises(AudioDownloadError) as info:
        await aimlapi_client.download(missing, tmp_path / "b")
    assert info.value.http_status == 404
    assert len(fake_aimlapi.requests_to("GET /files")) == 2  # 403/404 are not retried


async def test_signed_url_past_its_expiry(aimlapi_client: AimlApiClient, tmp_path: Path) -> None:
    async with FakeAimlApi(audio_url_ttl=-10) as fake:
        client = make_aimlapi_client(fake)
        async with client:
            generation_id = await _completed(fake, client)
            with pytest.raises(AudioDownloadError) as info:
                await client.download(fake.audio_url_for(generation_id), tmp_path / "a")
    assert info.value.key == "error_audio_expired"


async def test_a_body_that_is_not_audio_is_refused_and_deleted(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    generation_id = await _completed(fake_aimlapi, aimlapi_client)
    fake_aimlapi.script("GET /files", status=200, body="<html>Access denied</html>")
    with pytest.raises(AudioDownloadError) as info:
        await aimlapi_client.download(fake_aimlapi.audio_url_for(generation_id), tmp_path / "a")
    assert info.value.key == "error_audio_not_audio"
    assert list(tmp_path.iterdir()) == []


async def test_download_retries_5xx_and_dropped_connections(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    generation_id = await _completed(fake_aimlapi, aimlapi_client)
    fake_aimlapi.script("GET /files", status=502)
    fake_aimlapi.script("GET /files", drop_connection=True)
    got = await aimlapi_client.download(fake_aimlapi.audio_url_for(generation_id), tmp_path / "a")
    assert got.format == "wav" and got.content_type == "application/octet-stream"
    assert len(fake_aimlapi.requests_to("GET /files")) == 3


async def test_download_gives_up_after_the_bound(
    fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> None:
    async with make_aimlapi_client(fake_aimlapi, max_attempts=2) as client:
        generation_id = await _completed(fake_aimlapi, client)
        fake_aimlapi.script("GET /files", status=500, times=None)
        with pytest.raises(AudioDownloadError) as info:
            await client.download(fake_aimlapi.audio_url_for(generation_id), tmp_path / "a")
    assert info.value.retryable
    assert len(fake_aimlapi.requests_to("GET /files")) == 2


async def test_download_strips_auth_even_from_a_shared_client_with_default_headers(
    fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(
        headers={"Authorization": "Bearer leaked-default", "Cookie": "session=1"}
    ) as http:
        client = make_aimlapi_client(fake_aimlapi, http=http)
        generation_id = await _completed(fake_aimlapi, client)
        await client.download(fake_aimlapi.audio_url_for(generation_id), tmp_path / "a")
    [submit] = fake_aimlapi.requests_to("POST /v2/generate/audio")
    assert submit.header("authorization") == f"Bearer {fake_aimlapi.api_key}"
    [fetch] = fake_aimlapi.requests_to("GET /files")
    assert fetch.header("authorization") is None and fetch.header("cookie") is None


async def test_download_refuses_non_http_urls(
    aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/a.mp3", "not a url"):
        with pytest.raises(AudioDownloadError):
            await aimlapi_client.download(url, tmp_path / "a")


async def test_many_downloads_in_parallel_do_not_block_each_other(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path
) -> None:
    ids = [await _completed(fake_aimlapi, aimlapi_client) for _ in range(4)]
    results = await asyncio.gather(
        *(
            aimlapi_client.download(fake_aimlapi.audio_url_for(g), tmp_path / f"{i}.wav")
            for i, g in enumerate(ids)
        )
    )
    for generation_id, got in zip(ids, results, strict=True):
        assert got.path.read_bytes() == fake_aimlapi.audio_for(generation_id)
