"""Every HTTPS client the bot opens shares one TLS context (bot/tls.py).

Why it matters: httpx loads the whole CA bundle into a fresh context for each client (about
45 ms of CPU and a copy of the certificates): each start of the bot, each Telegram file download
and each operator command paid it again.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from bot.tls import client_tls
from songbot_fakes.audio_fixtures import make_ogg_opus
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness

LYRICS = "[Verse]\nOne context for every client\n[Chorus]\nLoaded once, used all day"


def _count_fresh_contexts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every client httpx builds without a context of its own (`verify=True`)."""
    made: list[object] = []
    real = httpx._transports.default.create_ssl_context

    def counting(verify: Any = True, **kwargs: Any) -> ssl.SSLContext:
        if not isinstance(verify, ssl.SSLContext):
            made.append(verify)
        return real(verify=verify, **kwargs)

    monkeypatch.setattr(httpx._transports.default, "create_ssl_context", counting)
    return made


async def test_a_start_and_a_song_with_a_voice_reference_make_no_new_tls_context(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_fresh_contexts(monkeypatch)
    # A fresh start: the Telegram pools and the music service's client are built now.
    await harness.restart()
    voice = make_ogg_opus(12.0)
    harness.tg.send_media(
        PRIVATE_CHAT, USER, "voice", voice, caption=f"/song gospel choir\n{LYRICS}", duration=12
    )
    # The voice note is downloaded from Telegram's file server by a client of its own.
    await harness.wait_for_job(lambda j: j.state == "delivered", timeout=30)
    assert made == [], "a client loaded its own CA bundle instead of sharing bot.tls"


def test_the_shared_context_verifies_certificates() -> None:
    tls = client_tls()
    assert tls is client_tls()
    assert tls.verify_mode is ssl.CERT_REQUIRED and tls.check_hostname
