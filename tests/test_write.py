"""/write (issue #18): lyrics from an idea, a preview to approve, rewrite or edit, end to end
through the real Application against the fake Bot API and the fake AI/ML API's chat completions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.aimlapi.models import MODELS
from bot.i18n import plain, t
from bot.intake.lyrics import lyrics_budget, script_of, shorten
from songbot_fakes.telegram_html import utf16_len
from storage.usage import utc_day_bounds
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import (
    BOT,
    GROUP,
    all_handled,
    button_data,
    edited,
    help_section,
    ok_reply_to,
    press,
    shown,
)
from tests.support.waits import HELD, held_answers
from tests.support.write import CHAT, IDEA, song_json, write


def music_requests(h: BotHarness) -> list[Any]:
    return [r for r in h.api.requests if r.path.startswith("/v2/generate")]


async def test_write_shows_a_preview_and_nothing_is_made_before_make(harness: BotHarness) -> None:
    h, api = harness, harness.api
    api.script_chat(song_json(title="Anna <b>Rolls</b>"))
    request, preview = await write(h, f"/write {IDEA}")

    # The request to the chat model: the configured model, JSON asked for, the idea as data.
    [call] = api.chat_requests()
    body = call.json
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert json.dumps(IDEA) in body["messages"][1]["content"]
    spec = MODELS["minimax/music-2.0"]
    assert "minimax/music-2.0" in body["messages"][0]["content"]
    assert str(int(spec.lyrics_max * 0.8)) in body["messages"][0]["content"]
    assert call.header("authorization") == f"Bearer {api.api_key}"

    # The preview: a reply to the request with title (tags stripped), style and the lyrics.
    assert preview["reply_to_message"]["message_id"] == request["message_id"]
    text = preview["text"]
    assert text.startswith("📝 Anna Rolls")
    assert "upbeat pop punk" in text
    assert "[Verse]\nAnna rolls down the hill" in text
    assert "[Chorus]" in text
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, preview["message_id"])
    assert draft is not None
    assert button_data(preview) == [
        f"v1:wmake:{draft.id}",
        f"v1:wredo:{draft.id}",
        f"v1:wedit:{draft.id}",
    ]
    labels = [b["text"] for row in preview["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["🎵 Make this song", "🔄 Rewrite", "✏️ Edit"]
    await all_handled(h)
    assert music_requests(h) == [] and await h.jobs() == []

    # 🎵 Make this song: the normal intake; status and song reply to the preview.
    answer = await press(h, PRIVATE_CHAT, USER, preview["message_id"], f"v1:wmake:{draft.id}")
    assert answer.params["text"] == plain("answer_write_making", "en")
    job = await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert job.request_message_id == preview["message_id"]
    assert job.lyrics == draft.lyrics and job.prompt == draft.style
    assert job.model == "minimax/music-2.0"
    # The /write title is the song's title (#25.12): in the player, the caption and the file.
    assert draft.title == "Anna Rolls" and job.title == draft.title
    audio_call = await h.tg.wait_for_call("sendAudio", lambda c: c.ok)
    assert audio_call.params["title"] == "Anna Rolls"
    assert audio_call.result["caption"].startswith("Anna Rolls\n")
    assert any(f.filename == "Anna Rolls.mp3" for f in audio_call.files.values())
    status = await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(PRIVATE_CHAT, preview["message_id"])
    )
    assert button_data(status.result) == [f"v1:cancel:{job.id}"]
    song = h.tg.message(PRIVATE_CHAT, job.delivered_message_id or 0)
    assert song["reply_to_message"]["message_id"] == preview["message_id"]
    assert len(music_requests(h)) >= 1
    # One song per preview: the buttons are gone, and a stale press makes nothing.
    assert "reply_markup" not in h.tg.message(PRIVATE_CHAT, preview["message_id"])
    again = await press(
        h, PRIVATE_CHAT, USER, preview["message_id"], f"v1:wmake:{draft.id}", check_button=False
    )
    assert again.params["text"] == plain("answer_write_made", "en")
    assert len(await h.jobs()) == 1


async def test_rewrite_replaces_the_preview_and_make_uses_the_new_version(
    harness: BotHarness,
) -> None:
    h, api = harness, harness.api
    api.script_chat(song_json(title="First Take"))
    api.script_chat(
        song_json(title="Second Take", lyrics="[Verse]\nNew words for Anna\n[Chorus]\nRide on")
    )
    _, preview = await write(h, f"/write {IDEA}")
    mid = preview["message_id"]
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, mid)
    assert draft is not None and draft.title == "First Take"
    answer = await press(h, PRIVATE_CHAT, USER, mid, f"v1:wredo:{draft.id}")
    assert answer.params["text"] == plain("answer_write_redo", "en")
    # Edited twice more: "writing…", then the new version, in the same message.
    after = await edited(h, PRIVATE_CHAT, mid, count=3)
    assert after["text"].startswith("📝 Second Take") and "New words for Anna" in after["text"]
    assert button_data(after)[0] == f"v1:wmake:{draft.id}"
    assert len(api.chat_requests()) == 2
    assert len([m for m in h.tg.bot_messages(PRIVATE_CHAT)]) == 1  # replaced, not added
    await press(h, PRIVATE_CHAT, USER, mid, f"v1:wmake:{draft.id}")
    job = await h.wait_for_job(lambda j: j.request_message_id == mid)
    assert job.lyrics == "[Verse]\nNew words for Anna\n[Chorus]\nRide on"


@pytest.mark.harness_env(SONGBOT_LYRICS_DAILY_LIMIT="2")
async def test_a_failed_rewrite_keeps_the_preview(harness: BotHarness) -> None:
    h, api = harness, harness.api
    api.script_chat(song_json(title="Keep Me"))
    _, preview = await write(h, f"/write {IDEA}")
    mid = preview["message_id"]
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, mid)
    assert draft is not None
    # The provider fails during the rewrite: the old version comes back, the reason below it.
    api.script(CHAT, status=500)
    await press(h, PRIVATE_CHAT, USER, mid, f"v1:wredo:{draft.id}")
    back = await edited(h, PRIVATE_CHAT, mid, count=3)
    assert back["text"].startswith("📝 Keep Me") and button_data(back)[0] == f"v1:wmake:{draft.id}"
    why = await h.tg.wait_for_call("sendMessage", ok_reply_to(PRIVATE_CHAT, mid))
    assert why.result["text"] == shown(t("error_provider_unavailable", "en"))
    # The failed call was not counted: one more rewrite is allowed, then the limit says no.
    h.services.memo.recent_presses.clear()  # later than a double tap (5 s)
    await press(h, PRIVATE_CHAT, USER, mid, f"v1:wredo:{draft.id}")
    await edited(h, PRIVATE_CHAT, mid, count=5)
    h.services.memo.recent_presses.clear()
    refused = await press(h, PRIVATE_CHAT, USER, mid, f"v1:wredo:{draft.id}")
    assert refused.params["text"] == plain("error_lyrics_daily_limit", "en", limit=2)
    assert refused.params.get("show_alert") is True
    assert h.tg.message(PRIVATE_CHAT, mid)["text"].startswith("📝")
    assert len(api.chat_requests()) == 3


async def test_edit_explains_the_reply_form_and_that_reply_sings_the_preview(
    harness: BotHarness,
) -> None:
    h = harness
    h.api.script_chat(song_json())
    _, preview = await write(h, f"/write {IDEA}")
    mid = preview["message_id"]
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, mid)
    assert draft is not None
    answer = await press(h, PRIVATE_CHAT, USER, mid, f"v1:wedit:{draft.id}")
    assert answer.params["text"] == plain("answer_write_edit", "en")
    hint = await h.tg.wait_for_call("sendMessage", ok_reply_to(PRIVATE_CHAT, mid))
    assert hint.result["text"] == shown(
        t("write_edit_hint", "en", command="/song", style=draft.style)
    )
    # The reply form: the preview's lyrics (not its title and style lines) are sung...
    h.tg.send_text(PRIVATE_CHAT, USER, "/song acoustic folk", reply_to=mid)
    job = await h.wait_for_job(lambda j: j.prompt.startswith("acoustic folk"))
    assert job.lyrics == draft.lyrics
    # ...and lyrics typed under the command are the user's edit.
    h.tg.send_text(PRIVATE_CHAT, USER, "/song acoustic folk\n[Verse]\nMy own words", reply_to=mid)
    edited_job = await h.wait_for_job(lambda j: j.lyrics == "[Verse]\nMy own words")
    assert edited_job.prompt.startswith("acoustic folk")


@pytest.mark.harness_env(SONGBOT_TG_RATE_SCALE="32")  # the per-group pacing, sped up
async def test_only_the_requester_or_an_admin_may_press(harness: BotHarness) -> None:
    h, tg = harness, harness.tg
    tg.add_chat(GROUP, type="supergroup", admins=[601])
    tg.add_user(602, first_name="Other")
    tg.add_user(603, first_name="Asker")
    h.api.script_chat(song_json())
    request, preview = await write(h, f"/write@{BOT} {IDEA}", chat_id=GROUP, user_id=603)
    assert preview["reply_to_message"]["message_id"] == request["message_id"]
    mid = preview["message_id"]
    draft = await h.services.lyrics.by_preview(GROUP, mid)
    assert draft is not None
    for data in (f"v1:wmake:{draft.id}", f"v1:wredo:{draft.id}", f"v1:wedit:{draft.id}"):
        refused = await press(h, GROUP, 602, mid, data)
        assert refused.params["text"] == plain("answer_write_not_yours", "en")
    assert len(h.api.chat_requests()) == 1 and await h.jobs() == []
    # A chat admin may (here: ✏️, whose hint names the bot for privacy mode).
    ok = await press(h, GROUP, 601, mid, f"v1:wedit:{draft.id}")
    assert ok.params["text"] == plain("answer_write_edit", "en")
    hint = await tg.wait_for_call("sendMessage", ok_reply_to(GROUP, mid))
    assert f"/song@{BOT}" in hint.result["text"]
    # /write addressed to another bot is not ours.
    tg.send_text(GROUP, 603, f"/write@OtherBot {IDEA}")
    await all_handled(h)
    assert len(h.api.chat_requests()) == 1


async def test_preview_survives_a_restart(harness: BotHarness) -> None:
    h = harness
    h.api.script_chat(song_json())
    _, preview = await write(h, f"/write {IDEA}")
    mid = preview["message_id"]
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, mid)
    assert draft is not None
    await h.restart()
    await press(h, PRIVATE_CHAT, USER, mid, f"v1:wmake:{draft.id}")
    job = await h.wait_for_job(lambda j: j.request_message_id == mid and j.state == "delivered")
    assert job.lyrics == draft.lyrics


async def test_write_as_a_reply_takes_the_idea_from_the_message(harness: BotHarness) -> None:
    h = harness
    idea = h.tg.send_text(PRIVATE_CHAT, USER, "a sea shanty about my cat Boris")
    await write(h, "/write", reply_to=idea["message_id"])
    [call] = h.api.chat_requests()
    assert json.dumps("a sea shanty about my cat Boris") in call.json["messages"][1]["content"]
    # No idea at all: the usage, no completion.
    request = h.tg.send_text(PRIVATE_CHAT, USER, "/write")
    usage = await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(PRIVATE_CHAT, request["message_id"])
    )
    assert usage.result["text"] == shown(t("usage_write", "en"))
    long = h.tg.send_text(PRIVATE_CHAT, USER, "/write " + "idea " * 300)
    refusal = await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(PRIVATE_CHAT, long["message_id"])
    )
    assert "1,000" in refusal.result["text"]
    assert len(h.api.chat_requests()) == 1


async def test_hostile_output_is_cleaned_and_fitted_to_music_01(harness: BotHarness) -> None:
    """HTML, 10,000 characters, no tags: retried once with the reasons, then cut to fit."""
    h, api = harness, harness.api
    await h.services.chat_settings.set_model(PRIVATE_CHAT, "music-01")
    huge = "<script>alert(1)</script>" + "\n".join(
        f"la la line {n} <b>bold</b>" for n in range(600)
    )
    assert len(huge) > 10_000
    api.script_chat(song_json(title="<i>Evil</i>", lyrics=huge))
    api.script_chat(song_json(lyrics="[Verse]\n" + huge + "\n[Chorus]\nend"))
    _, preview = await write(h, f"/write {IDEA}")
    first, second = api.chat_requests()
    budget = lyrics_budget(MODELS["music-01"])
    assert budget == 596
    assert "music-01" in first.json["messages"][0]["content"]
    retry = second.json["messages"][-1]["content"]
    assert "over the limit of 596" in retry and "no section tags" in retry
    draft = await h.services.lyrics.by_preview(PRIVATE_CHAT, preview["message_id"])
    assert draft is not None
    assert utf16_len(draft.lyrics) <= 596
    assert draft.lyrics.startswith("[Verse]\nalert(1)la la line 0 bold")
    assert "<" not in draft.lyrics and "<" not in draft.title
    assert "of 596 characters" in preview["text"]
    assert await h.jobs() == []


@pytest.mark.parametrize(
    ("script", "key"),
    [
        ({"content": None, "refusal": "I can't help with that."}, "error_lyrics_refused"),
        ({"content": "", "finish_reason": "content_filter"}, "error_lyrics_refused"),
        ({"content": "   "}, "error_lyrics_empty"),
        ({"content": "not json at all", "times": 2}, "error_lyrics_unusable"),
        ({"content": json.dumps({"title": 1, "lyrics": []}), "times": 2}, "error_lyrics_unusable"),
    ],
)
async def test_refusals_and_unusable_answers_get_a_clear_message(
    harness: BotHarness, script: dict[str, Any], key: str
) -> None:
    h = harness
    h.api.script_chat(**script)
    _, preview = await write(h, f"/write {IDEA}")
    assert preview["text"] == shown(t(key, "en"))
    assert "reply_markup" not in preview
    assert len(h.api.chat_requests()) == script.get("times", 1)


async def test_provider_errors_follow_the_token_retry_rules(harness: BotHarness) -> None:
    h, api = harness, harness.api
    # 429: certainly not run, retried; then the draft is written.
    api.script(CHAT, status=429, retry_after=0)
    _, preview = await write(h, f"/write {IDEA}")
    assert preview["text"].startswith("📝")
    assert len(api.chat_requests()) == 2
    # 500 after sending: the model may have run, so no second completion; the call is refunded.
    api.script(CHAT, status=500)
    _, failed = await write(h, f"/write {IDEA} again")
    assert failed["text"] == shown(t("error_provider_unavailable", "en"))
    assert len(api.chat_requests()) == 3
    # A garbled 200 is not retried either.
    api.script(CHAT, status=200, body="{not json")
    _, garbled = await write(h, f"/write {IDEA} once more")
    assert garbled["text"] == shown(t("error_provider_unavailable", "en"))
    assert len(api.chat_requests()) == 4
    start, end = utc_day_bounds(__import__("time").time())
    assert await h.services.lyrics.count_today(USER, start, end) == 1


@pytest.mark.harness_env(
    SONGBOT_LYRICS_DAILY_LIMIT="2", SONGBOT_USER_DAILY_LIMIT="1", SONGBOT_TG_RATE_SCALE="20"
)
async def test_daily_draft_limit_is_atomic_and_separate_from_songs(harness: BotHarness) -> None:
    h = harness
    # A burst from one user in five chats (Telegram's per-chat flood limits stay out of it):
    # every one passes the early check, the INSERT decides.
    groups = [GROUP - n for n in range(5)]
    for chat in groups:
        h.tg.add_chat(chat, type="supergroup")
    requests = [h.tg.send_text(c, USER, f"/write@{BOT} idea number {c}") for c in groups]
    previews = []
    for chat, request in zip(groups, requests, strict=True):
        placeholder = await h.tg.wait_for_call(
            "sendMessage", ok_reply_to(chat, request["message_id"])
        )
        previews.append(await edited(h, chat, placeholder.result["message_id"]))
    assert len(h.api.chat_requests()) == 2
    limit_text = shown(t("error_lyrics_daily_limit", "en", limit=2))
    texts = [p["text"] for p in previews]
    assert texts.count(limit_text) == 3
    assert sum(text.startswith("📝") for text in texts) == 2
    # Later, the early check answers at once, without a placeholder or a completion.
    late = h.tg.send_text(PRIVATE_CHAT, USER, "/write one more idea")
    reply = await h.tg.wait_for_call("sendMessage", ok_reply_to(PRIVATE_CHAT, late["message_id"]))
    assert reply.result["text"] == limit_text
    assert len(h.api.chat_requests()) == 2
    # The song limit is its own: one song is still allowed.
    h.tg.send_text(PRIVATE_CHAT, USER, "/song rock\n[Verse]\nHey")
    await h.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert "/write" in await help_section(h, PRIVATE_CHAT, USER, "main")
    limits = await help_section(h, PRIVATE_CHAT, USER, "limits")
    assert t("help_write_limit", "en", limit=2) in limits


@pytest.mark.parametrize(
    ("lang", "idea", "wrong", "right"),
    [
        ("en", IDEA, "Кошки катаются на доске весь день", "Cats ride boards all day long"),
        (
            "ru",
            "песня на день рождения сестры Ани",
            "Happy birthday dear Anna today",
            "С днём рождения, Аня, ура",
        ),
        (
            "es",
            "una canción de cumpleaños para mi hermana",
            "С днём рождения, Аня, ура ура",
            "Feliz cumpleaños hermana querida",
        ),
    ],
)
async def test_three_languages_and_a_wrong_language_answer(
    harness: BotHarness, lang: str, idea: str, wrong: str, right: str
) -> None:
    h, tg = harness, harness.tg
    tg.add_user(USER, language_code=lang)
    h.api.script_chat(song_json(lyrics=f"[Verse]\n{wrong}\n[Chorus]\n{wrong}"))
    h.api.script_chat(song_json(lyrics=f"[Verse]\n{right}\n[Chorus]\n{right}"))
    request = tg.send_text(PRIVATE_CHAT, USER, f"/write {idea}")
    placeholder = await tg.wait_for_call(
        "sendMessage", ok_reply_to(PRIVATE_CHAT, request["message_id"])
    )
    assert placeholder.result["text"] == shown(t("write_working", lang))
    preview = await edited(h, PRIVATE_CHAT, placeholder.result["message_id"])
    first, second = h.api.chat_requests()
    assert "not in the language of the idea" in second.json["messages"][-1]["content"]
    assert right in preview["text"] and wrong not in preview["text"]
    labels = [b["text"] for row in preview["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [
        plain(k, lang) for k in ("button_write_make", "button_write_redo", "button_write_edit")
    ]
    fallback = {"en": "English", "ru": "Russian", "es": "Spanish"}[lang]
    assert f"write them in {fallback}" in first.json["messages"][0]["content"]


async def test_stats_show_the_tokens_used(harness: BotHarness) -> None:
    h = harness
    h.api.script_chat(song_json(), usage=(120, 80))
    await write(h, f"/write {IDEA}")
    stats = await h.services.usage.stats(__import__("time").time())
    assert stats.lyrics.calls_today == 1 and stats.lyrics.tokens_today == 200
    from bot.ops.reports import format_stats

    assert "lyrics       today 1 drafts, 200 tokens" in format_stats(stats)


def test_shorten_cuts_whole_sections_then_lines() -> None:
    lyrics = "[Verse]\none two\nthree four\n\n[Chorus]\nfive six\n\n[Bridge]\nseven"
    assert shorten(lyrics, 1000) == lyrics
    assert shorten(lyrics, 46) == "[Verse]\none two\nthree four\n\n[Chorus]\nfive six"
    assert shorten(lyrics, 20) == "[Verse]\none two"
    assert script_of("Привет, как дела у тебя") == "cyrillic"
    assert script_of("[Verse]\nshort") is None


async def test_a_slow_completion_does_not_hold_other_updates(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    # The model takes its time: its answer comes only once /help has been answered. Had the
    # completion held other updates, /help would have waited for it (up to the bot's 5 s
    # confirm wait, bot/telegram/confirming_bot.py), longer than the 2 s allowed.
    async with held_answers(h.api, monkeypatch):
        h.api.script(CHAT, status=200, delay=HELD, process=True)
        request = h.tg.send_text(PRIVATE_CHAT, USER, f"/write {IDEA}")
        placeholder = await h.tg.wait_for_call(
            "sendMessage", ok_reply_to(PRIVATE_CHAT, request["message_id"])
        )
        while not h.api.chat_requests():  # the completion is on its way to the model
            await asyncio.sleep(0.01)
        started = asyncio.get_running_loop().time()
        other = h.tg.send_text(PRIVATE_CHAT, USER, "/help")
        await h.tg.wait_for_call("sendMessage", ok_reply_to(PRIVATE_CHAT, other["message_id"]))
        assert asyncio.get_running_loop().time() - started < 2.0
        assert h.api.chat_requests()[0].status is None  # the completion is still unanswered
    preview = await edited(h, PRIVATE_CHAT, placeholder.result["message_id"])
    assert preview["text"].startswith("📝")
