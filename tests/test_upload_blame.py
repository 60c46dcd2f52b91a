"""Issue #16.6: when sendAudio keeps failing, Telegram is named, not the music service.

Through the real bot: every sendAudio answers 500; the job's deadline (SONGBOT_JOB_TIMEOUT) ends
the retries quickly.
"""

from __future__ import annotations

from bot.i18n import t
from tests.harness import PRIVATE_CHAT, USER, BotHarness
from tests.test_faults_provider import SONG, one_outcome


async def test_a_failing_upload_is_blamed_on_telegram(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_JOB_TIMEOUT="3")
    uploads = harness.tg.script("sendAudio", status=500, times=None)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0 and uploads.hits >= 2
    job = (await harness.jobs())[0]
    assert job.state == "failed" and job.error_key == "error_telegram_upload"
    assert t("error_telegram_upload", "en") in failures[0]
    assert "music service" not in failures[0]
    metrics = harness.services.metrics
    assert metrics.failures.labels(job.model, "error_telegram_upload")._value.get() == 1
    assert metrics.failures.labels(job.model, "error_provider_unavailable")._value.get() == 0
