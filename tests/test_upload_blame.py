"""Issue #16.6: when sendAudio keeps failing, Telegram is named, not the music service, and
the song is kept for a re-send (📤 under the failure message, ▶️ in /jobs).

Through the real bot: every sendAudio answers 500; the job's deadline (SONGBOT_JOB_TIMEOUT) ends
the retries, brought forward by `retry_now` (tests/support/song_outcome.py) instead of waited for.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bot.i18n import t
from bot.ops.retention import sweep_once
from handlers.buttons import plain_text
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import SONG, one_outcome, refused_song, retry_now
from tests.support.ux import ask, button_data, press


async def test_a_failing_upload_is_blamed_on_telegram(harness: BotHarness) -> None:
    uploads = harness.tg.script("sendAudio", status=500, times=None)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.request_message_id == request["message_id"])
    # Refused, handed back for a retry, refused again once the job's deadline has passed.
    await retry_now(harness, job.id, deadline_passed=True)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0 and uploads.hits >= 2
    job = (await harness.jobs())[0]
    assert job.state == "failed" and job.error_key == "error_telegram_upload"
    assert t("error_telegram_upload", "en") in failures[0]
    assert "music service" not in failures[0]
    metrics = harness.services.metrics
    assert metrics.failures.labels(job.model, "error_telegram_upload")._value.get() == 1
    assert metrics.failures.labels(job.model, "error_provider_unavailable")._value.get() == 0


# ---- the song is kept, and 📤 / ▶️ send it again without making it again -------------------


def _provider_calls(harness: BotHarness) -> int:
    return len(harness.api.requests)


async def test_a_refused_song_is_kept_and_sent_again_after_a_restart(
    harness: BotHarness,
) -> None:
    tg = harness.tg
    job, failure, uploads = await refused_song(harness)
    assert job.error_key == "error_telegram_upload" and job.result_path
    kept = Path(job.result_path)
    assert kept.is_file() and kept.parent == harness.services.temp.kept_dir
    folder = harness.services.temp.job_dir(job.key)
    deadline = time.monotonic() + 5  # removed just after the message is sent
    while folder.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not folder.exists()  # the job's folder went
    assert plain_text(t("upload_kept_hint", "en")) in failure["text"]
    assert button_data(failure) == [f"v1:resend:{job.id}"]
    song = kept.read_bytes()

    uploads.times = uploads.hits  # Telegram is back …
    await harness.restart()  # … and the bot was restarted meanwhile
    calls, paid = _provider_calls(harness), len(harness.api.paid_submissions())
    used = await harness.services.usage.count_today(USER, time.time())

    answer = await press(harness, PRIVATE_CHAT, USER, failure["message_id"], f"v1:resend:{job.id}")
    assert answer.params["text"] == t("answer_sending_again", "en")
    sent = await tg.wait_for_call("sendAudio", lambda c: c.ok)
    assert sent.files and tg.uploaded_audio[-1].data == song  # the kept file, uploaded
    assert sent.result["reply_to_message"]["message_id"] == job.request_message_id
    fresh = await harness.wait_for_job(lambda j: j.delivered_message_id is not None)
    assert fresh.delivered_message_id == sent.result["message_id"]
    assert fresh.delivered_file_id == sent.result["audio"]["file_id"]
    assert fresh.result_path is None and not kept.exists()
    # Not made again, not charged again: no provider call at all, the quota as it was.
    assert _provider_calls(harness) == calls and len(harness.api.paid_submissions()) == paid
    assert await harness.services.usage.count_today(USER, time.time()) == used

    # /jobs now lists it as delivered; ▶️ goes by file_id, no second upload.
    listing = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert "1. ✅" in listing["text"]
    assert button_data(listing) == [f"v1:resend:{job.id}", "v1:songs:0"]
    harness.services.memo.recent_presses.clear()  # later than a double tap (5 s)
    await press(harness, PRIVATE_CHAT, USER, listing["message_id"], f"v1:resend:{job.id}")
    again = await tg.wait_for_call("sendAudio", lambda c: c.ok, count=2)
    assert again.params["audio"] == fresh.delivered_file_id and not again.files


async def test_a_kept_song_offered_in_jobs_survives_another_refusal(harness: BotHarness) -> None:
    tg = harness.tg
    job, _failure, uploads = await refused_song(harness)
    listing = (await ask(harness, PRIVATE_CHAT, USER, "/jobs")).result
    assert "1. ⚠️" in listing["text"]  # a failure; ❌ means cancel only
    assert button_data(listing) == [f"v1:resend:{job.id}", "v1:songs:0"]  # though it failed
    hits = uploads.hits
    await press(harness, PRIVATE_CHAT, USER, listing["message_id"], f"v1:resend:{job.id}")
    refusal = await tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and plain_text(t("resend_upload_failed", "en")) in c.result["text"],
    )
    assert refusal.result["reply_to_message"]["message_id"] == listing["message_id"]
    assert uploads.hits == hits + 1
    fresh = await harness.wait_for_job(lambda j: j.id == job.id)
    assert fresh.delivered_message_id is None and fresh.result_path == job.result_path
    assert Path(job.result_path or "").is_file()  # still kept for the next try


async def test_kept_songs_are_swept_after_their_days(harness: BotHarness) -> None:
    job, failure, uploads = await refused_song(harness)
    kept = Path(job.result_path or "")
    await sweep_once(harness.services)
    assert kept.is_file()  # young: stays
    old = time.time() - 8 * 86400  # the default keeps them 7 days
    os.utime(kept, (old, old))
    harness.services.temp.sweep(max_age_seconds=6 * 3600)  # the ordinary temp sweep leaves it
    assert kept.is_file()
    await sweep_once(harness.services)
    assert not kept.exists()
    uploads.times = uploads.hits
    answer = await press(harness, PRIVATE_CHAT, USER, failure["message_id"], f"v1:resend:{job.id}")
    assert answer.params["text"] == t("answer_unsent_gone", "en")
    assert not [c for c in harness.tg.calls if c.method == "sendAudio" and c.ok]
