"""/healthz and /metrics of the real bot (polling, HTTP port on), and the metered transport."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from bot.ops.metrics import Metrics
from bot.telegram.transport import (
    FILE_DOWNLOAD,
    OTHER,
    MeteredRequest,
    make_requests,
    method_label,
)
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ops import LYRICS, get, metric, ops_bot, web_server

__all__ = ["ops_bot"]


# ------------------------------------------------------------------ health


async def test_healthz_ok_when_everything_runs(ops_bot: BotHarness) -> None:
    server = web_server(ops_bot)
    response = await get(server, "/healthz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["mode"] == "polling"
    assert body["problems"] == []
    assert body["runner_tick_age"] < 60


async def test_healthz_503_when_runner_task_ends(ops_bot: BotHarness) -> None:
    server = web_server(ops_bot)
    # The loop's task dies (here: cancelled) while the process lives on.
    task = ops_bot.runner._task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    response = await get(server, "/healthz")
    assert response.status_code == 503
    problems = response.json()["problems"]
    assert any("job runner" in p for p in problems), problems


async def test_healthz_503_when_runner_tick_is_stale(ops_bot: BotHarness) -> None:
    server = web_server(ops_bot)
    engine = ops_bot.services.engine
    assert (await get(server, "/healthz")).status_code == 200
    engine.last_tick = time.time() - 1000  # the loop has not passed for a quarter of an hour
    response = await get(server, "/healthz")
    assert response.status_code == 503
    # The age is counted when /healthz answers: on a loaded machine a second or more later.
    problems = response.json()["problems"]
    ages = [int(m[1]) for p in problems if (m := re.search(r"last tick (\d+)s ago", p))]
    assert len(ages) == 1 and 1000 <= ages[0] < 1030, problems


async def test_healthz_503_when_database_is_read_only(ops_bot: BotHarness) -> None:
    server = web_server(ops_bot)
    db = ops_bot.services.db
    await db.conn.execute("PRAGMA query_only = ON")  # every write now fails, like a RO mount
    try:
        response = await get(server, "/healthz")
        assert response.status_code == 503
        problems = response.json()["problems"]
        assert any(p.startswith("database not writable") for p in problems), problems
    finally:
        await db.conn.execute("PRAGMA query_only = OFF")
    assert (await get(server, "/healthz")).status_code == 200


async def test_healthz_503_when_polling_stopped(ops_bot: BotHarness) -> None:
    server = web_server(ops_bot)
    await ops_bot.app.updater.stop()
    response = await get(server, "/healthz")
    assert response.status_code == 503
    assert "not polling Telegram for updates" in response.json()["problems"]


async def test_healthz_503_when_get_updates_keeps_failing(ops_bot: BotHarness) -> None:
    tg = ops_bot.tg
    server = web_server(ops_bot)
    server.poll_stale_seconds = 0.5
    metrics = ops_bot.services.metrics
    before = metrics.registry.get_sample_value(
        "songbot_telegram_errors_total", {"method": "getUpdates", "kind": "502"}
    )
    assert before is None
    tg.script("getUpdates", status=502, times=None)
    try:
        # A message ends the current long poll early; from then on every getUpdates fails.
        tg.send_text(PRIVATE_CHAT, USER, "/help")
        deadline = time.monotonic() + 15
        while (response := await get(server, "/healthz")).status_code != 503:
            assert time.monotonic() < deadline, response.text
            await asyncio.sleep(0.05)
        assert any("no successful getUpdates" in p for p in response.json()["problems"])
        failures = metrics.registry.get_sample_value(
            "songbot_telegram_errors_total", {"method": "getUpdates", "kind": "502"}
        )
        assert failures is not None and failures >= 1
    finally:
        tg.scripts.clear()
    # Once Telegram answers again, the next successful long poll makes the bot healthy again.
    deadline = time.monotonic() + 15
    while (response := await get(server, "/healthz")).status_code != 200:
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.1)


# ------------------------------------------------------------------ metrics


async def test_metrics_count_a_full_job(ops_bot: BotHarness) -> None:
    tg = ops_bot.tg
    server = web_server(ops_bot)
    tg.send_text(PRIVATE_CHAT, USER, f"/song dreamy synth-pop with female vocals\n{LYRICS}")
    job = await ops_bot.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    response = await get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    model = {"model": job.model}
    assert metric(text, "songbot_submissions_total", model) == 1
    assert metric(text, "songbot_deliveries_total", model) == 1
    assert metric(text, "songbot_failures_total", model) is None
    assert metric(text, "songbot_jobs", {"state": "delivered"}) == 1
    assert metric(text, "songbot_jobs", {"state": "pending"}) == 0
    assert metric(text, "songbot_generation_seconds_count", model) == 1
    assert metric(text, "songbot_delivery_lag_seconds_count", model) == 1
    assert metric(text, "songbot_polls_per_job_count", model) == 1
    polls = metric(text, "songbot_polls_per_job_sum", model)
    assert polls is not None and polls >= 1
    assert (metric(text, "songbot_provider_request_seconds_count", {"call": "submit"}) or 0) >= 1
    assert (metric(text, "songbot_provider_request_seconds_count", {"call": "poll"}) or 0) >= 1
    sends = metric(text, "songbot_telegram_request_seconds_count", {"method": "sendAudio"})
    assert sends is not None and sends >= 1
    assert (metric(text, "songbot_telegram_request_seconds_count", {"method": "getMe"}) or 0) == 1
    assert (metric(text, "songbot_updates_total") or 0) >= 1
    last = metric(text, "songbot_runner_last_tick_timestamp")
    assert last is not None and time.time() - last < 60


async def test_metrics_count_telegram_429s(ops_bot: BotHarness) -> None:
    tg = ops_bot.tg
    server = web_server(ops_bot)
    # retry_after 0: the count is under test here, not the wait (tests/test_rate_limit.py).
    tg.script("sendMessage", status=429, retry_after=0, times=1)
    request = tg.send_text(PRIVATE_CHAT, USER, "/start")
    # The rate limiter waits out retry_after and sends again: the user still gets the reply.
    await tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.ok
            and c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
        ),
        timeout=15,
    )
    text = (await get(server, "/metrics")).text
    labels = {"method": "sendMessage", "kind": "429"}
    assert metric(text, "songbot_telegram_errors_total", labels) == 1
    sent = metric(text, "songbot_telegram_request_seconds_count", {"method": "sendMessage"})
    assert sent is not None and sent >= 2


# ------------------------------------------------------------------ transport


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("http://127.0.0.1:8081/bot123:ABC-def/sendMessage", "sendMessage"),
        ("http://127.0.0.1:9/bot123:ABC/getUpdates?offset=3", "getUpdates"),
        ("http://127.0.0.1:8081/file/bot123:ABC/voice/file_1.oga", FILE_DOWNLOAD),
        ("http://127.0.0.1:8081/bot123:ABC/", OTHER),
        ("http://127.0.0.1:8081/bot123:ABC/send-Message", OTHER),
    ],
)
def test_method_label_never_contains_the_token(url: str, label: str) -> None:
    assert method_label(url) == label
    assert "ABC" not in method_label(url)


async def test_metered_request_counts_statuses_downloads_and_transport_errors(
    fake_telegram: FakeTelegram,
) -> None:
    metrics = Metrics()
    general, updates = make_requests(metrics)
    base = fake_telegram.base_url
    bot = Bot(
        fake_telegram.token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=general,
        get_updates_request=updates,
    )
    registry = metrics.registry
    async with bot:
        fake_telegram.script("getChat", status=400, times=1)
        with pytest.raises(BadRequest):
            await bot.get_chat(PRIVATE_CHAT)
        voice = fake_telegram.send_media(PRIVATE_CHAT, USER, "voice", b"OggS" + b"\0" * 100)
        file = await bot.get_file(voice["voice"]["file_id"])
        data = await file.download_as_bytearray()
        assert bytes(data).startswith(b"OggS")
        await bot.get_updates(timeout=0)
    count = registry.get_sample_value
    assert count("songbot_telegram_errors_total", {"method": "getChat", "kind": "400"}) == 1
    assert count("songbot_telegram_request_seconds_count", {"method": "getMe"}) == 1
    assert count("songbot_telegram_request_seconds_count", {"method": FILE_DOWNLOAD}) == 1
    assert (count("songbot_last_update_timestamp") or 0) > time.time() - 30
    # A server that is gone: the transport failure is counted as `network`.
    dead = MeteredRequest(metrics, connect_timeout=1.0)
    await dead.initialize()
    try:
        with pytest.raises(NetworkError, match="ConnectError"):
            await dead.post(f"http://127.0.0.1:1/bot{fake_telegram.token}/getMe")
    finally:
        await dead.shutdown()
    assert count("songbot_telegram_errors_total", {"method": "getMe", "kind": "network"}) == 1
