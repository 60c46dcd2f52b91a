"""The `/song` command parser: message text in, a `SongCommand` (or a `UsageError`) out.

Why a pure function: PTB's `context.args` splits on whitespace and loses the lyrics' line breaks,
and a parser without Telegram objects can be tested exhaustively (including property tests).

Syntax (quoted by the README and /help)::

    /song <style>                      an instrumental (no lyrics)
    /song <style>
    [Verse]
    <lyrics, one line per line>        lyrics on the lines below the command
    /song <style> | <lyrics>           everything on one line
    /song <style>   (as a reply)       the replied-to text message holds the lyrics

Options go first, before the style words, in any order:

    model:<id-or-alias>   also model=<id>; e.g. model:music-2.6, model:minimax/music-2.0
    ref: <url>            also ref:<url>; an http(s) link to a reference audio file
    voice: | instrumental: | song:
                          what the reference contains (a sung a-cappella take, backing only,
                          or a full mix)

Example: ``/song model:music-2.0 ref: https://example.com/take.mp3 voice: dreamy synth-pop``.

Rules worth knowing:
- The style is the rest of the first line; lyrics keep every line break and structure tag
  (`[Verse]`, `[Chorus]`); only blank lines around them and trailing spaces are dropped.
- An option-looking word after the first style word is part of the style; a repeated option
  replaces the earlier one. Option values end at whitespace or `|`.
- `/song@OtherBot` is ignored; `/song@<this bot>` matches case-insensitively.
- Lyrics from a replied-to message are used only when the command itself has none.
- Style plus lyrics may be at most 10,000 characters (UTF-16 units, as Telegram counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from bot.errors import UserInputError
from bot.textutil import utf16_len

MAX_TOTAL_LENGTH: Final = 10_000
MAX_URL_LENGTH: Final = 2048

_COMMAND: Final = re.compile(r"/song(?:@([A-Za-z0-9_]*))?(?=\s|$)", re.IGNORECASE)
_MODEL: Final = re.compile(r"model[:=]([^\s|]*)", re.IGNORECASE)
_REF: Final = re.compile(r"ref:[^\S\n]*([^\s|]*)", re.IGNORECASE)
_PURPOSE: Final = re.compile(r"(voice|instrumental|song):(?=\s|\||$)", re.IGNORECASE)
_SPACE: Final = re.compile(r"\s+")
# Characters other than "\n" that Python treats as line boundaries; never allowed in a style.
_LINE_BREAKS: Final = str.maketrans(dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", " "))


class Purpose(StrEnum):
    """What an uploaded reference contains, as the music-01 upload's `purpose` field."""

    SONG = "song"
    VOICE = "voice"
    INSTRUMENTAL = "instrumental"


@dataclass(frozen=True, slots=True)
class SongCommand:
    """A parsed `/song`; the caller resolves `model` aliases and fetches `reference_url`."""

    style: str
    lyrics: str | None
    model: str | None = None
    reference_url: str | None = None
    purpose: Purpose | None = None
    lyrics_from_reply: bool = False


class UsageError(UserInputError, ValueError):
    """The command cannot be understood; `key` is the catalogue entry explaining the syntax."""

    key = "usage_empty"


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean_lyrics(block: str) -> str | None:
    """Drop blank lines around the block and trailing whitespace; keep everything inside."""
    lines = block.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    cleaned = "\n".join(lines[start:]).rstrip()
    return cleaned or None


def _valid_url(candidate: str) -> bool:
    if not candidate or len(candidate) > MAX_URL_LENGTH:
        return False
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in candidate):
        return False
    try:
        parts = urlsplit(candidate)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _addressed_to_us(mention: str | None, bot_username: str) -> bool:
    if mention is None:
        return True
    return mention.lower() == bot_username.lstrip("@").lower() and bool(mention)


def parse_song_command(
    text: str, *, bot_username: str, reply_text: str | None = None
) -> SongCommand | None:
    """Parse a `/song` message (text or caption); `None` when it is not a `/song` for this bot.

    Raises `UsageError` with a catalogue key: `usage_empty`, `usage_no_style`, `error_ref_url`,
    `usage_model_missing` or `usage_too_long` (params `length`, `limit`).
    """
    match = _COMMAND.match(text)
    if match is None or not _addressed_to_us(match.group(1), bot_username):
        return None

    body = _normalise_newlines(text[match.end() :])
    first, newline, rest = body.partition("\n")

    model: str | None = None
    reference_url: str | None = None
    purpose: Purpose | None = None
    saw_option = False
    pos = 0
    while True:
        space = _SPACE.match(first, pos)
        if space is not None:
            pos = space.end()
        if (found := _MODEL.match(first, pos)) is not None:
            if not found.group(1):
                raise UsageError("usage_model_missing")
            model = found.group(1)
        elif (found := _REF.match(first, pos)) is not None:
            if not _valid_url(found.group(1)):
                raise UsageError("error_ref_url")
            reference_url = found.group(1)
        elif (found := _PURPOSE.match(first, pos)) is not None:
            purpose = Purpose(found.group(1).lower())
        else:
            break
        saw_option = True
        pos = found.end()

    style_part, pipe, inline = first[pos:].partition("|")
    style = style_part.translate(_LINE_BREAKS).strip()
    lyrics_block = inline.lstrip() + newline + rest if pipe else rest
    lyrics = _clean_lyrics(lyrics_block)

    from_reply = False
    if lyrics is None and reply_text is not None:
        lyrics = _clean_lyrics(_normalise_newlines(reply_text))
        from_reply = lyrics is not None

    if not style:
        if lyrics is None and not saw_option:
            raise UsageError("usage_empty")
        raise UsageError("usage_no_style")

    length = utf16_len(style) + (utf16_len(lyrics) if lyrics else 0)
    if length > MAX_TOTAL_LENGTH:
        raise UsageError("usage_too_long", length=length, limit=MAX_TOTAL_LENGTH)

    return SongCommand(
        style=style,
        lyrics=lyrics,
        model=model,
        reference_url=reference_url,
        purpose=purpose,
        lyrics_from_reply=from_reply,
    )
