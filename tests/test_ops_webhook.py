"""Webhook mode end to end: the fake Bot API pushes updates to the bot's own HTTP port.

The webhook URL is `http://127.0.0.1:PORT/...`, which the config accepts for local use only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import httpx
import pytest

from bot.app import ALLOWED_UPDATES
from bot.bot_data import get_services
from bot.config import Config
from bot.ops.cli import main
from bot.ops.webhook import WebhookBot
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness, bot_env
from tests.support.ops import (
    LYRICS,
    PYTHON,
    get,
    metric,
    restore_logging,
    secret_forms,
    subprocess_env,
)
from tests.support.webhook import PATH, SECRET, an_update, webhook_env

__all__ = ["restore_logging"]


def replies_to(message_id: int) -> object:
    return lambda c: c.ok and c.params.get("reply_parameters", {}).get("message_id") == message_id


async def test_set_webhook_registers_url_secret_and_allowed_updates(
    webhook_bot: WebhookBot, fake_telegram: FakeTelegram
) -> None:
    call = fake_telegram.calls_to("setWebhook")[-1]
    assert call.ok
    assert call.params["url"] == webhook_bot.url
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ALLOWED_UPDATES
    assert fake_telegram.webhook_url == webhook_bot.url
    assert not fake_telegram.calls_to("getUpdates")  # no polling in webhook mode
    health = await get(webhook_bot.server, "/healthz")
    assert health.status_code == 200, health.text
    assert health.json()["mode"] == "webhook"


async def test_updates_arrive_through_the_webhook_and_a_song_is_delivered(
    webhook_bot: WebhookBot, fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi
) -> None:
    tg = fake_telegram
    hello = tg.send_text(PRIVATE_CHAT, USER, "/start")
    await tg.wait_for_call("sendMessage", replies_to(hello["message_id"]), timeout=10)
    request = tg.send_text(PRIVATE_CHAT, USER, f"/song dreamy synth-pop\n{LYRICS}")
    call = await tg.wait_for_call("sendAudio", replies_to(request["message_id"]), timeout=30)
    assert call.files["audio"].size > 1000
    assert tg.webhook_deliveries, "the fake must have pushed the updates"
    assert all(d.status == 200 and d.attempts == 1 for d in tg.webhook_deliveries)
    assert webhook_bot.server.last_webhook_at is not None
    jobs = get_services(webhook_bot.app).jobs
    for _ in range(200):  # the job is marked delivered right after Telegram's answer
        job = await jobs.get_by_request(PRIVATE_CHAT, request["message_id"])
        if job is not None and job.state == "delivered":
            break
        await asyncio.sleep(0.05)
    text = (await get(webhook_bot.server, "/metrics")).text
    assert metric(text, "songbot_deliveries_total", {"model": "minimax/music-2.0"}) == 1


async def test_wrong_or_missing_secret_is_rejected_and_not_logged(
    webhook_bot: WebhookBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    tg = fake_telegram
    tg.add_chat(PRIVATE_CHAT)
    wrong = SECRET[:-1] + "X"  # a near miss
    with caplog.at_level(logging.WARNING, logger="bot.ops.web"):
        assert await tg.post_raw_update(an_update(PRIVATE_CHAT, "/start"), secret=wrong) == 403
        assert await tg.post_raw_update(an_update(PRIVATE_CHAT, "/start"), secret=None) == 403
        assert await tg.post_raw_update(an_update(PRIVATE_CHAT, "/help"), secret="") == 403
    assert webhook_bot.server.rejected_webhook_calls == 3
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.ops.web"]
    assert sum("rejected (403)" in m for m in messages) == 3
    assert any("wrong secret" in m for m in messages)
    assert any("missing secret" in m for m in messages)
    assert not any(wrong in m or SECRET in m for m in caplog.text.splitlines())
    # Nothing forged was processed; the genuine secret goes through.
    await asyncio.sleep(0.3)
    assert not tg.calls_to("sendMessage")
    assert await tg.post_raw_update(an_update(PRIVATE_CHAT, "/start"), secret=SECRET) == 200
    await tg.wait_for_call("sendMessage", replies_to(77), timeout=10)


async def test_malformed_bodies_get_400(webhook_bot: WebhookBot) -> None:
    url = webhook_bot.server.url(PATH)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.post(url, content=b"{nope", headers=headers)).status_code == 400
        assert (await client.post(url, content=b"[1, 2]", headers=headers)).status_code == 400
        assert (
            await client.post(url, content=b'{"message": 5}', headers=headers)
        ).status_code == 400
        # Only POST on the exact path is served.
        assert (await client.get(url, headers=headers)).status_code == 405
        other = webhook_bot.server.url("/telegram/other")
        assert (await client.post(other, content=b"{}", headers=headers)).status_code == 404


async def test_watchdog_reports_a_webhook_removed_behind_our_back(
    webhook_bot: WebhookBot, fake_telegram: FakeTelegram
) -> None:
    assert await webhook_bot.check_registration() is None
    async with httpx.AsyncClient() as client:
        url = f"{fake_telegram.base_url}/bot{fake_telegram.token}/deleteWebhook"
        assert (await client.post(url)).status_code == 200
    problem = await webhook_bot.check_registration()
    assert problem is not None and "no webhook" in problem
    health = await get(webhook_bot.server, "/healthz")
    assert health.status_code == 503
    assert problem in health.json()["problems"]


async def test_polling_mode_removes_a_stale_webhook(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path, unused_tcp_port: int
) -> None:
    tg = fake_telegram
    env = bot_env(tg, fake_aimlapi, tmp_path / "songbot.db", webhook_env(unused_tcp_port))
    webhook = WebhookBot(Config.from_env(env, env_file=None))
    await webhook.start()
    await webhook.stop()
    assert tg.webhook_url is not None  # left registered at shutdown, as designed
    polling = BotHarness(tg=tg, api=fake_aimlapi, db_path=tmp_path / "songbot.db")
    await polling.start()
    try:
        assert tg.webhook_url is None
        assert tg.calls_to("deleteWebhook")
        hello = tg.send_text(PRIVATE_CHAT, USER, "/start")
        await tg.wait_for_call("sendMessage", replies_to(hello["message_id"]), timeout=10)
    finally:
        await polling.stop()


def test_webhook_mode_needs_url_and_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SONGBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("AIMLAPI_KEY", "k")
    monkeypatch.setenv("SONGBOT_DB", str(tmp_path / "songbot.db"))
    assert main(["run", "--webhook"]) == 2
    assert "SONGBOT_WEBHOOK_URL" in capsys.readouterr().err
    monkeypatch.setenv("SONGBOT_WEBHOOK_URL", "https://bot.example.com/hook")
    assert main(["run", "--webhook"]) == 2
    assert "SONGBOT_WEBHOOK_SECRET" in capsys.readouterr().err


async def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bot",
        *args,
        env=subprocess_env(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_songbot_run_webhook_serves_and_stops_cleanly_on_sigterm(
    fake_telegram: FakeTelegram, fake_aimlapi: FakeAimlApi, tmp_path: Path, unused_tcp_port: int
) -> None:
    tg = fake_telegram
    env = bot_env(tg, fake_aimlapi, tmp_path / "songbot.db", webhook_env(unused_tcp_port))
    proc = await run_cli(["run", "--webhook"], env, tmp_path)
    try:
        await tg.wait_for_call("setWebhook", timeout=30)
        hello = tg.send_text(PRIVATE_CHAT, USER, "/start")
        await tg.wait_for_call("sendMessage", replies_to(hello["message_id"]), timeout=15)
        async with httpx.AsyncClient(timeout=5) as client:
            health = await client.get(f"http://127.0.0.1:{unused_tcp_port}/healthz")
        assert health.status_code == 200, health.text
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = (stdout + stderr).decode()
    assert proc.returncode == 0, log
    assert "webhook mode" in log
    for form in secret_forms(tg.token, fake_aimlapi.api_key, SECRET):
        assert form not in log


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_rejected_token_exits_1_without_printing_it(
    fake_telegram: FakeTelegram,
    fake_aimlapi: FakeAimlApi,
    tmp_path: Path,
    unused_tcp_port: int,
    webhook: bool,
) -> None:
    extra = webhook_env(unused_tcp_port) if webhook else {}
    env = bot_env(fake_telegram, fake_aimlapi, tmp_path / "songbot.db", extra)
    wrong = "987654:WRONG-token_zyxwvutsrqponmlk"
    env["TELEGRAM_BOT_TOKEN"] = wrong
    proc = await run_cli(["run", *(["--webhook"] if webhook else [])], env, tmp_path)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    log = (stdout + stderr).decode()
    assert proc.returncode == 1, log
    assert "rejected the bot token" in log
    assert "Traceback" not in log  # both modes: one line (bot/ops/serve.py exit_code_for)
    for form in secret_forms(wrong, fake_aimlapi.api_key, SECRET):
        assert form not in log
