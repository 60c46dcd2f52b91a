"""The reference rules without Telegram or the network: vetting, purposes, messages, routing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Audio, Chat, Document, Message, PhotoSize, Voice

from bot.aimlapi.models import MODELS
from bot.config import Config
from bot.engine.prepare_reference import reference_purpose
from bot.errors import ReferenceProblem
from bot.intake.references import (
    TelegramReference,
    check_reference_request,
    find_reference,
    guess_purpose,
    intake_purpose,
    needs_spoken_notice,
    pick_reference,
    reference_file_check,
    reference_lyrics_check,
    reference_url_check,
)
from bot.intake.requests import ReferenceInfo, choose_model
from bot.reference_kinds import ReferenceRefused, kind_label

MUSIC01 = MODELS["music-01"]
COVER = MODELS["minimax/music-cover"]
LEGACY = MODELS["minimax-music"]
PLAIN = MODELS["minimax/music-2.0"]


def ref(kind: str = "voice", **fields: Any) -> TelegramReference:
    base = TelegramReference(kind, "file-id", "unique-id", None, 12.0, 50_000)
    return replace(base, **fields)


def refused(excinfo: pytest.ExceptionInfo[ReferenceProblem]) -> tuple[str, str]:
    return excinfo.value.key, excinfo.value.user_message("en")


# ------------------------------------------------------------------------------ purposes


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (ref("voice"), "voice"),
        (ref("video_note"), "voice"),
        (ref("audio", file_name="summer.mp3", title="Summer", performer="Band"), "song"),
        (ref("audio", file_name="summer (Karaoke Version).mp3"), "instrumental"),
        (ref("audio", title="Summer - Instrumental"), "instrumental"),
        (ref("document", file_name="backing_track.wav"), "instrumental"),
        (ref("audio", file_name="summer no-vocals.mp3"), "instrumental"),
        (ref("audio", title="Summer (Acapella)"), "voice"),
        (ref("document", file_name="lead vocals only.wav"), "voice"),
        (ref("audio", title="A Cappella take"), "voice"),
        (ref("video", file_name="concert.mp4"), "song"),
        (ref("audio", title="Installation"), "song"),  # "inst" only as a word of its own
    ],
)
def test_guess_purpose(reference: TelegramReference, expected: str) -> None:
    assert guess_purpose(reference) == expected


def test_intake_purpose_prefers_the_users_word_and_leaves_voice_notes_unsaid() -> None:
    assert intake_purpose(MUSIC01, ref("voice"), "song") == "song"
    assert intake_purpose(MUSIC01, ref("voice"), None) is None  # runner uploads it as voice
    assert intake_purpose(MUSIC01, ref("audio", title="x instrumental"), None) == "instrumental"
    assert intake_purpose(MUSIC01, ref("audio"), None) == "song"
    assert intake_purpose(COVER, ref("audio"), None) is None  # no purposes for music-cover
    assert intake_purpose(MUSIC01, None, None) is None


def test_runner_purpose_falls_back_to_the_kind() -> None:
    def job(kind: str | None, purpose: str | None) -> Any:
        return SimpleNamespace(reference_kind=kind, reference_purpose=purpose)

    assert reference_purpose(job("voice", None)) == "voice"
    assert reference_purpose(job("video_note", None)) == "voice"
    assert reference_purpose(job("audio", None)) == "song"
    assert reference_purpose(job("voice", "instrumental")) == "instrumental"
    assert reference_purpose(job("audio", "bogus")) == "song"


def test_spoken_notice_only_for_unsaid_voice_and_video_notes() -> None:
    assert needs_spoken_notice(ref("voice"), None)
    assert needs_spoken_notice(ref("video_note"), None)
    assert not needs_spoken_notice(ref("voice"), "voice")
    assert not needs_spoken_notice(ref("voice"), "song")
    assert not needs_spoken_notice(ref("audio"), None)
    assert not needs_spoken_notice(None, None)


# ------------------------------------------------------------------------- vetting files


def test_telegram_download_limit_is_twenty_decimal_megabytes() -> None:
    reference_file_check(MUSIC01, ref("audio", file_size=20_000_000))
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(MUSIC01, ref("audio", file_size=20_000_001))
    key, text = refused(excinfo)
    assert key == "error_reference_too_big"
    assert "20 MB" in text and "at most 20 MB" in text


@pytest.mark.parametrize(
    ("spec", "seconds", "key"),
    [
        (MUSIC01, 9.0, "error_reference_too_short"),  # even rounded up it is under 10 s
        (MUSIC01, 10.0, None),  # may be 10.4 s: the runner measures it exactly
        (MUSIC01, 601.0, None),
        (MUSIC01, 602.0, "error_reference_too_long"),
        (COVER, 5.0, "error_reference_too_short"),
        (COVER, 6.0, None),
        (COVER, 362.0, "error_reference_too_long"),
        (MUSIC01, None, None),  # documents declare no duration
    ],
)
def test_declared_duration_bounds(spec: Any, seconds: float | None, key: str | None) -> None:
    reference = ref("voice", duration=seconds)
    if key is None:
        reference_file_check(spec, reference)
        return
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(spec, reference)
    assert excinfo.value.key == key


def test_too_short_message_names_the_kind_and_the_rule() -> None:
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(MUSIC01, ref("voice", duration=6.0))
    assert (
        refused(excinfo)[1]
        == "Your voice note is 6 sec long; please send more than 10 sec of singing."
    )
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(MUSIC01, ref("video_note", duration=700.0))
    assert (
        "video note is 11 min 40 sec long" in refused(excinfo)[1]
        and "most 10 min." in refused(excinfo)[1]
    )


@pytest.mark.parametrize(
    ("reference", "shown"),
    [
        (ref("photo", mime_type="image/jpeg", duration=None), "a photo"),
        (ref("sticker", duration=None), "a sticker"),
        (ref("document", mime_type="application/pdf", duration=None), "a PDF file"),
        (ref("document", mime_type="application/zip", duration=None), "a ZIP file"),
        (ref("document", mime_type="image/png", duration=None), "a picture file"),
        (ref("document", mime_type="text/plain", duration=None), "a file"),
        (ref("document", mime_type=None, duration=None), "a file"),
    ],
)
def test_wrong_types_are_refused_by_name(reference: TelegramReference, shown: str) -> None:
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(MUSIC01, reference)
    key, text = refused(excinfo)
    assert key == "error_reference_type"
    assert text.endswith(f"not {shown}.")


def test_audio_and_video_documents_are_accepted() -> None:
    reference_file_check(MUSIC01, ref("document", mime_type="audio/x-wav", duration=None))
    reference_file_check(COVER, ref("document", mime_type="video/mp4", duration=None))


def test_models_that_cannot_take_a_file_say_what_to_do() -> None:
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(LEGACY, ref("voice"))
    assert excinfo.value.key == "error_model_reference_link_only"
    assert "ref: https://" in refused(excinfo)[1]
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_file_check(PLAIN, ref("voice"))
    assert excinfo.value.key == "error_model_no_reference"


def test_links_only_for_models_that_fetch_them() -> None:
    reference_url_check(COVER)
    reference_url_check(LEGACY)
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_url_check(MUSIC01)
    assert excinfo.value.key == "error_model_reference_file_only"
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_url_check(PLAIN)
    assert excinfo.value.key == "error_model_no_reference"


def test_reference_required_and_optional() -> None:
    with pytest.raises(ReferenceProblem) as excinfo:
        check_reference_request(MUSIC01, None, None, "la la")
    assert excinfo.value.key == "error_model_needs_reference"
    check_reference_request(PLAIN, None, None, "la la")
    check_reference_request(COVER, None, "https://example.com/a.mp3", None)


def test_music01_lyrics_limit_counts_the_wrapping() -> None:
    reference_lyrics_check(MUSIC01, "x" * 596)
    with pytest.raises(ReferenceProblem) as excinfo:
        reference_lyrics_check(MUSIC01, "x" * 597)
    key, text = refused(excinfo)
    assert key == "error_reference_lyrics_too_long"
    assert "596" in text and "597" in text and "MiniMax-01" in text
    reference_lyrics_check(MUSIC01, "##" + "x" * 596 + "##")  # already wrapped: 600 on the wire
    with pytest.raises(ReferenceProblem):
        reference_lyrics_check(MUSIC01, "##" + "x" * 597 + "##")
    reference_lyrics_check(MUSIC01, "😀" * 298)  # emoji count 2 (UTF-16), as the provider counts
    with pytest.raises(ReferenceProblem):
        reference_lyrics_check(MUSIC01, "😀" * 299)
    reference_lyrics_check(COVER, "x" * 3000)
    reference_lyrics_check(MUSIC01, None)


def test_kind_labels_fall_back_to_file() -> None:
    assert kind_label("voice", "en") == "voice note"
    assert kind_label("weird", "en") == "file"
    error = ReferenceRefused("error_reference_type", kind="document", mime="application/pdf")
    assert "not a PDF file" in error.user_message("en")
    assert "mime" not in error.user_message("en")


# ---------------------------------------------------------------------- finding references


def _message(message_id: int, **fields: Any) -> Message:
    chat = Chat(1001, Chat.PRIVATE)
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Message(message_id, when, chat, **fields)


def test_find_reference_own_media_then_reply() -> None:
    voice = Voice("v-id", "v-uniq", 12, mime_type="audio/ogg", file_size=5000)
    audio = Audio(
        "a-id", "a-uniq", 200, title="Take", file_name="take.mp3", mime_type="audio/mpeg"
    )
    replied = _message(1, voice=voice)
    command = _message(2, text="/song x", reply_to_message=replied)
    found = find_reference(command)
    assert found is not None and found.kind == "voice" and found.duration == 12.0
    assert found.file_unique_id == "v-uniq"
    assert find_reference(command, include_reply=False) is None
    own = _message(3, audio=audio, caption="/song x", reply_to_message=replied)
    found = find_reference(own)
    assert found is not None and found.kind == "audio" and found.title == "Take"
    photo = _message(4, photo=[PhotoSize("p-id", "p-uniq", 90, 90)], caption="/song x")
    found = find_reference(photo)
    assert found is not None and found.kind == "photo"


def test_a_link_plus_attached_media_is_ambiguous_but_a_replied_one_is_ignored() -> None:
    doc = Document("d-id", "d-uniq", file_name="a.mp3", mime_type="audio/mpeg")
    with_media = _message(5, document=doc, caption="/song ref: https://e.com/a.mp3 x")
    with pytest.raises(ReferenceProblem) as excinfo:
        pick_reference(with_media, "https://e.com/a.mp3")
    assert excinfo.value.key == "error_reference_both"
    replying = _message(6, text="/song ref: https://e.com/a.mp3 x", reply_to_message=with_media)
    assert pick_reference(replying, "https://e.com/a.mp3") is None
    found = pick_reference(replying, None)
    assert found is not None and found.kind == "document"


# ------------------------------------------------------------------------- model routing


@pytest.fixture
def config() -> Config:
    return Config.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", "AIMLAPI_KEY": "k"}, env_file=None)


def test_files_go_to_a_model_that_takes_files(config: Config) -> None:
    def pick(chat_default: str | None, kind: str = "telegram", explicit: str | None = None) -> str:
        url = "https://e.com/a.mp3" if kind == "url" else None
        return choose_model(
            explicit=explicit,
            chat_default=chat_default,
            has_lyrics=True,
            reference=ReferenceInfo(kind=kind, url=url),
            config=config,
        ).id

    assert pick(None) == config.reference_model == "music-01"
    assert pick("minimax-music") == "music-01"  # link-only chat default cannot take a file
    assert pick("minimax/music-2.0") == "music-01"
    assert pick("minimax/music-cover") == "minimax/music-cover"
    assert pick(None, "url") == "minimax/music-cover"
    assert pick("minimax-music", "url") == "minimax-music"
    assert pick("music-01", "url") == "minimax/music-cover"
    assert pick(None, explicit="legacy") == "minimax-music"  # then refused with a clear reply


# ---------------------------------------------------------------------------- codec check


def test_missing_codec_stops_the_bot_at_start_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.ops.logging_setup
    from bot.delivery import codec
    from bot.ops import cli

    def no_av(name: str, *args: Any) -> None:
        return None

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("AIMLAPI_KEY", "key")
    monkeypatch.setenv("SONGBOT_DB", str(tmp_path / "songbot.db"))
    monkeypatch.setattr(codec.importlib.util, "find_spec", no_av)  # PyAV not installed
    monkeypatch.setattr(bot.ops.logging_setup, "setup_logging", lambda *a, **k: None)
    assert cli.run() == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "package av is not installed" in err and "pip install" in err
    assert not (tmp_path / "songbot.db").exists()  # stopped before touching anything
