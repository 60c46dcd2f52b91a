"""Pytest fixtures for the fake AI/ML API; the lead's conftest does `from ... import *`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.session import Timeouts
from songbot_fakes.aimlapi import FakeAimlApi

if TYPE_CHECKING:
    from tests.support.harness import BotHarness

__all__ = [
    "aimlapi_client",
    "fake_aimlapi",
    "fast_client",
    "make_aimlapi_client",
    "strict_fake_aimlapi",
]

# Fast client settings for tests: tiny backoff, short timeouts (the fake answers in ms).
FAST_TIMEOUTS = Timeouts(
    connect=2.0, poll=2.0, submit=2.0, upload=5.0, generate=10.0, logs=2.0, download=5.0
)


def make_aimlapi_client(fake: FakeAimlApi, **overrides: object) -> AimlApiClient:
    """A client pointed at `fake`, with fast retries; keyword arguments override the defaults."""
    kwargs: dict[str, object] = {
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "timeouts": FAST_TIMEOUTS,
    }
    kwargs.update(overrides)
    return AimlApiClient(**kwargs)  # type: ignore[arg-type]


async def fast_client(harness: BotHarness, *, poll_timeout: float = 2.0) -> None:
    """Swap the running bot's client for the same class with test timings (`backoff` in ms,
    not seconds), before any job exists: for tests about what the bot does once the client's
    own retries are spent, not about those retries."""
    old = harness.services.client
    harness.services.client = make_aimlapi_client(
        harness.api,
        timeouts=Timeouts(connect=2.0, poll=poll_timeout, submit=2.0, logs=2.0, download=5.0),
    )
    await old.aclose()


@pytest.fixture
async def fake_aimlapi() -> AsyncIterator[FakeAimlApi]:
    """A running fake AI/ML API on 127.0.0.1 (generations finish after 0.2 s)."""
    fake = FakeAimlApi(generation_seconds=0.2)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def strict_fake_aimlapi() -> AsyncIterator[FakeAimlApi]:
    """The same fake with the SHOULD-tier checks of aimlapi.md §9 switched on."""
    fake = FakeAimlApi(generation_seconds=0.2, strict=True)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def aimlapi_client(fake_aimlapi: FakeAimlApi) -> AsyncIterator[AimlApiClient]:
    """A client talking to `fake_aimlapi`."""
    client = make_aimlapi_client(fake_aimlapi)
    try:
        yield client
    finally:
        await client.aclose()
