"""Issue #24, the money items (1, 4, 7, 13, 15), through the real bot against the fakes: a song
Telegram refuses is still paid for, a refused submit gives a held credit back, a refund whose
answer is lost still takes the credits, banned users cannot pay, forged payments credit nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.i18n import t
from bot.intake.stars import PackPayload
from bot.telegram.ptb_private import request_client
from storage.cancelling import cancel_job
from storage.db import Database
from storage.jobs import JobStore
from storage.stars import StarStore
from storage.states import JobState
from storage.usage import UsageLedger
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.jobs import T0, make_new_job
from tests.support.song_outcome import retry_now
from tests.support.stars import buy, pay
from tests.support.ux import LYRICS, ask, button_data, press, submits

SONG = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
GROUP = -1002424
ATTACKER = 5151
PAID = {"SONGBOT_STARS_PER_SONG": "50", "SONGBOT_FREE_SONGS_PER_DAY": "0"}
NO_RIGHTS = "Bad Request: not enough rights to send audios to the chat"
# Telegram's group pace (3.5 s a message) 20x faster on both sides: each round's messages in the
# attacker's group would otherwise wait for it (tests/support/harness.py).
FAST_GROUP = {"SONGBOT_TG_RATE_SCALE": "20"}


async def _until(check: Callable[[], object], *, timeout: float = 25.0, what: str = "") -> None:
    """Poll `check` (sync or async) until it is truthy, with a generous deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


async def _credit(h: BotHarness, user: int, charge: str, songs: int = 1) -> None:
    assert await h.services.stars.credit_purchase(
        charge_id=charge, user_id=user, chat_id=user, songs=songs, stars=50 * songs,
        payload=PackPayload(user, songs, 50 * songs).encode(), now=time.time(),
    )  # fmt: skip


def _refuse_audio_in_group(h: BotHarness) -> None:
    """The attacker's group lets the bot write but not send audio (or its topic is closed)."""
    h.tg.add_chat(GROUP, type="supergroup", title="No audio here")
    h.tg.script(
        "sendAudio",
        status=400,
        description=NO_RIGHTS,
        times=None,
        match=lambda p: int(p.get("chat_id", 0)) == GROUP,
    )


async def _round(h: BotHarness, *, refused_upload: bool = False) -> None:
    """One /song in the group; returns once the bot has answered it, with a song's failure or a
    refusal (every bot message answering a request replies to it).

    `refused_upload`: the song is made and its upload refused; the engine backs off and tries
    again once the job's deadline has passed (`retry_now` spares the wait), then gives up."""
    request = h.tg.send_text(GROUP, ATTACKER, SONG)
    if refused_upload:
        job = await h.wait_for_job(lambda j: j.request_message_id == request["message_id"])
        await retry_now(h, job.id, deadline_passed=True)

    async def answered() -> bool:
        for job in await h.jobs():
            if job.request_message_id == request["message_id"]:
                return job.outcome_sent_at is not None
        return any(
            c.ok
            and c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
            for c in h.tg.calls_to("sendMessage")
        )

    await _until(answered, what="the bot's answer to the round")


# ---- item 1: a song Telegram refuses is paid for; the re-send is free ------------------------


async def test_a_refused_upload_is_not_refunded_so_three_rounds_are_not_three_songs(
    harness: BotHarness,
) -> None:
    await harness.restart(**PAID, **FAST_GROUP, SONGBOT_USER_DAILY_LIMIT="1")
    _refuse_audio_in_group(harness)
    await _credit(harness, ATTACKER, "c-attack")
    await _round(harness, refused_upload=True)
    for _ in range(2):
        await _round(harness)

    # One song made and charged, whatever Telegram did with it; the other rounds were refused.
    assert len(submits(harness)) == 1
    [job] = await harness.jobs()
    assert job.state == JobState.FAILED.value and job.error_key == "error_telegram_upload"
    services = harness.services
    assert await services.usage.count_today(ATTACKER, time.time()) == 1
    balance = await services.stars.balance(ATTACKER, 0, time.time())
    assert (balance.credits, balance.used, balance.held) == (0, 1, 0)
    assert not await services.stars.released_credit(job.id)
    refusal = t("error_daily_limit", "en", limit=1)
    assert [c for c in harness.tg.calls_to("sendMessage") if c.params.get("text") == refusal]

    # The kept song goes to the private chat from /jobs: free (no provider call, nothing billed)
    # and from then on a delivered song.
    calls = len(harness.api.requests)
    listing = (await ask(harness, ATTACKER, ATTACKER, "/jobs")).result
    assert button_data(listing) == [f"v1:resend:{job.id}", "v1:songs:0"]  # and 📚
    await press(harness, ATTACKER, ATTACKER, listing["message_id"], f"v1:resend:{job.id}")
    sent = await harness.tg.wait_for_call(
        "sendAudio", lambda c: c.ok and c.params["chat_id"] == ATTACKER, timeout=15
    )
    delivered = await harness.wait_state(job.id, JobState.DELIVERED.value)
    assert delivered.delivered_message_id == sent.result["message_id"]
    assert len(harness.api.requests) == calls
    assert await services.usage.count_today(ATTACKER, time.time()) == 1
    after = await services.stars.balance(ATTACKER, 0, time.time())
    assert (after.credits, after.used, after.held) == (0, 1, 0)


async def test_kept_songs_are_bounded_per_requester_oldest_dropped(harness: BotHarness) -> None:
    await harness.restart(**FAST_GROUP, SONGBOT_KEEP_UNSENT_PER_USER="2")
    _refuse_audio_in_group(harness)
    for _ in range(3):
        await _round(harness, refused_upload=True)
    jobs = sorted(await harness.jobs(), key=lambda j: j.id)
    assert [j.error_key for j in jobs] == ["error_telegram_upload"] * 3
    oldest, *kept = jobs
    assert oldest.result_path is None  # dropped: over the bound of 2
    assert all(j.result_path and Path(j.result_path).is_file() for j in kept)
    kept_dir = harness.services.temp.kept_dir
    assert len(list(kept_dir.iterdir())) == 2
    listing = (await ask(harness, ATTACKER, ATTACKER, "/jobs")).result
    resend = [d for d in button_data(listing) if d.startswith("v1:resend:")]
    assert sorted(resend) == sorted(f"v1:resend:{j.id}" for j in kept)


# ---- item 7: a cancel while the submit is refused gives the held credit back -----------------

GENERATE = "POST /v2/generate/audio"


async def test_a_cancel_while_the_submit_is_refused_releases_the_held_credit(
    harness: BotHarness,
) -> None:
    await harness.restart(**PAID)
    await _credit(harness, ATTACKER, "c-503")
    # Every submit is refused with a 503 (nothing created, nothing charged), slowly enough that
    # the ❌ lands while the POST is in flight.
    harness.api.script(GENERATE, status=503, times=None, delay=1.0)
    harness.tg.send_text(ATTACKER, ATTACKER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.state == JobState.SUBMITTING.value and j.status_message_id is not None
    )
    await _until(lambda: submits(harness), what="the submit to reach the provider")
    harness.tg.press_button(ATTACKER, ATTACKER, job.status_message_id or 0, f"v1:cancel:{job.id}")
    await harness.wait_state(job.id, JobState.CANCELLED.value)
    stars = harness.services.stars

    async def released() -> bool:
        b = await stars.balance(ATTACKER, 0, time.time())
        return (b.credits, b.held, b.used) == (1, 0, 0)

    await _until(released, timeout=20, what="the held credit to come back")
    assert not harness.api.paid_submissions()
    assert await harness.services.usage.count_today(ATTACKER, time.time()) == 0
    ledger = await harness.services.db.fetchall(
        "SELECT kind, credits FROM star_ledger WHERE job_id = ? ORDER BY id", (job.id,)
    )
    assert [tuple(r) for r in ledger] == [("reserve", -1), ("release", 1)]


async def test_a_submit_refused_then_cancelled_is_not_sent_again(harness: BotHarness) -> None:
    """The provider refuses the POST (503), the user cancels meanwhile, and the provider would
    take the next try: the bot must not try again, or it makes and charges a cancelled song."""
    await harness.restart(**PAID)
    await _credit(harness, ATTACKER, "c-retry")
    harness.api.script(GENERATE, status=503, times=1, delay=1.0)  # then accepted
    harness.tg.send_text(ATTACKER, ATTACKER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.state == JobState.SUBMITTING.value and j.status_message_id is not None
    )
    await _until(lambda: submits(harness), what="the submit to reach the provider")
    harness.tg.press_button(ATTACKER, ATTACKER, job.status_message_id or 0, f"v1:cancel:{job.id}")
    await harness.wait_state(job.id, JobState.CANCELLED.value)
    stars = harness.services.stars

    async def released() -> bool:
        b = await stars.balance(ATTACKER, 0, time.time())
        return (b.credits, b.held, b.used) == (1, 0, 0)

    await _until(released, timeout=20, what="the held credit to come back")
    assert len(submits(harness)) == 1  # the refused one only: not sent again
    assert not harness.api.paid_submissions()
    assert await harness.services.usage.count_today(ATTACKER, time.time()) == 0


# ---- item 4: a refund whose answer is lost still takes the credits ---------------------------

ADMIN = 4242


async def _bought(h: BotHarness, songs: int) -> str:
    """The user buys a pack through the fake (invoice, pre-checkout, payment); its charge id."""
    h.tg.send_text(PRIVATE_CHAT, USER, "/buy")
    await h.tg.wait_for_call("sendMessage", lambda c: c.ok and "reply_markup" in c.params)
    offer = h.tg.bot_messages(PRIVATE_CHAT)[-1]
    return await pay(h, await buy(h, offer, songs))


def _short_read_timeout(h: BotHarness, seconds: float) -> None:
    """The bot's general Bot API read timeout (30 s in production), shortened for the test."""
    client = request_client(h.app.bot.request)
    client.timeout = httpx.Timeout(client.timeout.connect, read=seconds, write=30.0, pool=10.0)


async def _admin_says(h: BotHarness, text: str) -> None:
    await h.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("chat_id") == ADMIN and c.params.get("text") == text,
        timeout=30,
    )


async def test_a_refund_answered_after_the_timeout_still_removes_the_credits(
    harness: BotHarness,
) -> None:
    await harness.restart(**PAID, SONGBOT_ADMIN_IDS=str(ADMIN))
    charge = await _bought(harness, 5)
    stars = harness.services.stars
    assert (await stars.balance(USER, 0, time.time())).credits == 5
    _short_read_timeout(harness, 1.0)
    # Telegram carries the refund out, and answers only after the client gave up waiting (half
    # a second after its 1 s timeout).
    late = harness.tg.script("refundStarPayment", status=None, delay_after=1.5)
    harness.tg.send_text(ADMIN, ADMIN, f"/refund {charge}")
    await _admin_says(harness, t("stars_refunded", "en", stars=225, songs=5))
    assert late.handled == 1 and harness.tg.star_payments[charge].refunded
    call = await harness.tg.wait_for_call("refundStarPayment", lambda c: True, timeout=15)
    assert call.http_status == 499  # the answer came after the client had hung up
    balance = await stars.balance(USER, 0, time.time())
    assert (balance.credits, balance.bought) == (0, 0)
    purchase = await stars.purchase(charge)
    assert purchase is not None and purchase.refunded_songs == 5

    # The buyer cannot spend them: a song asks for payment.
    harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await harness.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("text") == t("stars_payment_required", "en", price=50),
        timeout=15,
    )
    assert await harness.jobs() == []


async def test_a_refund_telegram_never_confirms_keeps_the_credits_removed(
    harness: BotHarness,
) -> None:
    await harness.restart(**PAID, SONGBOT_ADMIN_IDS=str(ADMIN))
    charge = await _bought(harness, 1)
    # Both tries end in a 502: did Telegram refund or not? Its record does not list it (yet).
    harness.tg.script("refundStarPayment", status=502, times=2)
    harness.tg.send_text(ADMIN, ADMIN, f"/refund {charge}")
    await _admin_says(harness, t("stars_refund_pending", "en", charge_id=charge))
    assert len(harness.tg.calls_to("refundStarPayment")) == 2
    assert harness.tg.calls_to("getStarTransactions")
    # The intent stands: the buyer cannot spend the credits meanwhile, and `songbot stars
    # reconcile --fix` asks Telegram again once REFUND_GRACE has passed.
    stars = harness.services.stars
    assert (await stars.balance(USER, 0, time.time())).credits == 0
    purchase = await stars.purchase(charge)
    assert purchase is not None and purchase.refunded_at is not None


async def test_already_refunded_counts_as_refunded(harness: BotHarness) -> None:
    await harness.restart(**PAID, SONGBOT_ADMIN_IDS=str(ADMIN))
    charge = await _bought(harness, 1)
    # Refunded at Telegram already (an earlier /refund whose answer was lost, before the ledger
    # knew): Telegram now answers CHARGE_ALREADY_REFUNDED.
    await harness.app.bot.refund_star_payment(user_id=USER, telegram_payment_charge_id=charge)
    harness.tg.send_text(ADMIN, ADMIN, f"/refund {charge}")
    await _admin_says(harness, t("stars_refunded", "en", stars=50, songs=1))
    refused = [c for c in harness.tg.calls_to("refundStarPayment") if not c.ok]
    assert refused and "CHARGE_ALREADY_REFUNDED" in refused[0].description
    assert (await harness.services.stars.balance(USER, 0, time.time())).credits == 0


async def test_the_running_bot_writes_a_refund_it_missed(harness: BotHarness) -> None:
    await harness.restart(**PAID)
    charge = await _bought(harness, 5)
    await harness.app.bot.refund_star_payment(user_id=USER, telegram_payment_charge_id=charge)
    stars = harness.services.stars
    from bot.intake.stars_reconcile import credit_missing

    await credit_missing(harness.app.bot, stars, now=time.time(), free_per_day=0)
    assert (await stars.balance(USER, 0, time.time())).credits == 0
    purchase = await stars.purchase(charge)
    assert purchase is not None and purchase.refunded_at is not None


# ---- item 13: a banned user is sold nothing ---------------------------------------------------


async def test_a_banned_user_gets_no_invoice_and_a_refused_pre_checkout(
    harness: BotHarness,
) -> None:
    await harness.restart(**PAID)
    tg = harness.tg
    tg.send_text(PRIVATE_CHAT, USER, "/buy")  # an offer from before the ban
    await tg.wait_for_call("sendMessage", lambda c: c.ok and "reply_markup" in c.params)
    offer = tg.bot_messages(PRIVATE_CHAT)[-1]
    await harness.services.users.set_banned(USER, True)

    refusal = t("stars_checkout_banned", "en")
    reply = (await ask(harness, PRIVATE_CHAT, USER, "/buy")).result
    assert reply["text"] == refusal and "reply_markup" not in reply
    answer = await press(harness, PRIVATE_CHAT, USER, offer["message_id"], "v1:buy:5")
    assert answer.params["text"] == refusal and answer.params.get("show_alert") is True
    # An invoice sent before the ban, paid now: Telegram asks first, and the bot says no.
    query = tg.send_pre_checkout(USER, PackPayload(USER, 1, 50).encode(), total_amount=50)
    await tg.wait_for_call(
        "answerPreCheckoutQuery",
        lambda c: c.ok and c.params.get("pre_checkout_query_id") == query,
        timeout=15,
    )
    assert tg.pre_checkouts[query].ok is False
    assert tg.pre_checkouts[query].error_message == refusal
    assert not tg.calls_to("sendInvoice")
    assert not tg.star_payments
    assert (await harness.services.stars.balance(USER, 0, time.time())).bought == 0


# ---- item 15: a payment that buys no pack credits nothing and is kept for the operator --------


async def test_a_payment_that_buys_no_pack_credits_nothing(harness: BotHarness) -> None:
    await harness.restart(**PAID)
    tg, stars = harness.tg, harness.services.stars
    forged = [
        tg.forge_payment(USER, PackPayload(USER, 9999, 1).encode(), total_amount=1),
        tg.forge_payment(USER, PackPayload(USER, 1, 50).encode(), total_amount=1),
        tg.forge_payment(USER, PackPayload(USER, 1, 50).encode(), currency="USD", total_amount=50),
    ]
    good = tg.forge_payment(USER, PackPayload(USER, 5, 225).encode(), total_amount=225)
    await _until(lambda: stars.purchase(good), what="the good payment to be credited")
    await tg.wait_for_call("getUpdates", lambda c: c.ok and not c.result, timeout=15)
    await asyncio.sleep(0.3)  # the forged ones were handled alongside (concurrent updates)
    balance = await stars.balance(USER, 0, time.time())
    assert (balance.credits, balance.bought) == (5, 5)
    told = t("stars_payment_unmatched", "en")
    await tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params.get("text") == told, count=3, timeout=20
    )
    assert await stars.purchase(forged[0]) is None
    problems = await stars.payment_problems()
    assert sorted(problems) == sorted(forged)
    assert "no pack of 9999 songs" in problems[forged[0]]
    assert "1 Stars paid for the pack of 1 songs" in problems[forged[1]]
    assert "USD" in problems[forged[2]]

    # Telegram's record lists such a payment (a real one would be listed): the running bot's
    # check never credits it, and the operator's reconcile names it.
    buyer = {"id": USER, "is_bot": False, "first_name": "Buyer"}
    source = {
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": buyer,
        "invoice_payload": PackPayload(USER, 9999, 1).encode(),
    }
    tg.record_star_transaction(forged[0], 1, source=source)
    from bot.intake.stars_reconcile import Kind, credit_missing, reconcile
    from bot.ops.stars_cli import format_report

    findings = await credit_missing(harness.app.bot, stars, now=time.time(), free_per_day=0)
    assert [(f.kind, f.charge_id, f.fixed) for f in findings] == [
        (Kind.REJECTED, forged[0], False)
    ]
    assert (await stars.balance(USER, 0, time.time())).credits == 5
    # `songbot stars reconcile` shows the operator all three, and credits none with --fix.
    report = await reconcile(harness.app.bot, stars, fix=True, now=time.time(), free_per_day=0)
    text = format_report(report, fix=True)
    assert f"DIFF   payment that buys no pack: {forged[0]}" in text
    assert all(f"NOTE   payment not credited when it arrived: {c}" in text for c in forged[1:])
    assert (await stars.balance(USER, 0, time.time())).credits == 5


# ---- the billing rule itself, on both engines (migration 007) --------------------------------


async def test_a_credit_follows_the_charge_on_both_engines(any_db: Database) -> None:
    stars, jobs, usage = StarStore(any_db), JobStore(any_db), UsageLedger(any_db)
    await stars.credit_purchase(
        charge_id="ch-7", user_id=42, chat_id=42, songs=4, stars=200, payload="p", now=T0
    )
    guard = stars.guard(42, 0, T0)
    made, refused, cancelled, _ = [
        (await jobs.create(make_new_job(chat_id=42), stars=guard))[0] for _ in range(4)
    ]
    # Charged, then refused by Telegram: the job fails, the credit stays spent.
    await usage.record(made.id, 42, 42, made.model, 10, T0)
    assert await jobs.transition(made.id, JobState.RECEIVED, JobState.FAILED, now=T0 + 1)
    assert not await stars.released_credit(made.id)
    # Charged, but the provider did not charge after all (refunded usage): given back.
    await usage.record(refused.id, 42, 42, refused.model, 10, T0)
    assert await jobs.transition(refused.id, JobState.RECEIVED, JobState.FAILED, now=T0 + 1)
    assert await usage.refund(refused.id)
    assert await stars.released_credit(refused.id)
    # Cancelled during the paid POST: held until the refusal is known, then given back.
    assert await jobs.transition(cancelled.id, JobState.RECEIVED, JobState.SUBMITTING, now=T0)
    assert not await stars.release_uncharged(cancelled.id, T0 + 1)  # still submitting
    assert await jobs.transition(cancelled.id, JobState.SUBMITTING, JobState.CANCELLED, now=T0 + 1)
    assert (await stars.balance(42, 0, T0)).held == 2  # this one and the fourth, waiting
    assert await stars.release_uncharged(cancelled.id, T0 + 2)
    assert not await stars.release_uncharged(cancelled.id, T0 + 3)  # once
    assert not await stars.release_uncharged(made.id, T0 + 3)  # charged: never
    balance = await stars.balance(42, 0, T0)
    assert (balance.credits, balance.used, balance.held) == (2, 1, 1)


@pytest.mark.parametrize("created", [False, True], ids=["nothing-made", "made-and-charged"])
async def test_a_cancel_during_a_submit_whose_answer_is_lost_is_settled_from_the_log(
    harness: BotHarness, created: bool
) -> None:
    await harness.restart(**PAID)
    await _credit(harness, ATTACKER, "c-lost")
    # The POST reaches the provider (and, with `created`, makes and charges a song); its answer
    # never comes back; the ❌ lands meanwhile.
    harness.api.script(GENERATE, delay=1.0, drop_connection=True, process=created)
    harness.tg.send_text(ATTACKER, ATTACKER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.state == JobState.SUBMITTING.value and j.status_message_id is not None
    )
    await _until(lambda: submits(harness), what="the submit to reach the provider")
    harness.tg.press_button(ATTACKER, ATTACKER, job.status_message_id or 0, f"v1:cancel:{job.id}")
    await harness.wait_state(job.id, JobState.CANCELLED.value)
    stars, usage = harness.services.stars, harness.services.usage
    want = (0, 0, 1) if created else (1, 0, 0)  # credits, held, used

    async def settled() -> bool:
        b = await stars.balance(ATTACKER, 0, time.time())
        return (b.credits, b.held, b.used) == want

    await _until(settled, timeout=20, what=f"the hold to settle as {want}")
    assert len(harness.api.paid_submissions()) == int(created)
    assert await usage.count_today(ATTACKER, time.time()) == int(created)


async def test_a_hold_left_by_a_crash_during_a_cancelled_submit_is_settled_at_start(
    harness: BotHarness,
) -> None:
    await harness.restart(**PAID)
    await _credit(harness, ATTACKER, "c-crash")
    services = harness.services
    await harness.runner.stop()  # the song waits: its POST is staged by hand below
    harness.tg.send_text(ATTACKER, ATTACKER, SONG)
    job = await harness.wait_for_job(lambda j: j.user_id == ATTACKER)
    # The process marked it `submitting`, the user cancelled, and the process died before it
    # learned what the POST did (here: it never reached the provider).
    started = time.time() - 5
    assert await services.jobs.transition(
        job.id, JobState.RECEIVED, JobState.SUBMITTING, now=started, submit_started_at=started
    )
    moving = await services.jobs.get(job.id)
    assert moving is not None
    assert await cancel_job(services.jobs, services.usage, moving, now=time.time())
    assert (await services.stars.balance(ATTACKER, 0, time.time())).held == 1

    await harness.restart()
    stars = harness.services.stars

    async def released() -> bool:
        b = await stars.balance(ATTACKER, 0, time.time())
        return (b.credits, b.held) == (1, 0)

    await _until(released, timeout=20, what="the hold to be released at start")
    assert not harness.api.paid_submissions()
