"""Issue #25 item 10 through the real bot: a group has one language, set by its admins; the
board speaks it and says "All done" only when a song was made."""

from __future__ import annotations

from bot.i18n import t
from tests.support.groups import LYRICS, fast_flood_clock
from tests.support.harness import BotHarness

GROUP = -1002525
ADMIN = 601
EN_USER, RU_USER, ES_USER = 602, 603, 604


def song(style: str) -> str:
    return f"/song@SongTestBot {style}\n{LYRICS}"


async def reply_to(h: BotHarness, request: dict[str, object]) -> str:
    call = await h.tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.params.get("chat_id") == GROUP
            and c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
        ),
    )
    return str(call.params["text"])


# Telegram's flood windows run this many times faster on both sides (tests/support/harness.py):
# a group's 3.5 s between messages would be most of these tests' time. Not faster: the fake's
# 15 s for answering a button press shrinks with them (here to about a second).
FLOOD_SCALE = 16.0


async def setup(h: BotHarness) -> None:
    await fast_flood_clock(h, scale=FLOOD_SCALE, SONGBOT_MAX_JOBS_PER_CHAT="5")
    h.tg.add_chat(GROUP, type="supergroup", title="Choir", admins=[ADMIN])
    h.tg.add_user(ADMIN, language_code="en")
    h.tg.add_user(EN_USER, language_code="en")
    h.tg.add_user(RU_USER, language_code="ru")
    h.tg.add_user(ES_USER, language_code="es")


async def test_the_board_speaks_the_groups_one_language(harness: BotHarness) -> None:
    await setup(harness)
    tg = harness.tg
    # The first user gives the group its language; later requesters do not switch it.
    for user, style in ((EN_USER, "brass band march"), (RU_USER, "рок"), (ES_USER, "bolero")):
        tg.send_text(GROUP, user, song(style))
    await harness.wait_for_job(lambda j: j.chat_id == GROUP and j.user_id == ES_USER)
    for job in [j for j in await harness.jobs() if j.chat_id == GROUP]:
        await harness.wait_state(job.id, "delivered", timeout=40)
    board_id = next(j for j in await harness.jobs() if j.chat_id == GROUP).status_message_id
    assert board_id is not None
    texts = [
        str(c.params.get("text"))
        for c in tg.calls_to("sendMessage") + tg.calls_to("editMessageText")
        if c.params.get("chat_id") == GROUP and c.ok
    ]
    assert texts and all("Песни" not in x and "Canciones" not in x for x in texts), texts

    # An admin sets Spanish for the group; the member's private language stays theirs.
    menu = tg.send_text(GROUP, ADMIN, "/language@SongTestBot")
    assert "English" in await reply_to(harness, menu)
    query = tg.press_button(GROUP, ADMIN, menu["message_id"] + 1, "v1:lang:es")
    await tg.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    assert (await harness.services.chat_settings.get(GROUP)).language == "es"
    member = tg.send_text(GROUP, RU_USER, "/language@SongTestBot")
    assert await reply_to(harness, member) == t("language_group_admins_only", "es")
    assert (await harness.services.chat_settings.get(GROUP)).language == "es"
    private = tg.send_text(RU_USER, RU_USER, "/start")
    await tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.params.get("chat_id") == RU_USER
            and c.params.get("reply_parameters", {}).get("message_id") == private["message_id"]
        ),
    )
    start = [c for c in tg.calls_to("sendMessage") if c.params.get("chat_id") == RU_USER]
    assert "Привет" in str(start[-1].params["text"])  # their private chat is still Russian

    # A new burst in the group: its board is Spanish whoever asks.
    before = {id(c) for c in tg.calls_to("sendMessage") + tg.calls_to("editMessageText")}
    tg.send_text(GROUP, EN_USER, song("sea shanty"))
    job = await harness.wait_for_job(
        lambda j: j.chat_id == GROUP and j.prompt.startswith("sea shanty")
    )
    job = await harness.wait_state(job.id, "delivered", timeout=40)
    assert job.status_message_id is not None
    said = [
        str(c.params.get("text"))
        for c in tg.calls_to("sendMessage") + tg.calls_to("editMessageText")
        if c.ok
        and id(c) not in before
        and c.params.get("chat_id") == GROUP
        and ("Canciones" in str(c.params.get("text")) or "Songs" in str(c.params.get("text")))
    ]
    assert said and all("Canciones" in x for x in said), said


async def test_a_board_that_made_nothing_does_not_say_all_done(harness: BotHarness) -> None:
    await setup(harness)
    # Boards refresh at most every 20 s in production; the last word is what this test reads.
    harness.services.boards._min_interval = 0.3
    harness.api.set_outcome(fail="Generation failed")
    harness.tg.send_text(GROUP, EN_USER, song("doomed polka"))
    job = await harness.wait_for_job(
        lambda j: j.chat_id == GROUP and j.state == "failed" and bool(j.outcome_sent_at),
        timeout=30,
    )
    assert job.status_message_id is not None
    call = await harness.tg.wait_for_call(  # the board's last word on the burst
        "editMessageText",
        lambda c: (
            c.ok
            and c.params.get("message_id") == job.status_message_id
            and "without a song" in str(c.params.get("text"))
        ),
        timeout=40,
    )
    assert "All done" not in call.params["text"]
    assert call.params["text"] == t("board_finished_none", "en", failed=1)
