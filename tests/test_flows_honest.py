"""Flows that say what they do (#25.5, #25.6, #25.7, #25.16, #25.18), through the real bot
against the fakes: 🔁/🎲 check before they promise, /cancel and ❌ agree while a song is being
sent, 📤 Send again and 🔁 Try again close the failure, someone else's song in a group asks
before it charges, and a group board never re-sends an unchanged text."""

from __future__ import annotations

import asyncio
import itertools

from bot.i18n import plain, t
from handlers.buttons import plain_text
from tests.support.groups import fast_flood_clock
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import SONG, one_outcome, refused_song
from tests.support.stars import PAID, pack_offer
from tests.support.ux import BOT, GROUP, all_handled, button_data, deliver, ok_reply_to, press

OTHER = 2002
GROUP_SONG = SONG.replace("/song", f"/song@{BOT}", 1)


async def test_again_without_credit_shows_the_paywall_only(harness: BotHarness) -> None:
    h = harness
    await h.restart(SONGBOT_STARS_PER_SONG="50")  # one free song a day
    job, song = await deliver(h)
    answer = await press(h, PRIVATE_CHAT, USER, song["message_id"], f"v1:vary:{job.id}")
    await pack_offer(h)
    assert answer.params.get("text") in (None, "")  # nothing promised
    texts = [m.get("text", "") for m in h.tg.bot_messages(PRIVATE_CHAT)]
    assert not any(text.startswith("🎲") for text in texts), texts
    assert not any(text.startswith("🔁") for text in texts), texts
    assert len(await h.jobs()) == 1


async def test_cancel_while_sending_says_what_the_button_says(harness: BotHarness) -> None:
    h = harness
    # The upload takes 1 s: the /cancel (answered in a few tens of ms) lands while it is sent.
    slow = h.tg.script("sendAudio", status=None, delay=1.0, times=1)
    request = h.tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await h.wait_for_job(lambda j: j.state == "delivering", timeout=20)
    deadline = asyncio.get_running_loop().time() + 5
    while slow.hits == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    cancel = h.tg.send_text(PRIVATE_CHAT, USER, "/cancel")
    reply = await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(PRIVATE_CHAT, cancel["message_id"])
    )
    assert reply.params["text"] == t("too_late_to_cancel", "en")
    await h.wait_state(job.id, "delivered", timeout=20)
    assert request["message_id"] == job.request_message_id


async def test_send_again_closes_the_failure_message(harness: BotHarness) -> None:
    h = harness
    job, failure, uploads = await refused_song(h)
    uploads.times = uploads.hits  # Telegram takes uploads again
    await press(h, PRIVATE_CHAT, USER, failure["message_id"], f"v1:resend:{job.id}")
    await h.wait_for_job(lambda j: j.delivered_message_id is not None)
    await h.tg.wait_for_call(
        "editMessageText",
        lambda c: c.ok and c.params.get("message_id") == failure["message_id"],
        timeout=15,
    )
    closed = h.tg.message(PRIVATE_CHAT, failure["message_id"])
    assert closed["text"] == plain_text(t("resend_done", "en")) and "reply_markup" not in closed
    h.services.memo.recent_presses.clear()  # later than a double tap
    second = await press(
        h, PRIVATE_CHAT, USER, failure["message_id"], f"v1:resend:{job.id}", check_button=False
    )
    assert second.params["text"] == plain("answer_resend_done", "en")
    assert len(h.tg.calls_to("sendAudio")) == uploads.hits + 1  # no second send


async def test_a_retryable_failure_offers_try_again(harness: BotHarness) -> None:
    h = harness
    h.api.set_outcome(fail="Downstream service error.")
    request = h.tg.send_text(PRIVATE_CHAT, USER, SONG)
    await one_outcome(h, request["message_id"])
    [job] = await h.jobs()
    failure = next(
        m
        for m in h.tg.bot_messages(PRIVATE_CHAT)
        if (m.get("reply_to_message") or {}).get("message_id") == request["message_id"]
    )
    assert button_data(failure) == [f"v1:again:{job.id}"]
    h.api.set_outcome()
    answer = await press(h, PRIVATE_CHAT, USER, failure["message_id"], f"v1:again:{job.id}")
    assert answer.params["text"] == plain("answer_again", "en")
    again = await h.wait_for_job(lambda j: j.id != job.id and j.state == "delivered", timeout=30)
    assert again.lyrics == job.lyrics and again.prompt == job.prompt


async def test_someone_elses_song_in_a_group_asks_before_it_charges(harness: BotHarness) -> None:
    h = harness
    h.tg.add_chat(GROUP, type="supergroup")
    # Every song is paid for, but the requester's are free (an admin): only the tapper pays.
    await fast_flood_clock(h, 20.0, **PAID, SONGBOT_ADMIN_IDS=str(USER))
    job, song = await deliver(h, GROUP_SONG, chat_id=GROUP)
    warned = await press(h, GROUP, OTHER, song["message_id"], f"v1:again:{job.id}")
    assert warned.params["text"] == plain("answer_remake_confirm", "en")
    assert warned.params.get("show_alert") is True
    await all_handled(h)
    assert len(await h.jobs()) == 1 and not h.tg.calls_to("sendInvoice")
    # The second tap goes ahead: the tapper has no credit, so the packs come, nothing is made.
    await press(h, GROUP, OTHER, song["message_id"], f"v1:again:{job.id}")
    await h.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and c.params.get("text") == t("stars_payment_required", "en", price=50),
    )
    assert len(await h.jobs()) == 1


async def test_a_group_board_never_sends_an_unchanged_text(harness: BotHarness) -> None:
    h = harness
    h.tg.add_chat(GROUP, type="supergroup")
    await fast_flood_clock(h, 20.0)  # a group slot every 0.175 s
    # Boards refresh every 20 s in production; sped up here so one test sees many refreshes.
    h.services.boards._min_interval = 0.3
    for n in range(3):
        h.tg.send_text(GROUP, USER + n, GROUP_SONG)
    await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        if all(j.state == "delivered" for j in await h.jobs()) and len(await h.jobs()) == 3:
            break
        await asyncio.sleep(0.1)
    finished = t("board_finished", "en", done=3, failed=0)
    await h.tg.wait_for_call(
        "editMessageText",
        lambda c: c.ok and c.params["chat_id"] == GROUP and c.params["text"] == finished,
        timeout=30,
    )
    # A refresh still coming (0.3 s apart, then a 0.175 s group slot) would be out by now.
    await asyncio.sleep(0.5)
    edits = [c for c in h.tg.calls_to("editMessageText") if c.params.get("chat_id") == GROUP]
    texts = [str(c.params.get("text")) for c in edits]
    assert edits and not [c for c in edits if not c.ok], [c.description for c in edits]
    assert all(a != b for a, b in itertools.pairwise(texts)), texts
    board = h.tg.message(GROUP, edits[-1].params["message_id"])
    assert board["text"] == plain_text(t("board_finished", "en", done=3, failed=0)), texts


async def test_a_command_in_a_busy_group_goes_before_the_board(harness: BotHarness) -> None:
    """Telegram's 3.5 s per group message: a reply to /help takes the next slot, a board edit
    waits for a slot nobody else wants (#25.16)."""
    h = harness
    h.tg.add_chat(GROUP, type="supergroup")
    await fast_flood_clock(h, 20.0)  # the same slots, 0.175 s apart
    h.services.boards._min_interval = 0.0  # refresh as soon as anything changes
    first = h.tg.send_text(GROUP, USER, GROUP_SONG)
    await h.tg.wait_for_call("sendMessage", ok_reply_to(GROUP, first["message_id"]))
    h.tg.send_text(GROUP, OTHER, GROUP_SONG.replace("dreamy", "sleepy"))  # joins the board
    await h.wait_for_job(lambda j: j.user_id == OTHER)
    asked = h.tg.send_text(GROUP, OTHER + 1, f"/help@{BOT}")
    await h.tg.wait_for_call("sendMessage", ok_reply_to(GROUP, asked["message_id"]), timeout=30)
    order = [
        "help"
        if c.method == "sendMessage"
        and c.params.get("reply_parameters", {}).get("message_id") == asked["message_id"]
        else "board"
        for c in h.tg.calls
        if c.params.get("chat_id") == GROUP
        and (c.method == "editMessageText" or c.method == "sendMessage")
        and c.ok
    ]
    assert order.index("help") < (order.index("board", 1) if "board" in order[1:] else 99), order
