"""The cover thumbnail sent with every song: a waveform of the song itself, with its title.

Why: a song with its own picture stands out in a chat and in Telegram's music player. The bars are
drawn from sampled windows of the audio (audio_levels.py), the colours from the sound (a hash
for identity, the zero-crossing rate for brightness), and the text from the title with whatever
font the machine has. Drawing runs in a thread; decoding outside the GIL.
"""

from __future__ import annotations

import asyncio
import colorsys
import functools
import hashlib
import io
import logging
import operator
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bot.audio_format import sniff_format
from bot.delivery.audio_levels import Levels, mp3_levels, pcm_levels
from bot.delivery.media import MediaError, decode_pcm
from bot.textutil import truncate_utf16

log = logging.getLogger(__name__)

COVER_SIZE: Final = 320
COVER_MAX_BYTES: Final = 200_000
_MARGIN: Final = 16
_BAR, _GAP = 3, 1
BARS: Final = (COVER_SIZE - 2 * _MARGIN + _GAP) // (_BAR + _GAP)  # 72
_PCM_RATE: Final = 8000  # for formats decoded whole by ffmpeg
_PCM_MAX_SECONDS: Final = 1200  # bounds memory: 20 min of mono 8 kHz s16le is about 19 MB
# Samples per bar that peak and RMS are read from, evenly strided: Python walks each one (holding
# the GIL while songs stream), and 192 points of a 50 ms window draw the same 64-pixel-high bar.
_POINTS_PER_BAR: Final = 192


@dataclass(frozen=True, slots=True)
class _Palette:
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    wave: tuple[int, int, int]
    peak: tuple[int, int, int]


def _rgb(h: float, light: float, sat: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(light, 0.0), 1.0), min(max(sat, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


_SIGN_BITS: Final = bytes(0x30 if byte < 0x80 else 0x31 for byte in range(256))  # "0" / "1"


def _zero_crossing_rate(windows: list[array[int]]) -> float:
    """Sign changes per sample, counted in C: the high byte of each s16 sample carries its sign,
    mapped to "0"/"1", and every "01" or "10" is a crossing (neither pattern can overlap itself,
    so `bytes.count` counts them all)."""
    crossings = pairs = 0
    for window in windows:
        if len(window) < 2:
            continue
        raw = window.tobytes()
        signs = raw[1::2] if array("h", [1]).tobytes()[0] == 1 else raw[0::2]
        signs = signs.translate(_SIGN_BITS)
        crossings += signs.count(b"01") + signs.count(b"10")
        pairs += len(window) - 1
    return crossings / max(1, pairs)


def _palette(levels: Levels) -> _Palette:
    """Colours from the audio itself: the hue from a hash of the samples, brightness from pitch.

    Why both: the hash makes every song distinct, and the zero-crossing rate (a cheap stand-in
    for the spectral centroid) makes bright-sounding songs look brighter.
    """
    digest = hashlib.blake2b(digest_size=8)
    for window in levels.windows:
        digest.update(window.tobytes())
    hue = digest.digest()[0] / 255.0
    shift = 0.08 + digest.digest()[1] / 255.0 * 0.25
    frequency = _zero_crossing_rate(levels.windows) * levels.rate / 2  # of a pure tone, in Hz
    brightness = min(1.0, frequency / 500.0)  # about 0 for sub-bass, 1 for 500 Hz and up
    base_light = 0.16 + 0.14 * brightness
    return _Palette(
        top=_rgb(hue, base_light + 0.12, 0.55),
        bottom=_rgb(hue + shift, base_light - 0.06, 0.65),
        wave=_rgb(hue + 0.5, 0.62 + 0.1 * brightness, 0.75),
        peak=_rgb(hue + 0.5, 0.82, 0.55),
    )


def _bar(window: array[int]) -> tuple[float, float]:
    """(peak, rms) of one window, both 0..1 of full scale."""
    if not window:
        return 0.0, 0.0
    points = window[:: max(1, len(window) // _POINTS_PER_BAR)]
    peak = max(max(points), -min(points)) / 32768.0
    rms = (sum(map(operator.mul, points, points)) / len(points)) ** 0.5 / 32768.0
    return min(peak, 1.0), min(rms, 1.0)


_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


# Pillow's built-in font covers little beyond ASCII; a common system font, when present, also
# draws accents, Cyrillic, Greek and Hebrew. Characters no font can draw are simplified or dropped
# rather than shown as empty boxes.
_FONT_CANDIDATES: tuple[str, ...] = ("DejaVuSans.ttf", "NotoSans-Regular.ttf", "Arial.ttf")
_MISSING_PROBE: Final = "\U0010fffd"  # a private-use code point no font has: its mask is "notdef"
_PUNCTUATION: Final = str.maketrans(
    {"—": "-", "–": "-", "‐": "-", "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "…": "..."}
)


@functools.lru_cache(maxsize=4)
def _font(size: int) -> _Font:
    for name in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=4096)
def _has_glyph(size: int, ch: str) -> bool:
    font = _font(size)
    mask, missing = font.getmask(ch), font.getmask(_MISSING_PROBE)
    return mask.size != missing.size or bytes(mask) != bytes(missing)


def _clean_text(text: str, size: int) -> str:
    """One line of text the font can draw: control characters out, unknown glyphs simplified."""
    out: list[str] = []
    for ch in truncate_utf16(text, 300).translate(_PUNCTUATION):
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch)[0] == "C":
            continue
        elif _has_glyph(size, ch):
            out.append(ch)
        else:  # "é" → "e" when only the base letter exists; otherwise drop it
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            if base and base != ch and all(_has_glyph(size, c) for c in base):
                out.append(base)
    return " ".join("".join(out).split())


def _fits(draw: ImageDraw.ImageDraw, text: str, font: _Font, width: int) -> bool:
    return draw.textlength(text, font=font) <= width


def _ellipsise(draw: ImageDraw.ImageDraw, text: str, font: _Font, width: int) -> str:
    if _fits(draw, text, font, width):
        return text
    low, high = 0, len(text)
    while low < high:  # longest prefix that fits with the ellipsis
        mid = (low + high + 1) // 2
        if _fits(draw, text[:mid].rstrip() + "…", font, width):
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "…"


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: _Font, width: int, max_lines: int
) -> list[str]:
    lines: list[str] = []
    words = text.split(" ")
    current = ""
    index = 0
    while index < len(words) and len(lines) < max_lines:
        word = words[index]
        trial = f"{current} {word}" if current else word
        if _fits(draw, trial, font, width):
            current = trial
            index += 1
            continue
        if not current:  # one word wider than the line: it gets the line to itself
            current = word
            index += 1
        lines.append(_ellipsise(draw, current, font, width))
        current = ""
    if current and len(lines) < max_lines:
        lines.append(current)
        current = ""
    if index < len(words) or current:
        rest = " ".join([current, *words[index:]]).strip()
        lines[-1] = _ellipsise(draw, f"{lines[-1]} {rest}", font, width)
    return lines


def _draw_cover(levels: Levels, title: str, subtitle: str) -> bytes:
    palette = _palette(levels)
    size, margin = COVER_SIZE, _MARGIN
    # The vertical gradient, drawn by Pillow in C: a 0..255 ramp coloured from top to bottom.
    image = ImageOps.colorize(
        Image.linear_gradient("L").resize((size, size)), palette.top, palette.bottom
    )
    draw = ImageDraw.Draw(image)

    bars = [_bar(window) for window in levels.windows]
    loudest = max((peak for peak, _ in bars), default=0.0)
    gain = 1.0 / loudest if loudest > 0.02 else 1.0  # normalise quiet tracks, leave silence flat
    centre, half = 196, 64
    for index, (peak, rms) in enumerate(bars):
        x = margin + index * (_BAR + _GAP)
        peak_h = max(1, round(peak * gain * half))
        rms_h = max(1, round(rms * gain * half))
        draw.rectangle([x, centre - peak_h, x + _BAR - 1, centre + peak_h], fill=palette.peak)
        draw.rectangle([x, centre - rms_h, x + _BAR - 1, centre + rms_h], fill=palette.wave)

    shadow = (0, 0, 0)
    title_font = _font(26)
    width = size - 2 * margin
    shown = _clean_text(title, 26) if title.strip() else "Song"
    lines = _wrap(draw, shown, title_font, width, max_lines=3) if shown else []
    y = margin
    for line in lines:
        draw.text(
            (margin, y),
            line,
            font=title_font,
            fill=(255, 255, 255),
            stroke_width=2,
            stroke_fill=shadow,
        )
        y += 31
    sub = _clean_text(subtitle, 16)
    if sub:
        sub_font = _font(16)
        text = _ellipsise(draw, sub, sub_font, width)
        draw.text(
            (margin, size - margin - 18),
            text,
            font=sub_font,
            fill=(235, 235, 235),
            stroke_width=1,
            stroke_fill=shadow,
        )

    for quality in (88, 80, 70, 60, 50, 40, 30):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if len(data) < COVER_MAX_BYTES:
            return data
    raise MediaError(detail="cover art stays over 200 kB even at JPEG quality 30")


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(data)
    part.replace(path)


async def _levels(audio: Path) -> Levels:
    """Sampled MP3 frames when the file is an MP3 we can walk; otherwise ffmpeg decodes it."""
    head = await asyncio.to_thread(_read_head, audio)
    if sniff_format(head) == "mp3":
        try:
            sampled = await asyncio.to_thread(mp3_levels, audio, BARS)
        except OSError as exc:
            raise MediaError(detail=f"cannot read {audio.name}: {exc.strerror}") from exc
        if sampled is not None:
            return sampled
        log.debug("%s: no MP3 frames to sample; decoding it with ffmpeg", audio.name)
    pcm = await decode_pcm(audio, rate=_PCM_RATE, max_seconds=_PCM_MAX_SECONDS)
    return pcm_levels(pcm, _PCM_RATE, BARS)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(64)


async def render_cover(audio: Path, dest: Path, *, title: str, subtitle: str = "") -> Path:
    """A JPEG thumbnail (320×320, < 200 kB, as sendAudio requires) drawn from the audio itself."""
    levels = await _levels(audio)
    jpeg = await asyncio.to_thread(_draw_cover, levels, title, subtitle)
    await asyncio.to_thread(_write_bytes, dest, jpeg)
    return dest
