"""The `fake_telegram` fixture: a fresh local Bot API server per test (songbot_fakes.telegram).

Why the environment tweaks live here: PTB's `RetryAfter.retry_after` warns (an error under
`filterwarnings=error`) unless PTB_TIMEDELTA=1, and httpx honours proxy variables even for
127.0.0.1 unless NO_PROXY lists it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from songbot_fakes.telegram import FakeTelegram

os.environ["PTB_TIMEDELTA"] = "1"
_no_proxy = [p for p in os.environ.get("NO_PROXY", "").split(",") if p]
os.environ["NO_PROXY"] = ",".join([*_no_proxy, "127.0.0.1", "localhost"])

__all__ = ["fake_telegram"]


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
