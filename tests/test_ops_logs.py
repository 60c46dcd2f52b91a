"""Logs of the real bot: JSON lines with the job key, human-readable by default, never a secret.

The token and key used here contain characters that URL-encoding changes (`:`, `/`, `+`, `=`),
so a leak through a URL (PTB's file URLs, httpx request lines) would show in either form.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.ops.logging_setup import current_job_key, setup_logging
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.audio_fixtures import make_ogg_opus
from songbot_fakes.telegram import FakeTelegram
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ops import LYRICS, restore_logging, secret_forms

__all__ = ["restore_logging"]

TOKEN = "7654321:SeCrEt-TOKEN_value_abcdefghij"
KEY = "sk-aiml/SeCrEt+key=="


@pytest.fixture
async def secret_fakes() -> AsyncIterator[tuple[FakeTelegram, FakeAimlApi]]:
    tg = FakeTelegram(token=TOKEN)
    api = FakeAimlApi(api_key=KEY, generation_seconds=0.2)
    await tg.start()
    await api.start()
    try:
        yield tg, api
    finally:
        await api.stop()
        await tg.stop()


async def test_json_logs_of_a_real_run_carry_job_keys_and_no_secrets(
    secret_fakes: tuple[FakeTelegram, FakeAimlApi], tmp_path: Path, restore_logging: None
) -> None:
    tg, api = secret_fakes
    stream = io.StringIO()
    setup_logging("INFO", "json", (TOKEN, KEY), stream=stream)
    harness = BotHarness(
        tg=tg, api=api, db_path=tmp_path / "songbot.db", env_extra={"SONGBOT_LOG_FORMAT": "json"}
    )
    await harness.start()
    try:
        # 1. A whole job, from request to delivered song.
        tg.send_text(PRIVATE_CHAT, USER, f"/song dreamy synth-pop\n{LYRICS}")
        job = await harness.wait_for_job(lambda j: j.state == "delivered", timeout=30)
        # 2. A voice reference whose getFile fails with 404, which PTB maps to InvalidToken.
        tg.script("getFile", status=404, times=None)
        tg.send_media(
            PRIVATE_CHAT, USER, "voice", make_ogg_opus(12), caption=f"/song gospel\n{LYRICS}"
        )
        await tg.wait_for_call("getFile", lambda c: c.http_status == 404, timeout=20)
        await asyncio.sleep(0.3)
        # 3. The shapes in which libraries put secrets into messages (telegram.md §7).
        noisy = logging.getLogger("telegram.ext.Updater")
        noisy.warning("HTTP Request: POST %s/bot%s/getUpdates", tg.base_url, TOKEN)
        noisy.warning("GET %s/file/bot%s/voice/file_1.oga", tg.base_url, quote(TOKEN))
        noisy.warning("Authorization: Bearer %s (%s)", KEY, quote(KEY, safe=""))
        try:
            # Not a TelegramError: the updater's TelegramError records are cut to one line
            # (logging_setup.OneLineTelegramErrorFilter); any other traceback stays, redacted.
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError:
            noisy.exception("initialize failed")
    finally:
        tg.scripts.clear()
        await harness.stop()
    text = stream.getvalue()
    for form in secret_forms(TOKEN, KEY):
        assert form not in text, f"secret form {form!r} leaked"
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    about_job = [r for r in records if r.get("job") == job.key]
    assert any("submitted" in r["msg"] for r in about_job), about_job
    assert any("delivered" in r["msg"] for r in about_job), about_job
    # The deliberate leaks were logged, redacted, tracebacks included.
    redacted = [r["msg"] for r in records if r["logger"] == "telegram.ext.Updater"]
    assert len(redacted) == 4
    assert all("***" in m for m in redacted)
    assert "Traceback" in redacted[-1] and "RuntimeError" in redacted[-1]


def test_text_logs_are_human_readable_with_the_job_key(restore_logging: None) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "text", ("hunter2-secret",), stream=stream)
    log = logging.getLogger("bot.engine.runner")
    token = current_job_key.set("sb-123-abc")
    try:
        log.info("submitted: generation %s with key %s", "gen-1", "hunter2-secret")
    finally:
        current_job_key.reset(token)
    log.info("not about a job")
    first, second = stream.getvalue().splitlines()
    assert first.endswith(
        "INFO    bot.engine.runner: [sb-123-abc] submitted: generation gen-1 with key ***"
    )
    assert second.endswith("INFO    bot.engine.runner: not about a job")
    assert not first.startswith("{")
