"""The library and sharing (issue #26.1, #26.2), real song titles (#25.12) and /jobs without
buttons (#25.3): through the real bot against the fake Bot API and AI/ML API."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import pytest

from bot.i18n import plain, t
from bot.ops.retention import DAY, sweep_once
from bot.textutil import song_title
from storage.songs import NewSong, Song
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import (
    BOT,
    GROUP,
    LYRICS,
    TITLE,
    all_handled,
    ask,
    button_data,
    buttons,
    deliver,
    press,
)

OTHER = 2002
_JOB_IDS = itertools.count(900_000)


async def seed(
    h: BotHarness,
    file_id: str,
    titles: list[str],
    *,
    owner: int = USER,
    chat_id: int = PRIVATE_CHAT,
    lyrics: str | None = None,
) -> list[Song]:
    """Songs in the library as if delivered, oldest first, sharing one real Telegram file."""
    kept = []
    now = time.time() - 1000
    for n, title in enumerate(titles):
        song = await h.services.songs.add(
            NewSong(
                job_id=next(_JOB_IDS),
                owner_id=owner,
                owner_name=f"user{owner}",
                chat_id=chat_id,
                chat_type="private" if chat_id > 0 else "supergroup",
                title=title,
                style="lo-fi piano",
                lyrics=lyrics,
                model="minimax/music-2.0",
                duration=61.0,
                file_id=file_id,
                file_unique_id=None,
                created_at=now + n,
            )
        )
        assert song is not None
        kept.append(song)
    return kept


def song_buttons(message: dict[str, Any]) -> list[str]:
    return [d for d in button_data(message) if d.startswith("v1:song:")]


async def card_of(
    h: BotHarness, chat_id: int, user_id: int, list_message: dict[str, Any], song_id: int
) -> dict[str, Any]:
    """Tap a song of a list; returns the card message."""
    await press(h, chat_id, user_id, list_message["message_id"], f"v1:song:{song_id}")
    call = await h.tg.wait_for_call(
        "sendMessage",
        lambda c: c.ok and f"v1:ssend:{song_id}" in str(c.params.get("reply_markup")),
    )
    return h.tg.message(chat_id, call.result["message_id"])


# --- #25.12: one real title everywhere ---------------------------------------------------------


def test_the_title_is_the_write_title_else_the_chorus_else_a_line_else_the_style() -> None:
    assert song_title("Anna Rolls", LYRICS, "pop") == "Anna Rolls"
    assert song_title(None, LYRICS, "pop") == "Stay, stay, stay"
    assert (
        song_title(None, "[Verse]\nFirst line here\n[Bridge]\nLater", "pop") == "First line here"
    )
    assert song_title(None, "[Intro]\n(Припев)\nНе уходи", "поп") == "Не уходи"
    assert song_title("", None, "warm acoustic pop, gentle vocals") == (
        "warm acoustic pop, gentle vocals"
    )
    assert song_title(None, None, None) == "Song"


async def test_a_song_has_one_title_in_caption_tag_file_name_jobs_and_status(
    harness: BotHarness,
) -> None:
    h = harness
    job, audio = await deliver(h)
    assert job.title == TITLE
    call = h.tg.calls_to("sendAudio")[-1]
    assert call.params["title"] == TITLE
    uploaded = next(f for f in call.files.values() if f.filename.endswith(".mp3"))
    assert uploaded.filename == "Stay stay stay.mp3"  # safe characters only
    assert audio["caption"].startswith(f"{TITLE}\n")
    status_texts = [c.params["text"] for c in h.tg.calls_to("sendMessage") if c.ok]
    assert any(text.startswith(f"<b>{TITLE}</b>\n") for text in status_texts)
    listing = (await ask(h, PRIVATE_CHAT, USER, "/jobs")).result
    assert f"1. ✅ {TITLE}" in listing["text"]
    labels = [b["text"] for b in buttons(listing)]
    assert any(TITLE in label for label in labels)


# --- #25.3: /jobs with no button ---------------------------------------------------------------


async def test_jobs_whose_only_song_failed_still_answers(harness: BotHarness) -> None:
    h = harness
    h.api.set_outcome(fail="boom")
    h.tg.send_text(PRIVATE_CHAT, USER, f"/song sad waltz\n{LYRICS}")
    await h.wait_for_job(lambda j: j.state == "failed", timeout=30)
    listing = (await ask(h, PRIVATE_CHAT, USER, "/jobs")).result
    assert "failed" in listing["text"]
    assert button_data(listing) == ["v1:songs:0"]  # 📚, never an empty keyboard


async def test_the_fake_refuses_an_empty_inline_keyboard_as_telegram_does(
    harness: BotHarness,
) -> None:
    from telegram import InlineKeyboardMarkup
    from telegram.error import BadRequest

    with pytest.raises(BadRequest, match=r'reply_markup\.inline_keyboard" is required'):
        await h_bot(harness).send_message(
            chat_id=PRIVATE_CHAT, text="x", reply_markup=InlineKeyboardMarkup([])
        )


def h_bot(h: BotHarness) -> Any:
    return h.app.bot


# --- #26.1: the library ------------------------------------------------------------------------


async def test_the_library_pages_and_searches(harness: BotHarness) -> None:
    h = harness
    job, audio = await deliver(h)
    file_id = audio["audio"]["file_id"]
    titles = [f"Song number {n}" for n in range(1, 11)] + ["Котик мой", "Neon Bay"]
    seeded = await seed(h, file_id, titles, lyrics="[Verse]\nneon nights\n[Chorus]\nпой со мной")
    await seed(h, file_id, ["Not mine"], owner=OTHER, chat_id=OTHER)

    first = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    kept = await h.services.songs.by_job(job.id)
    assert kept is not None and kept.title == TITLE and kept.file_id == file_id
    # Newest first: the delivered song, then the seeded ones from the newest; 8 a page.
    assert song_buttons(first) == [
        f"v1:song:{kept.id}",
        *[f"v1:song:{s.id}" for s in reversed(seeded)][:7],
    ]
    assert button_data(first)[-1] == "v1:songs:8"  # ▶️ only
    assert "Not mine" not in first["text"]
    assert len(buttons(first)) <= 100 and all(len(d) <= 64 for d in button_data(first))

    await press(h, PRIVATE_CHAT, USER, first["message_id"], "v1:songs:8")
    await h.tg.wait_for_call("editMessageText", lambda c: c.ok and "9. " in c.params["text"])
    second = h.tg.message(PRIVATE_CHAT, first["message_id"])
    assert button_data(second)[-1] == "v1:songs:0"  # ◀️ back; no ▶️: 13 songs in all
    assert len(song_buttons(second)) == 5

    # A search by words of the title or lyrics, case-insensitive in any script, paged too.
    found = (await ask(h, PRIVATE_CHAT, USER, "/songs КОТИК")).result
    assert song_buttons(found) == [f"v1:song:{seeded[10].id}"]
    lyric = (await ask(h, PRIVATE_CHAT, USER, "/songs ПОЙ neon")).result
    assert len(song_buttons(lyric)) == 8 and button_data(lyric)[-1] == "v1:songs:8"
    await press(h, PRIVATE_CHAT, USER, lyric["message_id"], "v1:songs:8")
    await h.tg.wait_for_call(
        "editMessageText",
        lambda c: (
            c.ok and c.params["message_id"] == lyric["message_id"] and "9. " in c.params["text"]
        ),
    )
    page2 = h.tg.message(PRIVATE_CHAT, lyric["message_id"])
    assert len(song_buttons(page2)) == 4  # 12 seeded songs match; the delivered one does not
    none = (await ask(h, PRIVATE_CHAT, USER, "/songs zebra")).result
    assert "zebra" in none["text"] and "reply_markup" not in none


async def test_a_song_survives_job_retention_and_plays_and_remakes_from_the_card(
    harness: BotHarness,
) -> None:
    h = harness
    job, audio = await deliver(h)
    await h.restart(SONGBOT_RETENTION_DAYS="1")
    jobs, _ = await sweep_once(h.services, now=time.time() + 2 * DAY)
    assert jobs == 1 and await h.jobs() == []
    listing = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    song = await h.services.songs.by_job(job.id)
    assert song is not None and song.lyrics == job.lyrics and song.duration
    card = await card_of(h, PRIVATE_CHAT, USER, listing, song.id)
    assert TITLE in card["text"] and "MiniMax" in card["text"]

    uploads = len(h.tg.uploaded_audio)
    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:ssend:{song.id}")
    sent = await h.tg.wait_for_call("sendAudio", lambda c: c.ok and not c.files)
    assert sent.params["audio"] == audio["audio"]["file_id"]
    assert len(h.tg.uploaded_audio) == uploads  # by file_id: free, nothing uploaded

    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:slyr:{song.id}")
    await h.tg.wait_for_call("sendMessage", lambda c: c.ok and "Stay, stay" in c.params["text"])

    # 🔁 from the card with the job long gone: the same words through the normal intake.
    answer = await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:sagain:{song.id}")
    assert answer.params["text"] == plain("answer_again", "en")
    again = await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert again.lyrics == job.lyrics and again.prompt == job.prompt and again.title == TITLE
    assert await h.services.songs.by_job(again.id) is not None


@pytest.mark.harness_env(SONGBOT_USER_DAILY_LIMIT="1")
async def test_library_buttons_keep_every_limit(harness: BotHarness) -> None:
    h = harness
    job, _ = await deliver(h)
    listing = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    song = await h.services.songs.by_job(job.id)
    assert song is not None
    card = await card_of(h, PRIVATE_CHAT, USER, listing, song.id)
    for action in ("sagain", "svary"):
        answer = await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:{action}:{song.id}")
        assert answer.params["text"] == t("error_daily_limit", "en", limit=1)
    assert len(await h.jobs()) == 1


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE="20")
async def test_in_a_group_the_library_is_the_groups_and_only_the_owner_manages(
    harness: BotHarness,
) -> None:
    h = harness
    h.tg.add_user(OTHER, first_name="Bo", language_code="en")
    h.tg.add_chat(GROUP, type="supergroup")
    job, _ = await deliver(h, f"/song@{BOT} surf rock\n{LYRICS}", chat_id=GROUP)
    await deliver(h)  # a private song: not the group's
    listing = (await ask(h, GROUP, OTHER, f"/songs@{BOT}")).result
    song = await h.services.songs.by_job(job.id)
    assert song is not None and song_buttons(listing) == [f"v1:song:{song.id}"]
    card = await card_of(h, GROUP, OTHER, listing, song.id)
    assert "Asked for by" in card["text"]
    for action in ("sdel", "sren", "slink"):
        refused = await press(h, GROUP, OTHER, card["message_id"], f"v1:{action}:{song.id}")
        assert refused.params["text"] == plain("answer_song_not_yours", "en")
    assert await h.services.songs.get(song.id) is not None


async def test_rename_takes_the_next_private_text_even_after_a_restart(
    harness: BotHarness,
) -> None:
    h = harness
    job, _ = await deliver(h)
    song = await h.services.songs.by_job(job.id)
    assert song is not None
    listing = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    card = await card_of(h, PRIVATE_CHAT, USER, listing, song.id)
    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:sren:{song.id}")
    prompt = await h.tg.wait_for_call("sendMessage", lambda c: c.ok and "✏️" in c.params["text"])
    assert prompt.params["reply_markup"]["force_reply"] is True

    reply = (await ask(h, PRIVATE_CHAT, USER, "Neon   Bay <3")).result
    assert reply["text"] == "✏️ Renamed: “Neon Bay <3”."
    renamed = await h.services.songs.get(song.id)
    assert renamed is not None and renamed.title == "Neon Bay <3"
    assert "Neon Bay &lt;3" in (await ask(h, PRIVATE_CHAT, USER, "/songs")).params["text"]

    # The pending rename is a row: a restart between ✏️ and the answer loses nothing.
    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:sren:{song.id}")
    prompt = await h.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and "✏️ Send" in c.params["text"], count=2
    )
    await h.restart()
    sent = h.tg.send_text(
        PRIVATE_CHAT, USER, "After Restart", reply_to=prompt.result["message_id"]
    )
    await h.tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.ok and c.params.get("reply_parameters", {}).get("message_id") == sent["message_id"]
        ),
    )
    again = await h.services.songs.get(song.id)
    assert again is not None and again.title == "After Restart"


async def test_delete_asks_first_then_removes_it_everywhere(harness: BotHarness) -> None:
    h = harness
    h.tg.set_inline_mode(True)
    await h.restart()
    job, _ = await deliver(h)
    song = await h.services.songs.by_job(job.id)
    assert song is not None
    listing = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    card = await card_of(h, PRIVATE_CHAT, USER, listing, song.id)
    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:slink:{song.id}")
    card_id = card["message_id"]

    async def tap(data: str, shows: str, count: int = 1) -> dict[str, Any]:
        await press(h, PRIVATE_CHAT, USER, card_id, data)
        await h.tg.wait_for_call(
            "editMessageText",
            lambda c: c.ok and c.params["message_id"] == card_id and shows in c.params["text"],
            count=count,
        )
        return h.tg.message(PRIVATE_CHAT, card_id)

    asked = await tap(f"v1:sdel:{song.id}", "Delete")
    assert button_data(asked) == [f"v1:sdelok:{song.id}", f"v1:song:{song.id}"]
    # Keep it: the card again, in place (its second edit showing the link; 🔗 made the first).
    kept = await tap(f"v1:song:{song.id}", "Plays through the link", count=2)
    assert f"v1:sdel:{song.id}" in button_data(kept)
    token = (await h.services.songs.get(song.id)).share_token  # type: ignore[union-attr]
    assert token
    await tap(f"v1:sdel:{song.id}", "Delete", count=2)
    gone_card = await tap(f"v1:sdelok:{song.id}", "deleted")
    assert "reply_markup" not in gone_card
    assert await h.services.songs.get(song.id) is None
    gone = await inline(h, USER, "")
    assert gone["results"] == []
    # 📚 under the delivered song says so too.
    under = await press(h, PRIVATE_CHAT, USER, job.delivered_message_id or 0, f"v1:sjob:{job.id}")
    assert under.params["text"] == plain("answer_song_gone", "en")
    h.tg.add_user(OTHER, first_name="Bo", language_code="en")
    dead = (await ask(h, OTHER, OTHER, f"/start s_{token}")).result
    assert dead["text"] == t("shared_link_dead", "en")


# --- #26.2: sharing ----------------------------------------------------------------------------


async def inline(h: BotHarness, user_id: int, query: str, offset: str = "") -> dict[str, Any]:
    query_id = h.tg.send_inline_query(user_id, query, offset=offset)
    return await h.tg.inline_answer(query_id)


async def test_inline_queries_return_exactly_the_askers_songs(harness: BotHarness) -> None:
    h = harness
    h.tg.set_inline_mode(True)
    await h.restart()
    job, audio = await deliver(h)
    file_id = audio["audio"]["file_id"]
    mine = await seed(h, file_id, [f"Mine n{n:02d}" for n in range(24)])
    h.tg.add_user(OTHER, first_name="Bo", language_code="en")
    other_job, other_audio = await deliver(h, chat_id=OTHER, user_id=OTHER)
    theirs = await h.services.songs.by_job(other_job.id)
    assert theirs is not None

    first = await inline(h, USER, "")
    assert first["is_personal"] is True and first["next_offset"] == "20"
    ids = [r["id"] for r in first["results"]]
    assert str(theirs.id) not in ids and len(ids) == 20
    assert all(r["type"] == "audio" and r["audio_file_id"] == file_id for r in first["results"])
    assert first["results"][0]["caption"].startswith(f"🎵 <b>{TITLE}</b>")
    rest = await inline(h, USER, "", offset="20")
    assert "next_offset" not in rest and len(rest["results"]) == 5
    assert {int(r["id"]) for r in first["results"] + rest["results"]} == (
        {s.id for s in mine} | {(await h.services.songs.by_job(job.id)).id}  # type: ignore[union-attr]
    )

    words = await inline(h, USER, "MINE N07")
    assert [r["id"] for r in words["results"]] == [str(mine[7].id)]
    # ↗️ Share's query picks one song, and only the asker's own.
    picked = await inline(h, OTHER, f"#{other_job.id}")
    assert [(r["id"], r["audio_file_id"]) for r in picked["results"]] == [
        (str(theirs.id), other_audio["audio"]["file_id"])
    ]
    assert (await inline(h, USER, f"#{other_job.id}"))["results"] == []
    # Nothing to share: a button into the bot instead of an empty list.
    stranger = 3003
    h.tg.add_user(stranger)
    empty = await inline(h, stranger, "")
    assert empty["results"] == [] and empty["button"]["start_parameter"] == "inline"

    await h.services.users.set_banned(OTHER, True)
    assert (await inline(h, OTHER, ""))["results"] == []  # a banned user shares nothing
    await h.services.users.set_banned(OTHER, False)
    message = h.tg.choose_inline_result(picked["inline_query_id"], str(theirs.id), USER)
    assert message["audio"]["file_id"] == other_audio["audio"]["file_id"]
    assert message["via_bot"]["username"] == BOT


async def test_share_button_opens_the_chat_picker_when_inline_mode_is_on(
    harness: BotHarness,
) -> None:
    h = harness
    h.tg.set_inline_mode(True)
    await h.restart()
    job, audio = await deliver(h)
    share = [b for b in buttons(audio) if "switch_inline_query_chosen_chat" in b]
    assert [b["switch_inline_query_chosen_chat"] for b in share] == [
        {"query": f"#{job.id}", "allow_user_chats": True, "allow_group_chats": True}
    ]
    helped = (await ask(h, PRIVATE_CHAT, USER, "/help")).result
    assert f"@{BOT}" in helped["text"] and "Share a song in any chat" in helped["text"]


async def test_help_says_nothing_of_inline_mode_while_it_is_off(harness: BotHarness) -> None:
    helped = (await ask(harness, PRIVATE_CHAT, USER, "/help")).result
    assert "Share a song in any chat" not in helped["text"]


async def test_a_shared_link_plays_for_a_second_user_counts_and_dies(harness: BotHarness) -> None:
    h = harness
    job, audio = await deliver(h)
    # ↗️ under the song (inline mode off): the link, made on demand.
    await press(h, PRIVATE_CHAT, USER, audio["message_id"], f"v1:jlink:{job.id}")
    made = await h.tg.wait_for_call("sendMessage", lambda c: c.ok and "t.me/" in c.params["text"])
    link = re.search(r"https://t\.me/(\w+)\?start=(s_[\w-]+)", made.params["text"])
    assert link is not None and link[1] == BOT
    song = await h.services.songs.by_job(job.id)
    assert song is not None and song.share_token and not song.share_token.isdigit()
    assert len(song.share_token) >= 20 and link[2] == f"s_{song.share_token}"

    h.tg.add_user(OTHER, first_name="Bo", language_code="en")
    opened = h.tg.send_text(OTHER, OTHER, f"/start {link[2]}")
    played = await h.tg.wait_for_call(
        "sendAudio", lambda c: c.ok and c.params.get("chat_id") == OTHER
    )
    assert played.params["audio"] == audio["audio"]["file_id"] and not played.files
    assert played.params["reply_parameters"]["message_id"] == opened["message_id"]
    assert "Made by" in played.params["caption"] and "/song" in played.params["caption"]
    listing = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    card = await card_of(h, PRIVATE_CHAT, USER, listing, song.id)
    assert "Plays through the link: 1" in card["text"] and link[0] in card["text"]

    # ⛔ Stop sharing: the old link is dead, for good.
    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:sunsh:{song.id}")
    dead = (await ask(h, OTHER, OTHER, f"/start {link[2]}")).result
    assert "no longer works" in dead["text"]
    assert f"v1:slink:{song.id}" in button_data(h.tg.message(PRIVATE_CHAT, card["message_id"]))


async def test_songbot_check_reports_inline_mode() -> None:
    from bot.ops.check import OK, inline_check

    off = inline_check(False, BOT)
    assert off.status == OK and "is off" in off.detail and "BotFather /setinline" in off.detail
    assert BOT in off.detail
    assert "is on" in inline_check(True, BOT).detail


@pytest.mark.harness_env(SONGBOT_STARS_PER_SONG="50")  # one free song a day by default
async def test_library_remakes_pay_like_song_and_link_plays_are_free(harness: BotHarness) -> None:
    """A paying bot: the day's free song goes on the first song; 🔁 from the card then meets the
    paywall (the packs, no job), and a link's play costs nothing."""
    h = harness
    job, _ = await deliver(h)
    song = await h.services.songs.by_job(job.id)
    assert song is not None
    listing = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    card = await card_of(h, PRIVATE_CHAT, USER, listing, song.id)
    await press(h, PRIVATE_CHAT, USER, card["message_id"], f"v1:sagain:{song.id}")
    offer = await h.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and "v1:buy:" in str(c.params.get("reply_markup"))
    )
    assert offer.params["chat_id"] == PRIVATE_CHAT
    assert [j.id for j in await h.jobs()] == [job.id]  # nothing queued, nothing charged

    token = await h.services.songs.share(song.id, time.time())
    h.tg.add_user(OTHER, first_name="Bo", language_code="en")
    h.tg.send_text(OTHER, OTHER, f"/start s_{token}")
    played = await h.tg.wait_for_call(
        "sendAudio", lambda c: c.ok and c.params.get("chat_id") == OTHER
    )
    assert played.params["audio"] == song.file_id
    assert [j.id for j in await h.jobs()] == [job.id]
    assert not h.tg.invoices


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE="20")
async def test_rename_from_a_group_asks_in_private_and_commands_still_work(
    harness: BotHarness,
) -> None:
    h = harness
    h.tg.add_chat(GROUP, type="supergroup")
    job, _ = await deliver(h, f"/song@{BOT} surf rock\n{LYRICS}", chat_id=GROUP)
    song = await h.services.songs.by_job(job.id)
    assert song is not None
    listing = (await ask(h, GROUP, USER, f"/songs@{BOT}")).result
    card = await card_of(h, GROUP, USER, listing, song.id)
    # Never talked to the bot in private: Telegram lets no bot start that chat, so it says how.
    refused = await press(h, GROUP, USER, card["message_id"], f"v1:sren:{song.id}")
    assert refused.params["text"] == plain("answer_rename_start", "en")
    assert await h.services.songs.pending_rename(USER, time.time()) is None
    await ask(h, PRIVATE_CHAT, USER, "/start")
    answer = await press(h, GROUP, USER, card["message_id"], f"v1:sren:{song.id}")
    assert answer.params["text"] == plain("answer_rename_private", "en")
    await h.tg.wait_for_call(
        "sendMessage", lambda c: c.ok and c.params["chat_id"] == USER and "✏️" in c.params["text"]
    )
    # A command is never taken for the new name.
    listed = (await ask(h, PRIVATE_CHAT, USER, "/songs")).result
    assert "Your songs" in listed["text"]
    assert (await ask(h, PRIVATE_CHAT, USER, "Surf Queen")).result["text"] == (
        "✏️ Renamed: “Surf Queen”."
    )
    renamed = await h.services.songs.get(song.id)
    assert renamed is not None and renamed.title == "Surf Queen"
    # Done: the next text is not a name any more.
    h.tg.send_text(PRIVATE_CHAT, USER, "just chatting")
    await all_handled(h)
    again = await h.services.songs.get(song.id)
    assert again is not None and again.title == "Surf Queen"


def test_a_full_page_and_a_full_card_fit_telegrams_limits() -> None:
    from bot.i18n import LANGUAGES
    from handlers.library_view import PAGE, card_keyboard, render_card, render_list
    from songbot_fakes.telegram_html import parse_html, strip_text, utf16_len

    big = Song(
        id=10**17,
        job_id=10**17,
        owner_id=1,
        owner_name="<b>&" * 30,
        chat_id=-100,
        chat_type="supergroup",
        title="🎵" * 64,
        style="<i>&" * 500,
        lyrics="la " * 1000,
        model="elevenlabs/eleven_music",
        duration=600.0,
        file_id="f",
        file_unique_id=None,
        share_token="x" * 22,
        plays=10**9,
        created_at=0.0,
        updated_at=0.0,
    )
    for lang in LANGUAGES:
        text, markup = render_list(
            [big] * PAGE, offset=10**5, more=True, words="w" * 300, group=True, lang=lang
        )
        assert utf16_len(strip_text(parse_html(text)).text) <= 4096
        assert markup is not None
        data = [b.callback_data for row in markup.inline_keyboard for b in row]
        assert len(data) <= 100 and all(len(str(d).encode()) <= 64 for d in data)
        card = render_card(big, lang=lang, bot_username="SongTestBot")
        assert utf16_len(strip_text(parse_html(card)).text) <= 4096
        keyboard = card_keyboard(big, lang=lang, inline=True)
        assert all(
            b.callback_data is None or len(b.callback_data.encode()) <= 64  # type: ignore[union-attr]
            for row in keyboard.inline_keyboard
            for b in row
        )


async def test_the_song_store_behaves_the_same_on_both_engines(any_db: Any) -> None:
    from storage.songs import SongStore

    store = SongStore(any_db)

    def new(job_id: int, owner: int, title: str, at: float) -> NewSong:
        return NewSong(
            job_id=job_id,
            owner_id=owner,
            owner_name="Ann",
            chat_id=owner,
            chat_type="private",
            title=title,
            style="pop",
            lyrics="Привет, мир",
            model="minimax/music-2.0",
            duration=30.0,
            file_id=f"file-{job_id}",
            file_unique_id=None,
            created_at=at,
        )

    first = await store.add(new(1, 7, "One", 100.0))
    assert first is not None
    assert await store.add(new(1, 7, "Again", 101.0)) is None  # one row per job
    second = await store.add(new(2, 7, "Two", 102.0))
    await store.add(new(3, 8, "Other", 103.0))
    assert second is not None
    page, more = await store.page(owner_id=7, limit=1)
    assert [s.title for s in page] == ["Two"] and more
    page, more = await store.page(owner_id=7, offset=1, limit=1)
    assert [s.title for s in page] == ["One"] and not more
    found, _ = await store.page(owner_id=7, words=["привет", "one"])
    assert [s.id for s in found] == [first.id]
    assert await store.count(owner_id=7) == 2

    token = await store.share(first.id, 200.0)
    assert token and await store.share(first.id, 201.0) == token  # made once
    assert (await store.by_token(token)) == await store.get(first.id)
    await store.count_play(first.id)
    await store.stop_sharing(first.id, 202.0)
    assert await store.by_token(token) is None
    assert (await store.get(first.id)).plays == 1  # type: ignore[union-attr]

    await store.start_rename(7, first.id, 300.0)
    await store.start_rename(7, second.id, 301.0)  # one pending rename per user: the last
    assert await store.pending_rename(7, 302.0) == second.id
    assert await store.take_rename(7, 302.0) == second.id
    assert await store.take_rename(7, 302.0) is None
    await store.start_rename(7, second.id, 0.0)
    assert await store.take_rename(7, 10_000.0) is None  # expired
    assert await store.rename(second.id, "Deux", 400.0)
    await store.start_rename(7, second.id, 500.0)
    assert await store.delete(second.id) and await store.get(second.id) is None
    assert await store.pending_rename(7, 501.0) is None  # deleting ends its rename too
    assert not await store.delete(second.id)
