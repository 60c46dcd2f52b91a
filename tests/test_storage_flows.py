"""storage/flows.py on both engines (migration 009): one guided flow per user and chat, a claim
that only one caller wins, a day to answer, and one paywalled request per user."""

from __future__ import annotations

import asyncio

from storage.db import Database
from storage.flows import TTL, FlowStore

T0 = 1_800_000_000.0


async def test_guided_flows_are_one_per_user_and_chat(any_db: Database) -> None:
    flows = FlowStore(any_db)
    first = await flows.start_guided(chat_id=1, user_id=1, step="what", data={"a": 1}, now=T0)
    await flows.save(first.id, step="style", data={"a": 2}, now=T0, panel_message_id=10)
    other = await flows.start_guided(chat_id=2, user_id=1, step="what", data={}, now=T0)
    again = await flows.start_guided(chat_id=1, user_id=1, step="text", data={"b": 3}, now=T0 + 1)
    assert again.id == first.id and other.id != first.id
    assert again.step == "text" and again.data == {"b": 3} and again.panel_message_id is None
    live = await flows.guided(1, 1, T0 + 2)
    assert live is not None and live.data == {"b": 3}
    assert await flows.guided(1, 1, T0 + 1 + TTL) is None  # a day later it is gone


async def test_a_flow_is_claimed_once_and_released_on_refusal(any_db: Database) -> None:
    flows = FlowStore(any_db)
    kept = await flows.add(
        "ask", chat_id=5, user_id=6, request_message_id=9, data={"draft": {}}, now=T0
    )
    assert kept is not None
    # The same request's question again (a redelivered update): not kept twice.
    assert (
        await flows.add("ask", chat_id=5, user_id=6, request_message_id=9, data={}, now=T0) is None
    )
    wins = await asyncio.gather(*(flows.claim(kept.id, T0 + 1) for _ in range(5)))
    assert sorted(wins) == [False, False, False, False, True]
    await flows.release(kept.id, T0 + 2)
    assert await flows.claim(kept.id, T0 + 3)
    await flows.set_job(kept.id, 42, T0 + 4)
    await flows.release(kept.id, T0 + 5)  # a made flow stays made
    made = await flows.get(kept.id)
    assert made is not None and made.job_id == 42 and not made.live(T0 + 6)
    late = await flows.add("ask", chat_id=5, user_id=6, request_message_id=10, data={}, now=T0)
    assert late is not None and not await flows.claim(late.id, T0 + TTL + 1)  # expired


async def test_a_user_keeps_one_paywalled_request(any_db: Database) -> None:
    flows = FlowStore(any_db)
    await flows.add("paywall", chat_id=5, user_id=6, request_message_id=1, data={"n": 1}, now=T0)
    newer = await flows.add(
        "paywall", chat_id=7, user_id=6, request_message_id=1, data={"n": 2}, now=T0 + 1
    )
    found = await flows.paywalled(6, T0 + 2)
    assert (
        found is not None and newer is not None and found.id == newer.id and found.data == {"n": 2}
    )
    rows = await any_db.fetchall("SELECT id FROM song_flows WHERE kind = 'paywall'")
    assert len(rows) == 1
    assert await flows.paywalled(6, T0 + 2 + TTL) is None
