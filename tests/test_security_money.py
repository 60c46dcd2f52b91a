"""The two money holes of the security review, through the real bot against the fakes: a cancel
after the paid submit must not give the quota back, and a burst must not race the daily limit."""

from __future__ import annotations

import pytest

from bot.app import ALLOWED_UPDATES
from bot.config import Config
from bot.i18n import t
from storage.states import JobState
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import LYRICS, all_handled, submits

SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"


async def _limit_replies(h: BotHarness, count: int) -> list[str]:
    """Wait for `count` daily-limit refusals in the private chat; returns them."""
    refusal = t("error_daily_limit", "en", limit=1)
    await h.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("text") == refusal,
        count=count,
        timeout=15,
    )
    return [m["text"] for m in h.tg.bot_messages(PRIVATE_CHAT) if m.get("text") == refusal]


@pytest.mark.harness_env(SONGBOT_USER_DAILY_LIMIT="1")
async def test_cancel_after_the_paid_submit_keeps_counting(harness: BotHarness) -> None:
    harness.api.generation_seconds = 30.0  # still generating when ❌ is pressed
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == JobState.PENDING.value)
    assert job.status_message_id is not None
    harness.tg.press_button(PRIVATE_CHAT, USER, job.status_message_id, f"v1:cancel:{job.id}")
    await harness.wait_state(job.id, JobState.CANCELLED.value)
    assert await harness.services.usage.count_today(USER, now=job.created_at) == 1

    # The second request is refused: the cancelled generation was paid for and still counts.
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    assert len(await _limit_replies(harness, 1)) == 1
    await all_handled(harness)
    assert len(await harness.jobs()) == 1
    assert len(submits(harness)) == 1


@pytest.mark.harness_env(SONGBOT_USER_DAILY_LIMIT="1", SONGBOT_MAX_JOBS_TOTAL="1")
async def test_cancel_before_the_paid_submit_gives_the_generation_back(
    harness: BotHarness,
) -> None:
    # One slot in all, held by another user's long song: ours waits in `received`.
    harness.api.generation_seconds = 30.0
    harness.tg.send_text(2002, 2002, SONG)
    await harness.wait_for_job(lambda j: j.user_id == 2002 and j.state == JobState.PENDING.value)
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.user_id == USER and j.status_message_id is not None
    )
    assert job.state == JobState.RECEIVED.value
    harness.tg.press_button(PRIVATE_CHAT, USER, job.status_message_id or 0, f"v1:cancel:{job.id}")
    await harness.wait_state(job.id, JobState.CANCELLED.value)
    assert await harness.services.usage.count_today_with_pending(USER, now=job.created_at) == 0

    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.user_id == USER and j.id != job.id)


# Nine refusals in one private chat: Telegram's pace for it runs 32x faster (not under test).
@pytest.mark.harness_env(SONGBOT_USER_DAILY_LIMIT="1", SONGBOT_TG_RATE_SCALE="32")
async def test_a_burst_cannot_race_the_daily_limit(harness: BotHarness) -> None:
    harness.api.generation_seconds = 30.0
    await harness.app.updater.stop()  # hold polling so all ten arrive in one getUpdates batch
    for _ in range(10):
        harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.app.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, timeout=1, poll_interval=0.0
    )
    await _limit_replies(harness, 1)
    await all_handled(harness)
    jobs = await harness.jobs()
    assert len(jobs) == 1
    await harness.wait_state(jobs[0].id, JobState.PENDING.value)
    assert len(submits(harness)) == 1


def test_a_public_bot_ships_with_a_daily_limit_and_a_waiting_cap() -> None:
    config = Config.from_env({"TELEGRAM_BOT_TOKEN": "1:x", "AIMLAPI_KEY": "k"}, env_file=None)
    assert config.user_daily_limit == 5
    assert config.max_waiting_per_user == 5


@pytest.mark.harness_env(SONGBOT_MAX_WAITING_PER_USER="2", SONGBOT_MAX_JOBS_TOTAL="1")
async def test_a_users_queue_is_capped_and_others_still_get_in(harness: BotHarness) -> None:
    # One slot in all, held by a long song: everything else waits in `received`.
    harness.api.generation_seconds = 60.0
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == JobState.PENDING.value)
    for _ in range(3):
        harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    refusal = t("error_too_many_waiting", "en", limit=2)
    await harness.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params.get("text") == refusal, timeout=15
    )
    await all_handled(harness)
    mine = [j for j in await harness.jobs() if j.user_id == USER]
    assert len(mine) == 3  # the generating one and two waiting
    harness.tg.send_text(2002, 2002, SONG)  # another user is not held back by that queue
    await harness.wait_for_job(lambda j: j.user_id == 2002)
