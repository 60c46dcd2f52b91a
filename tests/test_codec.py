"""Every audio path the bot has, through the real codec child (bot/delivery/codec.py, PyAV).

Inputs are made by an independent encoder (the ffmpeg command line,
tests/support/ffmpeg_tool.py) in each
form users send: OGG/Opus voice notes, MP3, M4A, a video's and a round video message's sound
(MP4, H.264 picture, AAC sound), FLAC, WAV, and a 96 kHz 6-channel FLAC that MP3 cannot carry
as it is. Each is converted to MP3 (references, deliveries) and decoded to PCM (the cover), and
the caps of the security work are checked on the output: the length cut and the size cut.
"""

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest

from bot.delivery import codec
from bot.delivery.media import MediaError, decode_pcm, probe, to_mp3
from songbot_fakes.audio_fixtures import make_m4a, make_mp3, make_ogg_opus, make_wav
from tests.support.ffmpeg_tool import make_media

pytestmark = pytest.mark.process  # every conversion runs in a child process

SECONDS = 4.0


def _tone(seconds: float, rate: int = 44100, layout: str = "mono") -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=f=440:r={rate}:d={seconds}", "-ac", _channels(layout)]


def _channels(layout: str) -> str:
    return {"mono": "1", "stereo": "2", "5.1": "6"}[layout]


def _video(path: Path, size: str) -> Path:
    """An MP4 with an H.264 picture and an AAC soundtrack, as Telegram clients record them."""
    picture = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=15:duration={SECONDS}"]
    sound = ["-f", "lavfi", "-i", f"sine=f=300:d={SECONDS}"]
    codecs = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest"]
    return make_media(path, [*picture, *sound, *codecs, "-f", "mp4"])


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


INPUTS = {
    "voice.oga": lambda p: _write(p, make_ogg_opus(SECONDS)),
    "song.mp3": lambda p: _write(p, make_mp3(SECONDS)),
    "clip.m4a": lambda p: _write(p, make_m4a(SECONDS)),
    "video.mp4": lambda p: _video(p, "320x180"),
    "round.mp4": lambda p: _video(p, "240x240"),  # a video message is a square video
    "take.flac": lambda p: make_media(p, [*_tone(SECONDS), "-c:a", "flac"]),
    "take.wav": lambda p: _write(p, make_wav(SECONDS)),
    "studio.flac": lambda p: make_media(p, [*_tone(SECONDS, 96000, "5.1"), "-c:a", "flac"]),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
async def test_every_input_becomes_an_mp3_of_the_same_length(tmp_path: Path, name: str) -> None:
    src = INPUTS[name](tmp_path / name)
    declared = (await probe(src)).duration  # probed before any conversion, as the bot does
    assert declared is not None and abs(declared - SECONDS) <= 0.3
    dst = tmp_path / "out.mp3"
    await to_mp3(src, dst, bitrate="128k")
    parsed = mutagen.File(dst)
    assert type(parsed).__name__ == "MP3"
    assert abs(parsed.info.length - SECONDS) <= 0.3
    assert parsed.info.sample_rate in codec.MP3_RATES
    assert parsed.info.channels in (1, 2)
    assert abs(parsed.info.bitrate - 128_000) <= 8_000


@pytest.mark.parametrize("name", sorted(INPUTS))
async def test_every_input_decodes_to_pcm_for_the_cover(tmp_path: Path, name: str) -> None:
    src = INPUTS[name](tmp_path / name)
    pcm = await decode_pcm(src, rate=8000, max_seconds=60)
    assert abs(len(pcm) / 2 / 8000 - SECONDS) <= 0.3  # mono s16le, 8 kHz
    loud = max(
        abs(int.from_bytes(pcm[i : i + 2], "little", signed=True)) for i in range(0, 16000, 2)
    )
    assert loud > 1000, "a tone, not silence"


async def test_the_pcm_stops_at_its_length(tmp_path: Path) -> None:
    src = _write(tmp_path / "voice.oga", make_ogg_opus(SECONDS))
    pcm = await decode_pcm(src, rate=8000, max_seconds=1.5)
    assert len(pcm) == 2 * 8000 * 1.5


async def test_a_conversion_is_cut_at_its_maximum_length(tmp_path: Path) -> None:
    src = make_media(tmp_path / "long.flac", [*_tone(30.0), "-c:a", "flac"])
    dst = tmp_path / "cut.mp3"
    await to_mp3(src, dst, bitrate="192k", max_seconds=5.0)
    length = mutagen.File(dst).info.length
    assert 5.0 <= length <= 5.2
    # ...and at the size that much audio has: 5 s at 192 kbit/s plus 256 KiB of headroom.
    assert dst.stat().st_size <= 5 * 192_000 / 8 + 256 * 1024


async def test_a_conversion_is_cut_at_its_size(tmp_path: Path) -> None:
    src = make_media(tmp_path / "long.flac", [*_tone(30.0), "-c:a", "flac"])
    dst = tmp_path / "cut.mp3"
    await codec.to_mp3(src, dst, bitrate=192_000, timeout=60, max_bytes=40_000)
    size = dst.stat().st_size
    assert 40_000 <= size <= 40_000 + 8_000  # stops at the first packet past the cap
    assert mutagen.File(dst).info.length < 3.0


async def test_a_video_without_sound_is_named_as_such(tmp_path: Path) -> None:
    picture = ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=1", "-c:v", "libx264"]
    src = make_media(tmp_path / "mute.mp4", [*picture, "-f", "mp4"])
    with pytest.raises(MediaError) as info:
        await to_mp3(src, tmp_path / "none.mp3")
    assert "matches no streams" in info.value.detail  # what prepare_reference tells the user
    assert not (tmp_path / "none.mp3").exists()
