"""The AI/ML API misbehaving: a bad key, no credits, 429/5xx/timeouts/garbage on polls, failed or
strangely-named statuses, dead audio links, and jobs that never finish.

The real bot runs in-process against the fakes. Where the production client's timeouts and
backoff (seconds) would make a test slow, the bot's `services.client` is swapped for the same
client class with test timings (`make_aimlapi_client`), before any job exists.
"""

from __future__ import annotations

import logging
import time

import pytest

from bot.aimlapi.session import Timeouts
from bot.i18n import t
from tests.support.fixtures_aimlapi import fast_client, make_aimlapi_client
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import FILES, POLL, SONG, SUBMIT, one_outcome


def polls(harness: BotHarness) -> int:
    return len(harness.api.requests_to(POLL))


# ---- account problems: one operator line, a reply that does not blame the user ---------------


@pytest.mark.parametrize(
    ("problem", "key"),
    [("bad key", "error_provider_key_invalid"), ("no credits", "error_provider_no_credits")],
)
async def test_account_problem_tells_operator_and_user_and_bot_keeps_serving(
    harness: BotHarness, caplog: pytest.LogCaptureFixture, problem: str, key: str
) -> None:
    caplog.set_level(logging.INFO)
    if problem == "bad key":
        await harness.restart(AIMLAPI_KEY="sk-revoked-key")
    else:
        harness.api.no_credit_keys = frozenset({harness.api.api_key})
    tg = harness.tg
    for number in range(2):
        request = tg.send_text(PRIVATE_CHAT, USER, SONG)
        audios, failures = await one_outcome(harness, request["message_id"])
        assert audios == 0
        assert failures and t(key, "en") in failures[0]
        assert "operator" in failures[0]  # the user is pointed elsewhere, not blamed
        operator = [r for r in caplog.records if "OPERATOR" in r.getMessage()]
        assert len(operator) == number + 1  # exactly one line per refused request
        assert operator[-1].levelno == logging.ERROR
    # Nothing was retried (a refused key or balance does not fix itself in seconds) …
    assert len(harness.api.requests_to(SUBMIT)) == 2
    assert not harness.api.paid_submissions()
    # … and everything else keeps working.
    probe = tg.send_text(PRIVATE_CHAT, USER, "/help")
    await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == probe["message_id"],
    )
    jobs = await harness.jobs()
    assert {j.state for j in jobs} == {"failed"} and {j.error_key for j in jobs} == {key}


# ---- transient trouble on polls: retried, the song still arrives once -------------------------


async def skip_backoff(harness: BotHarness, count: int) -> None:
    """The runner's back-off after `count` failed rounds in a row: its length checked (2**count
    s and up to 0.5 s of jitter, bot/engine/outcomes.py), then skipped, for the job is due once
    it has passed and sleeping through it would show nothing more."""
    job = await harness.wait_for_job(lambda j: j.transient_errors == count)
    assert job.next_check_at is not None and job.lease_owner is None
    assert 2.0**count <= job.next_check_at - job.updated_at <= 2.0**count + 0.5
    assert await harness.services.jobs.bring_forward(job.id, at=time.time())
    harness.runner.link.wake()


@pytest.mark.parametrize(
    ("status", "times"),
    # 3 are absorbed by the client's own retries; 6 also need the runner's backoff.
    [(429, 3), (500, 3), (502, 6), (503, 3), (504, 3)],
)
async def test_poll_errors_are_retried(harness: BotHarness, status: int, times: int) -> None:
    await fast_client(harness)
    harness.api.script(POLL, status=status, times=times)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    if times > 3:
        await skip_backoff(harness, 1)
    assert await one_outcome(harness, request["message_id"]) == (1, [])
    assert polls(harness) >= times + 1
    assert len(harness.api.paid_submissions()) == 1


async def test_poll_429_retry_after_is_honoured(harness: BotHarness) -> None:
    await fast_client(harness)
    harness.api.script(POLL, status=429, retry_after=0.3, times=1)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    assert await one_outcome(harness, request["message_id"]) == (1, [])
    first, second = harness.api.requests_to(POLL)[:2]
    assert second.time - first.time >= 0.28  # not the client's own 0.01-0.05 s back-off


@pytest.mark.parametrize("how", ["timeout", "dropped"])
async def test_poll_timeouts_and_dropped_connections_are_retried(
    harness: BotHarness, how: str
) -> None:
    await fast_client(harness, poll_timeout=0.15)
    if how == "timeout":
        harness.api.script(POLL, delay=0.5, times=3)
    else:
        harness.api.script(POLL, drop_connection=True, times=3)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    assert await one_outcome(harness, request["message_id"]) == (1, [])
    assert polls(harness) >= 4


async def test_malformed_poll_json_is_transient(harness: BotHarness) -> None:
    await fast_client(harness)
    harness.api.script(POLL, status=200, body="{not json", times=2)
    harness.api.script(POLL, status=200, body=b"\xff\xfe garbage", times=1)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    assert await one_outcome(harness, request["message_id"]) == (1, [])


async def test_malformed_poll_json_forever_is_bounded(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_JOB_TIMEOUT="2")
    await fast_client(harness)
    harness.api.script(POLL, status=200, body="<html>502 from a proxy</html>", times=None)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert failures and audios == 0
    assert polls(harness) < 30  # backed off, did not spin
    job = (await harness.jobs())[0]
    assert job.state in ("failed", "timed_out")


# ---- what the generation itself says ----------------------------------------------------------


@pytest.mark.parametrize("detail_shape", [False, True])
async def test_status_error_is_reported_with_its_reason(
    harness: BotHarness, detail_shape: bool
) -> None:
    harness.api.set_outcome(fail="Lyrics flagged by moderation", fail_detail=detail_shape)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0
    # Told as a content-rules refusal in the user's language, not in the provider's English.
    assert "Lyrics flagged by moderation" not in failures[0]
    assert t("error_content_rejected", "en") in failures[0]


async def test_unknown_status_means_still_pending(harness: BotHarness) -> None:
    # Done after the bot's first checks (0.16 s and 0.24 s after the submit, then 0.36 ...).
    harness.api.set_outcome(unknown_status="processing", generation_seconds=0.6)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    assert await one_outcome(harness, request["message_id"]) == (1, [])
    assert polls(harness) >= 2  # it saw "processing" and kept asking


async def test_unknown_status_forever_ends_in_timeout(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_JOB_TIMEOUT="1")
    harness.api.set_outcome(unknown_status="warming_up", never_complete=True)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0
    assert "took too long" in failures[0]
    job = (await harness.jobs())[0]
    assert job.state == "timed_out" and job.error_key == "error_timeout"


# ---- the audio link ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["expired", "404"])
async def test_dead_audio_link_fails_with_a_message(harness: BotHarness, how: str) -> None:
    if how == "expired":
        harness.api.set_outcome(expire_audio=True)
    else:
        harness.api.script(FILES, status=404, times=None)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0
    assert "expired" in failures[0] and "send the request again" in failures[0]
    assert len(harness.api.requests_to(FILES)) == 1  # a dead link is not hammered
    job = (await harness.jobs())[0]
    assert job.state == "failed" and job.error_key == "error_audio_expired"


# ---- the paid POST with an unknown outcome ----------------------------------------------------


@pytest.mark.parametrize("reached", [True, False])
async def test_submit_timeout_is_reconciled_and_resubmitted_only_when_nothing_was_created(
    harness: BotHarness, reached: bool
) -> None:
    """A timed-out submit is looked up in GET /v2/logs by its X-Client-Request-Id: found, the
    job resumes polling that generation (one POST); not found after the grace period, the log
    has proved the POST created nothing, so it is sent once more under a fresh id (`key.2`) and
    the song arrives. Either way at most one generation is charged."""
    old = harness.services.client
    harness.services.client = make_aimlapi_client(
        harness.api, timeouts=Timeouts(connect=2.0, poll=2.0, submit=0.3, logs=2.0)
    )
    await old.aclose()
    harness.api.script(SUBMIT, process=reached, delay=1.0, times=1)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    job = (await harness.jobs())[0]
    posts = harness.api.requests_to(SUBMIT)
    logs = harness.api.requests_to("GET /v2/logs")
    assert logs, "the outcome must be looked up in the request log"
    assert (audios, failures) == (1, [])
    assert job.generation_id in harness.api.generations
    assert len(harness.api.paid_submissions()) == 1
    if reached:
        assert len(posts) == 1 and posts[0].header("x-client-request-id") == job.key
        assert len(harness.api.paid_submissions(job.key)) == 1
    else:
        ids = [p.header("x-client-request-id") for p in posts]
        assert ids == [job.key, f"{job.key}.2"]
        assert job.submit_attempts == 2
        assert len(harness.api.paid_submissions(f"{job.key}.2")) == 1


async def test_a_second_lost_submit_ends_the_job_interrupted(harness: BotHarness) -> None:
    """The resubmit happens once: when it too created nothing, the user is told to send the
    request again, and nothing was charged."""
    old = harness.services.client
    harness.services.client = make_aimlapi_client(
        harness.api, timeouts=Timeouts(connect=2.0, poll=2.0, submit=0.3, logs=2.0)
    )
    await old.aclose()
    harness.api.script(SUBMIT, process=False, delay=1.0, times=2)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    job = (await harness.jobs())[0]
    assert len(harness.api.requests_to(SUBMIT)) == 2
    assert audios == 0 and "send the request again" in failures[0]
    assert job.state == "interrupted"
    assert not harness.api.paid_submissions()
