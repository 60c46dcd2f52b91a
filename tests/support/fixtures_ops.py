"""Fixtures of the operations tests: `clean_env` for the operator commands, `webhook_bot` for a
bot in webhook mode. Plugins (tests/conftest.py), so the CLI, PostgreSQL, webhook and security
tests share them without importing each other."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.ops.webhook import WebhookBot
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import bot_env
from tests.support.webhook import webhook_env


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No songbot variables from the outside, and no `.env` in the working directory."""
    for name in list(os.environ):
        if name.startswith(("SONGBOT_", "TELEGRAM_", "AIMLAPI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
async def webhook_bot(
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
    unused_tcp_port: int,
) -> AsyncIterator[WebhookBot]:
    env = bot_env(
        fake_telegram, fake_aimlapi, tmp_path / "songbot.db", webhook_env(unused_tcp_port)
    )
    bot = WebhookBot(Config.from_env(env, env_file=None))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
