"""Audio tools for references and delivery: transcoding (codec.py), probing, temp files.

Why: Telegram voice notes are OGG/Opus and videos carry audio in containers the music API does not
accept (it wants WAV or MP3). Cover art lives in bot/delivery/cover_art.py. Everything
that decodes or crunches samples runs off the event loop (codec.py's child process,
`asyncio.to_thread`), so one long transcode never stalls the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.audio_format import sniff_format
from bot.delivery import codec
from bot.delivery.codec import CodecMissing
from bot.delivery.codec import MediaError as MediaError

log = logging.getLogger(__name__)

_BITRATE: Final = re.compile(r"^\d{2,3}k$")

# The decoders and the encoder run in bot/delivery/codec.py (PyAV, in a child process); these
# names stay here so callers keep one audio module.
FfmpegMissing = CodecMissing


def find_ffmpeg() -> str:
    """What decodes and encodes audio; raises FfmpegMissing when it is not installed."""
    codec.require()
    return "PyAV"


async def to_mp3(
    src: Path,
    dst: Path,
    *,
    bitrate: str = "192k",
    timeout: float = 120.0,
    max_seconds: float | None = None,
) -> None:
    """Any input with audio (WAV, OGG/Opus, M4A, video) → MP3 of its first audio stream.

    With `max_seconds`, at most that much audio is written, and the file is capped at the size
    that much audio has at `bitrate` (plus headroom for headers), whatever the input claims.
    Written to a sibling `.part` file and renamed, so a failure never leaves half a file.
    """
    if not _BITRATE.match(bitrate):
        raise ValueError(f"bitrate must look like '192k', got {bitrate!r}")
    bits = int(bitrate[:-1]) * 1000
    max_bytes = None
    if max_seconds is not None:
        max_bytes = int(max_seconds * bits / 8) + 256 * 1024
    await _atomically(
        dst,
        lambda part: codec.to_mp3(
            src, part, bitrate=bits, timeout=timeout, max_seconds=max_seconds, max_bytes=max_bytes
        ),
    )


async def to_wav(src: Path, dst: Path, *, timeout: float = 120.0) -> None:
    """Any input with audio → 16-bit PCM WAV (first audio stream)."""
    await _atomically(dst, lambda part: codec.to_wav(src, part, timeout=timeout))


async def _atomically(dst: Path, write: Callable[[Path], Awaitable[None]]) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    try:
        await write(part)
        await asyncio.to_thread(os.replace, part, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


async def extract_audio(video: Path, dst: Path) -> None:
    """A video note or video → MP3 of its soundtrack."""
    await to_mp3(video, dst)


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the file really is, read from its bytes rather than trusted from a content type."""

    format: str | None
    duration: float | None
    sample_rate: int | None
    channels: int | None
    bitrate: int | None


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


async def decode_pcm(
    path: Path, *, rate: int, max_seconds: float, timeout: float = 120.0
) -> bytes:
    """The first `max_seconds` of the first audio stream as mono s16le PCM at `rate` Hz."""
    return await codec.decode_pcm(path, rate=rate, max_seconds=max_seconds, timeout=timeout)


# --- temporary files ---------------------------------------------------------------------------

_SAFE_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SAFE_SUFFIX: Final = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
KEPT_DIR: Final = "kept.d"


def _private_dir(folder: Path) -> None:
    """Create `folder` 0700 (its parents too), or make an existing one 0700."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


class TempFiles:
    """The one folder for temporary audio: a sub-folder per job, swept of stale files at start.

    `path_for(key, suffix)` is deterministic, so a resumed job finds its files again; use distinct
    suffixes for distinct purposes (e.g. `.src.ogg`, `.ref.mp3`, `.cover.jpg`).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        # Users' voices and songs: the owner's alone, whatever an older version left (#24.8).
        _private_dir(self.root)
        if self.kept_dir.is_dir():
            _private_dir(self.kept_dir)
            for path in self.kept_dir.iterdir():
                with contextlib.suppress(OSError):
                    if path.is_file() and path.lstat().st_mode & 0o077:
                        path.chmod(0o600)

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
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder / f"{folder.name[:24]}{suffix}"

    def cleanup_job(self, job_key: str) -> None:
        """Remove every temporary file of a job (finished, failed or cancelled)."""
        shutil.rmtree(self.job_dir(job_key), ignore_errors=True)

    @property
    def kept_dir(self) -> Path:
        """Songs kept past their job for a re-send (Telegram refused the upload, #16.6).

        Its name has a dot, which no job folder's name has (`_dir_name`), so it is never a
        job's folder; the ordinary sweep leaves it to `sweep_kept`, which keeps its own time.
        """
        return self.root / KEPT_DIR

    def keep(self, job_key: str, path: Path) -> Path:
        """Move a job's finished song out of its folder so the job's cleanup leaves it."""
        if path.parent == self.kept_dir:
            return path
        _private_dir(self.kept_dir)
        kept = self.kept_dir / f"{self._dir_name(job_key)}{path.suffix}"
        path.replace(kept)
        kept.chmod(0o600)  # kept for days: private whatever mode it was written with
        os.utime(kept)  # kept from now: its age is how long it has waited for a re-send
        return kept

    def is_kept(self, path: Path) -> bool:
        return path.parent == self.kept_dir

    def sweep_kept(self, max_age_seconds: float) -> int:
        """Delete kept songs older than `max_age_seconds`; returns the count."""
        cutoff = time.time() - max_age_seconds
        removed = 0
        with contextlib.suppress(FileNotFoundError):
            for path in self.kept_dir.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
        return removed

    def sweep(self, max_age_seconds: float) -> int:
        """Delete files older than `max_age_seconds` and stale empty folders; returns the count."""
        _private_dir(self.root)
        cutoff = time.time() - max_age_seconds
        # Folder ages are read before anything is deleted, since deleting updates them.
        folder_mtimes: dict[str, float] = {}
        for dirpath, _dirs, _files in os.walk(self.root):
            with contextlib.suppress(OSError):
                folder_mtimes[dirpath] = Path(dirpath).stat().st_mtime
        removed = 0
        for dirpath, _dirs, filenames in os.walk(self.root, topdown=False):
            folder = Path(dirpath)
            if folder == self.kept_dir or self.kept_dir in folder.parents:
                continue  # kept songs have their own lifetime (`sweep_kept`)
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
