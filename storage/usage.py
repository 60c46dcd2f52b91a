"""The usage ledger: one row per charged generation, for daily quotas, refunds and /stats.

Why a ledger separate from `jobs`: quotas must count what was charged, not what was asked for, and
must survive purging old jobs. `record` is idempotent per job, so a retried step never counts (or
bills a user's quota) twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from storage.db import Database
from storage.jobs import JobStore
from storage.lyrics import LyricsStore, TokenTotals
from storage.quota import CHARGED_IN_SPAN, USED_WITH_PENDING, DailyQuota

DAY_SECONDS: Final = 86_400.0


def utc_day_bounds(now: float) -> tuple[float, float]:
    """[start, end) of the UTC day containing `now`; unix time has no leap seconds to mind."""
    start = math.floor(now / DAY_SECONDS) * DAY_SECONDS
    return start, start + DAY_SECONDS


@dataclass(frozen=True, slots=True)
class UsageStats:
    generations_today: int
    credits_today: int
    generations_total: int
    credits_total: int
    refunded_total: int
    top_users: list[tuple[int, str, int]]  # (user_id, display name, generations), most first
    avg_seconds_by_model: dict[str, float]  # completed_at - submitted_at, all completed jobs
    jobs_by_state: dict[str, int]
    # /write: chat completions and the tokens they used (today, total).
    lyrics: TokenTotals = field(default_factory=lambda: TokenTotals(0, 0, 0, 0))
    # Telegram Stars (migration 004): received and refunded Stars, songs paid by credit vs free.
    stars_received: int = 0
    stars_refunded: int = 0
    songs_paid: int = 0
    songs_free: int = 0


class UsageLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, job_id: int, user_id: int, chat_id: int, model: str, credits: float, now: float
    ) -> bool:
        """Note a charged generation; a second call for the same job changes nothing (False).

        Credits are stored as whole numbers (the provider reports integers; floats are rounded).
        """
        changed = await self.db.execute_write(
            "INSERT INTO usage (job_id, user_id, chat_id, model, credits, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
            (job_id, user_id, chat_id, model, round(credits), now),
        )
        return changed == 1

    async def set_credits(self, job_id: int, credits: float) -> bool:
        """The provider may report the cost only when the job completes."""
        changed = await self.db.execute_write(
            "UPDATE usage SET credits = ? WHERE job_id = ?", (round(credits), job_id)
        )
        return changed == 1

    async def refund(self, job_id: int) -> bool:
        """Exclude a generation from quotas and totals (the provider did not charge it)."""
        changed = await self.db.execute_write(
            "UPDATE usage SET refunded = 1 WHERE job_id = ? AND refunded = 0", (job_id,)
        )
        return changed == 1

    async def count_today(self, user_id: int, now: float) -> int:
        """Charged, unrefunded generations of this user in the current UTC day."""
        start, end = utc_day_bounds(now)
        value = await self.db.fetchval(CHARGED_IN_SPAN, (user_id, start, end))
        return int(str(value))

    async def count_today_with_pending(self, user_id: int, now: float) -> int:
        """`count_today` plus the user's jobs accepted but not charged yet, in one query: what a
        daily limit must count so a burst of requests cannot overrun it before any is charged."""
        start, end = utc_day_bounds(now)
        value = await self.db.fetchval(
            f"SELECT {USED_WITH_PENDING}", (user_id, start, end, user_id)
        )
        return int(str(value))

    @staticmethod
    def daily_quota(user_id: int, limit: int, now: float) -> DailyQuota:
        """The guard `JobStore.create` enforces atomically for this user's limit today."""
        start, end = utc_day_bounds(now)
        return DailyQuota(user_id=user_id, limit=limit, day_start=start, day_end=end)

    async def stats(self, now: float, *, top: int = 5) -> UsageStats:
        start, end = utc_day_bounds(now)
        row = await self.db.fetchone(
            "SELECT COUNT(*), COALESCE(SUM(credits), 0), "
            "COALESCE(SUM(CASE WHEN created_at >= ? AND created_at < ? THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN created_at >= ? AND created_at < ? THEN credits END), 0) "
            "FROM usage WHERE refunded = 0",
            (start, end, start, end),
        )
        assert row is not None  # an aggregate always returns one row
        refunded = await self.db.fetchval("SELECT COUNT(*) FROM usage WHERE refunded = 1")
        top_rows = await self.db.fetchall(
            "SELECT u.user_id, "
            "COALESCE(NULLIF(MAX(us.display_name), ''), MAX(j.user_name), '') AS name, "
            "COUNT(*) AS n FROM usage AS u "
            "LEFT JOIN users AS us ON us.user_id = u.user_id "
            "LEFT JOIN jobs AS j ON j.id = u.job_id "
            "WHERE u.refunded = 0 GROUP BY u.user_id ORDER BY n DESC, u.user_id LIMIT ?",
            (top,),
        )
        avg_rows = await self.db.fetchall(
            "SELECT model, AVG(completed_at - submitted_at) FROM jobs "
            "WHERE completed_at IS NOT NULL AND submitted_at IS NOT NULL "
            "AND completed_at >= submitted_at GROUP BY model ORDER BY model"
        )
        stars = await self.db.fetchone(
            "SELECT COALESCE(SUM(stars), 0), "
            "COALESCE(SUM(CASE WHEN refunded_at IS NOT NULL THEN stars END), 0), "
            "(SELECT COUNT(*) FROM song_billing WHERE kind = 'credit' AND state = 'used'), "
            "(SELECT COUNT(*) FROM song_billing WHERE kind = 'free' AND state = 'used') "
            "FROM star_purchases"
        )
        assert stars is not None
        return UsageStats(
            stars_received=int(stars[0]),
            stars_refunded=int(stars[1]),
            songs_paid=int(stars[2]),
            songs_free=int(stars[3]),
            generations_today=int(row[2]),
            credits_today=int(row[3]),
            generations_total=int(row[0]),
            credits_total=int(row[1]),
            refunded_total=int(str(refunded)),
            top_users=[(int(r[0]), str(r[1]), int(r[2])) for r in top_rows],
            avg_seconds_by_model={str(r[0]): float(r[1]) for r in avg_rows},
            jobs_by_state=await JobStore(self.db).counts_by_state(),
            lyrics=await LyricsStore(self.db).token_totals(start, end),
        )
