"""The bot fixtures: `harness`, the real bot wired to both fakes on a fresh database, and
`app_bot`, the same with the Mini App switched on (SONGBOT_PUBLIC_URL and its web server).

A test that needs other settings from the start says so with `@pytest.mark.harness_env(NAME=
"value", ...)`: `harness` starts with them, instead of starting and then restarting (a fifth of a
second each time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import BotHarness
from tests.support.webapp import PUBLIC


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "harness_env(**env): settings the `harness` bot starts with (fixtures_bot.py)"
    )


@pytest.fixture
async def harness(
    request: pytest.FixtureRequest,
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
) -> AsyncIterator[BotHarness]:
    marker = request.node.get_closest_marker("harness_env")
    h = BotHarness(
        tg=fake_telegram,
        api=fake_aimlapi,
        db_path=tmp_path / "songbot.db",
        env_extra=dict(marker.kwargs) if marker is not None else {},
    )
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def app_bot(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> AsyncIterator[BotHarness]:
    harness = BotHarness(
        tg=fake_telegram,
        api=fake_aimlapi,
        db_path=tmp_path / "songbot.db",
        env_extra={
            "SONGBOT_HTTP_PORT": "0",
            "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "SONGBOT_PUBLIC_URL": PUBLIC,
        },
    )
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
