"""Telegram Stars (issue #19) through the real bot against the fakes: packs and invoices, a
pre-checkout answered at once, every payment credited exactly once, credits that parallel requests
cannot spend twice, a failed song's credit given back, and admin refunds."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.app import ALLOWED_UPDATES
from bot.config import Config, ConfigError, StarPack
from bot.i18n import plain, t
from bot.intake.stars import PackPayload
from storage.states import JobState
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.stars import PAID, buy, pack_offer, pay, wait_text
from tests.support.ux import LYRICS, all_handled, help_section, submits

SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
ADMIN = 4242


def _sent(h: BotHarness, text: str) -> int:
    """How many times the bot sent exactly this (HTML) text."""
    return sum(1 for c in h.tg.calls_to("sendMessage") if c.ok and c.params.get("text") == text)


async def _balance(h: BotHarness, user: int = USER) -> int:
    b = await h.services.stars.balance(user, h.services.config.free_songs_per_day, 0.0 + _now())
    return b.songs_left


def _now() -> float:
    import time

    return time.time()


@pytest.mark.harness_env(SONGBOT_STARS_PER_SONG="50")  # one free song a day by default
async def test_no_credit_offers_the_packs_and_a_paid_pack_makes_songs(
    harness: BotHarness,
) -> None:
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    first = await harness.wait_for_job(lambda j: j.state == JobState.DELIVERED.value, timeout=30)

    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)  # no free song left, no credit
    offer = await pack_offer(harness)
    buttons = [b["callback_data"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["v1:buy:1", "v1:buy:5", "v1:buy:20"]
    await all_handled(harness)
    assert [j.id for j in await harness.jobs()] == [first.id]

    invoice = await buy(harness, offer, 5)
    call = harness.tg.calls_to("sendInvoice")[-1]
    assert call.params["currency"] == "XTR" and not call.params.get("provider_token")
    assert [p["amount"] for p in call.params["prices"]] == [225]
    assert PackPayload.decode(invoice.payload) == PackPayload(USER, 5, 225)

    await pay(harness, invoice)
    await wait_text(harness, t("stars_paid", "en", left=5, credits=5))
    checkout = next(iter(harness.tg.pre_checkouts.values()))
    assert checkout.answer_seconds is not None and checkout.answer_seconds < 2.0

    # The request that met the paywall is made now, on one of the new credits (#25.4).
    second = await harness.wait_for_job(
        lambda j: j.id != first.id and j.state == JobState.DELIVERED.value, timeout=30
    )
    assert await _balance(harness) == 4
    harness.tg.send_text(PRIVATE_CHAT, USER, "/balance")
    await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and str(c.params.get("text", "")).startswith("<b>4</b> songs left"),
        timeout=15,
    )
    kinds = await harness.services.db.fetchall(
        "SELECT job_id, kind, state FROM song_billing ORDER BY job_id"
    )
    assert [tuple(r) for r in kinds] == [(first.id, "free", "used"), (second.id, "credit", "used")]
    ledger = await harness.services.db.fetchall(
        "SELECT kind, credits FROM star_ledger ORDER BY id"
    )
    assert [tuple(r) for r in ledger] == [("purchase", 5), ("reserve", -1), ("use", 0)]


@pytest.mark.harness_env(**PAID)
async def test_a_duplicate_payment_update_is_credited_once(harness: BotHarness) -> None:
    harness.tg.send_text(PRIVATE_CHAT, USER, "/buy")
    await harness.tg.wait_for_call("sendMessage", lambda c: c.ok and "reply_markup" in c.params)
    offer = harness.tg.bot_messages(PRIVATE_CHAT)[-1]
    charge = await pay(harness, await buy(harness, offer, 1))
    harness.tg.redeliver_payment(charge)
    harness.tg.redeliver_payment(charge)
    await all_handled(harness)
    assert await _balance(harness) == 1
    rows = await harness.services.db.fetchval("SELECT COUNT(*) FROM star_purchases")
    assert rows == 1
    assert _sent(harness, t("stars_paid", "en", left=1, credits=1)) == 1

    # And after a restart (Telegram hands the update over again): still once.
    await harness.restart()
    harness.tg.redeliver_payment(charge)
    await all_handled(harness)
    assert await _balance(harness) == 1
    ledger = await harness.services.db.fetchval(
        "SELECT COUNT(*) FROM star_ledger WHERE kind = 'purchase'"
    )
    assert ledger == 1


# Nine refusals in one private chat: Telegram's pace for it runs 32x faster (not under test).
@pytest.mark.harness_env(**PAID, SONGBOT_TG_RATE_SCALE="32")
async def test_ten_parallel_songs_spend_one_credit_once(harness: BotHarness) -> None:
    harness.api.generation_seconds = 30.0
    await harness.services.stars.credit_purchase(
        charge_id="c-1", user_id=USER, chat_id=PRIVATE_CHAT, songs=1, stars=50,
        payload=PackPayload(USER, 1, 50).encode(), now=_now(),
    )  # fmt: skip
    await harness.app.updater.stop()  # hold polling so all ten arrive in one getUpdates batch
    for _ in range(10):
        harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.app.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, timeout=1, poll_interval=0.0
    )
    await wait_text(harness, t("stars_payment_required", "en", price=50))
    await all_handled(harness)
    jobs = await harness.jobs()
    assert len(jobs) == 1
    await harness.wait_state(jobs[0].id, JobState.PENDING.value)
    assert len(submits(harness)) == 1
    assert await _balance(harness) == 0


async def test_a_failed_song_gives_its_credit_back_and_says_so(harness: BotHarness) -> None:
    harness.api.set_outcome(fail="content policy violation")
    await harness.restart(**PAID)
    await harness.services.stars.credit_purchase(
        charge_id="c-2", user_id=USER, chat_id=PRIVATE_CHAT, songs=1, stars=50,
        payload=PackPayload(USER, 1, 50).encode(), now=_now(),
    )  # fmt: skip
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == JobState.FAILED.value, timeout=30)
    await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and plain("stars_credit_returned", "en") in str(c.params.get("text")),
        timeout=15,
    )
    assert await _balance(harness) == 1
    ledger = await harness.services.db.fetchall(
        "SELECT kind, credits FROM star_ledger WHERE job_id = ? ORDER BY id", (job.id,)
    )
    assert [tuple(r) for r in ledger] == [("reserve", -1), ("use", 0), ("release", 1)]


@pytest.mark.harness_env(**PAID)
async def test_a_cancel_before_the_paid_submit_releases_after_it_keeps(
    harness: BotHarness,
) -> None:
    harness.api.generation_seconds = 30.0
    await harness.services.stars.credit_purchase(
        charge_id="c-3", user_id=USER, chat_id=PRIVATE_CHAT, songs=1, stars=50,
        payload=PackPayload(USER, 1, 50).encode(), now=_now(),
    )  # fmt: skip
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(lambda j: j.state == JobState.PENDING.value)
    harness.tg.press_button(PRIVATE_CHAT, USER, job.status_message_id or 0, f"v1:cancel:{job.id}")
    await harness.wait_state(job.id, JobState.CANCELLED.value)
    assert await _balance(harness) == 0  # the provider charged it: the credit is spent

    # Before the paid POST (still waiting for a slot) the credit comes back.
    jobs = harness.services.jobs
    await harness.services.stars.credit_purchase(
        charge_id="c-4", user_id=USER, chat_id=PRIVATE_CHAT, songs=1, stars=50,
        payload=PackPayload(USER, 1, 50).encode(), now=_now(),
    )  # fmt: skip
    await harness.app.updater.stop()
    await harness.runner.stop()
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.app.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, timeout=1, poll_interval=0.0
    )
    waiting = await harness.wait_for_job(
        lambda j: j.id != job.id and j.status_message_id is not None
    )
    assert waiting.state == JobState.RECEIVED.value
    assert await _balance(harness) == 0
    from storage.cancelling import cancel_job

    assert await cancel_job(jobs, harness.services.usage, waiting, now=_now())
    assert await _balance(harness) == 1


@pytest.mark.harness_env(**PAID)
async def test_pre_checkout_refuses_a_stale_price_and_foreign_payloads(
    harness: BotHarness,
) -> None:
    stale = harness.tg.send_pre_checkout(
        USER, PackPayload(USER, 1, 40).encode(), total_amount=40
    )  # an invoice from when a song cost 40
    foreign = harness.tg.send_pre_checkout(
        USER, PackPayload(USER + 1, 1, 50).encode(), total_amount=50
    )  # someone else's invoice
    unknown = harness.tg.send_pre_checkout(
        USER, PackPayload(USER, 3, 150).encode(), total_amount=150
    )
    good = harness.tg.send_pre_checkout(USER, PackPayload(USER, 1, 50).encode(), total_amount=50)
    await harness.tg.wait_for_call("answerPreCheckoutQuery", lambda c: c.ok, count=4, timeout=15)
    checkouts = harness.tg.pre_checkouts
    assert checkouts[stale].ok is False
    assert checkouts[stale].error_message == plain("stars_checkout_price", "en", price=50)
    assert checkouts[foreign].ok is False and checkouts[unknown].ok is False
    assert checkouts[good].ok is True
    assert all((c.answer_seconds or 99) < 2.0 for c in checkouts.values()), [
        c.answer_seconds for c in checkouts.values()
    ]


@pytest.mark.harness_env(**PAID, SONGBOT_ADMIN_IDS=str(ADMIN))
async def test_refund_removes_unused_credits_and_refuses_spent_ones(harness: BotHarness) -> None:
    harness.api.generation_seconds = 30.0
    harness.tg.send_text(PRIVATE_CHAT, USER, "/buy")
    await harness.tg.wait_for_call("sendMessage", lambda c: c.ok and "reply_markup" in c.params)
    offer = harness.tg.bot_messages(PRIVATE_CHAT)[-1]
    unused = await pay(harness, await buy(harness, offer, 1))
    spent = await pay(harness, await buy(harness, offer, 5))
    assert await _balance(harness) == 6
    for _ in range(2):
        harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.state == JobState.PENDING.value)
    assert await _balance(harness) == 4

    harness.tg.send_text(ADMIN, ADMIN, f"/refund {spent}")
    await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.ok
            and c.params.get("text")
            == t("stars_refund_spent", "en", charge_id=spent, songs=5, unused=4)
        ),
        timeout=15,
    )
    assert not harness.tg.calls_to("refundStarPayment")

    harness.tg.send_text(ADMIN, ADMIN, f"/refund {unused}")
    await harness.tg.wait_for_call("refundStarPayment", lambda c: c.ok, timeout=15)
    assert harness.tg.star_payments[unused].refunded
    await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("text") == t("stars_refunded", "en", stars=50, songs=1),
        timeout=15,
    )
    assert await _balance(harness) == 3
    stats = await harness.services.usage.stats(_now())
    assert (stats.stars_received, stats.stars_refunded, stats.songs_paid) == (275, 50, 2)

    harness.tg.send_text(PRIVATE_CHAT, USER, f"/refund {unused}")  # not an operator
    await wait_text(harness, t("error_operators_only", "en"))
    assert len(harness.tg.calls_to("refundStarPayment")) == 1


@pytest.mark.harness_env(**PAID, SONGBOT_ADMIN_IDS=str(USER))
async def test_admins_never_pay_and_a_free_bot_sells_nothing(harness: BotHarness) -> None:
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.user_id == USER)
    assert await harness.services.db.fetchval("SELECT COUNT(*) FROM song_billing") == 0

    await harness.restart(SONGBOT_STARS_PER_SONG="0", SONGBOT_ADMIN_IDS="")
    harness.tg.send_text(PRIVATE_CHAT, USER, "/buy")
    await wait_text(harness, t("stars_off", "en"))
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.wait_for_job(lambda j: j.user_id == USER and j.id > 1)
    assert await harness.services.db.fetchval("SELECT COUNT(*) FROM song_billing") == 0


async def test_the_fake_rejects_invoices_telegram_would_reject(harness: BotHarness) -> None:
    bot = harness.app.bot
    from telegram import LabeledPrice
    from telegram.error import BadRequest

    base: dict[str, Any] = {
        "chat_id": PRIVATE_CHAT, "title": "t", "description": "d", "payload": "p",
    }  # fmt: skip
    harness.tg.add_user(USER)
    harness.tg.add_chat(PRIVATE_CHAT)
    for bad in (
        {"currency": "XTR", "prices": [LabeledPrice("a", 1), LabeledPrice("b", 2)]},
        {"currency": "XTR", "prices": [LabeledPrice("a", 1)], "provider_token": "tok"},
        {"currency": "USD", "prices": [LabeledPrice("a", 100)]},
        {"currency": "XTR", "prices": [LabeledPrice("a", 0)]},
    ):
        with pytest.raises(BadRequest):
            await bot.send_invoice(**base, **bad)
    message = await bot.send_invoice(**base, currency="XTR", prices=[LabeledPrice("a", 5)])
    assert message.invoice is not None and message.invoice.total_amount == 5


def test_packs_default_to_the_price_with_discounts_and_are_validated() -> None:
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "AIMLAPI_KEY": "k"}
    assert Config.from_env(env, env_file=None).stars_per_song == 0
    config = Config.from_env({**env, "SONGBOT_STARS_PER_SONG": "50"}, env_file=None)
    assert config.star_packs == (StarPack(1, 50), StarPack(5, 225), StarPack(20, 800))
    assert config.free_songs_per_day == 1
    custom = Config.from_env(
        {**env, "SONGBOT_STARS_PER_SONG": "10", "SONGBOT_STAR_PACKS": "2:15, 10:60"},
        env_file=None,
    )
    assert custom.star_packs == (StarPack(2, 15), StarPack(10, 60))
    for bad in ("5", "a:b", "1:0", "1:20000", "1:5,1:6"):
        with pytest.raises(ConfigError):
            Config.from_env(
                {**env, "SONGBOT_STARS_PER_SONG": "10", "SONGBOT_STAR_PACKS": bad}, env_file=None
            )
    assert json.dumps(ALLOWED_UPDATES).count("pre_checkout_query") == 1


@pytest.mark.harness_env(**PAID, SONGBOT_ALLOWED_CHAT_IDS="-100999")
async def test_a_payment_is_credited_even_from_a_chat_no_longer_served(
    harness: BotHarness,
) -> None:
    # The user bought while served; the operator then narrowed the chat list. Money was taken.
    query = harness.tg.send_pre_checkout(USER, PackPayload(USER, 1, 50).encode(), total_amount=50)
    await harness.tg.wait_for_call("answerPreCheckoutQuery", lambda c: c.ok, timeout=15)
    assert harness.tg.pre_checkouts[query].ok is True
    charge = next(iter(harness.tg.star_payments))
    for _ in range(200):
        if await harness.services.stars.purchase(charge) is not None:
            break
        await asyncio.sleep(0.05)
    assert await _balance(harness) == 1


async def test_the_menu_offers_buy_and_balance_only_while_songs_are_sold(
    harness: BotHarness,
) -> None:
    """setMyCommands as the fake received it: /buy and /balance in every scope and catalogue
    language while a song costs Stars, and gone again once selling is switched off."""
    scopes = ({"type": "all_private_chats"}, {"type": "all_group_chats"})

    def menus() -> dict[tuple[str, str], dict[str, str]]:
        return {
            (scope["type"], lang): {
                c["command"]: c["description"] for c in harness.tg.commands(scope, lang)
            }
            for scope in scopes
            for lang in ("", "ru", "es")
        }

    assert all("buy" not in m and "balance" not in m for m in menus().values())
    await harness.restart(**PAID)
    selling = menus()
    for (_, lang), menu in selling.items():
        assert list(menu)[-2:] == ["buy", "balance"], (lang, menu)
        assert menu["buy"] == plain("cmd_buy", lang or "en")
        assert menu["balance"] == plain("cmd_balance", lang or "en")
        assert "song" in menu and "help" in menu
    assert selling[("all_private_chats", "ru")]["buy"] == "Купить песни за Telegram Stars"

    await harness.restart(SONGBOT_STARS_PER_SONG="0")
    assert all("buy" not in m and "balance" not in m for m in menus().values())
    assert all(menu for menu in menus().values())


async def test_help_tells_the_price_and_the_two_commands_only_while_songs_are_sold(
    harness: BotHarness,
) -> None:
    async def help_text() -> str:
        return await help_section(harness, PRIVATE_CHAT, USER, "limits")

    assert "/buy" not in await help_text()
    await harness.restart(**PAID)
    text = await help_text()
    assert "/buy" in text and "/balance" in text and "50 ⭐" in text
