"""The `harness` fixture: the real bot wired to both fakes, on a fresh database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import BotHarness


@pytest.fixture
async def harness(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> AsyncIterator[BotHarness]:
    h = BotHarness(tg=fake_telegram, api=fake_aimlapi, db_path=tmp_path / "songbot.db")
    await h.start()
    try:
        yield h
    finally:
        await h.stop()
