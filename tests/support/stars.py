"""Paying with Telegram Stars through the fakes: the paywall's pack offer, an invoice, a payment.

Why helpers: the Stars tests, the paywall flow and the billing security tests all buy a pack the
way a user does (the offer, a pack button, the invoice paid); each spelling it out would hide what
the test checks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.i18n import plain, t
from songbot_fakes.telegram import Invoice
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness

PAID = {"SONGBOT_STARS_PER_SONG": "50", "SONGBOT_FREE_SONGS_PER_DAY": "0"}


async def wait_text(h: BotHarness, text: str, *, count: int = 1) -> None:
    await h.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params.get("text") == text, count=count, timeout=15
    )


async def pack_offer(h: BotHarness) -> dict[str, Any]:
    """Wait for the price reply; returns the message carrying the pack buttons."""
    await wait_text(h, t("stars_payment_required", "en", price=50))
    return next(
        m
        for m in h.tg.bot_messages(PRIVATE_CHAT)
        if m.get("text") == plain("stars_payment_required", "en", price=50)
    )


async def buy(h: BotHarness, offer: dict[str, Any], songs: int) -> Invoice:
    before = len(h.tg.invoices)
    h.tg.press_button(PRIVATE_CHAT, USER, offer["message_id"], f"v1:buy:{songs}")
    await h.tg.wait_for_call("sendInvoice", lambda c: c.ok, count=before + 1, timeout=15)
    return h.tg.invoices[-1]


async def pay(h: BotHarness, invoice: Invoice) -> str:
    """Pay an invoice; returns the charge id once the bot has credited it."""
    query = h.tg.pay_invoice(invoice, USER)
    await h.tg.wait_for_call(
        "answerPreCheckoutQuery",
        lambda c: c.ok and c.params.get("pre_checkout_query_id") == query,
        timeout=15,
    )
    assert h.tg.pre_checkouts[query].ok is True
    charge = next(p for p in h.tg.star_payments.values() if p.payload == invoice.payload)
    for _ in range(200):
        if await h.services.stars.purchase(charge.charge_id) is not None:
            return charge.charge_id
        await asyncio.sleep(0.05)
    raise AssertionError("payment never credited")
