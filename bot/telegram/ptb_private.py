"""Every use of python-telegram-bot's private API, gathered so an upgrade breaks one place loudly.

Why use them at all (each is measured or required, see the callers):
- `Bot._post`: the step every Bot method ends in (unset fields dropped, objects serialised, rate
  limiter applied, the same `TelegramError`s raised); calling it directly skips parsing an answer
  nobody reads (`bot/telegram/helpers.py::send_text_id`).
- `HTTPXRequest._client` and `_media_write_timeout`: the transport streams uploads from disk
  through PTB's own httpx client with PTB's own timeouts (`bot/telegram/transport.py`).
- `telegram._utils.defaultvalue.DefaultValue`: how PTB marks "timeout not given".
- `telegram._utils.types.JSONDict`: the result type of a Bot API call, in the rate limiter's
  signature (`bot/telegram/flood.py`).

`tests/test_ptb_private.py` checks each still exists with the shape used here, so a PTB release
that moves one fails that test by name instead of failing a song at run time.
"""

from __future__ import annotations

from typing import Any

import httpx
from telegram import Bot
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict
from telegram.request import HTTPXRequest

__all__ = [
    "DefaultValue",
    "JSONDict",
    "is_default",
    "media_write_timeout",
    "post",
    "request_client",
]


async def post(bot: Bot, endpoint: str, data: dict[str, Any]) -> Any:
    """`Bot._post`: a Bot API call through PTB's pipeline, the raw JSON result returned."""
    return await bot._post(endpoint, data)


def request_client(request: HTTPXRequest) -> httpx.AsyncClient:
    """The httpx client an `HTTPXRequest` sends with."""
    client = request._client
    if not isinstance(client, httpx.AsyncClient):
        raise TypeError(f"HTTPXRequest._client is {type(client).__name__}, not httpx")
    return client


def media_write_timeout(request: HTTPXRequest) -> float | None:
    """The write timeout PTB applies to uploads."""
    value: float | None = request._media_write_timeout
    return value


def is_default(value: object) -> bool:
    """Whether a timeout argument is PTB's "not given" marker."""
    return isinstance(value, DefaultValue)
