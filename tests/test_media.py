"""The audio toolkit against real files: transcoding, sniffing, probing, temp files."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import mutagen
import pytest

from bot.audio_format import sniff_format
from bot.delivery import codec
from bot.delivery.media import (
    AudioInfo,
    FfmpegMissing,
    MediaError,
    TempFiles,
    extract_audio,
    find_ffmpeg,
    probe,
    to_mp3,
    to_wav,
)
from bot.i18n import t
from songbot_fakes.audio_fixtures import (
    make_audio,
    make_m4a,
    make_mp3,
    make_ogg_opus,
    make_wav,
    make_wav_pure,
)
from tests.support.ffmpeg_tool import run_ffmpeg


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def mutagen_length(path: Path) -> float:
    parsed = mutagen.File(path)
    assert parsed is not None
    return float(parsed.info.length)


def strip_id3(data: bytes) -> bytes:
    """Raw MPEG frames: drop the ID3v2 header so the file starts at a frame sync."""
    assert data[:3] == b"ID3"
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return data[10 + size :]


# --- transcoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "seconds"),
    [
        ("voice.oga", make_ogg_opus(12), 12.0),
        ("clip.m4a", make_m4a(7), 7.0),
        ("take.wav", make_wav(5), 5.0),
    ],
)
async def test_to_mp3_keeps_duration(
    tmp_path: Path, name: str, data: bytes, seconds: float
) -> None:
    src = write(tmp_path, name, data)
    dst = tmp_path / "out" / "ref.mp3"
    await to_mp3(src, dst, bitrate="128k")
    assert dst.read_bytes()[:3] == b"ID3" or sniff_format(dst.read_bytes()[:4]) == "mp3"
    assert type(mutagen.File(dst)).__name__ == "MP3"
    assert abs(mutagen_length(dst) - seconds) <= 0.3
    assert not (tmp_path / "out" / "ref.mp3.part").exists()


async def test_to_wav_from_opus(tmp_path: Path) -> None:
    src = write(tmp_path, "voice.ogg", make_ogg_opus(11))
    dst = tmp_path / "ref.wav"
    await to_wav(src, dst)
    assert sniff_format(dst.read_bytes()[:16]) == "wav"
    assert abs(mutagen_length(dst) - 11.0) <= 0.3


async def test_extract_audio_from_video(tmp_path: Path) -> None:
    video = tmp_path / "note.mp4"
    picture = ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=4"]
    sound = ["-f", "lavfi", "-i", "sine=f=300:d=4"]
    codecs = ["-c:v", "mpeg4", "-c:a", "aac", "-shortest", "-y"]
    await run_ffmpeg([*picture, *sound, *codecs, str(video)])
    dst = tmp_path / "note.mp3"
    await extract_audio(video, dst)
    info = await probe(dst)
    assert info.format == "mp3"
    assert info.duration is not None and abs(info.duration - 4.0) <= 0.3


async def test_garbage_input_raises_media_error(tmp_path: Path) -> None:
    src = write(tmp_path, "junk.ogg", b"this is not audio at all" * 100)
    dst = tmp_path / "junk.mp3"
    with pytest.raises(MediaError) as info:
        await to_mp3(src, dst)
    assert info.value.key == "error_media"
    assert "ffmpeg (PyAV) failed" in info.value.detail
    assert info.value.user_message("en") == t("error_media", "en")
    assert not dst.exists()
    assert not (tmp_path / "junk.mp3.part").exists()


async def test_input_without_audio_stream(tmp_path: Path) -> None:
    silent_video = tmp_path / "mute.mp4"
    args = ["-f", "lavfi", "-i", "testsrc=size=32x32:rate=5:duration=1", "-c:v", "mpeg4", "-y"]
    await run_ffmpeg([*args, str(silent_video)])
    with pytest.raises(MediaError):
        await extract_audio(silent_video, tmp_path / "none.mp3")


async def test_path_that_looks_like_an_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "-i.wav", make_wav(2))
    await to_mp3(Path("-i.wav"), Path("-y.mp3"))
    assert abs(mutagen_length(tmp_path / "-y.mp3") - 2.0) <= 0.3


async def test_bad_bitrate_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bitrate must look like"):
        await to_mp3(tmp_path / "a.wav", tmp_path / "b.mp3", bitrate="-f null")


class _Recorder:
    """Wraps asyncio.create_subprocess_exec to keep the processes a test started."""

    def __init__(self) -> None:
        self.processes: list[asyncio.subprocess.Process] = []
        self._real = asyncio.create_subprocess_exec

    async def __call__(self, *args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        proc = await self._real(*args, **kwargs)
        self.processes.append(proc)
        return proc


def ten_minutes_of_wav(tmp_path: Path) -> Path:
    """Seconds of work for the codec child: long enough to be caught running."""
    return write(tmp_path, "long.wav", make_wav_pure(600))


async def test_timeout_kills_the_codec_child(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(asyncio, "create_subprocess_exec", recorder)
    started = time.monotonic()
    with pytest.raises(MediaError) as info:
        await to_mp3(ten_minutes_of_wav(tmp_path), tmp_path / "long.mp3", timeout=0.5)
    assert time.monotonic() - started < 10
    assert "timed out" in info.value.detail
    assert len(recorder.processes) == 1
    assert recorder.processes[0].returncode is not None  # reaped, not left running
    assert recorder.processes[0].returncode < 0  # ended by a signal
    assert not (tmp_path / "long.mp3").exists() and not (tmp_path / "long.mp3.part").exists()


async def test_cancellation_kills_the_codec_child(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(asyncio, "create_subprocess_exec", recorder)
    task = asyncio.create_task(to_mp3(ten_minutes_of_wav(tmp_path), tmp_path / "long.mp3"))
    for _ in range(500):
        if recorder.processes:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.processes[0].returncode is not None
    assert recorder.processes[0].returncode < 0  # killed, not left to finish


# --- finding the codec -------------------------------------------------------------------------


def test_find_ffmpeg_names_pyav() -> None:
    assert find_ffmpeg() == "PyAV"
    status = codec.codec_status()
    assert "PyAV" in status and "lameenc" in status and "MP3 encoder" in status


@pytest.mark.parametrize("package", ["av", "lameenc"])
async def test_codec_missing(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    real = codec.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == package else real(name, *args)

    monkeypatch.setattr(codec.importlib.util, "find_spec", find_spec)
    with pytest.raises(FfmpegMissing) as info:
        find_ffmpeg()
    assert f"package {package} is not installed" in info.value.detail
    assert f"pip install {package}" in info.value.detail
    assert info.value.user_message("en") == t("error_ffmpeg_missing", "en")
    with pytest.raises(FfmpegMissing):
        codec.codec_status()


def test_codec_lacking_a_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec, "DECODERS", ("opus", "no_such_decoder"))
    with pytest.raises(FfmpegMissing) as info:
        codec.codec_status()
    assert "no_such_decoder" in info.value.detail


# --- sniffing and probing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_mp3(1), "mp3"),
        (strip_id3(make_mp3(1)), "mp3"),
        (make_wav(1), "wav"),
        (make_ogg_opus(1), "ogg"),
        (make_m4a(1), "m4a"),
        (b"fLaC\x00\x00\x00\x22" + bytes(34), "flac"),
        (b"\xff\xf1\x50\x80\x00\x1f\xfc", None),  # AAC ADTS, not MPEG audio
        (b"\xff\xff\xff\xff", None),  # reserved bits set
        (b"\x1a\x45\xdf\xa3webm", None),
        (b"RIFF\x00\x00\x00\x00AVI ", None),
        (b"<html>", None),
        (b"", None),
        (b"\xff", None),
    ],
)
def test_sniff_format(data: bytes, expected: str | None) -> None:
    assert sniff_format(data[:64]) == expected


async def test_probe_each_format(tmp_path: Path) -> None:
    cases = {
        "a.mp3": (make_mp3(3), "mp3"),
        "a.wav": (make_wav(3), "wav"),
        "a.ogg": (make_ogg_opus(3), "ogg"),
        "a.m4a": (make_m4a(3), "m4a"),
        "stereo.mp3": (make_audio("mp3", 2.0, 440.0, 2), "mp3"),
    }
    for name, (data, fmt) in cases.items():
        info = await probe(write(tmp_path, name, data))
        assert info.format == fmt, name
        expected = 2.0 if name == "stereo.mp3" else 3.0
        assert info.duration is not None and abs(info.duration - expected) <= 0.1, name
        assert info.channels == (2 if name == "stereo.mp3" else 1), name
        assert info.sample_rate in (44_100, 48_000), name
        assert info.bitrate is not None and info.bitrate > 0, name


async def test_probe_garbage_and_missing(tmp_path: Path) -> None:
    info = await probe(write(tmp_path, "junk.bin", b"\x00garbage" * 64))
    assert info == AudioInfo(None, None, None, None, None)
    truncated = await probe(write(tmp_path, "cut.wav", make_wav(1)[:20]))
    assert truncated.format == "wav" and truncated.duration is None
    with pytest.raises(MediaError):
        await probe(tmp_path / "missing.mp3")


# --- temporary files ---------------------------------------------------------------------------


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_tempfiles_paths(tmp_path: Path) -> None:
    root = tmp_path / "work" / "tmp"
    temp = TempFiles(root)
    assert root.is_dir()
    a = temp.path_for("job-1", ".ref.mp3")
    assert a == temp.path_for("job-1", ".ref.mp3")
    assert a.parent.is_dir() and a.parent.parent == root
    assert a.name.endswith(".ref.mp3")
    assert temp.path_for("job-1", ".jpg") != a
    assert temp.path_for("job-2", ".ref.mp3").parent != a.parent


@pytest.mark.parametrize("key", ["../../etc", "a/b", "..", "x" * 500, "ключ 🎵", "", "a\x00b"])
def test_tempfiles_hostile_job_keys_stay_inside(tmp_path: Path, key: str) -> None:
    temp = TempFiles(tmp_path / "t")
    path = temp.path_for(key, ".mp3")
    assert path.resolve().parent.parent == (tmp_path / "t").resolve()
    assert len(path.name) < 100
    assert temp.path_for(key + "!", ".mp3") != path


@pytest.mark.parametrize("suffix", ["/x.mp3", "..", "../a", "a b", "", "x" * 80, ".mp3\x00"])
def test_tempfiles_unsafe_suffix(tmp_path: Path, suffix: str) -> None:
    with pytest.raises(ValueError, match="unsafe temporary-file suffix"):
        TempFiles(tmp_path).path_for("job", suffix)


def test_tempfiles_cleanup_job(tmp_path: Path) -> None:
    temp = TempFiles(tmp_path / "t")
    kept = temp.path_for("keep", ".mp3")
    kept.write_bytes(b"k")
    for suffix in (".src.ogg", ".ref.mp3", ".jpg"):
        temp.path_for("done", suffix).write_bytes(b"x")
    temp.cleanup_job("done")
    assert not temp.job_dir("done").exists()
    assert kept.exists()
    temp.cleanup_job("never-existed")  # no error


def test_tempfiles_sweep(tmp_path: Path) -> None:
    temp = TempFiles(tmp_path / "t")
    stale = [temp.path_for("old", ".mp3"), temp.path_for("old", ".jpg")]
    fresh = temp.path_for("new", ".mp3")
    for path in [*stale, fresh]:
        path.write_bytes(b"data")
    stray = tmp_path / "t" / "stray.part"
    stray.write_bytes(b"x")
    for path in [*stale, stray]:
        _age(path, 7200)
    _age(temp.job_dir("old"), 7200)
    empty_old = temp.job_dir("empty")
    empty_old.mkdir()
    _age(empty_old, 7200)
    empty_new = temp.job_dir("just-started")
    empty_new.mkdir()

    assert temp.sweep(3600) == 3
    assert not any(path.exists() for path in [*stale, stray])
    assert not temp.job_dir("old").exists()
    assert not empty_old.exists()
    assert fresh.exists()
    assert empty_new.exists()  # a job that just asked for a path keeps its folder
    assert (tmp_path / "t").is_dir()
    assert temp.sweep(3600) == 0


def test_tempfiles_recreated_when_deleted(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "t"
    temp = TempFiles(root)
    shutil.rmtree(root)
    assert temp.sweep(60) == 0
    assert root.is_dir()
    shutil.rmtree(root)
    path = temp.path_for("job", ".mp3")
    path.write_bytes(b"ok")
    assert path.read_bytes() == b"ok"


# --- the codec's self-test (songbot check, the image's smoke test) -----------------------------


async def test_self_test_round_trips_a_tone_through_the_child() -> None:
    assert (await codec.self_test()).endswith("WAV → MP3 → PCM works")


async def test_check_fails_when_the_child_cannot_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.ops.check import FAIL, _ffmpeg_check

    monkeypatch.setattr(codec.sys, "executable", "/bin/false")  # every child fails at once
    result = await _ffmpeg_check()
    assert (result.name, result.status) == ("ffmpeg", FAIL)
    assert "ffmpeg (PyAV) failed" in result.detail


async def test_the_codec_child_gets_no_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The process that reads untrusted files does not hold the token or the API key."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:child-must-not-see-this")
    monkeypatch.setenv("AIMLAPI_KEY", "key-child-must-not-see-this")
    seen: list[dict[str, str]] = []
    real = asyncio.create_subprocess_exec

    async def spy(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        seen.append(kwargs.get("env") or dict(os.environ))
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    await to_mp3(write(tmp_path, "a.wav", make_wav(1)), tmp_path / "a.mp3")
    assert len(seen) == 1 and "PATH" in seen[0]
    assert "TELEGRAM_BOT_TOKEN" not in seen[0] and "AIMLAPI_KEY" not in seen[0]
