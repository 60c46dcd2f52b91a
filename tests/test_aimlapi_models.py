"""The model registry and request validation (pure: no server, no network)."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.aimlapi.bodies import build_body, validate_request
from bot.aimlapi.models import MODELS, Endpoint, ReferenceKind, get_model
from bot.aimlapi.types import GenerationRequest
from bot.config import Config
from bot.errors import ValidationError
from bot.textutil import utf16_len
from songbot_fakes.aimlapi import validate_body
from songbot_fakes.audio_fixtures import make_mp3, make_wav

LYRICS = "[Verse]\nStreetlights flicker, the night breeze sighs\n[Chorus]\nStay with me"
STYLE = "dreamy synth-pop with female vocals"
EMOJI = "\U0001f3b5"  # one code point, two UTF-16 units


def req(model: str, **kwargs: Any) -> GenerationRequest:
    kwargs.setdefault("prompt", STYLE)
    return GenerationRequest(model=model, **kwargs)


def error_of(request: GenerationRequest) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_request(request)
    return info.value


# --- the registry -----------------------------------------------------------------------------


def test_registry_has_every_model_of_the_issue() -> None:
    expected = {
        "minimax/music-2.0",
        "stable-audio",
        "minimax-music",
        "music-01",
        "minimax/music-2.6",
        "minimax/music-cover",
        "minimax/music-1.5",
        "google/lyria2",
        "elevenlabs/eleven_music",
    }
    assert set(MODELS) == expected
    for model_id, spec in MODELS.items():
        assert spec.id == model_id
        assert spec.title and spec.summary and spec.typical_seconds > 0
        assert spec.output in ("mp3", "wav")
        if spec.takes_lyrics:
            assert spec.lyrics_max > 0 and spec.lyrics_min <= spec.lyrics_max
        if spec.prompt_required:
            assert spec.takes_prompt and 0 < spec.prompt_min <= spec.prompt_max


def test_registry_entries_follow_the_schemas() -> None:
    assert MODELS["music-01"].endpoint is Endpoint.SYNC_REFERENCE
    assert MODELS["music-01"].reference is ReferenceKind.UPLOAD
    assert all(s.endpoint is Endpoint.ASYNC for k, s in MODELS.items() if k != "music-01")
    m20 = MODELS["minimax/music-2.0"]
    assert (m20.prompt_min, m20.prompt_max, m20.lyrics_min, m20.lyrics_max) == (10, 2000, 10, 3000)
    assert MODELS["minimax/music-1.5"].prompt_max == 300
    assert MODELS["stable-audio"].output == "wav" and MODELS["google/lyria2"].output == "wav"
    assert MODELS["minimax-music"].reference is ReferenceKind.URL
    assert MODELS["minimax/music-cover"].reference is ReferenceKind.URL_OR_BASE64
    assert MODELS["minimax/music-cover"].reference_max_bytes == 50_000_000
    instrumental = {k for k, s in MODELS.items() if s.instrumental}
    assert instrumental == {
        "stable-audio",
        "google/lyria2",
        "elevenlabs/eleven_music",
        "minimax/music-2.6",
    }


def test_config_defaults_name_registered_models() -> None:
    config = Config.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", "AIMLAPI_KEY": "k"}, env_file=None)
    for model in (config.default_model, config.instrumental_model, config.reference_model):
        assert model in MODELS


def test_get_model_unknown_is_a_user_facing_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        get_model("minimax/music-9")
    assert info.value.key == "error_unknown_model"
    text = info.value.user_message("en")
    # What the user typed, and the names users read (#25.13), not the operator's ids.
    assert "minimax/music-9" in text and "Stable-Audio" in text and "stable-audio" not in text


def test_utf16_len_counts_like_javascript() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len(EMOJI) == 2
    assert utf16_len("é") == 1


# --- wire bodies ------------------------------------------------------------------------------


def test_music_20_body_omits_audio_setting_and_extras() -> None:
    _, body = build_body(req("minimax/music-2.0", lyrics=LYRICS))
    assert body == {"model": "minimax/music-2.0", "prompt": STYLE, "lyrics": LYRICS}


def test_audio_setting_is_sent_only_when_the_caller_sets_it() -> None:
    setting = {"sample_rate": 44100, "bitrate": 128000, "format": "mp3"}
    _, body = build_body(
        req("minimax/music-2.0", lyrics=LYRICS, options={"audio_setting": setting})
    )
    assert body["audio_setting"] == setting


def test_stable_audio_maps_duration_and_steps() -> None:
    _, body = build_body(req("stable-audio", duration_seconds=20.4, options={"steps": 50}))
    assert body == {"model": "stable-audio", "prompt": STYLE, "seconds_total": 20, "steps": 50}


def test_eleven_music_duration_is_milliseconds() -> None:
    _, body = build_body(req("elevenlabs/eleven_music", duration_seconds=42.5))
    assert body["music_length_ms"] == 42500


def test_legacy_minimax_music_sends_wrapped_lyrics_as_prompt() -> None:
    url = "https://cdn.example.com/ref.mp3"
    _, body = build_body(req("minimax-music", lyrics="la la la", reference_url=url))
    assert body == {"model": "minimax-music", "prompt": "##la la la##", "reference_audio_url": url}
    _, again = build_body(req("minimax-music", lyrics="##already##", reference_url=url))
    assert again["prompt"] == "##already##"


def test_music_01_sends_only_the_ids_it_has() -> None:
    spec, body = build_body(req("music-01", lyrics="la la la", refer_voice="vocal-1"))
    assert spec.endpoint is Endpoint.SYNC_REFERENCE
    assert body == {"model": "music-01", "lyrics": "##la la la##", "refer_voice": "vocal-1"}


def test_music_26_instrumental_flag() -> None:
    _, body = build_body(req("minimax/music-2.6", instrumental=True))
    assert body == {"model": "minimax/music-2.6", "prompt": STYLE, "is_instrumental": True}
    _, opt = build_body(req("minimax/music-2.6", options={"lyrics_optimizer": True}))
    assert opt["lyrics_optimizer"] is True and "lyrics" not in opt


def test_cover_bare_base64_becomes_a_data_uri() -> None:
    raw = make_mp3(1.0)
    encoded = base64.b64encode(raw).decode()
    _, body = build_body(req("minimax/music-cover", reference_base64=encoded))
    assert body["reference_audio_url"] == f"data:audio/mpeg;base64,{encoded}"
    wav = base64.b64encode(make_wav(1.0)).decode()
    _, body = build_body(
        req("minimax/music-cover", reference_base64=f"data:audio/x-wav;base64,{wav}")
    )
    assert body["reference_audio_url"] == f"data:audio/x-wav;base64,{wav}"


def test_cover_without_lyrics_but_flagged_instrumental_is_allowed() -> None:
    # The intake marks every lyric-less request instrumental; cover's lyrics are optional.
    _, body = build_body(
        req("minimax/music-cover", instrumental=True, reference_url="https://x.example/a.mp3")
    )
    assert "lyrics" not in body and "is_instrumental" not in body


# --- validation messages ----------------------------------------------------------------------


def test_lyrics_too_long_message_is_ready_for_telegram() -> None:
    error = error_of(req("minimax/music-2.0", lyrics="a" * 3412))
    assert error.key == "error_lyrics_too_long"
    assert error.user_message("en") == (
        "The lyrics are 3,412 characters; this model takes at most 3,000."
    )


def test_lengths_are_counted_in_utf16_units() -> None:
    validate_request(req("minimax/music-2.0", lyrics=EMOJI * 1500))  # 3000 units: fits
    error = error_of(req("minimax/music-2.0", lyrics=EMOJI * 1501))
    assert error.params == {"length": 3002, "limit": 3000}
    validate_request(req("minimax/music-2.0", lyrics=LYRICS, prompt="x" * 2000))
    error = error_of(req("minimax/music-2.0", lyrics=LYRICS, prompt=EMOJI * 1001))
    assert error.key == "error_prompt_too_long" and error.params["length"] == 2002


def test_wrapping_counts_against_the_600_limit() -> None:
    url = "https://cdn.example.com/ref.mp3"
    validate_request(req("minimax-music", lyrics="a" * 596, reference_url=url))
    error = error_of(req("minimax-music", lyrics="a" * 597, reference_url=url))
    assert error.key == "error_lyrics_too_long"
    assert error.params == {"length": 597, "limit": 596}
    validate_request(req("minimax-music", lyrics="##" + "a" * 596 + "##", reference_url=url))


@pytest.mark.parametrize(
    ("request_", "key"),
    [
        (req("minimax/music-2.0", lyrics=LYRICS, prompt="rock"), "error_prompt_too_short"),
        (req("minimax/music-2.0", lyrics=LYRICS, prompt="   "), "error_prompt_missing"),
        (req("minimax/music-1.5", lyrics=LYRICS, prompt="x" * 301), "error_prompt_too_long"),
        (req("minimax/music-2.0", lyrics="short"), "error_lyrics_too_short"),
        (req("minimax/music-2.0"), "error_model_needs_lyrics"),
        (req("minimax/music-2.0", lyrics=LYRICS, instrumental=True), "error_lyrics_ok"),
        (req("minimax/music-2.6"), "error_model_needs_lyrics"),
        (
            req("minimax/music-2.6", lyrics=LYRICS, instrumental=True),
            "error_instrumental_with_lyrics",
        ),
        (req("stable-audio", lyrics=LYRICS), "error_model_no_lyrics"),
        (req("google/lyria2", prompt="x" * 601), "error_prompt_too_long"),
        (req("stable-audio", duration_seconds=48), "error_duration_out_of_range"),
        (req("stable-audio", duration_seconds=0.5), "error_duration_out_of_range"),
        (req("stable-audio", duration_seconds=float("nan")), "error_duration_out_of_range"),
        (req("elevenlabs/eleven_music", duration_seconds=5), "error_duration_out_of_range"),
        (
            req("minimax/music-2.0", lyrics=LYRICS, duration_seconds=60),
            "error_duration_not_supported",
        ),
        (req("minimax/music-2.0", lyrics=LYRICS, options={"steps": 5}), "error_option_invalid"),
        (req("stable-audio", options={"steps": True}), "error_option_invalid"),
        (req("stable-audio", options={"steps": 1001}), "error_option_invalid"),
        (req("google/lyria2", options={"seed": -1}), "error_option_invalid"),
        (
            req(
                "minimax/music-2.0", lyrics=LYRICS, options={"audio_setting": {"bitrate": 256000}}
            ),
            "error_option_invalid",
        ),
        (
            req(
                "minimax/music-2.0",
                lyrics=LYRICS,
                options={"audio_setting": {"sample_rate": "44100", "format": "mp3"}},
            ),
            "error_option_invalid",
        ),
        (
            req("minimax/music-2.0", lyrics=LYRICS, reference_url="https://x.example/a.mp3"),
            "error_model_no_reference",
        ),
        (req("minimax-music", lyrics="la la la"), "error_model_needs_reference"),
        (
            req("minimax-music", lyrics="la", reference_url="ftp://x.example/a.mp3"),
            "error_reference_url_invalid",
        ),
        (
            req("minimax-music", lyrics="la", reference_url="https://x.example/a b.mp3"),
            "error_reference_url_invalid",
        ),
        (req("minimax-music", lyrics="la", reference_base64="AAAA"), "error_model_no_reference"),
        (req("minimax/music-cover"), "error_model_needs_reference"),
        (
            req(
                "minimax/music-cover",
                reference_url="https://x.example/a.mp3",
                reference_base64=base64.b64encode(make_mp3(1.0)).decode(),
            ),
            "error_reference_both",
        ),
        (
            req(
                "minimax/music-cover",
                reference_base64=base64.b64encode(b"<html>hi</html>").decode(),
            ),
            "error_reference_base64_invalid",
        ),
        (
            req("minimax/music-cover", reference_base64="not base64!"),
            "error_reference_base64_invalid",
        ),
        (req("music-01", lyrics="la la la"), "error_refer_ids_missing"),
        (
            req("music-01", lyrics="la", refer_voice="v", reference_url="https://x.example/a.mp3"),
            "error_model_no_reference",
        ),
        (req("music-01", lyrics="a" * 597, refer_voice="v"), "error_lyrics_too_long"),
        (req("no/such-model"), "error_unknown_model"),
    ],
)
def test_invalid_requests_raise_typed_errors_with_rendered_messages(
    request_: GenerationRequest, key: str
) -> None:
    if key == "error_lyrics_ok":
        # music-2.0 has no instrumental flag: with lyrics the flag is simply irrelevant.
        assert build_body(request_)[1]["lyrics"] == LYRICS
        return
    error = error_of(request_)
    assert error.key == key
    text = error.user_message("en")
    assert text and "{" not in text


def test_cover_base64_size_is_checked_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = MODELS["minimax/music-cover"]
    monkeypatch.setitem(MODELS, spec.id, replace(spec, reference_max_bytes=10_000))
    encoded = base64.b64encode(make_mp3(3.0)).decode()  # ~24 kB
    error = error_of(req(spec.id, reference_base64=encoded))
    assert error.key == "error_reference_data_too_big"


# --- client and fake agree ----------------------------------------------------------------------

# Lengths around every limit either side documents, plus free text with emoji and newlines.
EDGES = sorted({n + d for n in (0, 10, 300, 600, 2000, 3000) for d in range(-5, 3) if n + d >= 0})
TEXT = st.one_of(
    st.builds(
        lambda n, tail: "a" * n + tail, st.sampled_from(EDGES), st.sampled_from(["", EMOJI])
    ),
    st.text(alphabet=st.sampled_from(["a", "é", " ", "\n", EMOJI, "#", "["]), max_size=40),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(sorted(MODELS)),
    prompt=TEXT,
    lyrics=st.one_of(st.none(), TEXT),
    instrumental=st.booleans(),
    duration=st.one_of(st.none(), st.floats(min_value=0, max_value=400)),
    scale=st.sampled_from([1, 1, 1, 2]),
)
def test_whatever_the_client_accepts_the_strict_fake_accepts(
    model: str,
    prompt: str,
    lyrics: str | None,
    instrumental: bool,
    duration: float | None,
    scale: int,
) -> None:
    """Two independent readings of the schemas: the client must never be looser."""
    spec = MODELS[model]
    request = GenerationRequest(
        model=model,
        prompt=prompt * scale,
        lyrics=None if lyrics is None else lyrics * scale,
        instrumental=instrumental,
        duration_seconds=duration,
        reference_url="https://cdn.example.com/ref.mp3"
        if spec.reference in (ReferenceKind.URL, ReferenceKind.URL_OR_BASE64)
        else None,
        refer_voice="vocal-1" if spec.reference is ReferenceKind.UPLOAD else None,
    )
    try:
        _, body = build_body(request)
    except ValidationError:
        return
    assert validate_body(model, body, strict=True) == []


def _baseline(model: str, **changes: Any) -> GenerationRequest:
    spec = MODELS[model]
    fields: dict[str, Any] = {
        "model": model,
        "prompt": STYLE,
        "lyrics": LYRICS if spec.takes_lyrics else None,
        "reference_url": "https://cdn.example.com/ref.mp3"
        if spec.reference in (ReferenceKind.URL, ReferenceKind.URL_OR_BASE64)
        else None,
        "refer_voice": "vocal-1" if spec.reference is ReferenceKind.UPLOAD else None,
    }
    fields.update(changes)
    return GenerationRequest(**fields)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_client_is_never_looser_than_the_strict_fake_at_any_limit(model: str) -> None:
    """Every length edge of every field, one at a time: accepted by us => accepted upstream."""
    accepted = rejected = 0
    for field_name in ("prompt", "lyrics"):
        for n in EDGES:
            for tail in ("", EMOJI):
                request = _baseline(model, **{field_name: "a" * n + tail})
                try:
                    _, body = build_body(request)
                except ValidationError:
                    rejected += 1
                    continue
                accepted += 1
                assert validate_body(model, body, strict=True) == [], (field_name, n, tail)
    assert accepted and rejected


def test_every_catalogue_key_the_client_uses_exists_in_english() -> None:
    import re
    from pathlib import Path

    import bot.aimlapi
    from bot.i18n.en import EN

    package = Path(bot.aimlapi.__file__).parent
    source = "".join(p.read_text(encoding="utf-8") for p in package.glob("*.py"))
    keys = set(re.findall(r'"(error_[a-z0-9_]+)"', source))
    assert len(keys) > 20
    assert sorted(k for k in keys if k not in EN) == []
