"""Audio decoding and encoding with PyAV (FFmpeg's libraries), in a child process we can kill.

Why PyAV: its wheel carries the FFmpeg libraries songbot needs (Opus, Vorbis, MP3, AAC, FLAC and
PCM decoders, the MP4/Matroska/OGG demuxers, the LAME MP3 encoder) in about 77 MB once its debug
symbols are stripped, where imageio-ffmpeg's static ffmpeg binary alone is 165 MB: that difference
is most of what keeps the Docker image under 300 MB (docs/operations.md, "Image size").

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
import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Final

from bot.errors import LocalFailure

MP3_ENCODER: Final = "libmp3lame"
# What `songbot check` proves can be decoded: a voice note, MP3, M4A and video soundtracks,
# FLAC, WAV (and Vorbis, which some OGG audio documents carry).
DECODERS: Final = ("opus", "mp3", "aac", "flac", "vorbis", "pcm_s16le")
MP3_RATES: Final = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
NO_AUDIO: Final = "Stream map '0:a:0' matches no streams"  # the words ffmpeg used for it
# Never the network, nor pipes. FFmpeg already limits a playlist's entries to its own protocol;
# this says it once more for every demuxer.
_OPEN_OPTIONS: Final = {"protocol_whitelist": "file"}
_MISSING: Final = (
    "PyAV (the Python package av) is not installed: install songbot with its dependencies "
    "(pip install -c requirements.lock .), or pip install av"
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
    """The start-up check: PyAV is installed. Cheap: the bot itself never imports it (only the
    children do), so its libraries cost the bot no memory."""
    if importlib.util.find_spec("av") is None:
        raise CodecMissing(detail=_MISSING)


def codec_status() -> str:
    """One line for `songbot check`; raises CodecMissing when a codec the bot uses is absent."""
    require()
    import av

    missing = [
        name
        for name, mode in [(MP3_ENCODER, "w"), *((d, "r") for d in DECODERS)]
        if not _has_codec(av, name, mode)
    ]
    if missing:
        raise CodecMissing(detail=f"PyAV {av.__version__} lacks codecs: {', '.join(missing)}")
    libavcodec = ".".join(str(n) for n in av.library_versions.get("libavcodec", ()))
    return (
        f"PyAV {av.__version__} (libavcodec {libavcodec}): MP3 encoder and "
        f"{', '.join(DECODERS)} decoders present"
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
    import av

    if job.action == "mp3":
        rate, layout = _mp3_params(stream)
        fmt, codec, sample_format = "mp3", MP3_ENCODER, "fltp"
    else:
        rate = int(stream.rate or 44100)
        layout = "mono" if stream.codec_context.layout.nb_channels == 1 else "stereo"
        fmt, codec, sample_format = "wav", "pcm_s16le", "s16"
    with av.open(str(dst), "w", format=fmt) as output:
        ostream: Any = output.add_stream(codec, rate=rate)
        ostream.codec_context.layout = layout
        ostream.codec_context.format = sample_format
        if job.bitrate is not None:
            ostream.codec_context.bit_rate = job.bitrate
        ostream.codec_context.open()  # fixes frame_size (1152 for MP3) before resampling
        resampler = av.AudioResampler(
            format=sample_format,
            layout=layout,
            rate=rate,
            frame_size=ostream.codec_context.frame_size or None,
        )
        samples_left = None if job.max_seconds is None else int(job.max_seconds * rate)
        written = 0
        done = False
        for frame in _chain(_frames(container, stream), [None]):
            for chunk in resampler.resample(frame):
                chunk.pts = None
                for packet in ostream.encode(chunk):
                    written += packet.size
                    output.mux(packet)
                if samples_left is not None:
                    samples_left -= chunk.samples
                    done = samples_left <= 0
                done = done or (job.max_bytes is not None and written >= job.max_bytes)
                if done:
                    break
            if done:
                break
        for packet in ostream.encode(None):
            output.mux(packet)


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
