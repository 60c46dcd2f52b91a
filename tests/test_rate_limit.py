"""The flood-limit pacer: slots in arrival order, groups paced apart, 429s pause everyone.

End to end (a 40-request group burst against the fake's real flood windows) is in test_groups.py;
these pin the limiter's own rules with short intervals and a recording callback.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.flood import BACKGROUND, MessageRateLimiter, _scopes_of
from bot.telegram.paces import Bucket, Pace


class Recorder:
    """A Bot API call stand-in: records (loop time, label) and can raise scripted errors."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.calls: list[tuple[float, str]] = []
        self.failures = failures or []

    async def __call__(self, label: str) -> dict[str, Any]:
        self.calls.append((asyncio.get_running_loop().time(), label))
        if self.failures:
            raise self.failures.pop(0)
        return {"ok": label}


async def send(
    limiter: MessageRateLimiter,
    recorder: Recorder,
    label: str,
    chat_id: int | str,
    *,
    endpoint: str = "sendMessage",
    retries: int | None = None,
) -> Any:
    return await limiter.process_request(
        recorder, (label,), {}, endpoint, {"chat_id": chat_id}, retries
    )


def test_pace_spaces_single_slots() -> None:
    pace = Pace(1, 0.5)
    assert pace.reserve(10.0) == 0.0
    assert pace.reserve(10.0) == 0.5
    assert pace.reserve(10.2) == pytest.approx(0.8)
    assert not pace.idle(11.0) and pace.idle(11.5)
    assert pace.reserve(20.0) == 0.0  # a quiet spell does not bank slots for a burst
    assert pace.reserve(20.0) == 0.5
    pace.pause_until(30.0)
    assert pace.reserve(21.0) == 9.0
    pace.pause_until(25.0)  # an earlier pause never shortens a later one
    assert pace.reserve(21.0) == 9.5


def test_pace_grants_blocks_and_never_more_than_the_limit_in_a_period() -> None:
    pace = Pace(3, 1.0)
    slots = [100.0 + pace.reserve(100.0) for _ in range(8)]
    assert slots == [100.0, 100.0, 100.0, 101.0, 101.0, 101.0, 102.0, 102.0]
    # Later requests take the first free slot: now, then 1 s after the third-newest.
    assert pace.reserve(102.5) == 0.0
    assert pace.reserve(102.5) == 0.5
    every = sorted([*slots, 102.5, 103.0])
    for start in every:
        assert sum(start <= t < start + 1.0 for t in every) <= 3


def test_pace_after_a_pause_eases_back_in() -> None:
    pace = Pace(3, 1.0)
    for _ in range(3):
        pace.reserve(0.0)
    pace.pause_until(10.0)
    assert [pace.reserve(5.0) + 5.0 for _ in range(4)] == [10.0, 11.0, 11.0, 11.0]
    with pytest.raises(ValueError, match="a pace needs limit >= 1"):
        Pace(0, 1.0)


async def test_private_messages_go_out_one_interval_apart_in_arrival_order() -> None:
    limiter = MessageRateLimiter(
        overall_limit=1, overall_period=0.03, group_limit=1, group_period=10
    )
    recorder = Recorder()
    results = await asyncio.gather(*(send(limiter, recorder, f"m{i}", 1000 + i) for i in range(8)))
    assert results == [{"ok": f"m{i}"} for i in range(8)]
    assert [label for _, label in recorder.calls] == [f"m{i}" for i in range(8)]
    gaps = [b - a for (a, _), (b, _) in zip(recorder.calls, recorder.calls[1:], strict=False)]
    # Slots are 30 ms apart; a call that ran late (event-loop jitter) may sit closer to the next.
    assert min(gaps) >= 0.015
    span = recorder.calls[-1][0] - recorder.calls[0][0]
    assert 7 * 0.03 - 0.01 <= span < 7 * 0.03 + 0.15  # and never the group's 10 s pace


async def test_a_burst_goes_out_in_blocks_of_the_overall_limit() -> None:
    limiter = MessageRateLimiter(
        overall_limit=5, overall_period=0.2, group_limit=1, group_period=9
    )
    recorder = Recorder()
    await asyncio.gather(*(send(limiter, recorder, f"m{i}", 1000 + i) for i in range(12)))
    t0 = recorder.calls[0][0]
    offsets = [at - t0 for at, _ in recorder.calls]
    assert [label for _, label in recorder.calls] == [f"m{i}" for i in range(12)]
    assert max(offsets[:5]) < 0.1 and min(offsets[5:10]) >= 0.19 and max(offsets[5:10]) < 0.3
    assert min(offsets[10:]) >= 0.39
    # Never more than 5 in any 0.2 s (less 30 ms: a block the event loop ran late sits closer to
    # the next one on time; the slots themselves are a full period apart).
    for start in offsets:
        assert sum(start <= t < start + 0.17 for t in offsets) <= 5


async def test_each_group_has_its_own_pace_under_the_overall_one() -> None:
    limiter = MessageRateLimiter(
        overall_limit=1, overall_period=0.01, group_limit=1, group_period=0.2
    )
    recorder = Recorder()
    sends = [send(limiter, recorder, f"a{i}", -100) for i in range(3)]
    sends += [send(limiter, recorder, f"b{i}", "-200") for i in range(3)]
    await asyncio.gather(*sends)
    times = {label: at for at, label in recorder.calls}
    for group in "ab":  # 0.2 s apart, less what a late-running event loop takes off
        assert times[f"{group}1"] - times[f"{group}0"] >= 0.17
        assert times[f"{group}2"] - times[f"{group}1"] >= 0.17
    # The two groups do not wait for each other: b0 goes right after a0, not 0.2 s later.
    assert times["b0"] - times["a0"] < 0.1


async def test_look_ups_are_not_counted_or_delayed() -> None:
    limiter = MessageRateLimiter(overall_limit=1, overall_period=5, group_limit=1, group_period=5)
    recorder = Recorder()
    await send(limiter, recorder, "first", -100)  # takes the slots for the next 5 s
    started = asyncio.get_running_loop().time()
    await send(limiter, recorder, "member", -100, endpoint="getChatMember")
    await send(limiter, recorder, "action", -100, endpoint="sendChatAction")
    assert asyncio.get_running_loop().time() - started < 0.5
    assert [label for _, label in recorder.calls] == ["first", "member", "action"]


async def test_a_429_pauses_every_message_then_retries() -> None:
    limiter = MessageRateLimiter(
        overall_limit=1, overall_period=0.001, group_limit=1, group_period=0.001
    )
    recorder = Recorder([RetryAfter(dtm.timedelta(milliseconds=300))])
    first = asyncio.create_task(send(limiter, recorder, "limited", 1))
    await asyncio.sleep(0.05)  # the 429 has come back and the pause is on
    other = await send(limiter, recorder, "other", 2)
    assert await first == {"ok": "limited"} and other == {"ok": "other"}
    (t0, _), *rest = recorder.calls
    later = {label: at - t0 for at, label in rest}
    assert later["other"] >= 0.39 and later["limited"] >= 0.39  # retry_after + 0.1 s


async def test_retries_stop_after_max_retries_and_the_429_is_raised() -> None:
    limiter = MessageRateLimiter(
        overall_limit=1, overall_period=0.001, group_limit=1, group_period=0.001, max_retries=2
    )
    tiny = dtm.timedelta(milliseconds=1)
    recorder = Recorder([RetryAfter(tiny) for _ in range(5)])
    with pytest.raises(RetryAfter):
        await send(limiter, recorder, "x", 1)
    assert len(recorder.calls) == 3  # the first try and two retries
    recorder = Recorder([RetryAfter(tiny) for _ in range(5)])
    with pytest.raises(RetryAfter):
        await send(limiter, recorder, "y", 1, retries=1)  # rate_limit_args overrides
    assert len(recorder.calls) == 2


async def test_other_errors_are_not_retried() -> None:
    limiter = MessageRateLimiter(
        overall_limit=1, overall_period=0.001, group_limit=1, group_period=0.001
    )
    recorder = Recorder([ValueError("bad request")])
    with pytest.raises(ValueError, match="bad request"):
        await send(limiter, recorder, "x", 1)
    assert len(recorder.calls) == 1


async def test_idle_group_paces_are_dropped() -> None:
    limiter = MessageRateLimiter(overall_limit=1, overall_period=0, group_limit=1, group_period=0)
    recorder = Recorder()
    for chat in range(600):
        await send(limiter, recorder, "x", -1 - chat)
    assert len(limiter._groups) <= 513


def test_bucket_lets_a_burst_through_then_spaces_the_rest() -> None:
    bucket = Bucket(3, 1.0)
    assert [bucket.reserve(10.0) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert not bucket.spare(10.0) and not bucket.idle(12.9)
    assert bucket.reserve(12.5) == pytest.approx(0.5)  # after the queue, one per interval
    assert not bucket.idle(15.9) and bucket.idle(16.0)
    # A quiet spell refills the burst, but never beyond it.
    assert bucket.spare(20.0)
    assert [bucket.reserve(20.0) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="a bucket needs burst >= 1"):
        Bucket(0, 1.0)


async def test_a_private_chat_gets_its_burst_then_one_per_interval() -> None:
    limiter = MessageRateLimiter(
        overall_limit=1,
        overall_period=0.001,
        group_limit=1,
        group_period=0.001,
        chat_burst=3,
        chat_interval=0.1,
    )
    recorder = Recorder()
    await asyncio.gather(
        *(send(limiter, recorder, f"m{i}", 7) for i in range(6)),
        send(limiter, recorder, "other", 8),
    )
    times = {label: at for at, label in recorder.calls}
    assert [label for _, label in recorder.calls if label != "other"] == [
        f"m{i}" for i in range(6)
    ]
    assert times["m2"] - times["m0"] < 0.05  # the burst goes at once
    assert times["m3"] - times["m0"] >= 0.09 and times["m5"] - times["m0"] >= 0.29
    assert times["other"] - times["m0"] < 0.05  # another chat does not wait for this one
    assert limiter._chats.keys() == {7, 8}


async def test_a_busy_loop_does_not_bunch_late_messages_past_the_window() -> None:
    def run() -> MessageRateLimiter:
        return MessageRateLimiter(
            overall_limit=1,
            overall_period=0.02,
            group_limit=1,
            group_period=0.001,
            overall_window=(5, 0.2),
        )

    async def sent_times(limiter: MessageRateLimiter) -> list[float]:
        recorder = Recorder()
        tasks = [
            asyncio.create_task(send(limiter, recorder, f"m{i}", 1000 + i)) for i in range(12)
        ]
        await asyncio.sleep(0.03)  # the first ones are out
        time.sleep(0.15)  # the loop is busy: every message due meanwhile wakes late, at once
        await asyncio.gather(*tasks)
        return [at for at, _ in recorder.calls]

    def most_in_a_window(times: list[float]) -> int:
        return max(sum(start <= t < start + 0.19 for t in times) for start in times)

    assert most_in_a_window(await sent_times(run())) <= 5
    # Without the window the late ones go together, past what Telegram counts in a window.
    bare = MessageRateLimiter(
        overall_limit=1, overall_period=0.02, group_limit=1, group_period=0.001
    )
    assert most_in_a_window(await sent_times(bare)) > 5


def _private_of(chat_id: object) -> int | None:
    return _scopes_of(chat_id)[1]


def _group_of(chat_id: object) -> int | str | None:
    return _scopes_of(chat_id)[0]


def test_private_of() -> None:
    assert _private_of(42) == 42 and _private_of("42") == 42
    assert _private_of(-100) is None and _private_of("@x") is None and _private_of(None) is None


def test_group_of() -> None:
    assert _group_of(-1001234) == -1001234
    assert _group_of("-1001234") == -1001234
    assert _group_of("@somechannel") == "@somechannel"
    assert _group_of(42) is None and _group_of("42") is None and _group_of(None) is None


def test_wake_times_that_share_a_slot_are_distinct_and_in_order() -> None:
    pace = Pace(3, 1.0)
    wakes = [pace.wake_at(5.0) for _ in range(7)]
    assert wakes[:3] == [5.0, 5.0, 5.0]  # free now: nobody sleeps, so no tie to break
    assert wakes[3:] == sorted(set(wakes[3:])) and wakes[3] == 6.0
    assert wakes[-1] - 7.0 < 1e-5


async def test_background_messages_wait_for_spare_budget() -> None:
    limiter = MessageRateLimiter(
        overall_limit=2, overall_period=0.2, group_limit=1, group_period=9
    )
    recorder = Recorder()

    async def background(label: str) -> Any:
        return await limiter.process_request(
            recorder, (label,), {}, "editMessageText", {"chat_id": 5}, BACKGROUND
        )

    burst = [asyncio.create_task(send(limiter, recorder, f"m{i}", 1000 + i)) for i in range(3)]
    await asyncio.sleep(0)  # the burst has its slots: two now, one a period later
    edit = asyncio.create_task(background("position"))
    await asyncio.sleep(0.05)
    late = [asyncio.create_task(send(limiter, recorder, f"m{i}", 1000 + i)) for i in (3, 4)]
    await asyncio.gather(*burst, edit, *late)
    labels = [label for _, label in recorder.calls]
    # The edit asked before m3 and m4 but went last: foreground messages took every slot first.
    assert labels == ["m0", "m1", "m2", "m3", "m4", "position"]
    times = {label: at for at, label in recorder.calls}
    assert times["position"] - times["m0"] >= 0.39  # a free slot only after m3 and m4's block
