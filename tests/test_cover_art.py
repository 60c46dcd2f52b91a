"""Cover art against real audio: sampled MP3 levels, the ffmpeg path for other formats, drawing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from bot.delivery import cover_art
from bot.delivery.cover_art import render_cover
from bot.delivery.media import MediaError
from songbot_fakes.audio_fixtures import make_mp3, make_ogg_opus, make_wav
from tests.support.ffmpeg_tool import run_ffmpeg


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _check_jpeg(path: Path) -> Image.Image:
    data = path.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    assert len(data) < 200_000
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "JPEG"
    assert image.width <= 320 and image.height <= 320
    return image


async def test_cover_art_differs_per_audio(tmp_path: Path) -> None:
    low = write(tmp_path, "low.mp3", make_mp3(4, 110.0))
    high = write(tmp_path, "high.ogg", make_ogg_opus(4, 1500.0))
    a = await render_cover(low, tmp_path / "low.jpg", title="Deep bass", subtitle="music-2.0")
    b = await render_cover(high, tmp_path / "high.jpg", title="Deep bass", subtitle="music-2.0")
    assert a == tmp_path / "low.jpg" and b == tmp_path / "high.jpg"
    first, second = _check_jpeg(a), _check_jpeg(b)
    assert a.read_bytes() != b.read_bytes()
    mean_a = ImageStat.Stat(first.convert("RGB")).mean
    mean_b = ImageStat.Stat(second.convert("RGB")).mean
    assert sum(abs(x - y) for x, y in zip(mean_a, mean_b, strict=True)) > 10


async def test_cover_art_differs_for_songs_of_the_same_pitch(tmp_path: Path) -> None:
    one = write(tmp_path, "one.wav", make_wav(3, 440.0))
    two = write(tmp_path, "two.wav", make_wav(4, 441.0))
    a = _check_jpeg(await render_cover(one, tmp_path / "one.jpg", title="Same"))
    b = _check_jpeg(await render_cover(two, tmp_path / "two.jpg", title="Same"))
    mean_a, mean_b = ImageStat.Stat(a).mean, ImageStat.Stat(b).mean
    assert sum(abs(x - y) for x, y in zip(mean_a, mean_b, strict=True)) > 10


async def test_cover_art_is_deterministic(tmp_path: Path) -> None:
    src = write(tmp_path, "a.wav", make_wav(3, 660.0))
    one = await render_cover(src, tmp_path / "1.jpg", title="Same")
    two = await render_cover(src, tmp_path / "2.jpg", title="Same")
    assert one.read_bytes() == two.read_bytes()


def _white_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    data = image.convert("RGB").crop(box).tobytes()
    return sum(1 for i in range(0, len(data), 3) if min(data[i : i + 3]) > 225)


async def test_cover_art_draws_the_title(tmp_path: Path) -> None:
    src = write(tmp_path, "a.mp3", make_mp3(3, 440.0))
    titled = _check_jpeg(await render_cover(src, tmp_path / "t.jpg", title="Neon Lights"))
    assert _white_pixels(titled, (0, 0, 320, 50)) > 50  # white title lettering at the top
    assert _white_pixels(titled, (0, 120, 320, 270)) == 0  # the waveform band has no text


async def test_cover_art_hostile_title_and_noise(tmp_path: Path) -> None:
    noise = tmp_path / "noise.wav"
    await run_ffmpeg(["-f", "lavfi", "-i", "anoisesrc=d=3:c=white:a=0.9", "-y", str(noise)])
    title = "😀 " + "Supercalifragilistic" * 20 + " \x00\u202e<b>&amp;</b>\n" * 5
    out = await render_cover(noise, tmp_path / "n.jpg", title=title, subtitle="x" * 5000)
    _check_jpeg(out)


@pytest.fixture
def builtin_font_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a slim server image with no system fonts: only Pillow's built-in font."""
    monkeypatch.setattr(cover_art, "_FONT_CANDIDATES", ())
    cover_art._font.cache_clear()
    cover_art._has_glyph.cache_clear()
    yield
    cover_art._font.cache_clear()
    cover_art._has_glyph.cache_clear()


async def test_cover_text_with_builtin_font(tmp_path: Path, builtin_font_only: None) -> None:
    # The built-in font has no accents, Cyrillic or emoji: simplify or drop, never draw boxes.
    assert cover_art._clean_text("Café — Привет 😀 ok\x00\n“x”", 26) == 'Cafe - ok "x"'
    src = write(tmp_path, "a.mp3", make_mp3(2, 300.0))
    _check_jpeg(await render_cover(src, tmp_path / "ru.jpg", title="Привет", subtitle="ёж"))
    titled = _check_jpeg(await render_cover(src, tmp_path / "en.jpg", title="Hello"))
    assert _white_pixels(titled, (0, 0, 320, 50)) > 20


async def test_cover_art_silence_and_tiny_audio(tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.01", "-y", str(silence)]
    )
    _check_jpeg(await render_cover(silence, tmp_path / "s.jpg", title="Quiet"))


async def test_cover_art_garbage_raises(tmp_path: Path) -> None:
    junk = write(tmp_path, "junk.mp3", b"not audio" * 50)
    with pytest.raises(MediaError):
        await render_cover(junk, tmp_path / "j.jpg", title="x")
    assert not (tmp_path / "j.jpg").exists()
