"""Admission: waiting jobs take free slots in arrival order within the caps, driven by events.

The walk itself is pure (bot.engine.admission.admit) and pinned here with plain rows; the
end-to-end tests drive the real bot against the fakes: a freed slot is taken by the next job
without a waiting timer, and every waiting job is told its place from one walk.
"""

from __future__ import annotations

import asyncio
import time

from bot.engine.admission import Caps, admit, worth_a_walk
from bot.engine.runner import ADMIT_EVERY
from songbot_fakes.telegram import ApiCall
from storage.jobs import Job, JobStore, SlotCounts
from tests.support.harness import BotHarness
from tests.support.jobs import T0, make_new_job

LYRICS = "[Verse]\nStay, stay, stay with me tonight\n[Chorus]\nStay, stay, stay"
SUBMIT = "POST /v2/generate/audio"


async def line_of(store: JobStore, *users: int, chat: int | None = None) -> list[Job]:
    jobs = []
    for i, user in enumerate(users):
        job, _ = await store.create(
            make_new_job(user_id=user, chat_id=chat or user, created_at=T0 + i)
        )
        jobs.append(job)
    return jobs


async def test_the_line_starts_in_arrival_order_within_the_total_cap(store: JobStore) -> None:
    line = await line_of(store, 1, 2, 3, 4, 5)
    plan = admit(line, SlotCounts(), Caps(2, 5, 3), now=T0, room=10)
    assert [j.user_id for j in plan.start] == [1, 2, 3]
    assert {j.user_id: place for j, place in plan.places.values()} == {4: 1, 5: 2}


async def test_one_users_long_line_does_not_hold_back_the_next_user(store: JobStore) -> None:
    line = await line_of(store, *([7] * 50), 8, 9)
    plan = admit(line, SlotCounts(), Caps(2, 5, 20), now=T0, room=10)
    # User 7 gets the per-user cap of 2; users 8 and 9, who came last, start at once.
    assert [j.user_id for j in plan.start] == [7, 7, 8, 9]
    places = sorted(place for _, place in plan.places.values())
    assert places == list(range(1, 49))  # 48 still waiting, numbered without gaps


async def test_slots_already_held_count_per_user_chat_and_total(store: JobStore) -> None:
    line = await line_of(store, 1, 2, 3, chat=-100)
    held = SlotCounts()
    held.add(1, 555, 2)  # user 1 already has two songs running elsewhere
    held.add(9, -100, 3)  # the group has three
    plan = admit(line, held, Caps(2, 4, 20), now=T0, room=10)
    assert [j.user_id for j in plan.start] == [2]  # the group's fourth slot; user 1 is full
    assert plan.start[0].chat_id == -100


async def test_room_limits_starts_and_expired_jobs_leave_the_line(store: JobStore) -> None:
    line = await line_of(store, 1, 2, 3)
    late = T0 + 901  # past the first job's 900 s deadline (created at T0)
    plan = admit(line, SlotCounts(), Caps(5, 5, 5), now=late, room=1)
    assert [j.user_id for j in plan.expired] == [1]
    assert [j.user_id for j in plan.start] == [2]
    assert [(j.user_id, place) for j, place in plan.places.values()] == [(3, 1)]


# ---- through the real bot ---------------------------------------------------------------------


def _song_for(call: ApiCall) -> int:
    return int(call.params["chat_id"])


async def test_a_walk_is_worth_it_only_when_something_could_start(store: JobStore) -> None:
    (newcomer,) = await line_of(store, 5)
    caps = Caps(per_user=1, per_chat=2, total=3)
    held = SlotCounts()
    held.add(4, 4)
    assert worth_a_walk([newcomer], held, caps, freed=False)  # user 5 has a free slot
    held.add(5, 5)
    assert not worth_a_walk([newcomer], held, caps, freed=False)  # user 5 is at their cap
    assert worth_a_walk([newcomer, None], held, caps, freed=False)  # someone's, elsewhere
    assert worth_a_walk([], held, caps, freed=True)  # a slot came free since the last walk
    held.add(6, 6)
    assert not worth_a_walk([None], held, caps, freed=True)  # the bot is full: nothing can


async def test_a_freed_slot_is_taken_by_the_next_job_without_a_timer(
    harness: BotHarness,
) -> None:
    """One slot for the whole bot: the second user's job is submitted right after the first
    song is out, not at a re-check timer (the old engine looked every 2 s or more)."""
    await harness.restart(SONGBOT_MAX_JOBS_TOTAL="1")
    harness.api.generation_seconds = 0.3
    harness.tg.send_text(2001, 2001, f"/song warm folk\n{LYRICS}")
    await asyncio.sleep(0.05)
    harness.tg.send_text(2002, 2002, f"/song warm folk\n{LYRICS}")
    first = await harness.tg.wait_for_call("sendAudio", timeout=20)
    second = await harness.tg.wait_for_call("sendAudio", timeout=20, count=2)
    assert {_song_for(first), _song_for(second)} == {2001, 2002}
    posts = harness.api.requests_to(SUBMIT)
    assert len(posts) == 2
    # The second POST went out once the first job left its slot (after its song was sent).
    gap = posts[1].time - posts[0].time
    assert gap >= 0.3  # it waited for the slot ...
    jobs = {j.user_id: j for j in await harness.jobs()}
    freed = jobs[_song_for(first)].delivered_at
    submitted = jobs[_song_for(second)].submit_started_at
    assert freed is not None and submitted is not None
    assert submitted - freed < 1.0  # ... and took it on the event, not at a timer


async def test_waiting_jobs_are_told_their_place_from_one_walk(harness: BotHarness) -> None:
    await harness.restart(SONGBOT_MAX_JOBS_TOTAL="1")
    api = harness.api
    # The first song holds the only slot until both others have been told their place.
    api.set_outcome(never_complete=True)
    harness.tg.send_text(3001, 3001, f"/song warm folk\n{LYRICS}")
    while not api.generations:
        await asyncio.sleep(0.02)
    api.set_outcome()  # the next ones finish as usual
    for user in (3002, 3003):
        harness.tg.send_text(user, user, f"/song warm folk\n{LYRICS}")
        await harness.wait_for_job(lambda j, user=user: j.user_id == user)

    def said(chat: int) -> list[str]:
        return [
            str(c.params.get("text", ""))
            for c in harness.tg.calls
            if c.method in ("editMessageText", "sendMessage") and c.params.get("chat_id") == chat
        ]

    deadline = time.monotonic() + 15
    while not all(any("position" in x for x in said(chat)) for chat in (3002, 3003)):
        assert time.monotonic() < deadline, (said(3002), said(3003))
        await asyncio.sleep(0.02)
    (first,) = api.generations
    api.complete_now(first)
    await harness.tg.wait_for_call("sendAudio", timeout=30, count=3)
    assert not any("position" in text for text in said(3001))  # it never waited
    assert any("position 1" in text for text in said(3002)), said(3002)
    assert any("position 2" in text for text in said(3003)), said(3003)
    for job in await harness.jobs():
        await harness.wait_state(job.id, "delivered")
    assert len(harness.api.requests_to(SUBMIT)) == 3


async def test_arrivals_that_cannot_start_do_not_walk_the_line(harness: BotHarness) -> None:
    """With every slot taken, a new request changes nobody's place, so the engine does not read
    the whole line for it (that was O(line) per request, O(n^2) for a burst): the line is walked
    on freed slots and by the once-a-second safety walk, which still tells each newcomer its
    place."""
    await harness.restart(SONGBOT_MAX_JOBS_TOTAL="1")
    harness.api.generation_seconds = 6.0
    jobs = harness.services.jobs
    walks = 0
    real_walk = jobs.waiting_line

    async def counted_walk(*, limit: int) -> list[Job]:
        nonlocal walks
        walks += 1
        return await real_walk(limit=limit)

    jobs.waiting_line = counted_walk  # type: ignore[method-assign]
    harness.tg.send_text(4000, 4000, f"/song warm folk\n{LYRICS}")
    while not harness.api.requests_to(SUBMIT):
        await asyncio.sleep(0.02)
    before, started = walks, time.monotonic()
    newcomers = range(4001, 4021)
    for user in newcomers:
        harness.tg.send_text(user, user, f"/song warm folk\n{LYRICS}")

    def told_place(chat: int) -> bool:
        return any(
            "position" in str(c.params.get("text", ""))
            for c in harness.tg.calls
            if c.method in ("editMessageText", "sendMessage") and c.params.get("chat_id") == chat
        )

    deadline = time.monotonic() + 20
    while not all(told_place(user) for user in newcomers):
        assert time.monotonic() < deadline, [u for u in newcomers if not told_place(u)]
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    assert walks - before <= elapsed / ADMIT_EVERY + 3, (walks - before, elapsed)
    assert len(harness.api.requests_to(SUBMIT)) == 1  # nobody jumped the cap meanwhile
