"""A fake provider answer that comes when the test says so, not after a guessed number of seconds.

Why: a test that must act while a request is in flight (remove a directory during a download,
send another update while the model is still writing) used to script the answer `delay` seconds
late, long enough for what the test did meanwhile on a loaded machine, and waited all of it.
With `held_answers` the answer comes as soon as the test is done, and never before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from songbot_fakes.aimlapi import FakeAimlApi

__all__ = ["HELD", "held_answers"]

HELD = 3600.0  # the `delay` of a scripted fake provider answer that `held_answers` holds


@contextlib.asynccontextmanager
async def held_answers(
    api: FakeAimlApi, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[asyncio.Event]:
    """Inside the block, answers scripted with `api.script(..., delay=HELD)` wait until the
    yielded event is set, or the block ends; every other pause of the fake is left alone."""
    release = asyncio.Event()
    pause = api._pause

    async def paused(seconds: float) -> None:
        if seconds == HELD:
            await release.wait()
        else:
            await pause(seconds)

    monkeypatch.setattr(api, "_pause", paused)
    try:
        yield release
    finally:
        release.set()
