"""When the provider began a generation whose POST answer was lost (bot/engine/reconcile.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.engine.reconcile import generation_began

START = 1_800_000_000.0


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_the_request_logs_time_is_taken_between_the_posts_start_and_now() -> None:
    assert generation_began(iso(START + 0.4), START, START + 3.0) == START + 0.4


def test_a_skewed_provider_clock_is_clamped() -> None:
    assert generation_began(iso(START - 50.0), START, START + 3.0) == START
    assert generation_began(iso(START + 50.0), START, START + 3.0) == START + 3.0


def test_no_or_unreadable_time_means_the_posts_start() -> None:
    assert generation_began(None, START, START + 3.0) == START
    assert generation_began("yesterday", START, START + 3.0) == START
    naive = datetime.fromtimestamp(START + 1.0, UTC).replace(tzinfo=None).isoformat()
    assert generation_began(naive, START, START + 3.0) == START + 1.0
