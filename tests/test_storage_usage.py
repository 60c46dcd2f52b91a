"""Usage ledger (quotas, refunds, stats), reference cache, chat settings and users."""

from __future__ import annotations

import pytest

from storage import (
    ChatSettings,
    ChatSettingsStore,
    Database,
    JobState,
    JobStore,
    ReferenceCache,
    UsageLedger,
    UserStore,
    load_requester,
    utc_day_bounds,
)
from tests.support.jobs import make_new_job

DAY = 86_400.0
MIDNIGHT = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC
assert MIDNIGHT % DAY == 0


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on SQLite and on PostgreSQL (tests/support/fixtures_pg.py)."""
    return any_db


async def _job(db: Database, **overrides: object) -> int:
    job, _ = await JobStore(db).create(make_new_job(**overrides))
    return job.id


# --- ledger ------------------------------------------------------------------------------------


def test_utc_day_bounds() -> None:
    assert utc_day_bounds(MIDNIGHT) == (MIDNIGHT, MIDNIGHT + DAY)
    assert utc_day_bounds(MIDNIGHT - 0.001) == (MIDNIGHT - DAY, MIDNIGHT)
    assert utc_day_bounds(MIDNIGHT + DAY - 1) == (MIDNIGHT, MIDNIGHT + DAY)


async def test_count_today_is_per_user_per_utc_day_without_refunds(db: Database) -> None:
    ledger = UsageLedger(db)
    entries = [
        (7, MIDNIGHT - 1),  # yesterday, one second before midnight
        (7, MIDNIGHT),
        (7, MIDNIGHT + 3600),
        (7, MIDNIGHT + DAY - 0.5),
        (8, MIDNIGHT + 10),  # someone else
        (7, MIDNIGHT + DAY),  # tomorrow
    ]
    ids = []
    for user, at in entries:
        job_id = await _job(db, user_id=user)
        ids.append(job_id)
        assert await ledger.record(job_id, user, -5, "minimax/music-2.0", 73_500, at)
    assert await ledger.count_today(7, MIDNIGHT + 5) == 3
    assert await ledger.count_today(7, MIDNIGHT - 5) == 1
    assert await ledger.count_today(8, MIDNIGHT + 5) == 1
    assert await ledger.count_today(9, MIDNIGHT + 5) == 0
    assert await ledger.refund(ids[2])
    assert not await ledger.refund(ids[2])  # already refunded
    assert await ledger.count_today(7, MIDNIGHT + 5) == 2


async def test_daily_count_includes_accepted_but_uncharged_jobs(db: Database) -> None:
    ledger = UsageLedger(db)
    charged = await _job(db, user_id=7)
    await db.execute_write("UPDATE jobs SET state = 'pending' WHERE id = ?", (charged,))
    assert await ledger.record(charged, 7, -5, "minimax/music-2.0", 1, MIDNIGHT + 10)
    for state in ("received", "preparing", "submitting", "pending", "delivered", "failed"):
        job = await _job(db, user_id=7)
        done = state in ("delivered", "failed")  # finished jobs have no next check
        sql = "UPDATE jobs SET state = ?, next_check_at = CASE WHEN ? = 1 THEN NULL ELSE 0 END "
        assert await db.execute_write(sql + "WHERE id = ?", (state, done, job)) == 1
    await _job(db, user_id=8)  # someone else's accepted job
    assert await ledger.count_today(7, MIDNIGHT + 20) == 1
    # The charged one, plus received, preparing and submitting (not yet charged).
    assert await ledger.count_today_with_pending(7, MIDNIGHT + 20) == 4
    assert await ledger.count_today_with_pending(8, MIDNIGHT + 20) == 1
    assert await ledger.count_today_with_pending(9, MIDNIGHT + 20) == 0


async def test_record_is_idempotent_per_job(db: Database) -> None:
    ledger = UsageLedger(db)
    job_id = await _job(db)
    assert await ledger.record(job_id, 1, 1, "m", 100, MIDNIGHT)
    assert not await ledger.record(job_id, 1, 1, "m", 999, MIDNIGHT + 5)
    assert await ledger.count_today(1, MIDNIGHT) == 1
    assert await ledger.set_credits(job_id, 250.4)
    assert not await ledger.set_credits(job_id + 1, 1)
    stats = await ledger.stats(MIDNIGHT)
    assert (stats.generations_total, stats.credits_total) == (1, 250)


async def test_stats(db: Database) -> None:
    ledger, store, users = UsageLedger(db), JobStore(db), UserStore(db)
    await users.upsert_seen(1, "Alice", MIDNIGHT)
    plan = [  # (user, user_name on the job, when, credits, refunded)
        (1, "alice_old_name", MIDNIGHT - 100, 10, False),
        (1, "alice_old_name", MIDNIGHT + 100, 20, False),
        (1, "alice_old_name", MIDNIGHT + 200, 30, False),
        (2, "Bob", MIDNIGHT + 300, 40, False),
        (2, "Bob", MIDNIGHT + 400, 50, True),
        (3, "Carol", MIDNIGHT - DAY, 60, False),
    ]
    for user, name, at, credits, refunded in plan:
        job_id = await _job(db, user_id=user, user_name=name)
        await ledger.record(job_id, user, -5, "m", credits, at)
        if refunded:
            await ledger.refund(job_id)
    for model, seconds in [("a", 60.0), ("a", 90.0), ("b", 10.0)]:
        job_id = await _job(db, model=model)
        await store.update(
            job_id,
            owner=None,
            now=MIDNIGHT,
            submitted_at=MIDNIGHT,
            completed_at=MIDNIGHT + seconds,
        )
    cancelled = await _job(db)
    await store.transition(cancelled, JobState.RECEIVED, JobState.CANCELLED, now=MIDNIGHT)

    stats = await ledger.stats(MIDNIGHT + 500, top=2)
    assert stats.generations_today == 3 and stats.credits_today == 90
    assert stats.generations_total == 5 and stats.credits_total == 160
    assert stats.refunded_total == 1
    assert stats.top_users == [(1, "Alice", 3), (2, "Bob", 1)]
    assert stats.avg_seconds_by_model == {"a": 75.0, "b": 10.0}
    assert stats.jobs_by_state["cancelled"] == 1
    assert stats.jobs_by_state["received"] == len(plan) + 3


# --- reference cache ---------------------------------------------------------------------------


async def test_reference_cache_round_trip_and_expiry(db: Database) -> None:
    cache = ReferenceCache(db)
    assert await cache.get("uniq", "voice", now=MIDNIGHT, max_age=3600) is None
    await cache.put("uniq", "voice", "voice-123", None, MIDNIGHT)
    await cache.put("uniq", "instrumental", None, "inst-9", MIDNIGHT)
    hit = await cache.get("uniq", "voice", now=MIDNIGHT + 3599, max_age=3600)
    assert hit is not None
    assert (hit.voice_id, hit.instrumental_id, hit.created_at) == ("voice-123", None, MIDNIGHT)
    other = await cache.get("uniq", "instrumental", now=MIDNIGHT, max_age=3600)
    assert other is not None and other.instrumental_id == "inst-9"
    assert await cache.get("uniq", "voice", now=MIDNIGHT + 3600, max_age=3600) is None
    # a fresh upload replaces the ids and restarts the clock
    await cache.put("uniq", "voice", "voice-456", "inst-1", MIDNIGHT + 5000)
    again = await cache.get("uniq", "voice", now=MIDNIGHT + 5001, max_age=3600)
    assert again is not None and (again.voice_id, again.instrumental_id) == ("voice-456", "inst-1")
    assert await cache.forget("uniq", "voice")
    assert not await cache.forget("uniq", "voice")
    assert await cache.get("uniq", "voice", now=MIDNIGHT + 5001, max_age=3600) is None
    assert await cache.purge(older_than=MIDNIGHT) == 1
    assert await cache.get("uniq", "instrumental", now=MIDNIGHT, max_age=10**9) is None


# --- chat settings -----------------------------------------------------------------------------


async def test_chat_settings_defaults_and_updates(db: Database) -> None:
    chats = ChatSettingsStore(db)
    assert await chats.get(-100) == ChatSettings(chat_id=-100)
    default = await chats.get(-100)
    assert (default.model, default.language, default.who_may_request) == (None, None, "everyone")
    await chats.set_model(-100, "music-01", now=MIDNIGHT)
    await chats.set_language(-100, "ru", now=MIDNIGHT + 1)
    await chats.set_who_may_request(-100, "admins", now=MIDNIGHT + 2)
    await chats.set_audio_prefs(-100, {"format": "ogg", "bitrate": 128000}, now=MIDNIGHT + 3)
    got = await chats.get(-100)
    assert (got.model, got.language, got.who_may_request) == ("music-01", "ru", "admins")
    assert got.audio_prefs == {"format": "ogg", "bitrate": 128000}
    assert got.updated_at == MIDNIGHT + 3
    await chats.set_model(-100, None)
    cleared = await chats.get(-100)
    assert cleared.model is None and cleared.language == "ru"
    assert await chats.get(-200) == ChatSettings(chat_id=-200)  # other chats untouched
    with pytest.raises(ValueError, match="everyone"):
        await chats.set_who_may_request(-100, "cats")
    assert await chats.reset(-100)
    assert await chats.get(-100) == ChatSettings(chat_id=-100)


# --- users -------------------------------------------------------------------------------------


async def test_users(db: Database) -> None:
    users = UserStore(db)
    assert await users.get(5) is None
    assert not await users.is_banned(5)
    await users.upsert_seen(5, "Eve", MIDNIGHT)
    await users.upsert_seen(5, "Eve Renamed", MIDNIGHT + 60)
    seen = await users.get(5)
    assert seen is not None
    assert (seen.display_name, seen.first_seen_at, seen.last_seen_at) == (
        "Eve Renamed",
        MIDNIGHT,
        MIDNIGHT + 60,
    )
    assert not seen.banned
    await users.set_banned(6, True, now=MIDNIGHT)  # never seen before
    assert await users.is_banned(6) and not await users.is_banned(5)
    await users.upsert_seen(6, "Mallory", MIDNIGHT + 1)
    assert await users.is_banned(6)  # seeing a user again does not unban
    await users.set_language(5, "es")
    eve = await users.get(5)
    assert eve is not None and eve.language == "es" and eve.display_name == "Eve Renamed"
    assert [u.user_id for u in await users.list_banned()] == [6]
    await users.set_banned(6, False)
    await users.set_language(5, None)
    assert not await users.is_banned(6)
    eve = await users.get(5)
    assert eve is not None and eve.language is None
    assert await users.list_banned() == []


async def test_load_requester_reads_user_and_chat_in_one_query(db: Database) -> None:
    users, chats = UserStore(db), ChatSettingsStore(db)
    nobody = await load_requester(db, 5, -100)
    assert nobody.user is None and nobody.chat == ChatSettings(chat_id=-100)
    await users.set_banned(5, True, now=MIDNIGHT)
    await users.set_language(5, "es", now=MIDNIGHT)
    await chats.set_model(-100, "music-01", now=MIDNIGHT)
    await chats.set_who_may_request(-100, "admins", now=MIDNIGHT)
    both = await load_requester(db, 5, -100)
    assert both.user == await users.get(5)
    assert both.user is not None and both.user.banned and both.user.language == "es"
    assert both.chat == await chats.get(-100)
    assert both.chat.model == "music-01" and both.chat.who_may_request == "admins"
    # Each side is looked up on its own: a known user in an unknown chat, and the reverse.
    assert (await load_requester(db, 5, -200)).chat == ChatSettings(chat_id=-200)
    other = await load_requester(db, 6, -100)
    assert other.user is None and other.chat.model == "music-01"
