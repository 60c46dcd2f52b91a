"""Unit tests of the issue #7 pure parts: menus, callback data, variations, lyrics splitting,
the /jobs list and /help, measured by Telegram's rules (the fake's strict HTML parser)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.aimlapi.models import MODELS
from bot.i18n import LANGUAGES, t
from bot.intake.requests import resolve_model
from handlers.buttons import plain_text
from handlers.jobs import ago, render_jobs
from handlers.remake import TWISTS, next_model, twist_style, variation
from handlers.settings import (
    MODEL_ORDER,
    language_keyboard,
    language_menu,
    model_facts,
    model_from_callback,
    model_keyboard,
    model_menu,
)
from handlers.song_lyrics import MAX_LYRICS_MESSAGES, lyrics_messages
from songbot_fakes.telegram_html import parse_html, strip_text, utf16_len
from storage.jobs import JOB_COLUMNS, Job
from storage.states import JobState


def make_job(**values: Any) -> Job:
    base: dict[str, Any] = dict.fromkeys(JOB_COLUMNS)
    base.update(
        id=7,
        key="sb-test",
        chat_id=1,
        chat_type="private",
        user_id=1,
        user_name="Ann",
        user_lang="en",
        request_message_id=10,
        model="minimax/music-2.0",
        prompt="dreamy synth-pop",
        lyrics="[Verse]\nNeon lights over the bay",
        options={},
        state=JobState.DELIVERED,
        submit_attempts=1,
        poll_count=1,
        delivery_attempts=0,
        transient_errors=0,
        claims=1,
        deadline_at=0.0,
        created_at=1000.0,
        updated_at=1000.0,
    )
    base.update(values)
    return Job(**base)


def telegram_length(html_text: str) -> int:
    return utf16_len(strip_text(parse_html(html_text)).text)


def keyboard_data(markup: Any) -> list[str]:
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


# ---- /model ------------------------------------------------------------------------------


def test_every_model_name_resolves_back_to_its_model() -> None:
    """The one name users read is also what they type after `model:` (issue #25 item 13)."""
    for spec in MODELS.values():
        assert " " not in spec.title and len(spec.title) <= 15
        assert resolve_model(spec.title) is spec
        assert resolve_model(spec.title.lower()) is spec
    assert resolve_model("eleven").id == "elevenlabs/eleven_music"  # old aliases still work


def test_model_callback_data_is_an_index_into_a_stable_order() -> None:
    assert tuple(MODELS) == MODEL_ORDER
    for index, model_id in enumerate(MODEL_ORDER):
        assert model_from_callback(str(index)) == (True, model_id)
    assert model_from_callback("default") == (True, None)
    for bad in (str(len(MODEL_ORDER)), "x", "", "-1"):
        assert model_from_callback(bad)[0] is False


@pytest.mark.parametrize("current", [None, "minimax/music-2.6", "elevenlabs/eleven_music"])
def test_model_keyboard_marks_the_current_choice(current: str | None) -> None:
    markup = model_keyboard(current, "en")
    data = keyboard_data(markup)
    assert data == [f"v1:model:{i}" for i in range(len(MODELS))] + ["v1:model:default"]
    assert all(len(d.encode()) <= 64 for d in data)
    labels = [b.text for row in markup.inline_keyboard for b in row]
    marked = [label for label in labels if label.startswith("✅")]
    assert len(marked) == 1
    expected = MODELS[current].title if current else t("button_model_default", "en")
    assert marked[0] == f"✅ {expected}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_model_menu_says_what_each_model_needs(lang: str) -> None:
    text = model_menu("minimax/music-2.6", lang)
    assert telegram_length(text) <= 4096
    for spec in MODELS.values():
        assert spec.title in text
        assert spec.id not in text  # ids are for operators
    music01 = model_facts(MODELS["music-01"], "en")
    assert "needs a reference: voice note or audio file" in music01
    assert "596 characters" in music01  # the ##…## wrapping counts against 600
    stable = model_facts(MODELS["stable-audio"], "en")
    assert stable.startswith("no lyrics") and "instrumentals" in stable and "47 s" in stable
    assert "lyrics optional" in model_facts(MODELS["minimax/music-2.6"], "en")
    assert "lyrics required" in model_facts(MODELS["minimax/music-2.0"], "en")


def test_language_menu_and_keyboard() -> None:
    markup = language_keyboard("ru")
    assert keyboard_data(markup) == ["v1:lang:en", "v1:lang:ru", "v1:lang:es", "v1:lang:auto"]
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels[1] == "✅ Русский"
    assert sum(label.startswith("✅") for label in labels) == 1
    assert "Español" in language_menu(None, "es")
    assert "Русский" in language_menu("ru", "ru")


# ---- 🎲 Variation ------------------------------------------------------------------------


def test_next_model_keeps_lyrics_or_instrumental_and_skips_reference_models() -> None:
    sung = make_job(model="minimax/music-2.0")
    assert next_model(sung, MODELS["minimax/music-2.0"]).id == "minimax/music-2.6"  # type: ignore[union-attr]
    # From 1.5 the next models need a reference or can't sing: wrap around to 2.0.
    assert next_model(sung, MODELS["minimax/music-1.5"]).id == "minimax/music-2.0"  # type: ignore[union-attr]
    instrumental = make_job(model="stable-audio", lyrics=None, prompt="calm ambient piano")
    assert next_model(instrumental, MODELS["stable-audio"]).id == "google/lyria2"  # type: ignore[union-attr]
    assert next_model(instrumental, MODELS["elevenlabs/eleven_music"]).id == "minimax/music-2.6"  # type: ignore[union-attr]
    with_reference = make_job(
        reference_url="https://example.com/a.mp3", model="minimax/music-cover"
    )
    assert next_model(with_reference, MODELS["minimax/music-cover"]) is None


def test_next_model_respects_limits_of_the_candidate() -> None:
    long_style = "x" * 500  # fits 2.0 and 2.6 (2000) but not 1.5 (300)
    job = make_job(model="minimax/music-2.6", prompt=long_style)
    assert next_model(job, MODELS["minimax/music-2.6"]).id == "minimax/music-2.0"  # type: ignore[union-attr]


def test_twist_is_replaced_not_stacked_and_fits_the_model() -> None:
    spec = MODELS["minimax/music-2.0"]
    once = twist_style("dreamy synth-pop", spec, seed=0)
    assert once == f"dreamy synth-pop, {TWISTS[0]}"
    twice = twist_style(once, spec, seed=0)  # same seed: must pick another twist
    assert twice == f"dreamy synth-pop, {TWISTS[1]}"
    short_spec = MODELS["minimax/music-1.5"]
    long = twist_style("y" * 400, short_spec, seed=3)
    assert utf16_len(long) <= short_spec.prompt_max
    assert long.endswith(TWISTS[3])


def test_variation_says_which_change_it_made() -> None:
    job = make_job()
    draft, text = variation(job, MODELS[job.model], "en")
    assert draft.spec.id == "minimax/music-2.6"
    assert (draft.style, draft.lyrics) == (job.prompt, job.lyrics)
    assert "MiniMax-2.6" in plain_text(text)

    cover = make_job(model="minimax/music-cover", reference_url="https://example.com/a.mp3")
    draft, text = variation(cover, MODELS[cover.model], "es")
    assert draft.spec.id == "minimax/music-cover"
    assert draft.reference_url == "https://example.com/a.mp3"
    assert draft.style != cover.prompt and draft.style.startswith(cover.prompt)
    assert "Variación" in text

    music01 = make_job(model="music-01", reference_file_id="f", reference_file_unique_id="u")
    draft, text = variation(music01, MODELS["music-01"], "en")
    assert draft.spec.id == "music-01" and draft.style == music01.prompt
    assert draft.reference is not None and draft.reference.file_id == "f"
    assert "another take" in text


# ---- 📝 Lyrics -----------------------------------------------------------------------------


def test_short_lyrics_are_one_escaped_message() -> None:
    messages = lyrics_messages("Song <1>", "I <3 you & me", "en")
    assert len(messages) == 1
    parsed = strip_text(parse_html(messages[0]))
    assert parsed.text == "📝 Song <1>\n\nI <3 you & me"


def test_long_lyrics_are_split_at_line_breaks_within_limits() -> None:
    lines = [f"line {n} <&> " + " ".join(["la"] * 20) for n in range(400)]
    lyrics = "\n".join(lines)
    messages = lyrics_messages("Title", lyrics, "en")
    assert 2 <= len(messages) <= MAX_LYRICS_MESSAGES
    texts = [strip_text(parse_html(m)).text for m in messages]
    assert all(utf16_len(text) <= 4096 for text in texts)
    assert texts[-1].endswith(plain_text(t("lyrics_truncated", "en")))
    # Nothing but the cut is lost, and no line is broken in the middle (except the last).
    body = "\n".join([texts[0].split("\n\n", 1)[1], *texts[1:-1]])
    assert lyrics.startswith(body)


def test_one_enormous_line_is_cut_safely() -> None:
    lyrics = "🎵" * 5000  # surrogate pairs: 10,000 UTF-16 units on one line
    messages = lyrics_messages("T", lyrics, "en")
    assert 2 <= len(messages) <= MAX_LYRICS_MESSAGES
    for message in messages:
        assert telegram_length(message) <= 4096
        assert "\ud83c" not in strip_text(parse_html(message)).text  # no half emoji


# ---- /jobs ---------------------------------------------------------------------------------


def test_ago_boundaries() -> None:
    assert ago(5, "en") == "just now"
    assert ago(61, "en") == "1 minute ago"
    assert ago(3600 * 3 + 5, "en") == "3 hours ago"
    # CLDR's words and plural forms (issue #25 items 8/9), not abbreviations.
    assert ago(86400 * 2, "ru") == "2 дня назад"
    assert ago(86400 * 5, "ru") == "5 дней назад"
    assert ago(60 * 21, "ru") == "21 минуту назад"
    assert ago(3600, "es") == "hace 1 hora"
    assert ago(-5, "es") == "ahora mismo"


def test_jobs_list_buttons_resend_delivered_and_cancel_pending() -> None:
    now = 2000.0
    jobs = [
        make_job(
            id=3,
            state=JobState.PENDING,
            prompt="bossa <nova> & co",
            lyrics=None,  # no lyrics: the style is the title (#25.12)
            created_at=now - 30,
        ),
        make_job(
            id=2, state=JobState.DELIVERED, delivered_file_id="CQAC-file", created_at=now - 600
        ),
        make_job(id=1, state=JobState.FAILED, created_at=now - 7200),
        make_job(id=4, state=JobState.DELIVERED, delivered_file_id=None, created_at=now - 9000),
    ]
    text, markup = render_jobs(jobs, "en", now)
    parsed = strip_text(parse_html(text)).text
    assert "1. 🎵 bossa <nova> & co" in parsed
    assert "generating · MiniMax-2.0 · just now" in parsed
    assert "delivered · MiniMax-2.0 · 10 minutes ago" in parsed
    assert "failed" in parsed and "2 hours ago" in parsed
    assert keyboard_data(markup) == ["v1:cancel:3", "v1:resend:2", "v1:songs:0"]
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels[0] == "❌ 1. bossa <nova> & co"  # plain text: no escaping in buttons
    assert labels[1].startswith("▶️ 2.")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_full_jobs_list_fits_one_message(lang: str) -> None:
    jobs = [
        make_job(
            id=n,
            state=JobState.DELIVERED,
            delivered_file_id=f"f{n}",
            prompt="<b>&" * 100,
            model="elevenlabs/eleven_music",
        )
        for n in range(1, 21)
    ]
    text, markup = render_jobs(jobs, lang, 10_000.0)
    assert telegram_length(text) <= 4096
    assert all(len(d.encode()) <= 64 for d in keyboard_data(markup))
    assert all(utf16_len(b.text) <= 40 for row in markup.inline_keyboard for b in row)
