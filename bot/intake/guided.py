"""The guided flow's rules, without Telegram: which question comes next, how a typed answer reads,
and whether a `/song` without lyrics reads as an idea (#25.1, #25.2, #26.3).

Why pure: the same rules serve a button and a typed answer, after a restart too (the answers are
a JSON row, storage/flows.py), and they are tested without a bot.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

What = Literal["idea", "lyrics", "instrumental", "reference"]
WHATS: Final[tuple[What, ...]] = ("idea", "lyrics", "instrumental", "reference")
VOICES: Final = ("female", "male", "any")
PRESETS: Final = 6  # flow_preset_1 … flow_preset_6 in the catalogue

# Steps, in order: what it is, its words (when not given yet), the style, the voice (for sung
# songs without a recording), the words of a recording's song, then the preview.
WHAT, TEXT, STYLE, VOICE, REF_LYRICS, PREVIEW = (
    "what",
    "text",
    "style",
    "voice",
    "lyrics",
    "preview",
)
TYPED_STEPS: Final = frozenset({TEXT, STYLE, VOICE, REF_LYRICS})

# Words that make a `/song` without lyrics read as an idea for a song rather than a style:
# the song is *about* someone, *for* someone, or it says "song". "lo-fi piano for studying" stays
# a style; "a birthday song for my sister Anna" is an idea.
_IDEA_WORDS: Final = re.compile(
    r"\b(?:song|songs|about|my|our|your|birthday|wedding|anniversary|"
    r"песн\w*|про|мо[йяеёю]\w*|наш\w*|тво[йяеёю]\w*|день\s+рождения|свадьб\w*|"
    r"canci[oó]n\w*|sobre|mis?|nuestr[oa]s?|tus?|cumplea[ñn]os|boda)\b",
    re.IGNORECASE,
)
# How a typed voice answer starts, in en/ru/es; female first ("mujer" is not "male").
_FEMALE: Final = ("f", "wom", "girl", "she", "жен", "дев", "muj", "chica")
_MALE: Final = ("mal", "man", "men", "masc", "boy", "муж", "пар", "homb", "chico")
_ANY: Final = ("any", "either", "whatever", "both", "люб", "все", "неваж", "cualq", "igual", "da ")


def reads_as_idea(style: str) -> bool:
    """Whether a `/song` text without lyrics describes a song to write rather than a sound."""
    return _IDEA_WORDS.search(style) is not None


def voice_from_text(text: str) -> str | None:
    """A typed answer to "whose voice?": female, male, any, or None when it is not one."""
    word = text.strip().lower()
    for voice, starts in (("female", _FEMALE), ("any", _ANY), ("male", _MALE)):
        if word.startswith(starts):
            return voice
    return None


def next_step(data: dict[str, Any]) -> str:
    """The first question the answers so far leave open."""
    what = data.get("what")
    if what not in WHATS:
        return WHAT
    if what != "reference" and not data.get("text"):
        return TEXT
    if not data.get("style"):
        return STYLE
    if what in ("idea", "lyrics") and data.get("voice") not in VOICES:
        return VOICE
    if what == "reference" and "lyrics" not in data:
        return REF_LYRICS
    return PREVIEW


def with_voice(style: str, voice_words: str | None) -> str:
    """The style as the model reads it: the voice goes into the prompt ("…, female vocals")."""
    if not voice_words or voice_words.lower() in style.lower():
        return style
    return f"{style}, {voice_words}"
