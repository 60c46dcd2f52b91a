"""Sampled MP3 levels against real encodes: right positions, right loudness, odd files refused."""

from __future__ import annotations

import math
from array import array
from pathlib import Path

import pytest

from bot.delivery.audio_levels import MEASURED_SAMPLES, mp3_levels, pcm_levels
from bot.delivery.cover_art import BARS, _bar, _zero_crossing_rate
from bot.delivery.media import decode_pcm
from tests.support.ffmpeg_tool import run_ffmpeg


async def encode(
    path: Path, seconds: float, volume: str, *, codec: list[str], rate: int = 44100
) -> Path:
    """A sine tone whose loudness follows `volume` (an ffmpeg expression of t), with ID3 tags."""
    await run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate={rate}:duration={seconds}",
            "-af",
            f"volume='{volume}':eval=frame",
            "-ac",
            "2",
            *codec,
            "-metadata",
            "title=Levels test",
            "-write_id3v1",
            "1",
            "-y",
            str(path),
        ]
    )
    return path


def rms_of(levels: list[tuple[float, float]]) -> list[float]:
    return [rms for _, rms in levels]


async def full_decode_bars(path: Path) -> list[float]:
    pcm = await decode_pcm(path, rate=8000, max_seconds=1200)
    return rms_of([_bar(w) for w in pcm_levels(pcm, 8000, BARS).windows])


async def test_sampled_bars_follow_the_loudness_of_a_long_song(tmp_path: Path) -> None:
    # Quiet for 20 s, loud for 20 s: long enough (1,500+ frames) to be sampled, not decoded whole.
    song = await encode(tmp_path / "step.mp3", 40, "if(lt(t,20),0.05,0.8)", codec=["-b:a", "128k"])
    levels = mp3_levels(song, BARS)
    assert levels is not None and levels.rate == 44100 and len(levels.windows) == BARS
    frame_samples = 1152
    for window in levels.windows:  # every bar decoded its frames after the priming ones
        assert len(window) == MEASURED_SAMPLES == 2 * frame_samples
    total = sum(len(w) for w in levels.windows)
    assert total < 40 * 44100 / 10  # well under a tenth of the song was decoded
    bars = rms_of([_bar(w) for w in levels.windows])
    quiet, loud = bars[2 : BARS // 2 - 2], bars[BARS // 2 + 2 :]
    assert max(quiet) < 0.1 * min(loud)
    # The same loudness as decoding every sample (a steady sine: any window has the same RMS).
    full = await full_decode_bars(song)
    for index in [*range(2, BARS // 2 - 2), *range(BARS // 2 + 2, BARS)]:
        assert bars[index] == pytest.approx(full[index], rel=0.15), index


async def test_sampled_bars_on_a_ramp_match_a_full_decode(tmp_path: Path) -> None:
    song = await encode(tmp_path / "ramp.mp3", 60, "t/60", codec=["-q:a", "4"])  # VBR, Xing
    levels = mp3_levels(song, BARS)
    assert levels is not None
    bars = rms_of([_bar(w) for w in levels.windows])
    full = await full_decode_bars(song)
    loudest = max(full)
    for index in range(1, BARS):
        # Read at the middle of each bar, through the Xing table (VBR bytes are not time).
        assert abs(bars[index] - full[index]) <= 0.05 * full[index] + loudest / BARS, index
    assert bars[-1] > 10 * bars[3]


async def test_mpeg2_low_rate_and_a_cut_off_last_frame(tmp_path: Path) -> None:
    song = await encode(
        tmp_path / "lsf.mp3", 90, "0.5", codec=["-ar", "22050", "-b:a", "32k"], rate=22050
    )
    data = song.read_bytes()
    song.write_bytes(data[: len(data) - 128 - 77])  # drop the ID3v1 tag and half a frame
    levels = mp3_levels(song, BARS)
    assert levels is not None and levels.rate == 22050
    bars = rms_of([_bar(w) for w in levels.windows])
    full = await full_decode_bars(song)
    for index in range(BARS):
        assert bars[index] == pytest.approx(full[index], rel=0.1), index


async def test_short_song_is_decoded_whole(tmp_path: Path) -> None:
    song = await encode(tmp_path / "short.mp3", 3, "0.5", codec=["-b:a", "64k"])
    levels = mp3_levels(song, BARS)
    assert levels is not None and len(levels.windows) == BARS
    assert sum(len(w) for w in levels.windows) >= 2.9 * 44100  # all of it, split into bars


@pytest.mark.parametrize(
    "data",
    [
        b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"not audio at all" * 500,
        b"\xff\xfb" + b"\x00" * 5000,  # one header-like pair of bytes, no frames after it
        b"",
    ],
)
def test_files_without_mp3_frames_are_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "junk.mp3"
    path.write_bytes(data)
    assert mp3_levels(path, BARS) is None


def test_zero_crossing_rate_counts_sign_changes() -> None:
    rate = 8000
    tone = array("h", (round(10000 * math.sin(2 * math.pi * 250 * i / rate)) for i in range(8000)))
    # A 250 Hz sine crosses zero 500 times a second: 500 / 8000 per sample.
    assert _zero_crossing_rate([tone[:4000], tone[4000:]]) == pytest.approx(500 / 8000, rel=0.01)
    assert _zero_crossing_rate([array("h", [5, -5, 5, -5])]) == 1.0
    assert _zero_crossing_rate([array("h"), array("h", [3])]) == 0.0
