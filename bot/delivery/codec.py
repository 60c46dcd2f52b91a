"""Audio decoding (PyAV: FFmpeg's libraries) and MP3 encoding (LAME), in a child process we kill.

Why PyAV: its wheel carries the FFmpeg libraries songbot needs (Opus, Vorbis, MP3, AAC, FLAC and
PCM decoders, the MP4/Matroska/OGG/WAV demuxers, the resampler) in about 79 MB once its debug
sections are stripped, where imageio-ffmpeg's static ffmpeg binary alone is 165 MB: that
difference is most of what keeps the Docker image under 300 MB (docs/operations.md, "Image
size"). Why lameenc for MP3: PyAV's own libmp3lame spends 3.5x the CPU time on the same song.

Why a child process and not a thread: a decoder fed a hostile file can crash or spin; in a child
(`python -m bot.delivery.codec JOB`) a crash is one failed conversion, not a dead bot, and a
timeout, a ❌ or a shutdown kills it at once, as with the ffmpeg binary before. The child decodes
the first audio stream only, stops after `max_seconds` of audio and `max_bytes` of output, and
opens only local files.

The interface: `to_mp3`, `to_wav`, `decode_pcm` (async, off the event loop), `require` (at start)
and `codec_status` (`songbot check`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import struct
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Final

from bot.errors import LocalFailure

MP3_ENCODER: Final = "libmp3lame"  # LAME, through lameenc; named in the child's command line
# What `songbot check` proves can be decoded: a voice note, MP3, M4A and video soundtracks,
# FLAC, WAV (and Vorbis, which some OGG audio documents carry).
DECODERS: Final = ("opus", "mp3", "aac", "flac", "vorbis", "pcm_s16le")
MP3_RATES: Final = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
NO_AUDIO: Final = "Stream map '0:a:0' matches no streams"  # the words ffmpeg used for it
# Never the network, nor pipes. FFmpeg already limits a playlist's entries to its own protocol;
# this says it once more for every demuxer.
_OPEN_OPTIONS: Final = {"protocol_whitelist": "file"}
_MISSING: Final = (
    "the Python package {package} is not installed (songbot decodes audio with PyAV and encodes "
    "MP3 with lameenc): install songbot with its dependencies "
    "(pip install -c requirements.lock .), or pip install {package}"
)
_CHILD_ENV: Final = (
    *("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "HOME"),
    *("PYTHONPATH", "PYTHONDONTWRITEBYTECODE"),
)
_BAD_PACKETS_TOLERATED: Final = 50  # like ffmpeg: skip a few corrupt packets, not a whole file


class CodecMissing(LocalFailure):
    """PyAV is not installed or lacks the MP3 encoder: the operator must install `av`."""

    key = "error_ffmpeg_missing"


class MediaError(LocalFailure):
    """The decoder failed on this file (unreadable, no audio stream, timeout)."""

    key = "error_media"


@dataclass(frozen=True, slots=True)
class Job:
    """One conversion, as the child reads it from its single command-line argument (JSON)."""

    action: str  # "mp3" | "wav" | "pcm"
    src: str
    dst: str | None = None
    codec: str | None = None  # the encoder; visible in the child's command line
    bitrate: int | None = None  # bit/s, MP3 only
    rate: int | None = None  # Hz, PCM only (mono s16le to stdout)
    max_seconds: float | None = None
    max_bytes: int | None = None


# --- the parent side ---------------------------------------------------------------------------


def require() -> None:
    """The start-up check: PyAV and lameenc are installed. Cheap: the bot itself never imports
    them (only the children do), so their libraries cost the bot no memory."""
    for package in ("av", "lameenc"):
        if importlib.util.find_spec(package) is None:
            raise CodecMissing(detail=_MISSING.format(package=package))


def codec_status() -> str:
    """One line for `songbot check`; raises CodecMissing when a codec the bot uses is absent."""
    require()
    import av

    missing = [name for name in DECODERS if not _has_codec(av, name, "r")]
    if missing:
        raise CodecMissing(detail=f"PyAV {av.__version__} lacks decoders: {', '.join(missing)}")
    libavcodec = ".".join(str(n) for n in av.library_versions.get("libavcodec", ()))
    return (
        f"PyAV {av.__version__} (libavcodec {libavcodec}: {', '.join(DECODERS)} decoders), "
        f"lameenc {importlib.metadata.version('lameenc')} (MP3 encoder)"
    )


def _has_codec(av: Any, name: str, mode: str) -> bool:
    try:
        av.codec.Codec(name, mode)
    except Exception:  # av raises its own UnknownCodecError; any failure means "not usable"
        return False
    return True


async def _run(job: Job, *, timeout: float) -> bytes:
    """Run one job in a child; its stdout when it succeeds. Killed on timeout or cancellation."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # the working directory never shadows the installed package
        "-m",
        "bot.delivery.codec",
        json.dumps(asdict(job), separators=(",", ":")),
        env=_child_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        await _kill(proc)
        raise MediaError(
            detail=f"ffmpeg (PyAV) timed out after {timeout:g} s and was killed"
        ) from None
    except BaseException:
        await asyncio.shield(_kill(proc))
        raise
    if proc.returncode != 0:
        raise MediaError(detail=f"ffmpeg (PyAV) failed ({proc.returncode}): {_last_line(stderr)}")
    return stdout


def _child_env() -> dict[str, str]:
    """Only what Python needs to start: the token and the API key stay out of the process that
    reads untrusted files."""
    return {name: os.environ[name] for name in _CHILD_ENV if name in os.environ}


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    await proc.wait()


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:500] if lines else "no error output"


async def to_mp3(
    src: Path,
    dst: Path,
    *,
    bitrate: int,
    timeout: float,
    max_seconds: float | None = None,
    max_bytes: int | None = None,
) -> None:
    """The first audio stream of `src` as an MP3 at `bitrate` bit/s, written to `dst`."""
    job = Job("mp3", str(src), str(dst), MP3_ENCODER, bitrate, None, max_seconds, max_bytes)
    await _run(job, timeout=timeout)


async def to_wav(src: Path, dst: Path, *, timeout: float) -> None:
    """The first audio stream of `src` as 16-bit PCM WAV, written to `dst`."""
    await _run(Job("wav", str(src), str(dst), "pcm_s16le"), timeout=timeout)


async def decode_pcm(src: Path, *, rate: int, max_seconds: float, timeout: float) -> bytes:
    """The first `max_seconds` of the first audio stream as mono s16le PCM at `rate` Hz."""
    job = Job("pcm", str(src), None, "pcm_s16le", None, rate, max_seconds)
    return await _run(job, timeout=timeout)


async def self_test(timeout: float = 20.0) -> str:
    """A short tone through the same child a reference goes through: WAV → MP3 → PCM.

    For `songbot check` and the image's smoke test; returns `codec_status()`'s line, or raises
    CodecMissing / MediaError with what failed."""
    status = await asyncio.to_thread(codec_status)
    rate, seconds = 8000, 0.5
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(rate * seconds))
    )
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    wav = header + b"data" + struct.pack("<I", len(samples)) + samples
    with tempfile.TemporaryDirectory(prefix="songbot-codec-") as tmp:
        src, mp3 = Path(tmp) / "tone.wav", Path(tmp) / "tone.mp3"
        await asyncio.to_thread(src.write_bytes, wav)
        await to_mp3(src, mp3, bitrate=64_000, timeout=timeout)
        pcm = await decode_pcm(mp3, rate=rate, max_seconds=seconds, timeout=timeout)
    if len(pcm) < rate * seconds:  # 2 bytes a sample: at least half the tone came back
        raise MediaError(detail=f"{status}; the test MP3 decoded to {len(pcm)} bytes only")
    return f"{status}; WAV → MP3 → PCM works"


# --- the child side ----------------------------------------------------------------------------


def _frames(container: Any, stream: Any) -> Iterator[Any]:
    """Decoded frames of one stream; a few corrupt packets are skipped, as ffmpeg does."""
    import av

    bad = 0
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.FFmpegError as exc:
            bad += 1
            if bad > _BAD_PACKETS_TOLERATED:
                raise MediaError(detail=f"too many undecodable packets: {exc}") from None


def _mp3_params(stream: Any) -> tuple[int, str]:
    """A sample rate and layout LAME accepts, as close to the input's as it allows."""
    rate = int(stream.rate or 44100)
    if rate not in MP3_RATES:
        rate = min(MP3_RATES, key=lambda r: (abs(r - rate), -r))
    channels = stream.codec_context.layout.nb_channels if stream.codec_context.layout else 2
    return rate, "mono" if channels == 1 else "stereo"


def _convert(job: Job, out: IO[bytes]) -> None:
    import av

    src = "file:" + job.src  # `file:` keeps a name such as `-x.mp3` or `a:b` a plain path
    try:
        container = av.open(src, "r", options=dict(_OPEN_OPTIONS))
    except av.error.FFmpegError as exc:
        raise MediaError(detail=f"cannot open {Path(job.src).name}: {exc}") from None
    with container:
        audio = [s for s in container.streams if s.type == "audio"]
        if not audio:
            raise MediaError(detail=NO_AUDIO)
        stream = audio[0]
        limit = job.max_seconds
        if job.action == "pcm":
            assert job.rate is not None
            _to_pcm(container, stream, job.rate, limit, out)
            return
        assert job.dst is not None
        _encode(container, stream, job, Path(job.dst))


def _to_pcm(container: Any, stream: Any, rate: int, limit: float | None, out: IO[bytes]) -> None:
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    budget = None if limit is None else int(limit * rate)
    for frame in _chain(_frames(container, stream), [None]):
        for chunk in resampler.resample(frame):
            data = bytes(chunk.planes[0])[: chunk.samples * 2]
            if budget is not None:
                data = data[: budget * 2]
                budget -= len(data) // 2
            out.write(data)
            if budget is not None and budget <= 0:
                return


def _chain(frames: Iterator[Any], tail: list[None]) -> Iterator[Any]:
    yield from frames
    yield from tail


def _encode(container: Any, stream: Any, job: Job, dst: Path) -> None:
    """Resample to what the encoder takes, encode, stop at the length and size caps."""
    import av

    if job.action == "mp3":
        rate, layout = _mp3_params(stream)
        encoder: _Encoder = _Lame(rate, layout, job.bitrate or 192_000)
    else:
        rate = int(stream.rate or 44100)
        layout = "mono" if stream.codec_context.layout.nb_channels == 1 else "stereo"
        encoder = _Wav(dst, rate, layout)
    resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
    width = 2 * (1 if layout == "mono" else 2)  # bytes per sample frame, interleaved s16
    samples_left = None if job.max_seconds is None else int(job.max_seconds * rate)
    written = 0
    with dst.open("wb") as out:
        for frame in _chain(_frames(container, stream), [None]):
            for chunk in resampler.resample(frame):
                pcm = bytes(chunk.planes[0])[: chunk.samples * width]
                if samples_left is not None:
                    pcm = pcm[: samples_left * width]
                    samples_left -= len(pcm) // width
                data = encoder.encode(pcm)
                out.write(data)
                written += len(data)
                if (samples_left is not None and samples_left <= 0) or (
                    job.max_bytes is not None and written >= job.max_bytes
                ):
                    break
            else:
                continue
            break
        out.write(encoder.flush())
    encoder.finish(dst)


class _Encoder:
    """Interleaved s16 PCM in, file bytes out."""

    def encode(self, pcm: bytes) -> bytes:
        raise NotImplementedError

    def flush(self) -> bytes:
        return b""

    def finish(self, dst: Path) -> None:
        """Anything written once the length is known (a WAV header)."""


class _Lame(_Encoder):
    """MP3 through LAME (lameenc): PyAV's own libmp3lame build takes 3.5x its CPU time (a 3-min
    stereo WAV: 4.3 s against 1.2 s, docs/operations.md "Image size"), lameenc's about the same
    as the ffmpeg binary's. Quality 3 is LAME's default, the one the ffmpeg binary used."""

    def __init__(self, rate: int, layout: str, bitrate: int) -> None:
        import lameenc

        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate(bitrate // 1000)
        self._lame.set_in_sample_rate(rate)
        self._lame.set_out_sample_rate(rate)
        self._lame.set_channels(1 if layout == "mono" else 2)
        self._lame.set_quality(3)

    def encode(self, pcm: bytes) -> bytes:
        return bytes(self._lame.encode(pcm))

    def flush(self) -> bytes:
        return bytes(self._lame.flush())


class _Wav(_Encoder):
    """16-bit PCM WAV: a header with the sizes, filled in once they are known."""

    def __init__(self, dst: Path, rate: int, layout: str) -> None:
        self._rate, self._channels = rate, 1 if layout == "mono" else 2
        self._size = 0
        self._started = False

    def encode(self, pcm: bytes) -> bytes:
        self._size += len(pcm)
        if self._started:
            return pcm
        self._started = True
        return self._header(0) + pcm

    def finish(self, dst: Path) -> None:
        if not self._started:
            dst.write_bytes(self._header(0))
        with dst.open("r+b") as out:
            out.write(self._header(self._size))

    def _header(self, size: int) -> bytes:
        channels, rate = self._channels, self._rate
        fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
        return (
            b"RIFF"
            + struct.pack("<I", 36 + size)
            + b"WAVE"
            + b"fmt "
            + fmt
            + b"data"
            + (struct.pack("<I", size))
        )


def main(argv: list[str]) -> int:
    """The child: run the JSON job in argv[1]; exit 1 with one line on stderr when it fails."""
    import av

    av.logging.set_level(av.logging.PANIC)  # errors come back as exceptions, once
    try:
        job = Job(**json.loads(argv[1]))
        _convert(job, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    except MediaError as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
