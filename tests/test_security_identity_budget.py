"""Issue #24.2: one person is many requesters, and what they can spend together is bounded.

Every group a person creates (as its anonymous admin) and every channel they own is a requester
of its own. On a free bot all such chat requesters share one bot-wide daily cap
(SONGBOT_CHAT_SENDER_DAILY_LIMIT); on a bot that sells songs they get no free song and are told
how to ask as themselves. Through the real bot against the fakes.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.support.groups import reply_to, song
from tests.support.harness import BotHarness
from tests.support.ux import all_handled

PERSON = 5555
GROUPS = [-1006001, -1006002, -1006003, -1006004]
CHANNELS = [-1007001, -1007002]

# Telegram's pace in a group (a message every 3.5 s) runs this many times faster: these tests are
# about who is asking, not about flood control.
GROUP_PACE = "32"


@pytest.mark.harness_env(
    SONGBOT_TG_RATE_SCALE=GROUP_PACE,
    SONGBOT_USER_DAILY_LIMIT="1",
    SONGBOT_CHAT_SENDER_DAILY_LIMIT="2",
)
async def test_chat_requesters_share_one_daily_cap(harness: BotHarness) -> None:
    tg = harness.tg
    for group in GROUPS:
        tg.add_chat(group, type="supergroup", title=f"Own group {group}", admins=[PERSON])
    delivered: set[int] = set()
    # Two songs as the anonymous admin of two of the person's groups: within the cap.
    for group in GROUPS[:2]:
        tg.send_text(group, PERSON, song(f"anon song {group}"), sender_chat=group)
        job = await harness.wait_for_job(
            lambda j: j.state == "delivered" and j.id not in delivered
        )
        delivered.add(job.id)
    # Every further group and every channel is refused: the cap is shared, not per chat.
    for group in GROUPS[2:]:
        refused = tg.send_text(group, PERSON, song("one more"), sender_chat=group)
        assert "anonymous admins can't order any more" in await reply_to(harness, refused)
    for channel in CHANNELS:
        refused = tg.send_text(GROUPS[0], PERSON, song("as my channel"), sender_chat=channel)
        assert "anonymous admins can't order any more" in await reply_to(harness, refused)
    await all_handled(harness)
    assert len(await harness.jobs()) == 2
    # The person still has their own song of the day.
    tg.send_text(GROUPS[0], PERSON, song("as myself"))
    own = await harness.wait_for_job(lambda j: j.state == "delivered" and j.id not in delivered)
    assert own.user_id == PERSON


@pytest.mark.harness_env(
    SONGBOT_TG_RATE_SCALE=GROUP_PACE, SONGBOT_STARS_PER_SONG="50", SONGBOT_FREE_SONGS_PER_DAY="3"
)
async def test_chat_requesters_get_no_free_song_on_a_paying_bot(harness: BotHarness) -> None:
    tg = harness.tg
    tg.add_chat(GROUPS[0], type="supergroup", title="Own group", admins=[PERSON])
    anonymous = tg.send_text(GROUPS[0], PERSON, song("anon"), sender_chat=GROUPS[0])
    text = await reply_to(harness, anonymous)
    assert "paid for by each person" in text and "Remain anonymous" in text
    channel = tg.send_text(GROUPS[0], PERSON, song("channel"), sender_chat=CHANNELS[0])
    assert "paid for by each person" in await reply_to(harness, channel)
    await all_handled(harness)
    assert await harness.jobs() == []
    with sqlite3.connect(harness.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM song_billing").fetchone()[0] == 0
    # The person asking as themselves still gets their free song.
    tg.send_text(GROUPS[0], PERSON, song("as myself"))
    own = await harness.wait_for_job(lambda j: j.state == "delivered")
    assert own.user_id == PERSON
