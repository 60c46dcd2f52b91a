"""Telegram Stars reconciliation (#19 leftover): the ledger against getStarTransactions.

The fake Telegram records a transaction whenever it charges a payment or makes a refund, and
can be told to take a payment without ever delivering its successful_payment (a process that
took the update and died). The bot credits such a payment from Telegram's record by itself;
`songbot stars reconcile` finds every other difference and, with --fix, settles what it can.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from telegram.error import BadRequest

import bot.intake.stars_reconcile as reconcile_module
from bot.i18n import plain, t
from bot.intake.stars import PackPayload
from bot.intake.stars_reconcile import (
    REFUND_GRACE,
    Kind,
    TelegramPayment,
    TelegramRecord,
    compare,
    tail_offset,
)
from bot.ops.cli import main
from songbot_fakes.telegram import FakeTelegram, Invoice
from storage.stars import Purchase
from storage.states import JobState
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness, bot_env
from tests.support.stars import PAID
from tests.support.ux import LYRICS, all_handled

SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
OTHER = 2002  # a second buyer, in their own private chat


async def _invoice(h: BotHarness, user: int, songs: int) -> Invoice:
    """/buy in the user's private chat, then the pack button: the invoice it sends."""
    h.tg.send_text(user, user, "/buy")
    offer = await h.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("chat_id") == user and "reply_markup" in c.params,
        timeout=15,
    )
    before = len(h.tg.invoices)
    h.tg.press_button(user, user, offer.result["message_id"], f"v1:buy:{songs}")
    await h.tg.wait_for_call("sendInvoice", lambda c: c.ok, count=before + 1, timeout=15)
    return h.tg.invoices[-1]


async def _pay(h: BotHarness, user: int, songs: int) -> str:
    """Pay a pack; returns the charge id once Telegram has taken the Stars."""
    invoice = await _invoice(h, user, songs)
    query = h.tg.pay_invoice(invoice, user)
    await h.tg.wait_for_call(
        "answerPreCheckoutQuery",
        lambda c: c.ok and c.params.get("pre_checkout_query_id") == query,
        timeout=15,
    )
    assert h.tg.pre_checkouts[query].ok is True
    return next(p.charge_id for p in h.tg.star_payments.values() if p.payload == invoice.payload)


async def _credited(h: BotHarness, charge_id: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await h.services.stars.purchase(charge_id) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{charge_id} never credited")


async def _left(h: BotHarness, user: int = USER) -> int:
    b = await h.services.stars.balance(user, 0, time.time())
    return b.songs_left


def _confirmations(tg: FakeTelegram, chat_id: int, text: str) -> int:
    return sum(
        1
        for c in tg.calls_to("sendMessage")
        if c.ok and c.params.get("chat_id") == chat_id and c.params.get("text") == text
    )


# ---- the fake's getStarTransactions -----------------------------------------------------------


@pytest.mark.harness_env(**PAID)
async def test_the_fake_lists_payments_and_refunds_in_pages_as_the_spec_types_them(
    harness: BotHarness,
) -> None:
    first = await _pay(harness, USER, 1)
    second = await _pay(harness, USER, 5)
    for n in range(3):
        harness.tg.record_star_transaction(f"wd-{n}", 100, receiver={"type": "fragment"})
    bot = harness.app.bot
    assert await bot.refund_star_payment(user_id=USER, telegram_payment_charge_id=first)

    everything = (await bot.get_star_transactions()).transactions  # limit defaults to 100
    assert [(x.id, x.amount) for x in everything] == [
        (first, 50), (second, 225), ("wd-0", 100), ("wd-1", 100), ("wd-2", 100), (first, 50),
    ]  # fmt: skip
    pay = everything[0].source
    assert pay is not None and pay.type == "user" and everything[0].receiver is None
    assert pay.user.id == USER and pay.transaction_type == "invoice_payment"  # type: ignore[attr-defined]
    refund = everything[-1].receiver
    assert refund is not None and refund.user.id == USER and everything[-1].source is None  # type: ignore[attr-defined]

    pages = [(await bot.get_star_transactions(offset=o, limit=4)).transactions for o in (0, 4, 8)]
    assert [len(p) for p in pages] == [4, 2, 0]
    assert [x.id for x in pages[0] + pages[1]] == [x.id for x in everything]
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        with pytest.raises(BadRequest):
            await bot.get_star_transactions(**bad)

    spec = harness.tg.spec
    for call in harness.tg.calls_to("getStarTransactions"):
        if call.ok:
            returns = spec.methods["getStarTransactions"].returns
            assert spec.check(call.result, returns, "result") is None
    assert spec.check({"transactions": [{"id": "x", "date": 1}]}, returns, "r") is not None


# ---- the running bot credits a payment it never saw ------------------------------------------


@pytest.mark.harness_env(**PAID)
async def test_a_payment_lost_before_crediting_is_credited_at_start_and_confirmed_once(
    harness: BotHarness,
) -> None:
    harness.tg.deliver_payments = False  # Telegram takes the Stars; the update is lost
    charge = await _pay(harness, USER, 5)
    await all_handled(harness)
    assert await harness.services.stars.purchase(charge) is None
    assert await _left(harness) == 0

    await harness.restart()  # a crash is followed by a start: the bot looks at Telegram's record
    await _credited(harness, charge)
    assert await _left(harness) == 5
    paid = t("stars_paid", "en", left=5, credits=5)
    await harness.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params.get("text") == paid, timeout=15
    )

    # The update turns up after all, and the next start looks again: still once, told once.
    harness.tg.redeliver_payment(charge)
    await harness.restart()
    await all_handled(harness)
    assert await _left(harness) == 5
    assert _confirmations(harness.tg, PRIVATE_CHAT, paid) == 1
    ledger = await harness.services.db.fetchall(
        "SELECT kind, credits, stars FROM star_ledger WHERE charge_id = ?", (charge,)
    )
    assert [tuple(r) for r in ledger] == [("purchase", 5, 225)]

    # The song it buys is made.
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == JobState.DELIVERED.value, timeout=30)
    assert await _left(harness) == 4


async def test_the_running_bot_looks_again_without_a_restart(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconcile_module, "WATCH_EVERY", 0.3)
    await harness.restart(**PAID)
    harness.tg.deliver_payments = False
    harness.tg.add_user(USER, language_code="es")
    charge = await _pay(harness, USER, 1)
    await _credited(harness, charge)
    await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("text") == t("stars_paid", "es", left=1, credits=1),
        timeout=15,
    )


@pytest.mark.harness_env(SONGBOT_STARS_PER_SONG="0")
async def test_a_free_bot_never_asks_for_star_transactions(harness: BotHarness) -> None:
    await asyncio.sleep(0.3)
    assert not harness.tg.calls_to("getStarTransactions")
    await harness.restart(**PAID)
    await harness.tg.wait_for_call("getStarTransactions", lambda c: c.ok, timeout=15)


# ---- songbot stars reconcile -----------------------------------------------------------------


async def _cli(
    h: BotHarness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    for key, value in bot_env(h.tg, h.api, h.db_path, PAID).items():
        monkeypatch.setenv(key, value)
    code = await asyncio.to_thread(main, ["stars", "reconcile", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _lines(out: str, status: str) -> dict[str, str]:
    """Report lines of one status, by charge id."""
    found: dict[str, str] = {}
    for line in out.splitlines():
        words = line.split()
        if words and words[0] == status:
            charge = line.split(": ", 2)[1].split(" ", 1)[0]
            found[charge] = line
    return found


@pytest.mark.harness_env(**PAID)
async def test_reconcile_reports_each_difference_and_fix_settles_what_it_can(
    harness: BotHarness,
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tg, stars = harness.tg, harness.services.stars
    for n in range(120):  # withdrawals first: the payments are on the second page
        tg.record_star_transaction(f"wd-{n}", 1000, receiver={"type": "fragment"})
    fine = await _pay(harness, USER, 1)
    await _credited(harness, fine)
    refunded_by_telegram = await _pay(harness, OTHER, 5)  # refunded outside the bot, 2 spent
    await _credited(harness, refunded_by_telegram)
    for _ in range(2):
        tg.send_text(OTHER, OTHER, SONG)
    for _ in range(600):
        done = [j for j in await harness.jobs() if j.state == JobState.DELIVERED.value]
        if len(done) == 2:
            break
        await asyncio.sleep(0.05)
    assert await _left(harness, OTHER) == 3
    assert await harness.app.bot.refund_star_payment(
        user_id=OTHER, telegram_payment_charge_id=refunded_by_telegram
    )
    half_refunded = await _pay(harness, USER, 1)  # credits taken back, then the process died
    await _credited(harness, half_refunded)
    assert await stars.take_back(half_refunded, time.time() - 600)
    tg.deliver_payments = False
    lost = await _pay(harness, USER, 5)
    await stars.credit_purchase(
        charge_id="c-phantom", user_id=USER, chat_id=PRIVATE_CHAT, songs=1, stars=50,
        payload="stars:v1:1001:1:50", now=time.time(),
    )  # fmt: skip
    tg.record_star_transaction(
        "stxForeign",
        77,
        source={
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": tg.add_user(3003),
            "invoice_payload": "not-ours",
        },
    )
    await harness.stop()

    pages_before = len(tg.calls_to("getStarTransactions"))
    code, out = await _cli(harness, monkeypatch, capsys)
    assert code == 1, out
    diffs = _lines(out, "DIFF")
    assert set(diffs) == {
        lost, "c-phantom", refunded_by_telegram, half_refunded, "stxForeign"
    }, out  # fmt: skip
    assert "payment not credited" in diffs[lost] and "5 songs" in diffs[lost]
    assert "purchase Telegram does not list" in diffs["c-phantom"]
    assert "refund not in the ledger" in diffs[refunded_by_telegram]
    assert "refund Telegram did not make" in diffs[half_refunded]
    assert "payment for no invoice of ours" in diffs["stxForeign"]
    assert "Telegram: 5 payments, 1 refunds, 120 other transactions; ledger: 4 purchases" in out
    assert "--fix" in out
    assert len(tg.calls_to("getStarTransactions")) - pages_before == 2  # 126 listed, by 100

    code, out = await _cli(harness, monkeypatch, capsys, "--fix")
    assert code == 1, out  # the phantom purchase and the foreign payment need a person
    assert set(_lines(out, "DIFF")) == {"c-phantom", "stxForeign"}, out
    fixed = _lines(out, "FIXED")
    assert set(fixed) == {lost, refunded_by_telegram, half_refunded}, out
    assert "3 credits removed; 2 had been spent already" in fixed[refunded_by_telegram]
    assert "refunded 50 Stars now" in fixed[half_refunded]
    assert tg.star_payments[half_refunded].refunded
    # fine 1 + lost 5 + the phantom's 1 (left alone); half_refunded's credit was taken back
    assert _confirmations(tg, PRIVATE_CHAT, t("stars_paid", "en", left=7, credits=7)) == 1

    await harness.start()
    assert await _left(harness) == 7
    assert await _left(harness, OTHER) == 0
    other = await harness.services.stars.purchase(refunded_by_telegram)
    assert other is not None and other.refunded_songs == 3 and other.refunded_at is not None
    await harness.stop()

    calls = (len(tg.calls_to("refundStarPayment")), len(tg.calls_to("sendMessage")))
    code, again = await _cli(harness, monkeypatch, capsys, "--fix")
    assert code == 1 and set(_lines(again, "DIFF")) == {"c-phantom", "stxForeign"}, again
    assert not _lines(again, "FIXED")
    assert (len(tg.calls_to("refundStarPayment")), len(tg.calls_to("sendMessage"))) == calls


@pytest.mark.harness_env(**PAID)
async def test_reconcile_exits_0_when_the_ledger_matches(
    harness: BotHarness,
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    charge = await _pay(harness, USER, 1)
    await _credited(harness, charge)
    harness.tg.send_text(PRIVATE_CHAT, USER, "/balance")
    await harness.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and "song left" in str(c.params.get("text")), timeout=15
    )
    await harness.stop()
    code, out = await _cli(harness, monkeypatch, capsys)
    assert code == 0, out
    assert "The ledger matches Telegram." in out
    assert "Telegram: 1 payments, 0 refunds, 0 other transactions; ledger: 1 purchases" in out


async def test_reconcile_says_so_when_the_token_is_rejected(
    harness: BotHarness,
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await harness.stop()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
    for key, value in bot_env(harness.tg, harness.api, harness.db_path, PAID).items():
        if key != "TELEGRAM_BOT_TOKEN":
            monkeypatch.setenv(key, value)
    code = await asyncio.to_thread(main, ["stars", "reconcile"])
    err = capsys.readouterr().err
    assert code == 1
    assert "token was rejected" in err and "999:wrong" not in err
    assert plain("cmd_buy", "en")  # the catalogue is untouched by an operator command


# ---- the comparison on its own -----------------------------------------------------------------


def _purchase(charge: str, *, stars: int = 50, refunded_at: float | None = None) -> Purchase:
    return Purchase(
        charge_id=charge, user_id=USER, chat_id=USER, songs=1, stars=stars,
        refunded_songs=0 if refunded_at is None else 1, refunded_at=refunded_at,
    )  # fmt: skip


def _paid(charge: str, payload: str, stars: int = 50) -> TelegramPayment:
    return TelegramPayment(charge, USER, stars, payload, None)


def test_compare_leaves_alone_what_is_settled_or_still_in_flight() -> None:
    now = 10_000.0
    good = PackPayload(USER, 1, 50).encode()
    record = TelegramRecord(
        payments={
            "refunded-first": _paid("refunded-first", good),  # refunded before any credit
            "odd-price": _paid("odd-price", good, stars=40),  # payload says 50
            "fresh-refund": _paid("fresh-refund", good),
            "old-refund": _paid("old-refund", good),
        },
        refunds={"refunded-first": 50},
        complete=True,
    )
    purchases = [
        _purchase("fresh-refund", refunded_at=now - 5),  # the bot is asking Telegram right now
        _purchase("old-refund", refunded_at=now - REFUND_GRACE - 1),
        _purchase("gone"),
    ]
    found = {f.charge_id: f.kind for f in compare(record, purchases, now=now)}
    assert found == {
        "odd-price": Kind.FOREIGN,
        "old-refund": Kind.REFUND_UNKNOWN,
        "gone": Kind.UNKNOWN,
    }
    # Part of the history only: a purchase it does not list proves nothing.
    partial = {f.charge_id for f in compare(record, purchases, now=now, whole=False)}
    assert partial == {"odd-price"}
    assert tail_offset(250) == 150 and tail_offset(40) == 0
