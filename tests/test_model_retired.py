"""music-01 retired (#16.9): its refusal is classified, the job goes on with music-cover.

Through the real bot against the fakes: a voice-note request whose music-01 call is refused as
"model not found" ends with a song made by music-cover, one charge and one usage row, the
operator told once (a WARNING line and a /healthz notice), /help names the model that now takes
voice notes, and later requests (also after a restart) go straight to music-cover.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path

import pytest

from bot.aimlapi.availability import ModelAvailability
from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.errors import InvalidRequest, ModelUnavailable
from bot.aimlapi.models import MODELS
from bot.aimlapi.responses import model_gone
from bot.aimlapi.types import GenerationRequest
from songbot_fakes.aimlapi import RETIRED_ANSWERS, FakeAimlApi
from songbot_fakes.audio_fixtures import make_mp3, make_ogg_opus
from storage.db import Database
from storage.meta import MetaStore
from tests.support.harness import BotHarness
from tests.support.ops import get, ops_bot, web_server
from tests.support.ux import help_section

__all__ = ["ops_bot"]

UPLOAD = "POST /v2/generate/audio/minimax/upload"
GENERATE = "POST /v2/generate/audio/minimax/generate"
SUBMIT = "POST /v2/generate/audio"
LYRICS = "I sing in the morning light\nAnd the day is bright"
OPERATOR_LINE = "OPERATOR: music-01 is unavailable at the provider"
INLINE = "data:audio/mpeg;base64,"


# ------------------------------------------------------------------------ the classification


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (410, None),
        (410, "Gone"),
        (404, None),
        (404, "Not Found"),
        (404, "Cannot POST /v2/generate/audio/minimax/generate"),
        (404, "Model not found"),
        (
            400,
            "Body validation error\n"
            "Invalid enum value. Expected 'x', received 'music-01' at \"model\"",
        ),
        (400, "Unknown model: music-01"),
        (422, "The model music-01 is deprecated and no longer available"),
        (403, "This model is not available for your API key"),
    ],
)
def test_answers_that_mean_the_model_is_gone(status: int, message: str | None) -> None:
    assert model_gone("music-01", status, message)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "This request requires a valid API key."),
        (403, "You've run out of credits. Please top up your balance"),
        (400, 'Body validation error\nRequired at "lyrics"'),
        (400, "Body validation error\nInvalid enum value. Expected 'song', received 'x'"),
        (404, "voice id vocal-2025 not found"),
        (404, "Generation abc not found"),
        (429, "Too Many Requests"),
        (500, "The model is under maintenance, please contact us at help@aimlapi.com."),
        (503, "Service unavailable"),
    ],
)
def test_answers_that_do_not_retire_a_model(status: int, message: str) -> None:
    assert not model_gone("music-01", status, message)


# ------------------------------------------------------------------------ the client and fake


MUSIC_01 = GenerationRequest(
    model="music-01", prompt="", lyrics=LYRICS, instrumental=False, refer_voice="vocal-1"
)


@pytest.mark.parametrize("answer", RETIRED_ANSWERS)
async def test_every_way_the_fake_retires_music01_is_model_unavailable(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, tmp_path: Path, answer: str
) -> None:
    reference = tmp_path / "take.mp3"
    reference.write_bytes(make_mp3(12.0))
    fake_aimlapi.retire_model("music-01", answer)
    with pytest.raises(ModelUnavailable) as upload:
        await aimlapi_client.upload_reference(reference, purpose="voice")
    with pytest.raises(ModelUnavailable) as generate:
        await aimlapi_client.generate_sync(MUSIC_01, client_request_id="sb-gone")
    assert upload.value.model == generate.value.model == "music-01"
    assert not upload.value.retryable
    assert "music-01" not in await aimlapi_client.list_models()
    assert not fake_aimlapi.paid_submissions()  # a refusal is never charged


async def test_a_404_that_names_a_reference_id_stays_an_invalid_request(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.script(GENERATE, status=404, body={"message": "voice id vocal-1 not found"})
    with pytest.raises(InvalidRequest) as caught:
        await aimlapi_client.generate_sync(MUSIC_01, client_request_id="sb-ref")
    assert not isinstance(caught.value, ModelUnavailable)


# ------------------------------------------------------------------------ through the bot


def operator_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and OPERATOR_LINE in r.getMessage()
    ]


async def usage_rows(bot: BotHarness, job_id: int) -> int:
    value = await bot.services.db.fetchval(
        "SELECT COUNT(*) FROM usage WHERE job_id = ?", (job_id,)
    )
    return int(str(value))


async def help_text(bot: BotHarness, chat: int) -> str:
    """The /help section that names the voice-note model (one tap from the first screen)."""
    return await help_section(bot, chat, chat, "refs")


async def test_refused_music01_upload_is_sung_by_music_cover_once_charged_and_remembered(
    ops_bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot, tg, api = ops_bot, ops_bot.tg, ops_bot.api
    caplog.set_level(logging.INFO)
    before = await help_text(bot, 7001)
    assert "Voice notes and audio files are sung by <b>MiniMax-01</b>" in before
    api.retire_model("music-01", "not_found")
    voice = make_ogg_opus(12.0)
    tg.send_media(7001, 7001, "voice", voice, caption=f"/song gospel choir\n{LYRICS}")
    job = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=30)

    # music-01 was asked once (the upload, refused); music-cover made the song from the same
    # voice note, sent inline, and that is the only charged request.
    assert len(api.requests_to(UPLOAD)) == 1 and not api.requests_to(GENERATE)
    assert job.model == "minimax/music-cover"
    (submit,) = api.requests_to(SUBMIT)
    sent = submit.json
    assert isinstance(sent, dict) and sent["model"] == "minimax/music-cover"
    assert sent["prompt"] == "gospel choir"  # long enough for music-cover as it is
    assert sent["lyrics"] == LYRICS
    assert sent["reference_audio_url"].startswith(INLINE)
    base64.b64decode(sent["reference_audio_url"][len(INLINE) :], validate=True)
    assert [r.route for r in api.paid_submissions()] == [SUBMIT]
    assert [c.files["audio"].data for c in tg.calls_to("sendAudio") if c.ok] == [
        api.audio_for(job.generation_id or "")
    ]
    # One usage row, one song counted today, no refund: the job was charged once.
    assert await usage_rows(bot, job.id) == 1
    assert await bot.services.usage.count_today(7001, now=time.time()) == 1
    assert await bot.services.usage.count_today_with_pending(7001, now=time.time()) == 1

    # The operator: one WARNING line, a /healthz notice (a detail, not a problem).
    assert len(operator_lines(caplog)) == 1
    health = (await get(web_server(bot), "/healthz")).json()
    assert health["status"] == "ok" and health["problems"] == []
    (notice,) = health["notices"]
    assert "music-01 is unavailable" in notice and "now go to minimax/music-cover" in notice
    # /help says which model takes voice notes now, in the user's language too.
    after = await help_text(bot, 7001)
    assert "no longer available" in after and "MiniMax-Cover</b>" in after
    models = await help_section(bot, 7001, 7001, "models")
    assert "no longer available: made by MiniMax-Cover now" in models  # the model list

    # A second request goes straight to music-cover: music-01 is not asked again.
    tg.send_media(7002, 7002, "voice", make_ogg_opus(9.0), caption=f"/song soul\n{LYRICS}")
    second = await bot.wait_for_job(lambda j: j.chat_id == 7002 and j.state == "delivered")
    assert second.model == "minimax/music-cover"
    assert len(api.requests_to(UPLOAD)) == 1 and len(api.requests_to(SUBMIT)) == 2
    # music-01 took no style; music-cover wants 10+ characters: "soul" is lengthened, honestly.
    short = api.requests_to(SUBMIT)[1].json
    assert isinstance(short, dict)
    assert short["prompt"] == "soul, in the style and voice of the reference recording"
    assert len(operator_lines(caplog)) == 1

    # After a restart the fact is remembered (the `meta` row): still no music-01 call, no new
    # WARNING, the notice still there.
    await bot.restart()
    tg.send_media(7003, 7003, "voice", make_ogg_opus(9.0), caption=f"/song blues\n{LYRICS}")
    third = await bot.wait_for_job(lambda j: j.chat_id == 7003 and j.state == "delivered")
    assert third.model == "minimax/music-cover"
    assert len(api.requests_to(UPLOAD)) == 1 and not api.requests_to(GENERATE)
    assert len(operator_lines(caplog)) == 1
    assert (await get(web_server(bot), "/healthz")).json()["notices"] == [notice]


async def test_refused_music01_generate_moves_the_job_to_music_cover_counted_once(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.restart(SONGBOT_USER_DAILY_LIMIT="2")
    bot, tg, api = harness, harness.tg, harness.api
    caplog.set_level(logging.INFO)
    # The upload still works; the paid generate is refused: the route is gone.
    api.script(GENERATE, status=410, body={"message": "Gone", "statusCode": 410})
    tg.send_media(7101, 7101, "voice", make_ogg_opus(12.0), caption=f"/song opera\n{LYRICS}")
    job = await bot.wait_for_job(lambda j: j.state == "delivered", timeout=30)

    assert job.model == "minimax/music-cover"
    (generate,) = api.requests_to(GENERATE)
    (submit,) = api.requests_to(SUBMIT)
    # Each paid attempt has its own request id, so the request log can never confuse them.
    assert generate.header("x-client-request-id") == job.key
    assert submit.header("x-client-request-id") == f"{job.key}.2"
    assert [r.route for r in api.paid_submissions()] == [SUBMIT]
    assert job.refer_voice_id is None  # music-01's ids are not carried over
    assert await usage_rows(bot, job.id) == 1
    assert len(operator_lines(caplog)) == 1
    # The daily limit of 2 counted that job once: one more song is allowed, then no more.
    tg.send_media(7101, 7101, "voice", make_ogg_opus(9.0), caption=f"/song folk\n{LYRICS}")
    await bot.wait_for_job(lambda j: j.id != job.id and j.state == "delivered")
    third = tg.send_media(7101, 7101, "voice", make_ogg_opus(9.0), caption=f"/song rap\n{LYRICS}")
    refusal = await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == third["message_id"],
    )
    assert "2" in refusal.params["text"] and len(await bot.jobs()) == 2
    assert len(api.paid_submissions()) == 2


async def test_a_job_that_waited_in_line_follows_the_retirement_without_asking_music01(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.restart(SONGBOT_MAX_JOBS_PER_USER="1")
    bot, tg, api = harness, harness.tg, harness.api
    caplog.set_level(logging.INFO)
    # The first job's upload is refused slowly (after its conversion, a few tenths of a second
    # more), so the second is stored for music-01 meanwhile: asserted below.
    api.script(UPLOAD, status=404, body={"message": "Model not found"}, delay=0.5)
    tg.send_media(7201, 7201, "voice", make_ogg_opus(12.0), caption=f"/song gospel\n{LYRICS}")
    first = await bot.wait_for_job(lambda j: j.state == "preparing")
    tg.send_media(7201, 7201, "voice", make_ogg_opus(11.0), caption=f"/song blues\n{LYRICS}")
    waiting = await bot.wait_for_job(lambda j: j.id != first.id and j.state == "received")
    assert waiting.model == "music-01"
    await bot.wait_state(first.id, "delivered", timeout=30)
    second = await bot.wait_state(waiting.id, "delivered", timeout=30)
    assert second.model == "minimax/music-cover"
    assert len(api.requests_to(UPLOAD)) == 1  # only the first job asked the dead model
    assert len(api.paid_submissions()) == 2
    assert len(operator_lines(caplog)) == 1


# ------------------------------------------------------------------------ the durable row


async def test_the_retirement_row_is_written_once_and_read_back_on_both_engines(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first = ModelAvailability(MetaStore(any_db))
    await first.load()
    assert first.notices() == []
    gone = await first.retire("music-01", reason="HTTP 404: Model not found", now=1_800_000_000.0)
    assert gone.fallback == "minimax/music-cover"
    # Another process that has not heard yet: it records nothing new and warns no second time.
    other = ModelAvailability(MetaStore(any_db))
    await other.retire("music-01", reason="HTTP 410: Gone", now=1_800_000_100.0)
    assert len(operator_lines(caplog)) == 1
    # A restart reads the first process's row.
    later = ModelAvailability(MetaStore(any_db))
    await later.load()
    assert later.retirement("music-01") == gone
    assert later.moved() == {"music-01": "minimax/music-cover"}
    assert later.route(MODELS["music-01"]) is MODELS["minimax/music-cover"]
    assert later.route(MODELS["minimax/music-2.0"]) is MODELS["minimax/music-2.0"]
    (value,) = (await MetaStore(any_db).with_prefix("model-retired:")).values()
    assert json.loads(value) == {
        "since": 1_800_000_000.0,
        "reason": "HTTP 404: Model not found",
        "fallback": "minimax/music-cover",
    }
