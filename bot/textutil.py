"""Small text helpers shared by the parser, the handlers and delivery.

Why a module of its own: Telegram counts every length limit (messages, captions, entity offsets) in
UTF-16 code units, not Python code points, so an emoji counts twice; getting that wrong in one
place produces "message is too long" or a broken surrogate pair on the wire.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from storage.jobs import Job

_ZWJ: Final = "\u200d"
_TAG_LINE: Final = re.compile(r"^\s*(?:\[[^\]\n]*\]|\([^)\n]*\)|#+)\s*$")
_LEADING_TAGS: Final = re.compile(r"^\s*(?:\[[^\]\n]*\]\s*|#+\s*)+")
_TRAILING_HASHES: Final = re.compile(r"\s*#+\s*$")
DEFAULT_TITLE: Final = "Song"


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram limit and entity offset."""
    # surrogatepass: a lone surrogate (possible in hostile input) counts as one unit, not a crash.
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def shortest_length(s: str) -> int:
    """The smaller of the two lengths validators use for a minimum: code points (JSON Schema)
    and UTF-16 units (JavaScript). Six emoji are 12 units but only 6 code points."""
    return min(len(s), utf16_len(s))


def _units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _joins_previous(ch: str) -> bool:
    """True for characters that belong to the cluster before them (marks, ZWJ, selectors)."""
    code = ord(ch)
    return (
        ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF  # variation selectors supplement
        or 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (flag sequences)
        or unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me")
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def truncate_utf16(s: str, limit: int, ellipsis: str = "…") -> str:
    """Shorten `s` to at most `limit` UTF-16 units, ending in `ellipsis` when anything was cut.

    Why not slicing: a slice can cut an emoji's surrogate pair or a ZWJ sequence in half, which
    Telegram rejects or shows as garbage. The cut backs off to a whole character cluster.
    """
    if limit < 0:
        raise ValueError("limit must be >= 0")
    if utf16_len(s) <= limit:
        return s
    tail = ellipsis if utf16_len(ellipsis) <= limit else ""
    budget = limit - utf16_len(tail)
    used = 0
    end = 0
    for ch in s:
        width = _units(ch)
        if used + width > budget:
            break
        used += width
        end += 1
    # Do not leave half a cluster: if the first dropped character joins the one before it, or
    # the last kept one is a joiner, back off to the start of that cluster.
    while end > 0 and (_joins_previous(s[end]) or s[end - 1] == _ZWJ):
        end -= 1
    # A flag is a pair of regional indicators; never keep an odd one out.
    if end > 0 and _is_regional(s[end]):
        run = 0
        while run < end and _is_regional(s[end - 1 - run]):
            run += 1
        end -= run % 2
    return s[:end].rstrip() + tail


def html_escape(s: str) -> str:
    """Escape for Telegram's HTML parse mode, which only requires `&`, `<` and `>`."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(s: str) -> str:
    """Collapse all whitespace (including line breaks) to single spaces and drop control chars."""
    cleaned = "".join(
        " " if ch.isspace() else ch
        for ch in s
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs", "Cf") or ch == _ZWJ
    )
    return " ".join(cleaned.split())


def safe_title(style: str | None, lyrics: str | None, limit: int = 64) -> str:
    """A one-line song title: the style, else the first lyric line that is not a structure tag.

    Why: the title shows in Telegram's music player and in file names, so it must be short, have
    no line breaks or control characters, and never be empty.
    """
    candidate = _one_line(style or "")
    if not candidate and lyrics:
        for line in lyrics.splitlines():
            if _TAG_LINE.match(line):
                continue
            text = _TRAILING_HASHES.sub("", _LEADING_TAGS.sub("", line))
            text = _one_line(text)
            if text:
                candidate = text
                break
    if not candidate:
        candidate = DEFAULT_TITLE
    return truncate_utf16(candidate, max(limit, 1))


_CHORUS_TAG: Final = re.compile(
    r"^\s*[\[(#]*\s*(?:pre-?)?(?:chorus|refrain|hook|припев|estribillo|coro)\b", re.IGNORECASE
)


def _lyric_lines(lyrics: str) -> list[tuple[bool, str]]:
    """Each sung line of `lyrics`, flagged True when it is in a chorus section."""
    out: list[tuple[bool, str]] = []
    in_chorus = False
    for line in lyrics.splitlines():
        if _TAG_LINE.match(line):
            in_chorus = bool(_CHORUS_TAG.match(line)) and "pre" not in line.lower()
            continue
        text = _one_line(_TRAILING_HASHES.sub("", _LEADING_TAGS.sub("", line)))
        if text:
            out.append((in_chorus, text))
    return out


def song_title(title: str | None, lyrics: str | None, style: str | None, limit: int = 64) -> str:
    """The song's one title everywhere (#25.12): the /write title, else the first chorus line,
    else the first sung line, else the style, else "Song".

    Why the chorus first: it is the line people remember and search for; a style ("warm
    acoustic pop") names a genre, not a song, and four songs in one style would look alike.
    """
    candidate = _one_line(title or "")
    if not candidate and lyrics:
        lines = _lyric_lines(lyrics)
        chorus = [text for in_chorus, text in lines if in_chorus]
        if chorus or lines:
            candidate = (chorus or [text for _, text in lines])[0]
    if not candidate:
        candidate = _one_line(style or "")
    return truncate_utf16(candidate or DEFAULT_TITLE, max(limit, 1))


def job_title(job: Job, limit: int = 64) -> str:
    """The title a job was stored with; for a job from before titles were stored, derived the
    same way intake derives it now."""
    if job.title:
        return truncate_utf16(job.title, max(limit, 1))
    return song_title(None, job.lyrics, job.prompt, limit)


def file_stem(title: str, limit: int = 60) -> str:
    """A file name for `title` in characters every OS and Telegram client accept."""
    # Punctuation becomes a space, not "_": "Stay, stay" is "Stay stay.mp3", not "Stay_ stay".
    keep = "".join(ch if ch.isalnum() or ch in "-_" else " " for ch in title)
    keep = " ".join(keep.split()).strip(" _-")
    return (keep or "song")[:limit]


def human_duration(seconds: float | None) -> str:
    """`67.2` → `"1:07"`, `3725` → `"1:02:05"`; unknown, negative or infinite shows `"0:00"`."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return "0:00"
    total = int(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
