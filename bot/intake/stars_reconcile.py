"""The Stars ledger against Telegram's own record of the bot's Star transactions.

Why: the ledger (`star_purchases`) is written when the bot handles a `successful_payment`. If the
process took that update and died before crediting it, or the database refused the write, the
user paid and has nothing, and no update will come again. Telegram's `getStarTransactions` lists
every payment (its id is the `telegram_payment_charge_id`) and every refund (an outgoing
transaction with the payment's id), so it is the record to compare with. Crediting is keyed by
the charge id exactly like the payment handler, so a payment found here and delivered as an
update at the same moment is still credited, and confirmed, once.

Used by `songbot stars reconcile` (the whole history, every kind of difference, fixes on request)
and by the running bot (the newest transactions only, for payments the ledger lacks).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from telegram import Bot, StarTransaction, TransactionPartnerUser
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.i18n import t
from bot.intake.language import resolve_language
from bot.intake.stars import PackPayload
from bot.periodic import Background, periodic
from bot.telegram.startup import retry_telegram
from storage.settings import load_requester
from storage.stars import Purchase, StarStore

log = logging.getLogger(__name__)

PAGE: Final = 100  # getStarTransactions accepts 1-100
MAX_PAGES: Final = 20_000  # two million transactions: a bound, not a limit anyone meets
# A refund the bot is making right now is written to the ledger just before Telegram is asked:
# only one older than this, still unknown to Telegram, is a difference.
REFUND_GRACE: Final = 120.0
# How far before the ledger's own count the running bot starts reading (see `tail_offset`).
TAIL: Final = 100
INVOICE_PAYMENT: Final = "invoice_payment"
# The running bot looks for payments it missed at start (a crash is followed by a start) and then
# this often (a write that failed without a crash): one getStarTransactions call, usually.
WATCH_EVERY: Final = 15 * 60.0
# Flood control and timeouts are waited out this long per call before giving up.
PAGE_BUDGET: Final = 120.0
CONFIRM_BUDGET: Final = 60.0


class Kind(StrEnum):
    MISSING = "payment not credited"
    FOREIGN = "payment for no invoice of ours"
    UNKNOWN = "purchase Telegram does not list"
    AMOUNT = "amount differs"
    REFUND_MISSING = "refund not in the ledger"
    REFUND_UNKNOWN = "refund Telegram did not make"
    REJECTED = "payment that buys no pack"


@dataclass(frozen=True, slots=True)
class TelegramPayment:
    charge_id: str
    user_id: int
    stars: int
    payload: str
    language_code: str | None


@dataclass
class TelegramRecord:
    """What getStarTransactions listed, from `offset` on."""

    offset: int = 0
    payments: dict[str, TelegramPayment] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)  # charge id -> Stars given back
    other: int = 0  # withdrawals, ads, paid broadcasts...: not the ledger's business
    pages: int = 0
    complete: bool = False  # read to the end (False only past MAX_PAGES)


@dataclass
class Finding:
    kind: Kind
    charge_id: str
    user_id: int
    stars: int
    detail: str
    fixed: bool = False


@dataclass
class Report:
    record: TelegramRecord
    purchases: int
    findings: list[Finding]
    # Payments the bot refused to credit (star_payment_problems, #24.15), listed by Telegram
    # or not (a forged update is listed nowhere): charge id -> why.
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def remaining(self) -> list[Finding]:
        return [f for f in self.findings if not f.fixed]


async def fetch_record(bot: Bot, *, offset: int = 0) -> TelegramRecord:
    """Page through getStarTransactions from `offset` to the end (oldest first)."""
    record = TelegramRecord(offset=offset)
    while record.pages < MAX_PAGES:
        listed = await retry_telegram(
            functools.partial(bot.get_star_transactions, offset=offset, limit=PAGE),
            what="getStarTransactions",
            budget=PAGE_BUDGET,
        )
        page = listed.transactions
        record.pages += 1
        for transaction in page:
            _add(record, transaction)
        offset += len(page)
        if len(page) < PAGE:
            record.complete = True
            break
    return record


def _add(record: TelegramRecord, transaction: StarTransaction) -> None:
    source, receiver = transaction.source, transaction.receiver
    if isinstance(source, TransactionPartnerUser) and source.transaction_type == INVOICE_PAYMENT:
        record.payments[transaction.id] = TelegramPayment(
            charge_id=transaction.id,
            user_id=source.user.id,
            stars=transaction.amount,
            payload=source.invoice_payload or "",
            language_code=source.user.language_code,
        )
    elif (
        isinstance(receiver, TransactionPartnerUser)
        and receiver.transaction_type == INVOICE_PAYMENT
    ):
        record.refunds[transaction.id] = transaction.amount
    else:
        record.other += 1


def compare(
    record: TelegramRecord,
    purchases: Sequence[Purchase],
    *,
    now: float,
    whole: bool = True,
    problems: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every difference between the ledger and Telegram. With `whole=False` the record starts
    part-way through the history, so only what it lists is checked against the ledger.
    `problems`: payments the bot refused to credit (charge id -> why), never credited here."""
    ledger = {p.charge_id: p for p in purchases}
    problems = problems or {}
    findings: list[Finding] = []
    for charge_id, paid in record.payments.items():
        if charge_id in ledger:
            continue
        if charge_id in record.refunds:
            continue  # Telegram gave the Stars back before any credit: nothing is owed
        if charge_id in problems:
            findings.append(
                Finding(
                    Kind.REJECTED, charge_id, paid.user_id, paid.stars,
                    f"not credited when paid: {problems[charge_id]}; refund it if it was "
                    "a mistake",
                )
            )  # fmt: skip
            continue
        decoded = PackPayload.decode(paid.payload)
        if decoded is not None and decoded.user_id == paid.user_id and decoded.stars != paid.stars:
            findings.append(
                Finding(
                    Kind.FOREIGN, charge_id, paid.user_id, paid.stars,
                    f"payload {paid.payload!r} names {decoded.stars} Stars, Telegram took "
                    f"{paid.stars}: not credited automatically",
                )
            )  # fmt: skip
            continue
        if decoded is None or decoded.user_id != paid.user_id:
            findings.append(
                Finding(
                    Kind.FOREIGN, charge_id, paid.user_id, paid.stars,
                    f"payload {paid.payload!r} was not issued by this bot for this user, so "
                    "nothing is credited; refund it if it was a mistake",
                )
            )  # fmt: skip
            continue
        findings.append(
            Finding(
                Kind.MISSING, charge_id, paid.user_id, paid.stars,
                f"paid for {decoded.songs} songs, never credited",
            )
        )  # fmt: skip
    if not whole:
        # A refund among the newest transactions that the ledger lacks (a refund whose answer
        # was lost, #24.4): the running bot removes the credits still unused at once.
        findings.extend(
            Finding(
                Kind.REFUND_MISSING,
                p.charge_id,
                p.user_id,
                p.stars,
                f"Telegram refunded it, yet its {p.songs} credits are still counted",
            )
            for p in purchases
            if p.charge_id in record.refunds and p.refunded_at is None
        )
    for p in purchases if whole else ():
        listed = record.payments.get(p.charge_id)
        if listed is None:
            findings.append(
                Finding(
                    Kind.UNKNOWN, p.charge_id, p.user_id, p.stars,
                    f"{p.songs} songs credited for a payment Telegram has no record of "
                    "(test data, or a database of another bot?); not changed",
                )
            )  # fmt: skip
            continue
        if listed.stars != p.stars:
            findings.append(
                Finding(
                    Kind.AMOUNT, p.charge_id, p.user_id, p.stars,
                    f"the ledger says {p.stars} Stars, Telegram {listed.stars}; not changed",
                )
            )  # fmt: skip
        refunded = p.charge_id in record.refunds
        if refunded and p.refunded_at is None:
            findings.append(
                Finding(
                    Kind.REFUND_MISSING, p.charge_id, p.user_id, p.stars,
                    f"Telegram refunded it, yet its {p.songs} credits are still counted",
                )
            )  # fmt: skip
        elif not refunded and p.refunded_at is not None and now - p.refunded_at > REFUND_GRACE:
            findings.append(
                Finding(
                    Kind.REFUND_UNKNOWN, p.charge_id, p.user_id, p.stars,
                    f"its {p.refunded_songs} credits were taken back but Telegram never "
                    "refunded the Stars",
                )
            )  # fmt: skip
    return findings


async def reconcile(
    bot: Bot, stars: StarStore, *, fix: bool, now: float, free_per_day: int
) -> Report:
    """Compare the whole history; with `fix`, credit missing payments (and tell their buyers),
    write refunds Telegram made, and ask Telegram for refunds the ledger already counts."""
    purchases = await stars.purchases()  # first: every row read has its payment listed below
    record = await fetch_record(bot)
    # A record cut short cannot prove a purchase unknown to Telegram: then only its own rows count.
    problems = await stars.payment_problems()
    findings = compare(record, purchases, now=now, whole=record.complete, problems=problems)
    if fix:
        for finding in findings:
            await _fix(bot, stars, record, finding, now=now, free_per_day=free_per_day)
    return Report(record=record, purchases=len(purchases), findings=findings, problems=problems)


def tail_offset(known: int) -> int:
    """Where the newest transactions start: Telegram lists at least the `known` ones the
    ledger explains (more when it has withdrawals or payments the ledger lacks)."""
    return max(0, known - TAIL)


async def credit_missing(
    bot: Bot, stars: StarStore, *, now: float, free_per_day: int
) -> list[Finding]:
    """The running bot's check: the newest transactions, payments it never credited (credited
    and confirmed here) and refunds it never wrote (the unused credits removed here).
    Everything else is for `songbot stars reconcile`."""
    offset = tail_offset(await stars.transactions_known())
    purchases = await stars.purchases()
    record = await fetch_record(bot, offset=offset)
    if offset and record.pages == 1 and not (record.payments or record.refunds or record.other):
        # Nothing past the estimate: the ledger holds rows Telegram lacks; read it all.
        record = await fetch_record(bot)
    problems = await stars.payment_problems()
    findings = compare(record, purchases, now=now, whole=False, problems=problems)
    for finding in findings:
        if finding.kind in (Kind.MISSING, Kind.REFUND_MISSING):
            await _fix(bot, stars, record, finding, now=now, free_per_day=free_per_day)
    return findings


class MissedPaymentWatch:
    """`credit_missing` at start and every `WATCH_EVERY` seconds, until stopped. A failure is a
    warning and is tried again next time: Telegram keeps the record."""

    def __init__(self, bot: Bot, stars: StarStore, free_per_day: int) -> None:
        self._bot, self._stars, self._free = bot, stars, free_per_day
        self._reported: set[str] = set()  # said once, not every round

    def loop(self, every: float | None = None) -> Background:
        """The watch as a background loop (bot/periodic.py), not started yet."""
        return periodic(
            "songbot-stars-watch",
            self.check,
            WATCH_EVERY if every is None else every,
            failed=lambda exc: log.warning(
                "checking Telegram's Star transactions failed: %s", exc
            ),
        )

    async def check(self) -> None:
        """One round: credit what is missing, name once what needs an operator."""
        findings = await credit_missing(
            self._bot, self._stars, now=time.time(), free_per_day=self._free
        )
        others = [f for f in findings if not f.fixed and f.charge_id not in self._reported]
        self._reported.update(f.charge_id for f in others)
        if others:
            log.warning(
                "%d Stars payment(s) need an operator (%s); run `songbot stars reconcile`",
                len(others),
                ", ".join(f"{f.charge_id}: {f.kind.value}" for f in others),
            )


async def _fix(
    bot: Bot,
    stars: StarStore,
    record: TelegramRecord,
    finding: Finding,
    *,
    now: float,
    free_per_day: int,
) -> None:
    if finding.kind is Kind.MISSING:
        paid = record.payments[finding.charge_id]
        decoded = PackPayload.decode(paid.payload)
        assert decoded is not None
        credited = await stars.credit_purchase(
            charge_id=paid.charge_id,
            user_id=paid.user_id,
            chat_id=paid.user_id,  # the buyer's private chat: the paying chat is not listed
            songs=decoded.songs,
            stars=paid.stars,
            payload=paid.payload,
            now=now,
        )
        finding.fixed = True
        finding.detail = (
            f"credited {decoded.songs} songs"
            if credited
            else "credited meanwhile by the bot itself (the update arrived)"
        )
        log.warning(
            "payment %s of user %s was never credited: %s",
            paid.charge_id,
            paid.user_id,
            finding.detail,
        )
        await _confirm(bot, stars, paid, free_per_day=free_per_day, now=now)
    elif finding.kind is Kind.REFUND_MISSING:
        settled = await stars.settle_refund(finding.charge_id, now)
        if settled is None:
            finding.fixed = True
            finding.detail = "written as refunded meanwhile"
            return
        p = settled.purchase
        finding.fixed = True
        spent = p.songs - settled.taken
        finding.detail = f"written as refunded: {settled.taken} credits removed" + (
            f"; {spent} had been spent already (songs made, Stars given back)" if spent else ""
        )
    elif finding.kind is Kind.REFUND_UNKNOWN:
        try:
            await bot.refund_star_payment(
                user_id=finding.user_id, telegram_payment_charge_id=finding.charge_id
            )
        except BadRequest as exc:
            if "ALREADY_REFUNDED" in str(exc).upper():
                finding.fixed = True
                finding.detail = "Telegram had refunded it already"
            else:
                finding.detail += f"; Telegram refused to refund it now: {exc}"
            return
        finding.fixed = True
        finding.detail = f"refunded {finding.stars} Stars now (refundStarPayment)"


async def _confirm(
    bot: Bot, stars: StarStore, paid: TelegramPayment, *, free_per_day: int, now: float
) -> None:
    """The confirmation the lost update never gave, once per payment, in the buyer's private
    chat and language. Cosmetic: a buyer who blocked the bot still has the credits."""
    if not await stars.claim_notification(paid.charge_id, now):
        return
    requester = await load_requester(stars.db, paid.user_id, paid.user_id)
    lang = resolve_language(requester, chat_type="private", language_code=paid.language_code)
    b = await stars.balance(paid.user_id, free_per_day, now)
    text = t("stars_paid", lang, left=b.songs_left, credits=b.credits)
    try:
        await retry_telegram(
            lambda: bot.send_message(chat_id=paid.user_id, text=text),
            what="the payment confirmation",
            budget=CONFIRM_BUDGET,
        )
    except (Forbidden, BadRequest) as exc:
        log.info("payment %s: confirmation not delivered (%s)", paid.charge_id, exc)
    except TelegramError as exc:
        # The credit stands; a late successful_payment update may still confirm it.
        await stars.unclaim_notification(paid.charge_id)
        log.warning("payment %s: confirmation not sent (%s)", paid.charge_id, exc)
