"""`songbot demo`: the offline rehearsal prints the chat and saves songs a player can open."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import mutagen
import pytest

from bot.ops.demo import (
    DemoStep,
    TranscriptLine,
    format_duration,
    format_size,
    render_line,
    run_demo,
)
from tests.support.ops import PYTHON, subprocess_env


def audio_seconds(data: bytes) -> float:
    parsed = mutagen.File(io.BytesIO(data))  # type: ignore[attr-defined]
    assert parsed is not None, "not an audio file mutagen can read"
    return float(parsed.info.length)


# A command run as a process (conftest.py's `process` tier), at the demo's own pace: the bot
# keeps Telegram's one message a second in a private chat, as it would for a real user.
@pytest.mark.process
async def test_songbot_demo_prints_the_chat_and_saves_playable_songs(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bot",
        "demo",
        "--out",
        str(out),
        # The fake provider's time per song (default 1 s): the songs are the same.
        "--generation-seconds",
        "0.2",
        env=subprocess_env({}),
        cwd=tmp_path,  # no .env here, and the demo must not need one
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=90)
    text = stdout.decode()
    assert proc.returncode == 0, text + stderr.decode()
    # The five scripted turns, in order, as a chat transcript.
    order = [
        "── 1. A song with lyrics",
        "👤 Ada: /song dreamy synth-pop with female vocals",
        # Each song is titled as #25.12 says: its chorus line (then its first line, its style,
        # the /write title below).
        "🤖 songbot: 🎵 [audio: Stay, stay, stay, 0:03, ",
        "── 2. Sing it like my voice note",
        "👤 Ada: 🎤 [voice note, 0:12]",
        "🤖 songbot: 🎵 [audio: Lift me up, lift me high, 0:03, ",
        "── 3. A request the bot can't take",
        "👤 Ada: /song model:kazoo-9000 polka",
        "🤖 songbot: I don't know the model kazoo-9000.",
        "── 4. An instrumental",
        "🤖 songbot: 🎵 [audio: calm ambient piano for studying, 0:03, ",
        "── 5. Write the song for me",
        "👤 Ada: /write a birthday song for my sister Anna who loves cats",
        "🤖 songbot: 📝 a birthday song",
        "👤 [presses 🎵]",
        "🤖 songbot: 🎵 [audio: a birthday song, 0:03, ",
        f"4 song(s) saved in {out}/",
    ]
    positions = [text.find(piece) for piece in order]
    assert all(p >= 0 for p in positions), [
        o for o, p in zip(order, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    assert "did not go as scripted" not in text
    # The saved files are the songs the fake Telegram received, and they play.
    files = sorted(out.iterdir())
    assert [f.suffix for f in files] == [".mp3", ".mp3", ".mp3", ".mp3"]
    assert files[0].name == "01-stay-stay-stay.mp3"
    for file in files:
        data = file.read_bytes()
        assert 2.5 <= audio_seconds(data) <= 3.5
        assert f"{file.name}  (0:03, {format_size(len(data))})" in text


async def test_run_demo_as_a_library_with_a_custom_script(tmp_path: Path) -> None:
    lines: list[str] = []
    script = (
        DemoStep("Bare command", "/song", expect_song=False),
        DemoStep("Instrumental", "/song slow lo-fi beat for rainy days", expect_song=True),
    )
    result = await run_demo(
        tmp_path / "out", generation_seconds=0.2, echo=lines.append, script=script
    )
    assert result.ok, result.problems
    assert [line.who for line in result.lines] == ["user", "bot", "user", "bot"]
    assert "/song" in result.lines[1].text  # the usage reply shows how to ask
    assert len(result.audio) == 1
    song = result.audio[0]
    assert song.path.read_bytes()[:3] == b"ID3" or song.path.read_bytes()[0] == 0xFF
    assert audio_seconds(song.path.read_bytes()) > 2.5
    assert song.title == "slow lo-fi beat for rainy days"
    assert [job.state for job in result.jobs] == ["delivered"]
    assert result.transcript().splitlines()[0] == "👤 Ada: /song"
    assert any(line.startswith("── 2. Instrumental") for line in "\n".join(lines).splitlines())


async def test_run_demo_reports_a_step_that_does_not_go_as_scripted(tmp_path: Path) -> None:
    script = (DemoStep("Expecting a song from nothing", "/song", expect_song=True),)
    result = await run_demo(tmp_path / "out", generation_seconds=0.2, script=script)
    assert not result.ok
    assert result.problems == ["step 1 (Expecting a song from nothing): no song, no job"]
    assert result.audio == []


def test_transcript_formatting() -> None:
    assert format_duration(0) == "0:00"
    assert format_duration(185) == "3:05"
    assert format_size(48_400) == "48 kB"
    assert format_size(3_250_000) == "3.2 MB"
    line = TranscriptLine("bot", "first\nsecond\n\nfourth", 3)
    assert render_line(line) == (
        "🤖 songbot: first\n" + " " * 12 + "second\n\n" + " " * 12 + "fourth"
    )
    assert render_line(TranscriptLine("user", "hi", 1)) == "👤 Ada: hi"
