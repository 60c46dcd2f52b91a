"""Telegram Mini App `initData`: checked on every API call, the only way the app knows who asks.

Why here and hand-written: the check is a dozen lines of the standard library and must be exactly
Telegram's (https://core.telegram.org/bots/webapps, "Validating data received via the Mini App"):
the data-check-string is every received field but `hash`, as `key=value`, sorted by key, joined by
"\\n"; the secret key is HMAC-SHA256 of the bot token keyed with "WebAppData"; the expected hash is
the hex HMAC-SHA256 of the data-check-string under that key. A fresh `auth_date` bounds replay: an
initData seen once cannot be used for ever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlencode

# How old an initData may be. Telegram signs it when the app opens; a day lets a person keep the
# app open for a session while a leaked string stops working by tomorrow.
MAX_AGE_SECONDS: Final = 24 * 3600.0
# A signature from a clock a little ahead of ours is not a forgery.
CLOCK_SKEW_SECONDS: Final = 60.0
MAX_INIT_DATA_BYTES: Final = 8192


class InitDataError(ValueError):
    """initData that must get 401: missing, malformed, forged or stale. The reason is for logs."""


@dataclass(frozen=True, slots=True)
class WebAppUser:
    """Who opened the app, as Telegram signed it."""

    id: int
    first_name: str
    language_code: str | None


@dataclass(frozen=True, slots=True)
class InitData:
    """A checked initData: the user, when it was signed, and where the app was opened from."""

    user: WebAppUser
    auth_date: float
    # The chat the app was opened from (a group's button passes it as start_param `g<chat id>`).
    start_param: str | None
    chat_instance: str | None


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """An initData query string signed as Telegram signs it (tests and the demo make their own)."""
    digest = hmac.new(
        secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    return urlencode({**fields, "hash": digest})


def verify(
    raw: str, bot_token: str, *, now: float | None = None, max_age: float = MAX_AGE_SECONDS
) -> InitData:
    """The checked initData, or InitDataError. Constant-time comparison of the hash."""
    if not raw or len(raw.encode("utf-8", "replace")) > MAX_INIT_DATA_BYTES:
        raise InitDataError("missing or oversized initData")
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False)
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise InitDataError(f"field {key!r} given twice")
        fields[key] = value
    given = fields.get("hash", "")
    expected = hmac.new(
        secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise InitDataError("hash does not match")
    try:
        auth_date = float(int(fields["auth_date"]))
    except (KeyError, ValueError):
        raise InitDataError("no auth_date") from None
    clock = time.time() if now is None else now
    if auth_date > clock + CLOCK_SKEW_SECONDS:
        raise InitDataError("auth_date is in the future")
    if clock - auth_date > max_age:
        raise InitDataError("initData is stale")
    return InitData(
        user=_user(fields.get("user")),
        auth_date=auth_date,
        start_param=fields.get("start_param") or None,
        chat_instance=fields.get("chat_instance") or None,
    )


def _user(raw: str | None) -> WebAppUser:
    if not raw:
        raise InitDataError("no user")
    try:
        data = json.loads(raw)
        user_id = data["id"]
    except (ValueError, KeyError, TypeError):
        raise InitDataError("user is not a Telegram user object") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise InitDataError("user id is not a positive integer")
    name = data.get("first_name")
    language = data.get("language_code")
    return WebAppUser(
        id=user_id,
        first_name=name if isinstance(name, str) else "",
        language_code=language if isinstance(language, str) else None,
    )
