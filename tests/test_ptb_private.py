"""The private python-telegram-bot API songbot relies on (bot/telegram/ptb_private.py) still has
the shape it is used with: a PTB upgrade that moves one fails here, by name."""

from __future__ import annotations

import inspect

import httpx
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.telegram import ptb_private
from songbot_fakes.telegram import FakeTelegram


def test_bot_post_takes_an_endpoint_and_data() -> None:
    params = list(inspect.signature(Bot._post).parameters)
    assert params[:3] == ["self", "endpoint", "data"]
    assert inspect.iscoroutinefunction(Bot._post)


def test_httpx_request_exposes_its_client_and_media_write_timeout() -> None:
    request = HTTPXRequest(media_write_timeout=33.0)
    assert isinstance(ptb_private.request_client(request), httpx.AsyncClient)
    assert ptb_private.media_write_timeout(request) == 33.0


def test_default_marker_is_recognised() -> None:
    from telegram.request import BaseRequest

    assert ptb_private.is_default(BaseRequest.DEFAULT_NONE)
    assert not ptb_private.is_default(5.0)
    assert not ptb_private.is_default(None)


async def test_post_returns_the_raw_result(fake_telegram: FakeTelegram) -> None:
    bot = Bot(
        fake_telegram.token,
        base_url=f"{fake_telegram.base_url}/bot",
        base_file_url=f"{fake_telegram.base_url}/file/bot",
    )
    async with bot:
        result = await ptb_private.post(bot, "getMe", {})
    assert isinstance(result, dict) and result["is_bot"] is True
