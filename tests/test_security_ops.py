"""The security review's operational items, through the real bot: where the health port
listens, a token for /metrics, private files, no personal data in DEBUG logs, and a webhook that
answers only once the request is stored."""

from __future__ import annotations

import asyncio
import io
import logging
import stat
from pathlib import Path

import httpx

from bot.bot_data import get_services
from bot.config import Config
from bot.ops.logging_setup import setup_logging
from bot.ops.webhook import WebhookBot
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from storage.jobs import JobStore
from storage.open_db import open_database
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness, bot_env
from tests.support.ops import HTTP_ENV, new_job, restore_logging, web_server
from tests.support.webhook import PATH, SECRET, an_update, webhook_env

__all__ = ["restore_logging"]

BASE = {"TELEGRAM_BOT_TOKEN": "1:x", "AIMLAPI_KEY": "k"}


def test_the_health_port_stays_on_this_machine_unless_it_must_face_telegram() -> None:
    polling = Config.from_env(BASE, env_file=None)
    assert polling.webhook_listen == "127.0.0.1"
    webhook = Config.from_env(
        {**BASE, "SONGBOT_WEBHOOK_URL": "https://bot.example/h", "SONGBOT_WEBHOOK_SECRET": "s"},
        env_file=None,
    )
    assert webhook.webhook_listen == "0.0.0.0"
    chosen = Config.from_env({**BASE, "SONGBOT_WEBHOOK_LISTEN": "10.1.2.3"}, env_file=None)
    assert chosen.webhook_listen == "10.1.2.3"


async def test_metrics_want_the_token_when_one_is_set(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path
) -> None:
    token = "metrics-token-0123"
    harness = BotHarness(
        tg=fake_telegram,
        api=fake_aimlapi,
        db_path=tmp_path / "songbot.db",
        env_extra={**HTTP_ENV, "SONGBOT_METRICS_TOKEN": token},
    )
    await harness.start()
    try:
        server = web_server(harness)
        async with httpx.AsyncClient(timeout=10) as client:
            anonymous = await client.get(server.url("/metrics"))
            wrong = await client.get(
                server.url("/metrics"), headers={"Authorization": "Bearer nope"}
            )
            right = await client.get(
                server.url("/metrics"), headers={"Authorization": f"Bearer {token}"}
            )
            health = await client.get(server.url("/healthz"))
        assert anonymous.status_code == 401 and wrong.status_code == 401
        assert right.status_code == 200 and "songbot_" in right.text
        assert health.status_code == 200
        assert token not in anonymous.text + wrong.text
    finally:
        await harness.stop()


async def test_database_wal_and_backups_are_private(tmp_path: Path) -> None:
    path = tmp_path / "songbot.db"
    db = await open_database(path)
    try:
        await JobStore(db).create(new_job(1, chat=1001, user=1001))
        await db.backup(tmp_path / "copy.db")
        files = [path, tmp_path / "songbot.db-wal", tmp_path / "songbot.db-shm"]
        for file in [*files, tmp_path / "copy.db"]:
            assert file.exists(), file
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, (file, oct(file.stat().st_mode))
    finally:
        await db.close()


async def test_debug_logs_carry_no_statement_values(tmp_path: Path, restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", "text", (), stream=stream)
    db = await open_database(tmp_path / "songbot.db")
    try:
        job = new_job(1, chat=1001, user=1001)
        await JobStore(db).create(job)
    finally:
        await db.close()
    logging.getLogger().handlers[-1].flush()
    assert job.lyrics and job.lyrics not in stream.getvalue()
    assert "1001" not in stream.getvalue()


async def test_the_webhook_answers_only_after_the_request_is_stored(
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
    unused_tcp_port: int,
) -> None:
    db_path = tmp_path / "songbot.db"
    env = bot_env(fake_telegram, fake_aimlapi, db_path, webhook_env(unused_tcp_port))
    bot = WebhookBot(Config.from_env(env, env_file=None))
    await bot.start()
    try:
        fake_telegram.add_chat(PRIVATE_CHAT)
        jobs = get_services(bot.app).jobs
        url = f"http://127.0.0.1:{unused_tcp_port}{PATH}"
        update = an_update(PRIVATE_CHAT, "/song dreamy synth-pop\n[Verse]\nla la la la la la")
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]  # type: ignore[index]
        # Another writer holds the database for a moment, as a busy bot would.
        blocker = await open_database(db_path)
        await blocker.conn.execute("BEGIN IMMEDIATE")
        async with httpx.AsyncClient(timeout=30) as client:
            post = asyncio.create_task(
                client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            )
            await asyncio.sleep(1.0)
            assert not post.done(), "answered before the job could be stored"
            await blocker.conn.execute("ROLLBACK")
            await blocker.close()
            response = await post
        assert response.status_code == 200
        stored = await jobs.get_by_request(PRIVATE_CHAT, 77)
        assert stored is not None  # stored before Telegram heard 200
        assert stored.user_id == USER or stored.user_id == PRIVATE_CHAT
    finally:
        await bot.stop()
