"""Shared helpers and fixtures for the operations tests (test_ops_*.py); holds no tests itself.

Why a module of its own: the web, webhook, CLI, log and demo tests all need a bot with its HTTP
port switched on, a way to read Prometheus text, and to put the root logger back the way it was
after code under test configured logging for a whole process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.bot_data import bot_data_of
from bot.ops.cli import main
from bot.ops.web import WebServer
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from storage.jobs import NewJob
from tests.support.harness import BotHarness

REPO = Path(__file__).resolve().parents[2]
HTTP_ENV = {"SONGBOT_HTTP_PORT": "0", "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1"}
LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay"

__all__ = [
    "HTTP_ENV",
    "LYRICS",
    "REPO",
    "get",
    "metric",
    "new_job",
    "ops_bot",
    "restore_logging",
    "run_main",
    "secret_forms",
    "subprocess_env",
    "web_server",
]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo `setup_logging` (root handlers and levels) done by the code under test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("httpx", "httpcore", "telegram.Bot", "aiohttp.access")
    levels = {n: logging.getLogger(n).level for n in names}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)


@pytest.fixture
async def ops_bot(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> AsyncIterator[BotHarness]:
    """The real bot in polling mode with its health/metrics port on 127.0.0.1 (any free port)."""
    harness = BotHarness(
        tg=fake_telegram,
        api=fake_aimlapi,
        db_path=tmp_path / "songbot.db",
        env_extra=dict(HTTP_ENV),
    )
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def web_server(harness: BotHarness) -> WebServer:
    server = bot_data_of(harness.app).web_server
    assert server is not None
    assert isinstance(server, WebServer)
    return server


async def get(server: WebServer, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(server.url(path))


def metric(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one sample in Prometheus text (None if absent)."""
    wanted = labels or {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in wanted.items()):
                return float(sample.value)
    return None


def secret_forms(*secrets: str) -> list[str]:
    """Each secret as it could appear in a log: raw, and URL-encoded both ways."""
    forms: set[str] = set()
    for secret in secrets:
        forms.update({secret, quote(secret), quote(secret, safe="")})
    return sorted(forms)


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """A clean environment for `python -m bot …`: no proxies, the repo importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy")
        and not k.startswith(("SONGBOT_", "TELEGRAM_", "AIMLAPI_"))
    }
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(REPO)
    env["PTB_TIMEDELTA"] = "1"
    env.update(extra)
    return env


PYTHON = sys.executable


async def run_main(args: list[str]) -> int:
    """`songbot`'s own `main` in a worker thread: it calls `asyncio.run`, and the test's loop
    serves the fakes."""
    return await asyncio.to_thread(main, args)


def new_job(n: int, *, chat: int, user: int, model: str = "minimax/music-2.0") -> NewJob:
    """Job number `n`, created an hour ago (plus n seconds), as the operator commands list it."""
    now = time.time() - 3600 + n
    return NewJob(
        key=f"sb-test-{n}",
        chat_id=chat,
        chat_type="private" if chat > 0 else "supergroup",
        topic_id=None,
        user_id=user,
        user_name=f"user{user}",
        user_lang="en",
        request_message_id=n,
        model=model,
        prompt="dreamy synth-pop",
        lyrics="la la la",
        deadline_at=now + 900,
        next_check_at=now,
        created_at=now,
    )
