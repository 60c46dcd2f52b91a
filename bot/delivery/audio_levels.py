"""A song's loudness, bar by bar, for the cover's waveform, without decoding the whole song.

Why: decoding a whole 4-minute MP3 with ffmpeg (about 1.2 s of CPU) and walking its PCM in Python
(about 0.5 s) made cover art cost eight times the upload itself when 20 songs finished together
(bench/bench_delivery.py). A waveform of 72 bars only needs a short stretch of audio at each bar's
position. For MP3, which is what the provider sends and what every WAV becomes before delivery,
we find a few frames at each position and decode just those in-process with miniaudio: about 1/40
of the song, some 15 ms of CPU, outside the GIL. Other containers (M4A, Ogg, WAV) go through
ffmpeg whole, as before; they are rare at delivery and short when they occur.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import miniaudio

# What one bar decodes: MEASURED_SAMPLES of audio at the middle of its share of the song, after
# enough earlier frames to prime the decoder (see _bar_window).
MEASURED_SAMPLES: Final = 2304  # about 50 ms at 44.1 kHz: two MPEG-1 frames
_SYNC_SEARCH: Final = 8192  # bytes scanned for a frame header at each bar's position
_MAX_FRAME: Final = 2881  # the longest Layer III frame (MPEG-2.5, 160 kbit/s, 8 kHz, padded)
_MAX_STRETCH: Final = 48  # frames decoded per bar at most
_STRETCH_BYTES: Final = 24_576  # read per bar after the sync search: 16 frames at 320 kbit/s

# Side-information bytes after the header, by (MPEG-1, mono): the Xing tag follows them.
_SIDE_INFO: Final = {(True, False): 32, (True, True): 17, (False, False): 17, (False, True): 9}
_BITRATES_V1: Final = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0)
_BITRATES_V2: Final = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0)
_SAMPLE_RATES: Final = {
    3: (44100, 48000, 32000),
    2: (22050, 24000, 16000),
    0: (11025, 12000, 8000),
}


@dataclass(frozen=True, slots=True)
class Levels:
    """One window of mono 16-bit samples per bar, all at `rate` Hz; empty windows are silence."""

    windows: list[array[int]]
    rate: int


@dataclass(frozen=True, slots=True)
class _Frame:
    length: int
    rate: int
    samples: int  # PCM samples per channel that this frame decodes to
    key: int  # version, layer and sample-rate bits: equal in every frame of one stream


def _frame_at(data: bytes, i: int) -> _Frame | None:
    """The MPEG-1/2/2.5 Layer III frame header at `data[i:]`, or None."""
    if i + 4 > len(data) or data[i] != 0xFF or data[i + 1] & 0xE0 != 0xE0:
        return None
    b1, b2 = data[i + 1], data[i + 2]
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved version, not Layer III, free-format or bad bitrate, bad rate
    rate = _SAMPLE_RATES[version][rate_index]
    padding = (b2 >> 1) & 1
    if version == 3:
        length, samples = 144_000 * _BITRATES_V1[bitrate_index] // rate + padding, 1152
    else:
        length, samples = 72_000 * _BITRATES_V2[bitrate_index] // rate + padding, 576
    return _Frame(length, rate, samples, ((b1 & 0x1E) << 8) | (b2 & 0x0C))


def _find_stream(data: bytes, start: int, limit: int) -> tuple[int, _Frame]:
    """The first place in `data[start:limit]` where two frames of one stream follow each other.
    Two in a row rules out a stray 0xFF byte in audio data that happens to look like a header."""
    pos = start
    while True:
        pos = data.find(b"\xff", pos, limit)
        if pos < 0:
            raise LookupError("no MP3 frame here")
        first = _frame_at(data, pos)
        if first is not None:
            second = _frame_at(data, pos + first.length)
            if second is not None and second.key == first.key:
                return pos, first
        pos += 1


def _frames_end(data: bytes, pos: int, first: _Frame, count: int) -> int:
    """Where `count` frames of `first`'s stream from `pos` end (fewer at the end of `data`)."""
    end = pos
    for _ in range(count):
        frame = _frame_at(data, end)
        if frame is None or frame.key != first.key or end + frame.length > len(data):
            break
        end += frame.length
    return end


def _bar_window(data: bytes, pos: int, first: _Frame, rate: int) -> array[int]:
    """The last MEASURED_SAMPLES of a stretch from `pos`, decoded after enough priming.

    The decoder drops frames until its bit reservoir holds their data (more of them when frames
    are small, as in quiet VBR passages) and the first frame it does output lacks its overlap,
    so the stretch starts at the frames covering the reservoir's reach and grows until the
    output holds one frame to throw away plus the measured samples.
    """
    reach = 511 if first.samples == 1152 else 255
    measured = -(-MEASURED_SAMPLES // first.samples)
    count = -(-reach // first.length) + measured + 2
    while True:
        end = _frames_end(data, pos, first, count)
        samples = _decode(data[pos:end], rate)
        if len(samples) >= MEASURED_SAMPLES + first.samples:
            return samples[-MEASURED_SAMPLES:]
        if count >= _MAX_STRETCH or end >= len(data):
            return samples[first.samples :]  # the end of the song: what there is of it
        count = min(2 * count, _MAX_STRETCH)


def _audio_span(fh: BinaryIO, size: int) -> tuple[int, int]:
    """Where the MPEG frames are: after an ID3v2 tag, before an ID3v1 tag."""
    fh.seek(0)
    head = fh.read(10)
    start = 0
    if len(head) == 10 and head[:3] == b"ID3":
        tag = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        start = 10 + tag + (10 if head[5] & 0x10 else 0)
    end = size
    if size - start > 128:
        fh.seek(size - 128)
        if fh.read(3) == b"TAG":
            end = size - 128
    return start, end


def _decode(data: bytes, rate: int) -> array[int]:
    decoded = miniaudio.decode(
        data, output_format=miniaudio.SampleFormat.SIGNED16, nchannels=1, sample_rate=rate
    )
    samples: array[int] = decoded.samples  # miniaudio gives an array("h") for SIGNED16
    return samples


def _split(samples: array[int], count: int) -> list[array[int]]:
    total = len(samples)
    return [samples[i * total // count : (i + 1) * total // count] for i in range(count)]


def _xing_toc(head: bytes, pos: int, first: _Frame) -> bytes | None:
    """The 100-entry seek table of a Xing/Info header in the first frame, when it has one.

    Why: in a VBR file quiet passages take fewer bytes, so a byte fraction is not a time
    fraction; the table maps each percent of the song's time to a 1/256 of its bytes.
    """
    mono = head[pos + 3] >> 6 == 3
    side = _SIDE_INFO[first.samples == 1152, mono]
    tag = pos + 4 + side
    if head[tag : tag + 4] not in (b"Xing", b"Info") or len(head) < tag + 8:
        return None
    flags = int.from_bytes(head[tag + 4 : tag + 8], "big")
    if not flags & 0x4:
        return None
    toc = tag + 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
    table = head[toc : toc + 100]
    return table if len(table) == 100 else None


def _positions(start: int, end: int, count: int, toc: bytes | None) -> Iterator[int]:
    """Where each bar's stretch starts: the middle of its share of the song."""
    for index in range(count):
        share = (2 * index + 1) / (2 * count)
        if toc is None:
            yield start + int((end - start) * share)
            continue
        percent, rest = divmod(share * 100, 1)
        low = toc[int(percent)]
        high = toc[int(percent) + 1] if percent < 99 else 256
        yield start + int((end - start) * (low + (high - low) * rest) / 256)


def mp3_levels(path: Path, count: int) -> Levels | None:
    """Sampled windows for an MP3 file, or None when it is not one we can read this way.

    Blocking (file reads and decoding): call it in a thread.
    """
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        start, end = _audio_span(fh, size)
        fh.seek(start)
        head = fh.read(_SYNC_SEARCH + 2 * _MAX_FRAME)
        try:
            sync, first = _find_stream(head, 0, min(len(head), _SYNC_SEARCH))
        except LookupError:
            return None
        if (end - start) // first.length * first.samples <= 4 * count * MEASURED_SAMPLES:
            # A short song: decoding all of it costs about what sampling would.
            fh.seek(start)
            try:
                samples = _decode(fh.read(end - start), first.rate)
            except miniaudio.DecodeError:
                return None
            return Levels(_split(samples, count), first.rate)
        windows: list[array[int]] = []
        decoded_any = False
        for pos in _positions(start, end, count, _xing_toc(head, sync, first)):
            fh.seek(pos)
            chunk = fh.read(min(end - pos, _SYNC_SEARCH + _STRETCH_BYTES))
            window = array("h")
            with contextlib.suppress(LookupError, miniaudio.DecodeError):
                lo, frame = _find_stream(chunk, 0, min(len(chunk), _SYNC_SEARCH))
                if frame.key == first.key:
                    window = _bar_window(chunk, lo, frame, first.rate)
                    decoded_any = True
            windows.append(window)
        return Levels(windows, first.rate) if decoded_any else None


def pcm_levels(pcm: bytes, rate: int, count: int) -> Levels:
    """Windows from a whole decoded song (mono s16le at `rate`)."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    return Levels(_split(samples, count), rate)
