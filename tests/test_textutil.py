"""Edge cases of the UTF-16 helpers: Telegram counts code units, so emoji count twice."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.textutil import (
    DEFAULT_TITLE,
    html_escape,
    human_duration,
    safe_title,
    truncate_utf16,
    utf16_len,
)

THUMBS_MEDIUM = "👍🏽"  # emoji + skin-tone modifier: 4 units, 2 code points
FAMILY = "👨\u200d👩\u200d👧"  # ZWJ sequence: 8 units
FLAG_FR = "🇫🇷"  # two regional indicators: 4 units


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("abc", 3),
        ("é", 1),
        ("😀", 2),
        ("a😀b", 4),
        (THUMBS_MEDIUM, 4),
        (FAMILY, 8),
        ("שלום", 4),
        ("\ud800", 1),  # a lone surrogate counts one unit instead of crashing
    ],
)
def test_utf16_len(text: str, units: int) -> None:
    assert utf16_len(text) == units


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate_utf16("hello", 5) == "hello"
    assert truncate_utf16("😀😀", 4) == "😀😀"


def test_truncate_adds_ellipsis_within_limit() -> None:
    out = truncate_utf16("hello world", 8)
    assert out == "hello w…"
    assert utf16_len(out) == 8


def test_truncate_strips_space_before_ellipsis() -> None:
    assert truncate_utf16("hello world", 7) == "hello…"


def test_truncate_never_splits_a_surrogate_pair() -> None:
    # At limit 3 the 1-unit ellipsis leaves 2 units: "a" plus half an emoji, so the emoji goes.
    out = truncate_utf16("a😀😀", 3)
    assert out == "a…"
    assert utf16_len(out) <= 3
    out.encode("utf-8")  # would raise on a lone surrogate


def test_truncate_keeps_clusters_whole() -> None:
    out = truncate_utf16("ab" + THUMBS_MEDIUM + "cd", 5)
    assert out == "ab…"
    out = truncate_utf16("x" + FAMILY + "yz", 8)
    assert out == "x…"
    out = truncate_utf16("x" + FLAG_FR + FLAG_FR, 6)
    assert out == "x" + FLAG_FR + "…"
    out = truncate_utf16("x" + FLAG_FR * 2, 4)
    assert out == "x…"


def test_truncate_keeps_combining_mark_with_base() -> None:
    text = "cafe\u0301 noir"
    assert truncate_utf16(text, 5) == "caf…"


def test_truncate_tiny_limits() -> None:
    assert truncate_utf16("hello", 0) == ""
    assert truncate_utf16("hello", 1) == "…"
    assert truncate_utf16("hello", 2, ellipsis="...") == "he"
    with pytest.raises(ValueError, match="limit must be >= 0"):
        truncate_utf16("hello", -1)


@given(st.text(), st.integers(min_value=0, max_value=40))
def test_truncate_property(text: str, limit: int) -> None:
    out = truncate_utf16(text, limit)
    assert utf16_len(out) <= limit
    if utf16_len(text) <= limit:
        assert out == text
    elif limit == 0:
        assert out == ""
    else:
        assert out.endswith("…")
        assert text.startswith(out[:-1])
    out.encode("utf-16-le")  # never a lone surrogate from a split pair


def test_html_escape_only_three_characters() -> None:
    assert html_escape("a<b>&c\"d'") == "a&lt;b&gt;&amp;c\"d'"
    assert html_escape("&amp;") == "&amp;amp;"


def test_safe_title_prefers_style() -> None:
    assert safe_title("  dreamy\n synth-pop  ", "[Verse]\nNeon lights") == "dreamy synth-pop"


def test_safe_title_falls_back_to_first_lyric_line() -> None:
    lyrics = "\n[Intro]\n(Chorus)\n##\n[Verse 1] Neon lights on the rain\nsecond line"
    assert safe_title("", lyrics) == "Neon lights on the rain"
    assert safe_title(None, "##Swift and boundless##\nx") == "Swift and boundless"


def test_safe_title_default_and_control_characters() -> None:
    assert safe_title("", None) == DEFAULT_TITLE
    assert safe_title(" \x00\x07 ", "[Verse]\n\n") == DEFAULT_TITLE
    assert safe_title("a\tb\x00c\u2028d", None) == "a bc d"


def test_safe_title_limit() -> None:
    title = safe_title("😀" * 100, None, limit=20)
    assert utf16_len(title) <= 20
    assert title.endswith("…")
    assert "\n" not in safe_title("x" * 200, None)
    assert utf16_len(safe_title("x" * 200, None)) == 64


@given(st.text(), st.one_of(st.none(), st.text()), st.integers(min_value=1, max_value=100))
def test_safe_title_property(style: str, lyrics: str | None, limit: int) -> None:
    title = safe_title(style, lyrics, limit)
    assert title
    assert utf16_len(title) <= limit
    assert len(title.splitlines()) == 1
    assert title == title.strip()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0:00"),
        (0.4, "0:00"),
        (5, "0:05"),
        (59.6, "1:00"),
        (67.2, "1:07"),
        (600, "10:00"),
        (3725, "1:02:05"),
        (-3, "0:00"),
        (math.inf, "0:00"),
        (math.nan, "0:00"),
        (None, "0:00"),
    ],
)
def test_human_duration(seconds: float | None, shown: str) -> None:
    assert human_duration(seconds) == shown
