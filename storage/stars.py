"""Telegram Stars credits: purchases credited once, balances derived, refunds of unused credits.

Why derived balances: a stored counter can drift from the rows that explain it; here every number
is a sum over `star_purchases` and `song_billing` (migration 004), and `star_ledger` records each
movement for the operator. Reservations are written by the intake INSERT itself
(`JobStore.create(stars=...)`); use and release are triggers on `usage` and on the job state, so
every writer of a job (runner, cancel, repair) moves the credit with it, in the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.quota import CREDITS_AVAILABLE, FREE_USED_IN_SPAN, StarsGuard
from storage.states import TERMINAL
from storage.usage import utc_day_bounds


@dataclass(frozen=True, slots=True)
class Balance:
    free_left: int  # free songs still open today
    credits: int  # credits that can still be spent
    bought: int  # credits ever bought (minus refunded)
    used: int  # credits spent on songs that were charged
    held: int  # credits reserved by songs not charged yet

    @property
    def songs_left(self) -> int:
        return self.free_left + self.credits


@dataclass(frozen=True, slots=True)
class Purchase:
    charge_id: str
    user_id: int
    chat_id: int
    songs: int
    stars: int
    refunded_songs: int
    refunded_at: float | None
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class RefundSettled:
    """A refund Telegram made that the ledger lacked, now written: `taken` of `songs` credits
    removed (fewer when the buyer had already spent some: those songs were made, unpaid)."""

    purchase: Purchase
    taken: int


_PURCHASE_COLUMNS = (
    "telegram_payment_charge_id, user_id, chat_id, songs, stars, refunded_songs, refunded_at, "
    "created_at"
)


def _purchase(row: tuple[object, ...]) -> Purchase:
    return Purchase(
        charge_id=str(row[0]),
        user_id=int(str(row[1])),
        chat_id=int(str(row[2])),
        songs=int(str(row[3])),
        stars=int(str(row[4])),
        refunded_songs=int(str(row[5])),
        refunded_at=None if row[6] is None else float(str(row[6])),
        created_at=float(str(row[7])),
    )


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """What refunding a purchase would take back: refused when any of its credits are spent."""

    purchase: Purchase
    unused: int  # credits of this user not spent or held right now

    @property
    def allowed(self) -> bool:
        return self.purchase.refunded_at is None and self.unused >= self.purchase.songs


class StarStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def guard(user_id: int, free_per_day: int, now: float) -> StarsGuard:
        start, end = utc_day_bounds(now)
        return StarsGuard(user_id=user_id, free_per_day=free_per_day, day_start=start, day_end=end)

    async def balance(self, user_id: int, free_per_day: int, now: float) -> Balance:
        g = self.guard(user_id, free_per_day, now)
        row = await self.db.fetchone(
            f"SELECT ({FREE_USED_IN_SPAN}), ({CREDITS_AVAILABLE}), "
            "(SELECT COALESCE(SUM(songs - refunded_songs), 0) FROM star_purchases "
            "WHERE user_id = ?), "
            "(SELECT COUNT(*) FROM song_billing WHERE user_id = ? AND kind = 'credit' "
            "AND state = 'used'), "
            "(SELECT COUNT(*) FROM song_billing WHERE user_id = ? AND kind = 'credit' "
            "AND state = 'reserved')",
            (*g.free_params(), *g.credit_params(), user_id, user_id, user_id),
        )
        assert row is not None
        return Balance(
            free_left=max(0, free_per_day - int(row[0])),
            credits=max(0, int(row[1])),
            bought=int(row[2]),
            used=int(row[3]),
            held=int(row[4]),
        )

    async def credit_purchase(
        self,
        *,
        charge_id: str,
        user_id: int,
        chat_id: int,
        songs: int,
        stars: int,
        payload: str,
        now: float,
    ) -> bool:
        """Credit one payment: the purchase and its ledger row in one transaction; a charge id
        seen before changes nothing (False), however often Telegram delivers it."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO star_purchases (telegram_payment_charge_id, user_id, chat_id, songs, "
                "stars, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (telegram_payment_charge_id) DO NOTHING",
                (charge_id, user_id, chat_id, songs, stars, payload, now),
            )
            if changed != 1:
                return False
            await tx.execute(
                "INSERT INTO star_ledger (user_id, kind, credits, stars, charge_id, created_at) "
                "VALUES (?, 'purchase', ?, ?, ?, ?)",
                (user_id, songs, stars, charge_id, now),
            )
            return True

    async def record_payment_problem(
        self,
        *,
        charge_id: str,
        user_id: int,
        chat_id: int,
        currency: str,
        stars: int,
        payload: str,
        reason: str,
        now: float,
    ) -> bool:
        """Keep a payment that buys no pack on sale for the operator, crediting nothing
        (#24.15); True the first time this charge id is seen."""
        changed = await self.db.execute_write(
            "INSERT INTO star_payment_problems (telegram_payment_charge_id, user_id, chat_id, "
            "currency, stars, payload, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (telegram_payment_charge_id) DO NOTHING",
            (charge_id, user_id, chat_id, currency, stars, payload, reason, now),
        )
        return changed == 1

    async def payment_problems(self) -> dict[str, str]:
        """Payments kept for the operator: charge id -> why nothing was credited."""
        rows = await self.db.fetchall(
            "SELECT telegram_payment_charge_id, reason FROM star_payment_problems"
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def claim_notification(self, charge_id: str, now: float) -> bool:
        """True for exactly one caller per purchase: the one that sends the confirmation."""
        changed = await self.db.execute_write(
            "UPDATE star_purchases SET notified_at = ? "
            "WHERE telegram_payment_charge_id = ? AND notified_at IS NULL",
            (now, charge_id),
        )
        return changed == 1

    async def unclaim_notification(self, charge_id: str) -> None:
        """The confirmation could not be sent: a redelivered update may try again."""
        await self.db.execute_write(
            "UPDATE star_purchases SET notified_at = NULL WHERE telegram_payment_charge_id = ?",
            (charge_id,),
        )

    async def purchase(self, charge_id: str) -> Purchase | None:
        row = await self.db.fetchone(
            f"SELECT {_PURCHASE_COLUMNS} FROM star_purchases WHERE telegram_payment_charge_id = ?",
            (charge_id,),
        )
        return None if row is None else _purchase(tuple(row))

    async def purchases(self) -> list[Purchase]:
        """Every purchase, oldest first (what reconciliation compares with Telegram's record)."""
        rows = await self.db.fetchall(
            f"SELECT {_PURCHASE_COLUMNS} FROM star_purchases ORDER BY id"
        )
        return [_purchase(tuple(row)) for row in rows]

    async def transactions_known(self) -> int:
        """How many Star transactions the ledger explains: one per purchase, one more per
        refund. Telegram lists at least these, so its newest ones start near this offset."""
        value = await self.db.fetchval(
            "SELECT COUNT(*) + COUNT(refunded_at) FROM star_purchases", ()
        )
        return int(str(value or 0))

    async def settle_refund(self, charge_id: str, now: float) -> RefundSettled | None:
        """Write a refund Telegram made without the ledger knowing (a refund whose answer was
        lost, a purchase refunded outside the bot): the purchase's credits that are still unused
        are removed, never more, so no balance goes negative. None if it is not a purchase
        or is already written as refunded."""
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                f"SELECT {_PURCHASE_COLUMNS} FROM star_purchases "
                "WHERE telegram_payment_charge_id = ? AND refunded_at IS NULL",
                (charge_id,),
            )
            if not rows:
                return None
            p = _purchase(tuple(rows[0]))
            # Against a song reserving a credit of this user meanwhile (PostgreSQL; SQLite's
            # BEGIN IMMEDIATE already holds the only write lock).
            await tx.serialize_on(f"user:{p.user_id}")
            available = await tx.fetchall(f"SELECT {CREDITS_AVAILABLE}", (p.user_id, p.user_id))
            taken = min(p.songs, max(0, int(available[0][0])))
            await tx.execute(
                "UPDATE star_purchases SET refunded_at = ?, refunded_songs = ? "
                "WHERE telegram_payment_charge_id = ? AND refunded_at IS NULL",
                (now, taken, charge_id),
            )
            await tx.execute(
                "INSERT INTO star_ledger (user_id, kind, credits, stars, charge_id, created_at) "
                "VALUES (?, 'refund', ?, ?, ?, ?)",
                (p.user_id, -taken, -p.stars, charge_id, now),
            )
            return RefundSettled(purchase=p, taken=taken)

    async def plan_refund(self, charge_id: str) -> RefundPlan | None:
        p = await self.purchase(charge_id)
        if p is None:
            return None
        unused = await self.db.fetchval(f"SELECT {CREDITS_AVAILABLE}", (p.user_id, p.user_id))
        return RefundPlan(purchase=p, unused=max(0, int(str(unused))))

    async def take_back(self, charge_id: str, now: float) -> bool:
        """Remove a refunded purchase's credits, only if they are all still unspent (checked in
        the same statement, so a song accepted meanwhile cannot make the balance negative)."""
        async with self.db.transaction() as tx:
            found = await tx.fetchall(
                "SELECT user_id FROM star_purchases WHERE telegram_payment_charge_id = ?",
                (charge_id,),
            )
            if not found:
                return False
            user_id = int(found[0][0])
            await tx.serialize_on(f"user:{user_id}")  # against a song reserving a credit
            changed = await tx.execute(
                "UPDATE star_purchases SET refunded_at = ?, refunded_songs = songs "
                "WHERE telegram_payment_charge_id = ? AND refunded_at IS NULL "
                f"AND ({CREDITS_AVAILABLE}) >= songs",
                (now, charge_id, user_id, user_id),
            )
            if changed != 1:
                return False
            await tx.execute(
                "INSERT INTO star_ledger (user_id, kind, credits, stars, charge_id, created_at) "
                "SELECT user_id, 'refund', -songs, -stars, telegram_payment_charge_id, ? "
                "FROM star_purchases WHERE telegram_payment_charge_id = ?",
                (now, charge_id),
            )
            return True

    async def undo_take_back(self, charge_id: str) -> None:
        """Telegram refused the refund: the credits are the user's again, no refund happened."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE star_purchases SET refunded_at = NULL, refunded_songs = 0 "
                "WHERE telegram_payment_charge_id = ?",
                (charge_id,),
            )
            await tx.execute(
                "DELETE FROM star_ledger WHERE kind = 'refund' AND charge_id = ?", (charge_id,)
            )

    async def release_uncharged(self, job_id: int, now: float) -> bool:
        """Give back what a job that ended without a charge still holds (#24.7).

        The release trigger (migration 007) cannot know this for a job cancelled while its paid
        POST was in flight: the provider may yet charge it. Once the runner learns the POST was
        refused (a 503, nothing created), this releases the credit or free song: only if the job
        has ended, has no usage row (nothing was charged) and still holds its reservation. True
        if it released something."""
        ended = sorted(s.value for s in TERMINAL)
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT user_id, kind FROM song_billing WHERE job_id = ? AND state = 'reserved' "
                "AND NOT EXISTS (SELECT 1 FROM usage WHERE job_id = ?) "
                f"AND EXISTS (SELECT 1 FROM jobs WHERE id = ? AND state IN "
                f"({', '.join('?' for _ in ended)}))",
                (job_id, job_id, job_id, *ended),
            )
            if not rows:
                return False
            await tx.execute(
                "UPDATE song_billing SET state = 'released', released_at = ? "
                "WHERE job_id = ? AND state = 'reserved'",
                (now, job_id),
            )
            if str(rows[0][1]) == "credit":
                await tx.execute(
                    "INSERT INTO star_ledger (user_id, kind, credits, job_id, created_at) "
                    "VALUES (?, 'release', 1, ?, ?)",
                    (int(rows[0][0]), job_id, now),
                )
            return True

    async def held_by_ended_jobs(self) -> list[int]:
        """Jobs that ended but still hold a credit or free song with no charge recorded: songs
        cancelled during their paid POST whose outcome was never learned (bot/engine/holds.py)."""
        ended = sorted(s.value for s in TERMINAL)
        rows = await self.db.fetchall(
            "SELECT b.job_id FROM song_billing AS b JOIN jobs AS j ON j.id = b.job_id "
            f"WHERE b.state = 'reserved' AND j.state IN ({', '.join('?' for _ in ended)}) "
            "AND NOT EXISTS (SELECT 1 FROM usage AS u WHERE u.job_id = b.job_id) "
            "ORDER BY b.job_id",
            tuple(ended),
        )
        return [int(r[0]) for r in rows]

    async def released_credit(self, job_id: int) -> bool:
        """Whether this job's credit went back to its user (for the failure message)."""
        value = await self.db.fetchval(
            "SELECT 1 FROM song_billing WHERE job_id = ? AND kind = 'credit' "
            "AND state = 'released'",
            (job_id,),
        )
        return value is not None
