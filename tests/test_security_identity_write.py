"""Issue #24.5: `/write` keys on the same requester as `/song`, so bans and its limit hold.

`from` of a channel post is @Channel_Bot (136817688) and of an anonymous admin's message
@GroupAnonymousBot (1087968824) for every channel and group alike; the requester is
`sender_chat`. Through the real bot against the fakes.
"""

from __future__ import annotations

import pytest

from songbot_fakes.telegram import CHANNEL_BOT, GROUP_ANONYMOUS_BOT
from tests.support.groups import ADMIN, GROUP, reply_to
from tests.support.harness import BotHarness
from tests.support.ux import all_handled
from tests.support.write import write

CHANNEL_A, CHANNEL_B = -1005101, -1005102
OTHER_GROUP = -1005201
MEMBER = 711
BOT = "SongTestBot"

# Telegram's pace in a group (a message every 3.5 s) runs this many times faster: these tests are
# about who is asking, not about flood control.
GROUP_PACE = "32"


@pytest.mark.harness_env(
    SONGBOT_TG_RATE_SCALE=GROUP_PACE, SONGBOT_LYRICS_DAILY_LIMIT="1", SONGBOT_ADMIN_IDS=str(ADMIN)
)
async def test_write_keys_on_the_channel_and_honours_its_ban(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    tg.add_chat(GROUP, type="supergroup", title="Band")
    await write(
        harness, f"/write@{BOT} a song for channel A", chat_id=GROUP, sender_chat=CHANNEL_A
    )
    [draft_a] = [d for d in await _drafts(harness) if d[1] == CHANNEL_A]
    # Channel B is another requester: channel A's used-up draft does not refuse it.
    await write(
        harness, f"/write@{BOT} a song for channel B", chat_id=GROUP, sender_chat=CHANNEL_B
    )
    owners = {d[1] for d in await _drafts(harness)}
    assert owners == {CHANNEL_A, CHANNEL_B}
    assert CHANNEL_BOT["id"] not in owners
    assert len(api.chat_requests()) == 2

    # The operator bans channel A: its /write is refused and no completion is made.
    post = tg.send_text(GROUP, MEMBER, "a post", sender_chat=CHANNEL_A)
    ban = tg.send_text(GROUP, ADMIN, f"/ban@{BOT}", reply_to=post["message_id"])
    assert "is banned" in await reply_to(harness, ban)
    refused = tg.send_text(GROUP, MEMBER, f"/write@{BOT} again", sender_chat=CHANNEL_A)
    assert "can't request songs" in await reply_to(harness, refused)
    await all_handled(harness)
    assert len(api.chat_requests()) == 2
    assert draft_a[0] in [d[0] for d in await _drafts(harness)]


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE=GROUP_PACE, SONGBOT_LYRICS_DAILY_LIMIT="1")
async def test_anonymous_admins_of_two_groups_do_not_share_write(harness: BotHarness) -> None:
    tg = harness.tg
    for group in (GROUP, OTHER_GROUP):
        tg.add_chat(group, type="supergroup", title=f"G{group}", admins=[MEMBER])
    for group in (GROUP, OTHER_GROUP):
        await write(harness, f"/write@{BOT} anthem {group}", chat_id=group, sender_chat=group)
    owners = sorted(d[1] for d in await _drafts(harness))
    assert owners == sorted([GROUP, OTHER_GROUP])
    assert GROUP_ANONYMOUS_BOT["id"] not in owners
    # The group's anonymous admins share the group's limit (Telegram cannot tell them apart).
    again = tg.send_text(GROUP, MEMBER, f"/write@{BOT} one more", sender_chat=GROUP)
    assert "limit" in (await reply_to(harness, again)).lower()


async def _drafts(harness: BotHarness) -> list[tuple[int, int]]:
    rows = await harness.services.db.fetchall("SELECT id, user_id FROM lyrics_drafts ORDER BY id")
    return [(int(r[0]), int(r[1])) for r in rows]
