"""Asking Telegram to refund a Stars payment, and knowing afterwards whether it did (#24.4).

Why more than one call: `refundStarPayment` may be carried out while its answer is lost (a read
timeout, a dropped connection). Treating that as a refusal gave the credits back to a buyer who
also got the Stars back. So the refund is written to the ledger first (the credits are gone
before Telegram is asked), "already refunded" counts as done, and an unknown outcome is settled
from Telegram's own record (`getStarTransactions`) and, if it does not list the refund, by asking
once more (a second refund of a refunded charge is refused as already refunded, never paid twice).
Only a refusal Telegram actually answered gives the credits back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.intake.stars_reconcile import fetch_record, tail_offset
from storage.stars import Purchase, StarStore

log = logging.getLogger(__name__)

ALREADY_REFUNDED: Final = "CHARGE_ALREADY_REFUNDED"


class Refund(StrEnum):
    DONE = "done"  # Telegram refunded the Stars (now or before)
    REFUSED = "refused"  # Telegram answered no: nothing was refunded
    UNKNOWN = "unknown"  # no answer and no trace in Telegram's record: ask again later


@dataclass(frozen=True, slots=True)
class RefundResult:
    outcome: Refund
    reason: str = ""


async def refund_at_telegram(bot: Bot, stars: StarStore, purchase: Purchase) -> RefundResult:
    """Ask Telegram to refund `purchase`, whose credits the ledger has already taken back."""
    first = await _ask(bot, purchase)
    if first.outcome is not Refund.UNKNOWN:
        return first
    log.warning(
        "refundStarPayment %s: no answer (%s); looking at Telegram's record",
        purchase.charge_id,
        first.reason,
    )
    if await _listed_as_refunded(bot, stars, purchase.charge_id):
        return RefundResult(Refund.DONE)
    return await _ask(bot, purchase)


async def _ask(bot: Bot, purchase: Purchase) -> RefundResult:
    try:
        await bot.refund_star_payment(
            user_id=purchase.user_id,
            telegram_payment_charge_id=purchase.charge_id,
        )
    except BadRequest as exc:  # before NetworkError: PTB makes BadRequest one of them
        if ALREADY_REFUNDED in str(exc).upper():
            return RefundResult(Refund.DONE)
        return RefundResult(Refund.REFUSED, str(exc))
    except Forbidden as exc:
        return RefundResult(Refund.REFUSED, str(exc))
    except TelegramError as exc:  # timeout, network, 5xx, flood control: outcome unknown
        return RefundResult(Refund.UNKNOWN, f"{type(exc).__name__}: {exc}")
    return RefundResult(Refund.DONE)


async def _listed_as_refunded(bot: Bot, stars: StarStore, charge_id: str) -> bool:
    """Whether Telegram's record of the newest Star transactions holds this refund."""
    try:
        record = await fetch_record(bot, offset=tail_offset(await stars.transactions_known()))
        if charge_id not in record.refunds and record.offset:
            record = await fetch_record(bot)  # not in the newest ones: read the whole history
    except TelegramError as exc:
        log.warning("getStarTransactions failed while settling a refund: %s", exc)
        return False
    return charge_id in record.refunds
