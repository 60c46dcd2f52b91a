"""Both engines, one behaviour: every repository on SQLite and on PostgreSQL, plus what only a
shared PostgreSQL database has to get right (two processes at once, LISTEN/NOTIFY, the poller
lock, its error messages, migrate-db).

Tests taking `any_db` run twice (tests/support/fixtures_pg.py); the PostgreSQL ones use the
suite's own
server (tests/support/pg_server.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from storage.copy import TargetNotEmpty, copy_database
from storage.db import Database, StorageError, load_migrations
from storage.dialect import POSTGRESQL, SQLITE
from storage.flood_slots import GLOBAL, FloodSlots
from storage.instances import InstanceStore
from storage.jobs import FREED, NEW_JOB, JobStore
from storage.lyrics import DraftLimitReached, LyricsStore
from storage.open_db import open_database
from storage.poller_lock import PollerLock
from storage.quota import DailyQuota, PaymentRequired, QuotaExceeded
from storage.references import ReferenceCache
from storage.settings import ChatSettingsStore, UserStore, load_requester
from storage.stars import StarStore
from storage.states import JobState
from storage.usage import UsageLedger
from tests.support.jobs import T0, make_new_job
from tests.support.pg_server import PgServer

# --- the same schema ---------------------------------------------------------------------------


def test_both_engines_have_the_same_numbered_migrations() -> None:
    lite = [(m.version, m.name) for m in load_migrations("sqlite")]
    pg = [(m.version, m.name) for m in load_migrations("postgresql")]
    assert lite == pg and len(lite) >= 5


async def _schema(db: Database) -> dict[str, list[str]]:
    if db.dialect.name == "sqlite":
        tables = await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        out = {}
        for (name,) in tables:
            cols = await db.fetchall(f"SELECT name FROM pragma_table_info('{name}')")
            out[str(name)] = [str(c[0]) for c in cols]
        return out
    rows = await db.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name != 'songbot_schema' "
        "ORDER BY table_name, ordinal_position"
    )
    out2: dict[str, list[str]] = {}
    for table, column in rows:
        out2.setdefault(str(table), []).append(str(column))
    return out2


async def test_both_engines_have_the_same_tables_and_columns(pg_url: str) -> None:
    lite = await open_database(":memory:")
    pg = await open_database(pg_url)
    try:
        assert await _schema(lite) == await _schema(pg)
        assert await lite.schema_version() == await pg.schema_version() == len(load_migrations())
    finally:
        await lite.close()
        await pg.close()


def test_the_dialect_is_the_only_difference() -> None:
    assert SQLITE.driver_sql("a = ? AND b LIKE 'x%?'") == "a = ? AND b LIKE 'x%?'"
    assert POSTGRESQL.driver_sql("a = ? AND b LIKE 'x%?' AND c % 2") == (
        "a = %s AND b LIKE 'x%%?' AND c %% 2"
    )
    assert POSTGRESQL.driver_params((True, False, 3, None)) == (1, 0, 3, None)
    assert SQLITE.least("a", "?") == "MIN(a, ?)" and POSTGRESQL.least("a", "?") == "LEAST(a, ?)"


# --- every repository on both engines ----------------------------------------------------------


async def test_chat_settings_and_users(any_db: Database) -> None:
    chats, users = ChatSettingsStore(any_db), UserStore(any_db)
    await chats.set_model(-100123456789, "minimax/music-2.0", now=T0)
    await chats.set_language(-100123456789, "es", now=T0)
    got = await chats.get(-100123456789)
    assert (got.model, got.language) == ("minimax/music-2.0", "es")
    assert await chats.reset(-100123456789) is True
    assert (await chats.get(-100123456789)).model is None
    big = 7_999_999_999  # Telegram ids do not fit 32 bits
    await users.upsert_seen(big, "Grace", T0)
    await users.set_banned(big, True, now=T0)
    assert await users.is_banned(big)
    assert [u.user_id for u in await users.list_banned()] == [big]
    requester = await load_requester(any_db, big, -100123456789)
    assert requester.user is not None and requester.user.banned


async def test_reference_cache(any_db: Database) -> None:
    cache = ReferenceCache(any_db)
    await cache.put("uniq", "voice", "v1", None, now=T0)
    await cache.put("uniq", "voice", "v2", "i2", now=T0 + 1)  # replaces
    got = await cache.get("uniq", "voice", now=T0 + 2, max_age=60)
    assert got is not None and (got.voice_id, got.instrumental_id) == ("v2", "i2")
    assert await cache.get("uniq", "voice", now=T0 + 100, max_age=60) is None
    assert await cache.forget("uniq", "voice") is True
    await cache.put("old", "voice", "v", None, now=T0)
    assert await cache.purge(older_than=T0) == 1


async def test_lyrics_drafts_and_calls(any_db: Database) -> None:
    lyrics = LyricsStore(any_db)
    args = dict(
        chat_id=5, chat_type="private", topic_id=None, user_id=9, user_lang="en",
        request_message_id=77, idea="a song about tea", target_model="minimax/music-2.0", now=T0,
    )  # fmt: skip
    draft, created = await lyrics.create_draft(**args)  # type: ignore[arg-type]
    again, created_again = await lyrics.create_draft(**args)  # type: ignore[arg-type]
    assert created and not created_again and again.id == draft.id
    assert await lyrics.claim_for_song(draft.id, T0) is True
    assert await lyrics.claim_for_song(draft.id, T0) is False
    for _ in range(2):
        await lyrics.reserve_call(
            user_id=9, draft_id=draft.id, model="m", limit=2, day_start=T0 - 1, day_end=T0 + 9,
            now=T0,
        )  # fmt: skip
    with pytest.raises(DraftLimitReached):
        await lyrics.reserve_call(
            user_id=9, draft_id=draft.id, model="m", limit=2, day_start=T0 - 1, day_end=T0 + 9,
            now=T0,
        )  # fmt: skip
    totals = await lyrics.token_totals(T0 - 1, T0 + 9)
    assert totals is not None


async def test_stars_credits_reserved_used_and_released(any_db: Database) -> None:
    stars, jobs, usage = StarStore(any_db), JobStore(any_db), UsageLedger(any_db)
    assert await stars.credit_purchase(
        charge_id="ch-1", user_id=42, chat_id=42, songs=2, stars=100, payload="p", now=T0
    )
    assert not await stars.credit_purchase(
        charge_id="ch-1", user_id=42, chat_id=42, songs=2, stars=100, payload="p", now=T0
    )
    guard = stars.guard(42, 0, T0)
    first, _ = await jobs.create(make_new_job(chat_id=42), stars=guard)
    second, _ = await jobs.create(make_new_job(chat_id=42), stars=guard)
    with pytest.raises(PaymentRequired):
        await jobs.create(make_new_job(chat_id=42), stars=guard)
    assert (await stars.balance(42, 0, T0)).held == 2
    # The paid POST of the first (a usage row: the trigger marks its credit used) ...
    await usage.record(first.id, 42, 42, first.model, 10, T0)
    assert (await stars.balance(42, 0, T0)).used == 1
    # ... and the second fails: the trigger gives its credit back.
    assert await jobs.transition(second.id, JobState.RECEIVED, JobState.FAILED, now=T0)
    balance = await stars.balance(42, 0, T0)
    assert (balance.credits, balance.used, balance.held) == (1, 1, 0)
    assert await stars.released_credit(second.id)


async def test_instances_heartbeat_and_take_over(any_db: Database) -> None:
    instances, jobs = InstanceStore(any_db), JobStore(any_db)
    await instances.register("a", host="h", pid=1, now=T0)
    await instances.register("b", host="h", pid=2, now=T0)
    job, _ = await jobs.create(make_new_job(next_check_at=T0 + 500))
    claimed = await jobs.start_waiting(
        job.id, JobState.PREPARING, owner="b", lease_until=T0 + 30, now=T0
    )
    assert claimed is not None
    assert await instances.beat("a", role="poller", now=T0 + 10)
    released, dead = await instances.release_dead(now=T0 + 10, stale_after=6)
    assert (released, dead) == (1, ["b"])
    back = await jobs.get(job.id)
    assert back is not None and back.lease_owner is None and back.next_check_at == T0 + 10
    live = await instances.live(now=T0 + 10, stale_after=6)
    assert [(i.id, i.role) for i in live] == [("a", "poller")]
    assert not await instances.beat("b", role="worker", now=T0 + 11)  # it was taken for dead


# --- what only a shared database must get right -----------------------------------------------


async def test_two_processes_cannot_race_a_daily_limit(pg_url: str) -> None:
    """Two pools (two replicas) accept 20 requests of one user at once against a limit of 3."""
    a, b = await open_database(pg_url), await open_database(pg_url)
    try:
        quota = DailyQuota(user_id=42, limit=3, day_start=T0 - 10, day_end=T0 + 10)

        async def one(db: Database) -> bool:
            try:
                await JobStore(db).create(make_new_job(), quota=quota)
            except QuotaExceeded:
                return False
            return True

        results = await asyncio.gather(*(one(a if i % 2 else b) for i in range(20)))
        assert sum(results) == 3
        assert await a.fetchval("SELECT COUNT(*) FROM jobs") == 3
    finally:
        await a.close()
        await b.close()


async def test_claims_from_two_replicas_never_overlap(pg_url: str) -> None:
    a, b = await open_database(pg_url), await open_database(pg_url)
    try:
        store = JobStore(a)
        for i in range(40):
            job, _ = await store.create(make_new_job(next_check_at=T0 + i))
            await a.execute_write(
                "UPDATE jobs SET state = 'pending', next_check_at = ? WHERE id = ?", (T0, job.id)
            )
        batches = await asyncio.gather(
            *(
                JobStore(db).claim_due(owner=name, now=T0 + 1, lease_seconds=30, limit=7)
                for _ in range(3)
                for db, name in ((a, "a"), (b, "b"))
            )
        )
        ids = [j.id for batch in batches for j in batch]
        assert len(ids) == len(set(ids)) == 40
    finally:
        await a.close()
        await b.close()


async def test_a_new_job_wakes_every_listening_replica(pg_url: str) -> None:
    a, b = await open_database(pg_url), await open_database(pg_url)
    woken = asyncio.Event()
    payloads: list[str] = []

    def heard(payload: str) -> None:
        payloads.append(payload)
        woken.set()

    try:
        b.subscribe("songbot_work", heard)
        await asyncio.sleep(0.5)  # the listener connects
        assert payloads == [""]  # on connecting: "anything may have happened"
        woken.clear()
        store = JobStore(a)
        job, _ = await store.create(make_new_job())
        await asyncio.wait_for(woken.wait(), 5)
        assert payloads[-1] == NEW_JOB  # a new job, not a freed slot: see JobRunner.notified
        woken.clear()
        await store.transition(job.id, JobState.RECEIVED, JobState.CANCELLED, now=time.time())
        await asyncio.wait_for(woken.wait(), 5)
        assert payloads[-1] == FREED
    finally:
        await a.close()
        await b.close()


async def test_one_poller_lock_holder_and_a_successor_when_it_goes(pg_url: str) -> None:
    first, second = PollerLock(pg_url), PollerLock(pg_url)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    await first.release()
    assert await second.try_acquire() and await second.still_held()
    await second.release()


async def test_concurrent_starts_migrate_once(pg_server: PgServer) -> None:
    url = pg_server.empty_database()
    dbs = await asyncio.gather(*(open_database(url) for _ in range(4)))
    try:
        versions = {await db.schema_version() for db in dbs}
        assert versions == {len(load_migrations("postgresql"))}
    finally:
        for db in dbs:
            await db.close()


async def test_bad_urls_and_dead_servers_are_one_line_without_the_password(
    pg_server: PgServer,
) -> None:
    dead = f"postgresql://songbot:hunter2secret@127.0.0.1:{_closed_port()}/x"
    with pytest.raises(StorageError) as info:
        await open_database(dead)
    text = str(info.value)
    assert "SONGBOT_DATABASE_URL" in text and "hunter2secret" not in text and "\n" not in text
    with pytest.raises(StorageError) as info:
        await open_database("postgresql://u:pw@127.0.0.1:notaport/x")
    assert "SONGBOT_DATABASE_URL" in str(info.value) and "pw@" not in str(info.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_backup_on_postgresql_points_to_pg_dump(pg_url: str, tmp_path: Path) -> None:
    db = await open_database(pg_url)
    try:
        with pytest.raises(StorageError, match="pg_dump"):
            await db.backup(tmp_path / "x.db")
        await db.check_writable()
    finally:
        await db.close()


async def test_copy_from_sqlite_keeps_everything(tmp_path: Path, pg_url: str) -> None:
    lite = await open_database(tmp_path / "songbot.db")
    pg = await open_database(pg_url)
    try:
        jobs = JobStore(lite)
        done, _ = await jobs.create(make_new_job(user_id=7))
        await UsageLedger(lite).record(done.id, 7, -1001234, done.model, 10, T0)
        await jobs.transition(done.id, JobState.RECEIVED, JobState.FAILED, now=T0)
        flying, _ = await jobs.create(make_new_job(user_id=8, lyrics="la la"))
        await jobs.start_waiting(
            flying.id, JobState.PREPARING, owner="old", lease_until=time.time() + 30, now=T0
        )
        await StarStore(lite).credit_purchase(
            charge_id="c", user_id=8, chat_id=8, songs=3, stars=150, payload="p", now=T0
        )
        await UserStore(lite).upsert_seen(8, "Ada", T0)
        report = await copy_database(lite, pg)
        assert report.rows["jobs"] == 2 and report.rows["usage"] == 1
        assert report.leases_cleared == 1
        copied = await JobStore(pg).get(flying.id)
        assert copied is not None and copied.lyrics == "la la" and copied.lease_owner is None
        assert copied.state is JobState.PREPARING
        assert (await StarStore(pg).balance(8, 0, T0)).credits == 3
        fresh, _ = await JobStore(pg).create(make_new_job())
        assert fresh.id > flying.id  # the id counter continues after the copy
        with pytest.raises(TargetNotEmpty):
            await copy_database(lite, pg)
    finally:
        await lite.close()
        await pg.close()


async def test_the_fleet_flood_budget_never_gives_one_slot_twice(pg_url: str) -> None:
    """Three replicas take 90 global slots at once: all distinct, never more than 29 starting in
    any one second, and a background taker finds nothing when the next slots are gone."""
    dbs = [await open_database(pg_url) for _ in range(3)]
    try:
        width = 1 / 29
        now = 1_900_000_000.0
        taken = await asyncio.gather(
            *(FloodSlots(dbs[i % 3]).take(GLOBAL, width=width, not_before=now) for i in range(90))
        )
        starts = sorted(t for t in taken if t is not None)
        assert len(starts) == 90 and len({round(t / width) for t in starts}) == 90
        for i, t in enumerate(starts):
            assert sum(1 for u in starts[i:] if u < t + 1.0 - 1e-9) <= 29
        assert (
            await FloodSlots(dbs[0]).take(
                GLOBAL, width=width, not_before=now, horizon=now + 2 * width
            )
            is None
        )
        await FloodSlots(dbs[0]).block(GLOBAL, width=width, start=starts[-1], until=starts[-1] + 2)
        after = await FloodSlots(dbs[1]).take(GLOBAL, width=width, not_before=starts[-1])
        assert after is not None and after >= starts[-1] + 2 - 1e-6
        group = await FloodSlots(dbs[2]).take(-100123, width=3.5, not_before=now)
        assert group is not None and await FloodSlots(dbs[2]).prune(before=now + 10_000) >= 90
    finally:
        for db in dbs:
            await db.close()


async def test_cancel_refunds_only_before_the_paid_submit(any_db: Database) -> None:
    from storage.cancelling import cancel_job

    jobs, usage = JobStore(any_db), UsageLedger(any_db)
    early, _ = await jobs.create(make_new_job(user_id=5))
    await usage.record(early.id, 5, 1, early.model, 0, T0)
    assert await cancel_job(jobs, usage, early, now=T0)
    late, _ = await jobs.create(make_new_job(user_id=5))
    moved = await jobs.start_waiting(
        late.id, JobState.SUBMITTING, owner="r", lease_until=T0 + 30, now=T0
    )
    assert moved is not None
    await usage.record(late.id, 5, 1, late.model, 0, T0)
    assert await cancel_job(jobs, usage, moved, now=T0)
    assert await usage.count_today(5, T0) == 1  # the submitted one still counts


async def test_failed_references_are_counted_per_user_and_day(any_db: Database) -> None:
    from storage.reference_failures import failed_references_today

    jobs = JobStore(any_db)
    for key in ("error_reference_too_long", "error_media", "error_provider_unavailable"):
        job, _ = await jobs.create(make_new_job(user_id=6, reference_file_id="AgAD"))
        await jobs.transition(job.id, JobState.RECEIVED, JobState.FAILED, now=T0, error_key=key)
    assert await failed_references_today(any_db, 6, T0) == 2
    assert await failed_references_today(any_db, 7, T0) == 0


async def test_meta_and_a_refund_taking_credits_back(any_db: Database) -> None:
    from storage.meta import MetaStore

    meta = MetaStore(any_db)
    assert await meta.get("x") is None
    assert await meta.add("model-retired:m", "1") is True
    assert await meta.add("model-retired:m", "2") is False  # the first writer wins
    assert await meta.with_prefix("model-retired:") == {"model-retired:m": "1"}
    assert await meta.remove("model-retired:m") is True
    stars = StarStore(any_db)
    await stars.credit_purchase(
        charge_id="r1", user_id=9, chat_id=9, songs=3, stars=150, payload="p", now=T0
    )
    assert await stars.take_back("r1", T0) is True
    assert (await stars.balance(9, 0, T0)).credits == 0
    await stars.undo_take_back("r1")
    assert (await stars.balance(9, 0, T0)).credits == 3
    settled = await stars.settle_refund("r1", T0)
    assert settled is not None and settled.taken == 3
