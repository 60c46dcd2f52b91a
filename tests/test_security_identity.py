"""Issue #17.6: posting as a channel or as an anonymous admin keeps its own identity.

Telegram puts @Channel_Bot (136817688) or @GroupAnonymousBot (1087968824) in `from` for such
messages; the real requester is `sender_chat`. Through the real bot against the fakes.
"""

from __future__ import annotations

import pytest

from songbot_fakes.telegram import CHANNEL_BOT, GROUP_ANONYMOUS_BOT
from tests.support.groups import ADMIN, GROUP, reply_to, song
from tests.support.harness import BotHarness
from tests.support.ux import all_handled

CHANNEL_A, CHANNEL_B = -1005001, -1005002
MEMBER = 701

# Telegram's pace in a group (a message every 3.5 s) runs this many times faster: these tests are
# about who is asking, not about flood control.
GROUP_PACE = "32"


@pytest.mark.harness_env(
    SONGBOT_TG_RATE_SCALE=GROUP_PACE, SONGBOT_USER_DAILY_LIMIT="1", SONGBOT_ADMIN_IDS=str(ADMIN)
)
async def test_each_channel_has_its_own_quota_and_its_own_ban(harness: BotHarness) -> None:
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band")
    tg.send_text(GROUP, MEMBER, song("first channel song"), sender_chat=CHANNEL_A)
    first = await harness.wait_for_job(lambda j: j.state == "delivered")
    assert first.user_id == CHANNEL_A and first.user_name == f"Channel {-CHANNEL_A}"
    audio = [c for c in tg.calls_to("sendAudio") if c.ok][-1]
    assert "tg://user" not in audio.params["caption"]  # a channel has no user link
    assert f"Channel {-CHANNEL_A}" in audio.params["caption"]

    # Another channel is another requester: not refused by channel A's used-up quota.
    tg.send_text(GROUP, MEMBER + 1, song("second channel song"), sender_chat=CHANNEL_B)
    second = await harness.wait_for_job(lambda j: j.state == "delivered" and j.id != first.id)
    assert second.user_id == CHANNEL_B

    # The operator bans channel A by replying to its post: channel A is refused, B is not.
    post = tg.send_text(GROUP, MEMBER, "a post", sender_chat=CHANNEL_A)
    ban = tg.send_text(GROUP, ADMIN, "/ban@SongTestBot", reply_to=post["message_id"])
    assert "is banned" in await reply_to(harness, ban)
    banned = await harness.services.users.get(CHANNEL_A)
    assert banned is not None and banned.banned
    assert (await harness.services.users.get(CHANNEL_BOT["id"])) is None
    refused = tg.send_text(GROUP, MEMBER, song("after the ban"), sender_chat=CHANNEL_A)
    assert "can't request songs" in await reply_to(harness, refused)
    await all_handled(harness)
    assert len(await harness.jobs()) == 2


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE=GROUP_PACE, SONGBOT_USER_DAILY_LIMIT="1")
async def test_anonymous_admins_act_as_the_group(harness: BotHarness) -> None:
    tg = harness.tg
    tg.add_chat(GROUP, type="supergroup", title="Band", admins=[601])
    allowed = tg.send_text(GROUP, 601, "/requests@SongTestBot admins")
    assert "admins" in await reply_to(harness, allowed)

    # An anonymous admin is an admin of this group (only admins can speak as the group).
    tg.send_text(GROUP, 601, song("anonymous admin song"), sender_chat=GROUP)
    job = await harness.wait_for_job(lambda j: j.state == "delivered")
    assert job.user_id == GROUP and job.user_id != GROUP_ANONYMOUS_BOT["id"]
    # The group's anonymous admins share one quota (Telegram cannot tell them apart),
    # separate from each admin's own.
    again = tg.send_text(GROUP, 601, song("second anonymous song"), sender_chat=GROUP)
    assert "limit" in (await reply_to(harness, again)).lower()
    tg.send_text(GROUP, 601, song("admin's own song"))
    own = await harness.wait_for_job(lambda j: j.state == "delivered" and j.id != job.id)
    assert own.user_id == 601
