"""Issue #24.9: no model answer can freeze the bot or leave a preview stuck at "✍️ Writing…".

Through the real bot against the fake AI/ML API's chat completions: a 5.2 MB answer is not read
past the cap, a long answer is shortened without stalling the event loop, and JSON nested too
deep for Python (in the content or in the envelope) is an unusable answer, not counted.
"""

from __future__ import annotations

import asyncio
import json
import time

from bot.i18n import t
from tests.support.harness import USER, BotHarness
from tests.support.ux import shown
from tests.support.write import CHAT, IDEA, write

STUCK = "✍️"


async def _drafts_counted(harness: BotHarness) -> int:
    return await harness.services.lyrics.count_today(USER, 0.0, time.time() + 1)


def _lyrics_json(lyrics: str) -> str:
    return json.dumps({"title": "Long", "style": "pop, bright", "lyrics": lyrics})


async def test_a_huge_answer_is_not_read_and_not_counted(harness: BotHarness) -> None:
    # 5.2 MB: a few hundred sections of long lines (cheap to shorten, but never to be read).
    section = "[Verse]\n" + "\n".join("la " * 400 for _ in range(10))
    huge = _lyrics_json("\n".join(section for _ in range(430)))
    assert len(huge) > 5_000_000
    harness.api.script_chat(huge, times=2)
    _, preview = await write(harness, f"/write {IDEA}")
    assert preview["text"] == shown(t("error_provider_unavailable", "en"))
    assert len(harness.api.chat_requests()) == 1  # it may have run: never a second completion
    assert await _drafts_counted(harness) == 0


async def test_shortening_a_long_answer_does_not_stall_the_bot(harness: BotHarness) -> None:
    # 16,000 short lines in one section, under the read cap: shortened line by line to fit.
    lines = "[Verse]\n" + "\n".join("la la la la" for _ in range(16_000))
    harness.api.script_chat(_lyrics_json(lines), times=2)
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    try:
        _, preview = await write(harness, f"/write {IDEA}")
    finally:
        task.cancel()
    assert preview["text"].startswith("📝")  # shortened and shown
    assert max(gaps) < 1.0, f"event loop stalled {max(gaps):.1f} s"


async def test_deeply_nested_json_is_an_unusable_answer(harness: BotHarness) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    # In the content: twice (the corrective retry too), then a friendly reply, not counted.
    harness.api.script_chat(nested, times=2)
    _, preview = await write(harness, f"/write {IDEA}")
    assert STUCK not in preview["text"]
    assert preview["text"] == shown(t("error_lyrics_unusable", "en"))
    assert await _drafts_counted(harness) == 0
    # As the whole answer: the same, after one completion.
    harness.api.script(CHAT, status=200, body=nested)
    _, preview = await write(harness, f"/write {IDEA} again")
    assert preview["text"] == shown(t("error_provider_unavailable", "en"))
    assert await _drafts_counted(harness) == 0
