"""Audio tools for references and delivery: ffmpeg transcoding, probing, cover art, temp files.

Why: Telegram voice notes are OGG/Opus and videos carry audio in containers the music API does not
accept (it wants WAV or MP3), and a delivered song looks much better with a thumbnail. Everything
that spawns ffmpeg or crunches samples runs off the event loop (asyncio subprocesses,
`asyncio.to_thread`), so one long transcode never stalls the bot.
"""

from __future__ import annotations

import asyncio
import colorsys
import contextlib
import functools
import hashlib
import io
import itertools
import logging
import operator
import os
import re
import shutil
import time
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from bot.errors import LocalFailure
from bot.textutil import truncate_utf16

log = logging.getLogger(__name__)

COVER_SIZE: Final = 320
COVER_MAX_BYTES: Final = 200_000
_PCM_RATE: Final = 8000
_PCM_MAX_SECONDS: Final = 1200  # bounds memory: 20 min of mono 8 kHz s16le is about 19 MB
_BITRATE: Final = re.compile(r"^\d{2,3}k$")
_FFMPEG_FLAGS: Final = ("-hide_banner", "-nostdin", "-loglevel", "error")


class FfmpegMissing(LocalFailure):
    """No ffmpeg binary: the operator must install imageio-ffmpeg or put ffmpeg on PATH."""

    key = "error_ffmpeg_missing"


class MediaError(LocalFailure):
    """ffmpeg or a decoder failed on this file (unreadable, no audio stream, timeout)."""

    key = "error_media"


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the file really is, read from its bytes rather than trusted from a content type."""

    format: str | None
    duration: float | None
    sample_rate: int | None
    channels: int | None
    bitrate: int | None


def find_ffmpeg() -> str:
    """The ffmpeg to run: imageio-ffmpeg's bundled binary, else `ffmpeg` on PATH."""
    try:
        import imageio_ffmpeg

        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
        if exe and (Path(exe).is_file() or shutil.which(exe)):
            return exe
    except Exception as exc:  # ImportError, or RuntimeError when it finds no binary
        log.debug("imageio-ffmpeg has no ffmpeg: %s", exc)
    found = shutil.which("ffmpeg")
    if found:
        return found
    raise FfmpegMissing(
        detail=(
            "ffmpeg not found: install the Python package imageio-ffmpeg (pip install "
            "imageio-ffmpeg), set IMAGEIO_FFMPEG_EXE, or install ffmpeg on PATH "
            "(e.g. apt-get install ffmpeg)"
        )
    )


def _file_arg(path: Path) -> str:
    """`file:` stops ffmpeg from reading a path such as `-x.mp3` as an option or a protocol."""
    return f"file:{path}"


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:500] if lines else "no error output"


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()


async def _ffmpeg(args: Sequence[str], *, timeout: float, capture: bool) -> bytes:
    """Run ffmpeg; return stdout when `capture`. Killed on timeout or cancellation."""
    exe = find_ffmpeg()
    proc = await asyncio.create_subprocess_exec(
        exe,
        *_FFMPEG_FLAGS,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        await _kill(proc)
        raise MediaError(detail=f"ffmpeg timed out after {timeout:g} s and was killed") from None
    except BaseException:
        await asyncio.shield(_kill(proc))
        raise
    if proc.returncode != 0:
        raise MediaError(detail=f"ffmpeg exited with {proc.returncode}: {_last_line(stderr)}")
    return stdout or b""


async def run_ffmpeg(args: Sequence[str], *, timeout: float = 120.0) -> None:
    """Run ffmpeg with `args` (no executable); MediaError carries the last stderr line."""
    await _ffmpeg(args, timeout=timeout, capture=False)


async def _transcode(src: Path, dst: Path, codec_args: Sequence[str], timeout: float) -> None:
    """Write to a sibling `.part` file and rename, so a failure never leaves half a file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    args = ["-i", _file_arg(src), "-map", "0:a:0", "-vn", "-sn", "-dn", *codec_args]
    try:
        await run_ffmpeg([*args, "-y", _file_arg(part)], timeout=timeout)
        await asyncio.to_thread(os.replace, part, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


async def to_mp3(src: Path, dst: Path, *, bitrate: str = "192k", timeout: float = 120.0) -> None:
    """Any input with audio (WAV, OGG/Opus, M4A, video) → MP3 of its first audio stream."""
    if not _BITRATE.match(bitrate):
        raise ValueError(f"bitrate must look like '192k', got {bitrate!r}")
    codec = ["-c:a", "libmp3lame", "-b:a", bitrate, "-f", "mp3"]
    await _transcode(src, dst, codec, timeout)


async def to_wav(src: Path, dst: Path, *, timeout: float = 120.0) -> None:
    """Any input with audio → 16-bit PCM WAV (first audio stream)."""
    await _transcode(src, dst, ["-c:a", "pcm_s16le", "-f", "wav"], timeout)


async def extract_audio(video: Path, dst: Path) -> None:
    """A video note or video → MP3 of its soundtrack."""
    await to_mp3(video, dst)


def sniff_format(head: bytes) -> str | None:
    """Name the container from its first bytes: mp3, wav, ogg, m4a, flac, else None."""
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "m4a"
    if len(head) >= 3 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        version = (head[1] >> 3) & 0x3
        layer = (head[1] >> 1) & 0x3
        bitrate_index = head[2] >> 4
        rate_index = (head[2] >> 2) & 0x3
        # Layer 0 is AAC/ADTS, version 1 and the last indexes are reserved: not an MPEG frame.
        if layer != 0 and version != 1 and bitrate_index != 0xF and rate_index != 3:
            return "mp3"
    return None


_MUTAGEN_FORMATS: Final = {
    "MP3": "mp3",
    "EasyMP3": "mp3",
    "WAVE": "wav",
    "OggOpus": "ogg",
    "OggVorbis": "ogg",
    "OggFLAC": "ogg",
    "OggSpeex": "ogg",
    "MP4": "m4a",
    "EasyMP4": "m4a",
    "FLAC": "flac",
}


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _probe_sync(path: Path) -> AudioInfo:
    import mutagen

    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise MediaError(detail=f"cannot read {path.name}: {exc.strerror}") from exc
    sniffed = sniff_format(head)
    try:
        parsed = mutagen.File(path)
    except Exception as exc:  # mutagen raises many types on garbage; all mean "unknown"
        log.debug("mutagen could not parse %s: %s", path.name, exc)
        parsed = None
    if parsed is None or getattr(parsed, "info", None) is None:
        return AudioInfo(sniffed, None, None, None, None)
    info = parsed.info
    kind = type(parsed).__name__
    length = getattr(info, "length", None)
    duration = float(length) if isinstance(length, int | float) and length > 0 else None
    sample_rate = _positive_int(getattr(info, "sample_rate", None))
    if sample_rate is None and kind == "OggOpus":
        sample_rate = 48_000  # Opus always decodes at 48 kHz; mutagen does not report it
    return AudioInfo(
        format=sniffed or _MUTAGEN_FORMATS.get(kind),
        duration=duration,
        sample_rate=sample_rate,
        channels=_positive_int(getattr(info, "channels", None)),
        bitrate=_positive_int(getattr(info, "bitrate", None)),
    )


async def probe(path: Path) -> AudioInfo:
    """Format, duration and stream parameters via mutagen; unknown fields are None."""
    return await asyncio.to_thread(_probe_sync, path)


# --- cover art ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Palette:
    top: tuple[int, int, int]
    bottom: tuple[int, int, int]
    wave: tuple[int, int, int]
    peak: tuple[int, int, int]


def _rgb(h: float, light: float, sat: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(light, 0.0), 1.0), min(max(sat, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _palette(pcm: bytes, samples: array[int]) -> _Palette:
    """Colours from the audio itself: the hue from a hash of the PCM, brightness from its pitch.

    Why both: the hash makes every song distinct, and the zero-crossing rate (a cheap stand-in
    for the spectral centroid) makes bright-sounding songs look brighter.
    """
    digest = hashlib.blake2b(pcm, digest_size=8).digest()
    hue = digest[0] / 255.0
    shift = 0.08 + digest[1] / 255.0 * 0.25
    crossings = pairs = 0
    window = 4000
    for index in range(8):  # eight contiguous windows spread over the track: no aliasing
        start = index * max(0, len(samples) - window) // 7
        chunk = samples[start : start + window]
        crossings += sum(1 for a, b in itertools.pairwise(chunk) if (a < 0) != (b < 0))
        pairs += max(0, len(chunk) - 1)
    zcr = crossings / max(1, pairs)  # sign changes per sample
    brightness = min(1.0, zcr * 8.0)  # about 0 for sub-bass, 1 for 500 Hz and up at 8 kHz
    base_light = 0.16 + 0.14 * brightness
    return _Palette(
        top=_rgb(hue, base_light + 0.12, 0.55),
        bottom=_rgb(hue + shift, base_light - 0.06, 0.65),
        wave=_rgb(hue + 0.5, 0.62 + 0.1 * brightness, 0.75),
        peak=_rgb(hue + 0.5, 0.82, 0.55),
    )


def _columns(samples: array[int], count: int) -> list[tuple[float, float]]:
    """(peak, rms) per column, both scaled to 0..1 of full scale."""
    total = len(samples)
    result: list[tuple[float, float]] = []
    if total == 0:
        return [(0.0, 0.0)] * count
    for col in range(count):
        start = col * total // count
        end = max(start + 1, (col + 1) * total // count)
        chunk = samples[start:end]
        peak = max(max(chunk), -min(chunk)) / 32768.0
        rms = (sum(map(operator.mul, chunk, chunk)) / len(chunk)) ** 0.5 / 32768.0
        result.append((min(peak, 1.0), min(rms, 1.0)))
    return result


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


def _draw_cover(pcm: bytes, title: str, subtitle: str) -> bytes:
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    palette = _palette(pcm, samples)
    size = COVER_SIZE
    image = Image.new("RGB", (size, size), palette.top)
    draw = ImageDraw.Draw(image)
    for y in range(size):  # vertical gradient
        mix = y / (size - 1)
        colour = tuple(
            round(a + (b - a) * mix) for a, b in zip(palette.top, palette.bottom, strict=True)
        )
        draw.line([(0, y), (size, y)], fill=colour)

    margin = 16
    bar, gap = 3, 1
    count = (size - 2 * margin + gap) // (bar + gap)
    levels = _columns(samples, count)
    loudest = max((peak for peak, _ in levels), default=0.0)
    gain = 1.0 / loudest if loudest > 0.02 else 1.0  # normalise quiet tracks, leave silence flat
    centre, half = 196, 64
    for index, (peak, rms) in enumerate(levels):
        x = margin + index * (bar + gap)
        peak_h = max(1, round(peak * gain * half))
        rms_h = max(1, round(rms * gain * half))
        draw.rectangle([x, centre - peak_h, x + bar - 1, centre + peak_h], fill=palette.peak)
        draw.rectangle([x, centre - rms_h, x + bar - 1, centre + rms_h], fill=palette.wave)

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


async def render_cover(audio: Path, dest: Path, *, title: str, subtitle: str = "") -> Path:
    """A JPEG thumbnail (320×320, < 200 kB, as sendAudio requires) drawn from the audio itself."""
    pcm = await _ffmpeg(
        [
            "-i",
            _file_arg(audio),
            "-map",
            "0:a:0",
            "-vn",
            "-t",
            str(_PCM_MAX_SECONDS),
            "-ac",
            "1",
            "-ar",
            str(_PCM_RATE),
            "-f",
            "s16le",
            "-c:a",
            "pcm_s16le",
            "pipe:1",
        ],
        timeout=120.0,
        capture=True,
    )
    jpeg = await asyncio.to_thread(_draw_cover, pcm, title, subtitle)
    await asyncio.to_thread(_write_bytes, dest, jpeg)
    return dest


# --- temporary files ---------------------------------------------------------------------------

_SAFE_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SAFE_SUFFIX: Final = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class TempFiles:
    """The one folder for temporary audio: a sub-folder per job, swept of stale files at start.

    `path_for(key, suffix)` is deterministic, so a resumed job finds its files again; use distinct
    suffixes for distinct purposes (e.g. `.src.ogg`, `.ref.mp3`, `.cover.jpg`).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _dir_name(job_key: str) -> str:
        if _SAFE_KEY.match(job_key):
            return job_key
        readable = re.sub(r"[^A-Za-z0-9_-]+", "_", job_key)[:40]
        digest = hashlib.sha256(job_key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return f"{readable or 'job'}-{digest}"

    def job_dir(self, job_key: str) -> Path:
        return self.root / self._dir_name(job_key)

    def path_for(self, job_key: str, suffix: str) -> Path:
        """A path for this job's file; creates (or re-creates) the folders it lives in."""
        if not _SAFE_SUFFIX.match(suffix) or ".." in suffix:
            raise ValueError(f"unsafe temporary-file suffix {suffix!r}")
        folder = self.job_dir(job_key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{folder.name[:24]}{suffix}"

    def cleanup_job(self, job_key: str) -> None:
        """Remove every temporary file of a job (finished, failed or cancelled)."""
        shutil.rmtree(self.job_dir(job_key), ignore_errors=True)

    def sweep(self, max_age_seconds: float) -> int:
        """Delete files older than `max_age_seconds` and stale empty folders; returns the count."""
        self.root.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - max_age_seconds
        # Folder ages are read before anything is deleted, since deleting updates them.
        folder_mtimes: dict[str, float] = {}
        for dirpath, _dirs, _files in os.walk(self.root):
            with contextlib.suppress(OSError):
                folder_mtimes[dirpath] = Path(dirpath).stat().st_mtime
        removed = 0
        for dirpath, _dirs, filenames in os.walk(self.root, topdown=False):
            folder = Path(dirpath)
            for name in filenames:
                path = folder / name
                try:
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
            if folder != self.root and folder_mtimes.get(dirpath, cutoff) < cutoff:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only succeeds when empty; a fresh job folder is kept
        return removed
