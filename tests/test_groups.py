"""Groups: topics, addressing, allowlist, daily limits with refunds, caps, bursts, admins."""

from __future__ import annotations

import asyncio
import itertools
import time

from tests.support.groups import ADMIN, GROUP, LYRICS, fast_flood_clock, reply_to, song
from tests.support.harness import BotHarness

# Telegram's flood windows run this many times faster on both sides (tests/support/harness.py)
# where a group's 3.5 s between messages would be most of a test's time; the fake still refuses
# a burst at this scale (a bot that paced a group at 2.5 s instead of 3.5 s gets 429s).
FAST = 32.0


def audio_calls(h: BotHarness, chat_id: int) -> list[object]:
    return [c for c in h.tg.calls_to("sendAudio") if c.params["chat_id"] == chat_id and c.ok]


async def all_handled(h: BotHarness) -> None:
    """Wait until the bot has handled every update sent so far: it confirms an update (and the
    fake drops it from its queue) only once the update's handlers are done
    (bot/telegram/confirming_bot.py), so whatever they were going to say has been said."""
    deadline = time.monotonic() + 15
    while h.tg.pending_updates:
        assert time.monotonic() < deadline, f"{h.tg.pending_updates} updates still unhandled"
        await asyncio.sleep(0.02)


async def test_forum_topic_round_trip(harness: BotHarness) -> None:
    await fast_flood_clock(harness, scale=FAST)
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band", is_forum=True)
    tg.add_topic(GROUP, 77)
    request = tg.send_text(GROUP, 501, song(), thread_id=77, is_topic=True)
    call = await tg.wait_for_call("sendAudio", timeout=20)
    assert call.params["message_thread_id"] == 77
    assert call.params["reply_parameters"]["message_id"] == request["message_id"]
    board = [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
    assert board and all(c.params.get("message_thread_id") == 77 for c in board)
    # Credit where due: the caption mentions the requester with an HTML mention.
    assert "tg://user?id=501" in call.params["caption"]


async def test_general_topic_and_reply_threads_get_no_thread_id(harness: BotHarness) -> None:
    await fast_flood_clock(harness, scale=FAST)
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band", is_forum=False)
    root = tg.send_text(GROUP, 501, "a thread root message")
    # A reply thread in a non-forum group carries message_thread_id but is not a topic.
    tg.send_text(GROUP, 502, song(), reply_to=root["message_id"], thread_id=root["message_id"])
    call = await tg.wait_for_call("sendAudio", timeout=20)
    assert "message_thread_id" not in call.params


async def test_other_bots_commands_are_ignored_in_groups(harness: BotHarness) -> None:
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band")
    tg.send_text(GROUP, 501, "/song@OtherBot rock anthem\nla la la la la la")
    probe = tg.send_text(GROUP, 501, "/help@SongTestBot")
    await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == probe["message_id"],
    )
    assert await harness.jobs() == []


async def test_allowlist_answers_once_then_stays_silent(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_ALLOWED_CHAT_IDS="-100999")
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Strangers")
    tg.send_text(GROUP, 501, song())
    first = await tg.wait_for_call("sendMessage", lambda c: c.params["chat_id"] == GROUP)
    assert "isn't available" in first.params["text"]
    tg.send_text(GROUP, 502, song("second try"))
    tg.send_text(GROUP, 503, song("third try"))
    await all_handled(harness)
    replies = [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
    assert len(replies) == 1
    assert not [r for r in harness.api.requests if r.method == "POST"]
    assert await harness.jobs() == []


async def test_an_outsider_chat_gets_one_notice_from_every_command_then_silence(
    harness: BotHarness,
) -> None:
    await harness.restart(SONGBOT_ALLOWED_CHAT_IDS="-100999")
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Strangers")
    for text in ("/help@SongTestBot", "/jobs@SongTestBot", "/start@SongTestBot", song(), "hi"):
        tg.send_text(GROUP, 501, text)
    tg.send_text(GROUP, 502, "/model@SongTestBot")
    tg.send_text(GROUP, 503, song("again"))
    await tg.wait_for_call("sendMessage", lambda c: c.params["chat_id"] == GROUP)
    await all_handled(harness)
    replies = [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
    assert len(replies) == 1, [r.params["text"] for r in replies]
    assert "isn't available" in replies[0].params["text"]
    assert await harness.jobs() == []


async def test_daily_limit_counts_only_successful_generations(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_USER_DAILY_LIMIT="1")
    tg, api = harness.tg, harness.api
    api.set_outcome(fail="upstream model crashed")
    tg.send_text(700, 700, f"/song lo-fi beat\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "failed" and bool(j.outcome_sent_at))
    api.set_outcome(fail=None)
    tg.send_text(700, 700, f"/song lo-fi beat again\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "delivered")
    third = tg.send_text(700, 700, f"/song one more please\n{LYRICS}")
    refusal = await tg.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("reply_parameters", {}).get("message_id") == third["message_id"],
    )
    assert "limit of 1" in refusal.params["text"]
    assert len(await harness.jobs()) == 2


GENERATION = 0.3  # seconds each song takes at the fake


async def test_caps_queue_jobs_and_they_proceed_in_order(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_MAX_JOBS_PER_USER="1")
    tg, api = harness.tg, harness.api
    api.set_outcome(generation_seconds=GENERATION)
    requests = [
        tg.send_text(800, 800, f"/song {style}\n{LYRICS}")
        for style in ("first song style", "second song style", "third song style")
    ]
    for request in requests:
        await harness.wait_for_job(
            lambda j, r=request: (
                j.state == "delivered" and j.request_message_id == r["message_id"]
            ),
            timeout=30,
        )
    await tg.wait_for_call("sendAudio", count=3, timeout=30)
    order = [c.params["reply_parameters"]["message_id"] for c in audio_calls(harness, 800)]
    assert order == [r["message_id"] for r in requests]
    waiting = [
        c for c in tg.calls_to("editMessageText") if "Waiting for a free slot" in c.params["text"]
    ]
    assert waiting, "queued jobs must show their position"
    assert any("position 1" in c.params["text"] for c in waiting)
    # Never more than one of this user's jobs at the provider at once: each generation was
    # only submitted after the previous one had finished.
    created = sorted(g.created_at for g in api.generations.values())
    assert len(created) == 3
    assert all(b - a >= GENERATION - 0.05 for a, b in itertools.pairwise(created))


async def test_burst_of_40_in_one_group_without_a_single_429(harness: BotHarness) -> None:
    tg = harness.tg
    await fast_flood_clock(harness, scale=FAST, SONGBOT_MAX_JOBS_PER_CHAT="40")
    tg.add_chat(GROUP, type="supergroup", title="Karaoke night")
    requests = [tg.send_text(GROUP, 2000 + i, song(f"party song number {i}")) for i in range(40)]
    await tg.wait_for_call(
        "sendAudio", lambda c: c.params["chat_id"] == GROUP and c.ok, count=40, timeout=90
    )
    delivered = audio_calls(harness, GROUP)
    assert sorted(c.params["reply_parameters"]["message_id"] for c in delivered) == sorted(
        r["message_id"] for r in requests
    )
    assert [c for c in tg.rate_limited if not c.scripted] == []
    # One coalesced board for the burst instead of 40 status replies.
    boards = [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == GROUP]
    assert len(boards) in (1, 2)


async def test_admin_commands_refused_to_others_and_work_for_admins(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_ADMIN_IDS=str(ADMIN))
    tg = harness.tg
    refused = tg.send_text(900, 900, "/stats")
    reply = await reply_to(harness, refused)
    assert "only the bot's operators" in reply
    banned_try = tg.send_text(900, 900, "/ban 901")
    assert "only the bot's operators" in await reply_to(harness, banned_try)

    tg.send_text(901, 901, f"/song before ban\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "delivered")
    stats = tg.send_text(ADMIN, ADMIN, "/stats")
    text = await reply_to(harness, stats)
    assert "Today: songs 1" in text
    assert "(<code>901</code>): 1" in text  # the top user

    ban = tg.send_text(ADMIN, ADMIN, "/ban 901")
    assert "banned" in await reply_to(harness, ban)
    blocked = tg.send_text(901, 901, f"/song after ban\n{LYRICS}")
    assert "can't request songs" in await reply_to(harness, blocked)
    tg.send_text(901, 901, f"/song still banned\n{LYRICS}")
    await all_handled(harness)
    assert len(await harness.jobs()) == 1

    unban = tg.send_text(ADMIN, ADMIN, "/unban 901")
    assert "again" in await reply_to(harness, unban)
    tg.send_text(901, 901, f"/song after unban\n{LYRICS}")
    await harness.wait_for_job(lambda j: j.state == "delivered" and j.prompt.startswith("after"))


async def test_group_settings_only_for_chat_admins(harness: BotHarness) -> None:
    await fast_flood_clock(harness, scale=FAST)
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band", admins=[601])
    denied = tg.send_text(GROUP, 602, "/requests@SongTestBot admins")
    assert "only this group's admins" in await reply_to(harness, denied)
    allowed = tg.send_text(GROUP, 601, "/requests@SongTestBot admins")
    assert "admins" in await reply_to(harness, allowed)
    member_song = tg.send_text(GROUP, 602, song())
    assert "only admins can request" in await reply_to(harness, member_song)
    tg.send_text(GROUP, 601, song("admin's own song"))
    await harness.wait_for_job(lambda j: j.state == "delivered")
