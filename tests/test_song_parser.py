"""The `/song` parser: every documented form, the options, and property tests on hostile text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import t
from bot.intake.parser import (
    MAX_TOTAL_LENGTH,
    Purpose,
    SongCommand,
    UsageError,
    parse_song_command,
)

BOT = "SongTestBot"


def parse(text: str, reply_text: str | None = None) -> SongCommand | None:
    return parse_song_command(text, bot_username=BOT, reply_text=reply_text)


def parsed(text: str, reply_text: str | None = None) -> SongCommand:
    result = parse(text, reply_text)
    assert result is not None
    return result


def usage_key(text: str, reply_text: str | None = None) -> str:
    with pytest.raises(UsageError) as info:
        parse(text, reply_text)
    return info.value.key


# --- forms -------------------------------------------------------------------------------------


def test_style_then_lyrics_on_next_lines() -> None:
    cmd = parsed("/song dreamy synth-pop\n[Verse]\nNeon lights\n\n[Chorus]\nWe glow")
    assert cmd.style == "dreamy synth-pop"
    assert cmd.lyrics == "[Verse]\nNeon lights\n\n[Chorus]\nWe glow"
    assert cmd.lyrics_from_reply is False
    assert (cmd.model, cmd.reference_url, cmd.purpose) == (None, None, None)


def test_style_alone_is_instrumental() -> None:
    cmd = parsed("/song   lo-fi   piano, rainy night  ")
    assert cmd.style == "lo-fi   piano, rainy night"  # inner whitespace kept
    assert cmd.lyrics is None


@pytest.mark.parametrize(
    ("text", "style", "lyrics"),
    [
        ("/song sea shanty | Yo ho, we sail", "sea shanty", "Yo ho, we sail"),
        ("/song sea shanty|Yo ho", "sea shanty", "Yo ho"),
        ("/song a | b | c", "a", "b | c"),
        ("/song rock |   ", "rock", None),
        ("/song rock | first\nsecond", "rock", "first\nsecond"),
    ],
)
def test_single_line_pipe_form(text: str, style: str, lyrics: str | None) -> None:
    cmd = parsed(text)
    assert (cmd.style, cmd.lyrics) == (style, lyrics)


def test_pipe_with_empty_style_is_no_style() -> None:
    assert usage_key("/song | la la la") == "usage_no_style"
    assert usage_key("/song    |   ") == "usage_empty"


def test_reply_text_becomes_lyrics() -> None:
    cmd = parsed("/song punk rock", reply_text="\n[Verse]\nNo future\r\nNo past  \n\n")
    assert cmd.style == "punk rock"
    assert cmd.lyrics == "[Verse]\nNo future\nNo past"
    assert cmd.lyrics_from_reply is True


def test_own_lyrics_win_over_reply() -> None:
    cmd = parsed("/song punk rock\nmine", reply_text="theirs")
    assert cmd.lyrics == "mine"
    assert cmd.lyrics_from_reply is False


def test_blank_reply_is_ignored() -> None:
    cmd = parsed("/song punk rock", reply_text=" \n\t\n")
    assert cmd.lyrics is None
    assert cmd.lyrics_from_reply is False


def test_bare_command_is_usage_empty() -> None:
    assert usage_key("/song") == "usage_empty"
    assert usage_key("/song   \n \n  ") == "usage_empty"
    assert usage_key("/song@SongTestBot") == "usage_empty"
    assert usage_key("/song", reply_text="   ") == "usage_empty"


def test_lyrics_without_style() -> None:
    assert usage_key("/song\n[Verse]\nla la") == "usage_no_style"
    assert usage_key("/song", reply_text="some lyrics") == "usage_no_style"
    assert usage_key("/song model:music-2.0") == "usage_no_style"
    assert usage_key("/song voice: ref:https://x.example/a.mp3") == "usage_no_style"


def test_usage_error_is_a_value_error_with_catalogue_message() -> None:
    with pytest.raises(ValueError, match="usage_empty") as info:
        parse("/song")
    assert isinstance(info.value, UsageError)
    assert info.value.user_message("en") == t("usage_empty", "en")
    assert "/song dreamy synth-pop" in t("usage_empty", "en")


# --- addressing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["hello", " /song rock", "/songs rock", "/song_x rock", "/so ng", "", "song rock", "/sing x"],
)
def test_not_a_song_command(text: str) -> None:
    assert parse(text) is None


def test_other_bot_is_ignored() -> None:
    assert parse("/song@OtherBot rock\nla la") is None
    assert parse("/song@ rock") is None
    assert parse("/song@SongTestBot2 rock") is None


@pytest.mark.parametrize(
    "text", ["/song rock", "/SONG rock", "/Song@songtestbot rock", "/song@SONGTESTBOT rock"]
)
def test_case_insensitive_command_and_username(text: str) -> None:
    assert parsed(text).style == "rock"


def test_bot_username_with_at_sign() -> None:
    cmd = parse_song_command("/song@SongTestBot rock", bot_username="@songtestbot")
    assert cmd is not None
    assert cmd.style == "rock"


def test_command_followed_by_newline_only() -> None:
    assert usage_key("/song@SongTestBot\nla la") == "usage_no_style"


# --- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("/song model:music-2.6 dreamy pop", "music-2.6"),
        ("/song model=minimax/music-2.0 dreamy pop", "minimax/music-2.0"),
        ("/song MODEL:stable-audio dreamy pop", "stable-audio"),
        ("/song model:a model:b dreamy pop", "b"),  # the later one wins
    ],
)
def test_model_token(text: str, model: str) -> None:
    cmd = parsed(text)
    assert cmd.model == model
    assert cmd.style == "dreamy pop"


def test_model_without_value() -> None:
    assert usage_key("/song model: dreamy pop") == "usage_model_missing"
    assert usage_key("/song model=") == "usage_model_missing"


@pytest.mark.parametrize(
    "text",
    [
        "/song ref: https://example.com/a.mp3 dreamy pop",
        "/song ref:https://example.com/a.mp3 dreamy pop",
        "/song REF:https://example.com/a.mp3   dreamy pop",
    ],
)
def test_ref_token(text: str) -> None:
    cmd = parsed(text)
    assert cmd.reference_url == "https://example.com/a.mp3"
    assert cmd.style == "dreamy pop"


def test_ref_http_and_query_kept() -> None:
    cmd = parsed("/song ref:http://cdn.example.org:8080/x.wav?sig=a%20b&e=1 lo-fi")
    assert cmd.reference_url == "http://cdn.example.org:8080/x.wav?sig=a%20b&e=1"


@pytest.mark.parametrize(
    "ref",
    [
        "ftp://example.com/a.mp3",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.com/a.mp3",
        "https://",
        "http://example.com:99999/a.mp3",
        "http://[::1/a.mp3",
        "",
        "https://" + "a" * 3000 + ".com",
    ],
)
def test_bad_ref_urls(ref: str) -> None:
    assert usage_key(f"/song ref: {ref} dreamy pop") == "error_ref_url"


def test_ref_at_end_of_line_without_url() -> None:
    assert usage_key("/song ref:") == "error_ref_url"
    assert usage_key("/song ref:   | la la") == "error_ref_url"


@pytest.mark.parametrize(
    ("word", "purpose"),
    [("voice:", Purpose.VOICE), ("Instrumental:", Purpose.INSTRUMENTAL), ("SONG:", Purpose.SONG)],
)
def test_purpose_word(word: str, purpose: Purpose) -> None:
    cmd = parsed(f"/song {word} dreamy pop")
    assert cmd.purpose is purpose
    assert cmd.style == "dreamy pop"


def test_options_in_any_order() -> None:
    one = parsed("/song voice: model:music-01 ref:https://a.example/x.mp3 jazz | la la")
    two = parsed("/song ref: https://a.example/x.mp3 voice: model=music-01 jazz|la la")
    assert one == two
    assert one == SongCommand(
        style="jazz",
        lyrics="la la",
        model="music-01",
        reference_url="https://a.example/x.mp3",
        purpose=Purpose.VOICE,
        lyrics_from_reply=False,
    )


def test_option_like_words_after_the_style_stay_in_the_style() -> None:
    cmd = parsed("/song jazz model:x voice: ref:nothing")
    assert cmd.style == "jazz model:x voice: ref:nothing"
    assert (cmd.model, cmd.purpose, cmd.reference_url) == (None, None, None)


def test_purpose_needs_a_separate_word() -> None:
    cmd = parsed("/song voice:over documentary")
    assert cmd.purpose is None
    assert cmd.style == "voice:over documentary"


def test_options_only_on_the_first_line() -> None:
    cmd = parsed("/song jazz\nmodel:music-2.0\nref: https://x.example/a.mp3")
    assert cmd.model is None
    assert cmd.lyrics == "model:music-2.0\nref: https://x.example/a.mp3"


# --- exact line breaks -------------------------------------------------------------------------


def test_line_breaks_and_indentation_preserved_exactly() -> None:
    lyrics = "  [Intro]\n\n\nla  la\t la\n   indented line\n\n[Outro]\n##hum##"
    cmd = parsed(f"/song ballad\n\n\n{lyrics}   \n\n  \n")
    assert cmd.lyrics == lyrics


def test_crlf_becomes_lf() -> None:
    cmd = parsed("/song ballad\r\n[Verse]\r\nline one\r\n\r\nline two\r\n")
    assert cmd.lyrics == "[Verse]\nline one\n\nline two"
    cmd = parsed("/song ballad\r[Verse]\rold mac")
    assert cmd.lyrics == "[Verse]\nold mac"


def test_html_and_markdown_characters_kept_verbatim() -> None:
    cmd = parsed("/song <b>rock</b> & *roll* | _under_ [x](y) `code` &amp;")
    assert cmd.style == "<b>rock</b> & *roll*"
    assert cmd.lyrics == "_under_ [x](y) `code` &amp;"


def test_unicode_style_and_lyrics() -> None:
    cmd = parsed("/song 🎸 רוק עברי ✨\nשיר 🌙\n日本語の歌詞")
    assert cmd.style == "🎸 רוק עברי ✨"
    assert cmd.lyrics == "שיר 🌙\n日本語の歌詞"


def test_unicode_line_separator_never_in_style() -> None:
    cmd = parsed("/song jazz\u2028funk\x85soul")
    assert cmd.style == "jazz funk soul"
    assert len(cmd.style.splitlines()) == 1


def test_caption_with_command_only() -> None:
    cmd = parsed("/song@SongTestBot voice: acoustic folk")
    assert cmd.purpose is Purpose.VOICE
    assert cmd.lyrics is None


# --- length ------------------------------------------------------------------------------------


def test_length_limit_counts_utf16_units() -> None:
    style = "pop"
    fits = "a" * (MAX_TOTAL_LENGTH - len(style))
    assert parsed(f"/song {style}\n{fits}").lyrics == fits
    with pytest.raises(UsageError) as info:
        parse(f"/song {style}\n{fits}b")
    assert info.value.key == "usage_too_long"
    assert info.value.params == {"length": MAX_TOTAL_LENGTH + 1, "limit": MAX_TOTAL_LENGTH}
    # 5,000 emoji are 5,000 code points but 10,000 UTF-16 units: over the limit with the style.
    assert usage_key("/song pop\n" + "😀" * 5000) == "usage_too_long"
    assert usage_key("/song pop", reply_text="x" * MAX_TOTAL_LENGTH) == "usage_too_long"


def test_surrounding_whitespace_does_not_count() -> None:
    lyrics = "a" * (MAX_TOTAL_LENGTH - 3)
    cmd = parsed("/song pop" + " " * 5000 + "\n" * 5000 + lyrics + "\n " * 5000)
    assert cmd.lyrics == lyrics


# --- properties --------------------------------------------------------------------------------

PREFIXES = st.sampled_from(
    [
        "/song",
        "/SONG",
        "/song@SongTestBot",
        "/song@otherbot",
        "/song ",
        "/song\n",
        "/song model:",
        "/song ref:",
        "/song ref: https://ok.example/a.mp3 ",
        "/song voice: ",
        "/song x | ",
        "",
    ]
)
HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("<>&*_[]`|:/\\@\r\n\t \u200f\u202e\u2028\x00\x1b😀🇫🇷\u0301")),
    ),
    max_size=300,
)


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_invariants(text: str, reply: str | None, result: SongCommand | None) -> None:
    if result is None:
        return
    assert text[:5].lower() == "/song"
    assert result.style
    assert result.style == result.style.strip()
    assert "\n" not in result.style and "\r" not in result.style
    assert len(result.style.splitlines()) == 1
    if result.lyrics is not None:
        assert result.lyrics == result.lyrics.rstrip()
        assert result.lyrics.strip()
        assert "\r" not in result.lyrics
        source = _normalised(reply) if result.lyrics_from_reply and reply else _normalised(text)
        assert result.lyrics in source  # never gains characters, never reorders them
    else:
        assert result.lyrics_from_reply is False
    if result.reference_url is not None:
        assert result.reference_url.lower().startswith(("http://", "https://"))
        assert result.reference_url in text
    if result.model is not None:
        assert result.model in text
        assert result.model.strip() == result.model != ""


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(PREFIXES, HOSTILE, st.one_of(st.none(), HOSTILE))
def test_never_crashes_on_hostile_text(prefix: str, body: str, reply: str | None) -> None:
    text = prefix + body
    try:
        result = parse(text, reply)
    except UsageError as exc:
        error = exc
    else:
        _check_invariants(text, reply, result)
        return
    assert error.key in {
        "usage_empty",
        "usage_no_style",
        "error_ref_url",
        "usage_model_missing",
        "usage_too_long",
    }
    t(error.key, "en", **error.params)  # every key renders


@settings(max_examples=200)
@given(st.text(max_size=200), st.text(max_size=200))
def test_roundtrip_newline_form(style_words: str, lyric_text: str) -> None:
    style = " ".join(style_words.replace("|", " ").split())
    lyrics = lyric_text.replace("\r", "")
    text = f"/song {style}\n{lyrics}"
    optionish = style.lower().startswith(("model", "ref:", "voice:", "song:", "instrumental:"))
    try:
        result = parse(text)
    except UsageError:
        assert not style or optionish
        return
    assert result is not None
    if not optionish:
        assert result.style == style
    expected = lyrics.rstrip()
    if result.lyrics is not None:
        assert expected.endswith(result.lyrics)
        assert expected[: len(expected) - len(result.lyrics)].strip() == ""
    else:
        assert not expected.strip()


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["/song pop\n", "/song ", "/song@SongTestBot ", "/song x |"]))
def test_huge_input(prefix: str) -> None:
    huge = prefix + ("😀 [Verse] <&>\n" * 20_000)
    with pytest.raises(UsageError) as info:
        parse(huge)
    assert info.value.key == "usage_too_long"


def test_empty_and_whitespace_inputs() -> None:
    assert parse("") is None
    assert parse("   ") is None
    assert parse("\n/song rock") is None
