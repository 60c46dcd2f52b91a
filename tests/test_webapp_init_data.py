"""The Mini App's initData check: Telegram's HMAC exactly, a freshness bound, nothing else."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.webapp.init_data import (
    MAX_AGE_SECONDS,
    InitDataError,
    data_check_string,
    sign,
    verify,
)

TOKEN = "123456:TEST-token_for-the-mini-app-0123456789"
NOW = 1_800_000_000.0


def fields(**extra: str) -> dict[str, str]:
    user = {"id": 4242, "first_name": "Ada", "language_code": "ru"}
    return {"auth_date": str(int(NOW - 10)), "query_id": "AAH", "user": json.dumps(user)} | extra


def test_a_signed_init_data_is_accepted() -> None:
    checked = verify(sign(fields(start_param="g-100777"), TOKEN), TOKEN, now=NOW)
    assert checked.user.id == 4242
    assert checked.user.language_code == "ru"
    assert checked.start_param == "g-100777"


def test_the_data_check_string_is_every_field_but_hash_sorted() -> None:
    assert data_check_string({"b": "2", "hash": "x", "a": "1", "signature": "s"}) == (
        "a=1\nb=2\nsignature=s"
    )


def test_a_known_vector_computed_with_openssl() -> None:
    # KEY=$(printf %s "$TOKEN" | openssl dgst -sha256 -hmac WebAppData -binary | xxd -p -c 64)
    # printf 'auth_date=1\nuser={}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY
    signed = dict(parse_qsl(sign({"auth_date": "1", "user": "{}"}, TOKEN)))
    assert signed["hash"] == "9a3151ed97ea537c57d67f5f0cea9d978edd09b43d7c72a724d8ff916e48c014"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.replace("Ada", "Eve"),  # a changed field
        lambda q: q + "&extra=1",  # an added field
        lambda q: q.replace("hash=", "hash=0"),  # a changed hash
        lambda q: "&".join(p for p in q.split("&") if not p.startswith("hash=")),  # no hash
        lambda q: "",  # nothing at all
        lambda q: q + "&hash=" + "0" * 64,  # the hash given twice
    ],
)
def test_forged_or_missing_init_data_is_refused(tamper: object) -> None:
    good = sign(fields(), TOKEN)
    with pytest.raises(InitDataError):
        verify(tamper(good), TOKEN, now=NOW)  # type: ignore[operator]


def test_another_bots_signature_is_refused() -> None:
    with pytest.raises(InitDataError, match="hash"):
        verify(sign(fields(), "654321:another-bot-token-000000000000"), TOKEN, now=NOW)


def test_stale_and_future_init_data_is_refused() -> None:
    old = sign(fields(auth_date=str(int(NOW - MAX_AGE_SECONDS - 1))), TOKEN)
    with pytest.raises(InitDataError, match="stale"):
        verify(old, TOKEN, now=NOW)
    future = sign(fields(auth_date=str(int(NOW + 3600))), TOKEN)
    with pytest.raises(InitDataError, match="future"):
        verify(future, TOKEN, now=NOW)


@pytest.mark.parametrize("user", ["", "not json", json.dumps({"id": "7"}), json.dumps({"id": -1})])
def test_a_signed_but_unusable_user_is_refused(user: str) -> None:
    raw = sign({"auth_date": str(int(NOW)), "user": user}, TOKEN)
    with pytest.raises(InitDataError):
        verify(raw, TOKEN, now=NOW)


def test_oversized_init_data_is_refused_before_hashing() -> None:
    raw = urlencode(fields(pad="x" * 10_000))
    with pytest.raises(InitDataError, match="oversized"):
        verify(raw, TOKEN, now=NOW)
