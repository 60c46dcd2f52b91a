"""Telegram file downloads streamed to disk (bot/telegram/file_stream.py), on the fake Bot API.

Why: PTB's own downloads hold the whole body in memory; a reference is streamed to a file with a
byte cap instead, and the token-bearing URL never reaches an exception or a log (issue #28).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from telegram import File
from telegram.error import NetworkError

from bot.telegram.file_stream import FileRefused, FileTooBig, stream_telegram_file
from songbot_fakes.telegram import FakeTelegram


async def telegram_file(tg: FakeTelegram, data: bytes) -> File:
    """What `bot.get_file` hands back for a user's audio: the file URL carries the token."""
    message = tg.send_media(7001, 7001, "audio", data, duration=3)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{tg.base_url}/bot{tg.token}/getFile", json={"file_id": message["audio"]["file_id"]}
        )
    result = answer.json()["result"]
    url = f"{tg.base_url}/file/bot{tg.token}/{result['file_path']}"
    return File(result["file_id"], result["file_unique_id"], file_path=url)


async def test_the_body_lands_on_disk_whole(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    file = await telegram_file(fake_telegram, data)
    dest = tmp_path / "ref.src"
    assert await stream_telegram_file(file, dest, max_bytes=len(data), read_timeout=30) == len(
        data
    )
    assert dest.read_bytes() == data
    assert not (tmp_path / "ref.src.part").exists()


async def test_a_body_past_the_cap_is_refused_and_nothing_is_kept(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    data = os.urandom(2 * 1024 * 1024)
    file = await telegram_file(fake_telegram, data)
    fake_telegram.download_bytes_per_second = 50e6  # streamed: no Content-Length shortcut
    dest = tmp_path / "ref.src"
    with pytest.raises(FileTooBig):
        await stream_telegram_file(file, dest, max_bytes=1024 * 1024, read_timeout=30)
    assert list(tmp_path.iterdir()) == []


async def test_a_missing_file_is_refused_and_a_dead_server_is_retryable_without_the_token(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    file = await telegram_file(fake_telegram, b"ID3" + os.urandom(1000))
    gone = File(file.file_id, file.file_unique_id, file_path=str(file.file_path) + "x")
    with pytest.raises(FileRefused) as refused:
        await stream_telegram_file(gone, tmp_path / "a", max_bytes=10_000, read_timeout=30)
    assert refused.value.status == 404
    dead = File(
        file.file_id,
        file.file_unique_id,
        file_path=f"http://127.0.0.1:9/file/bot{fake_telegram.token}/x",
    )
    with pytest.raises(NetworkError) as network:
        await stream_telegram_file(dead, tmp_path / "b", max_bytes=10_000, read_timeout=5)
    assert fake_telegram.token not in str(network.value)
    assert network.value.__cause__ is None and network.value.__suppress_context__
