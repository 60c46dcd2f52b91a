"""docs/usage.md's "A session with songbot" is what the bot really does (scripts/transcript.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("transcript", ROOT / "scripts" / "transcript.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_transcript_shows_the_session_and_matches_the_usage_page() -> None:
    script = load_script()
    transcript: str = await script.record()
    for expected in (
        "👤 Ada: /start",
        "[🔁 Again] [📝 Lyrics] [🎲 Variation]",
        "👆 Ada taps [🎲 Variation]  → “🎲 A variation is on its way.”",
        "Variation: the same lyrics, now with MiniMax-2.6",
        "(status, removed when done)",
        "cover art",
        "👆 Ada taps [▶️ 2.",
        "👤 Ada: /songs",
        "👆 Ada taps [🔗 Link]",
        "🔗 Shared: https://t.me/SongTestBot?start=s_…",
        "Idioma: Español",
    ):
        assert expected in transcript
    readme = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    assert script.with_transcript(readme, transcript) == readme, (
        "docs/usage.md is out of date: run .venv/bin/python scripts/transcript.py"
    )


def test_markers_are_required_and_replaced() -> None:
    script = load_script()
    text = f"intro\n{script.START}\nold\n{script.END}\noutro"
    assert script.with_transcript(text, "new") == (
        f"intro\n{script.START}\n```text\nnew\n```\n{script.END}\noutro"
    )
    with pytest.raises(ValueError, match="markers"):
        script.with_transcript("no markers", "new")
