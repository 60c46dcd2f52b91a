"""The Mini App for the tests: the bot's public URL, a signed initData and the web server's base.

Why a module of its own: the Mini App's API tests, its buttons' tests and the browser tests reach
the same bot (the `app_bot` fixture, tests/support/fixtures_bot.py) the same way.
"""

from __future__ import annotations

import json
import time

from bot.bot_data import bot_data_of
from bot.ops.web import WebServer
from bot.webapp.init_data import sign
from tests.support.harness import USER, BotHarness

PUBLIC = "https://songs.example.test"


def init_data(token: str, user_id: int = USER, *, age: float = 5, **extra: str) -> str:
    user = json.dumps({"id": user_id, "first_name": "Ada", "language_code": "en"})
    fields = {"auth_date": str(int(time.time() - age)), "user": user, **extra}
    return sign(fields, token)


def base(h: BotHarness) -> str:
    server = bot_data_of(h.app).web_server
    assert isinstance(server, WebServer)
    return server.url("")
