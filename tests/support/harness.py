"""Runs the real songbot Application against the local fakes, the way `songbot run` does.

Why `BotRun` (bot/ops/serve.py) and not PTB's `run_polling`: tests start and stop the bot many
times on one event loop; `BotRun` is the same start and stop order production uses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.bot_data import bot_data_of, get_services
from bot.config import Config
from bot.engine.runner import JobRunner
from bot.ops.serve import BotRun, Polling
from bot.services import Services
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from storage.jobs import Job

PRIVATE_CHAT = 1001
USER = 1001
# Telegram's flood windows run this many times faster on both sides (the fake's clock and the
# bot's limiter) unless a test sets SONGBOT_TG_RATE_SCALE itself: a group's 3.5 s between messages
# would otherwise be most of an in-process test's time. Flood tests choose their own scale.
DEFAULT_RATE_SCALE = 8.0


def bot_env(
    tg: FakeTelegram, api: FakeAimlApi, db: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "AIMLAPI_KEY": api.api_key,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "AIMLAPI_BASE_URL": api.base_url,
        "SONGBOT_DB": str(db),
        "SONGBOT_POLL_INTERVAL": "0.1",
        "SONGBOT_JOB_TIMEOUT": "60",
        "SONGBOT_LEASE_SECONDS": "3",
        "SONGBOT_RECONCILE_GRACE": "1",
        "SONGBOT_LOG_LEVEL": "INFO",
        # The suite makes many songs per user; the public-bot defaults (5 a day, 5 waiting) have
        # tests of their own (tests/test_security_money.py).
        "SONGBOT_USER_DAILY_LIMIT": "0",
        "SONGBOT_MAX_WAITING_PER_USER": "0",
    }
    env.update(extra or {})
    return env


@dataclass
class BotHarness:
    tg: FakeTelegram
    api: FakeAimlApi
    db_path: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    app: Any = None
    config: Config | None = None
    run: BotRun | None = None
    _clock_scale: float = 1.0

    async def start(self, **env: str) -> None:
        self.env_extra.update(env)
        self._scale_flood_clock(
            float(self.env_extra.get("SONGBOT_TG_RATE_SCALE", DEFAULT_RATE_SCALE))
        )
        self.config = Config.from_env(
            bot_env(self.tg, self.api, self.db_path, self.env_extra), env_file=None
        )
        self.app = build_application(self.config)
        self.run = BotRun(self.app, Polling(timeout=1))
        await self.run.start()

    def _scale_flood_clock(self, scale: float) -> None:
        """The fake counts its flood windows on a clock `scale`x as fast as the bot's pacing."""
        self.env_extra["SONGBOT_TG_RATE_SCALE"] = str(scale)
        if scale == self._clock_scale:
            return
        start = time.monotonic()
        self.tg.clock = lambda: start + (time.monotonic() - start) * scale
        self._clock_scale = scale

    async def stop(self) -> None:
        if self.app is None:
            return
        self.app = None
        assert self.run is not None
        await self.run.stop()

    async def restart(self, **env: str) -> None:
        await self.stop()
        await self.start(**env)

    @property
    def services(self) -> Services:
        return get_services(self.app)

    @property
    def runner(self) -> JobRunner:
        """The job engine itself, for tests that stop it or look inside (`bot_data.runner`)."""
        runner = bot_data_of(self.app).runner
        assert runner is not None, "the bot is not started"
        return runner

    async def jobs(self) -> list[Job]:
        return await self.services.jobs.list_jobs(limit=1000)

    async def wait_for_job(
        self, predicate: Callable[[Job], bool], *, timeout: float = 15.0
    ) -> Job:
        deadline = time.monotonic() + timeout
        last: list[Job] = []
        while time.monotonic() < deadline:
            last = await self.jobs()
            for job in last:
                if predicate(job):
                    return job
            await asyncio.sleep(0.05)
        states = [(j.id, j.state, j.error_key) for j in last]
        raise TimeoutError(f"no job matched within {timeout}s; jobs: {states}")

    async def wait_state(self, job_id: int, *states: str, timeout: float = 15.0) -> Job:
        return await self.wait_for_job(
            lambda j: j.id == job_id and j.state in states, timeout=timeout
        )
