"""A group chat for the tests: its ids, a /song addressed to the bot, and waiting for replies."""

from __future__ import annotations

import asyncio

from tests.support.harness import BotHarness

GROUP = -1001234
ADMIN = 42
LYRICS = "[Verse]\nWe sing together in the hall\n[Chorus]\nOne for all and all for one"


async def fast_flood_clock(h: BotHarness, scale: float = 8.0, **env: str) -> None:
    """Run Telegram's flood windows `scale`x faster on both sides (the fake and the limiter)."""
    await h.restart(SONGBOT_TG_RATE_SCALE=str(scale), **env)


def song(text: str = "group anthem with choir") -> str:
    return f"/song@SongTestBot {text}\n{LYRICS}"


async def reply_to(h: BotHarness, message: dict[str, object]) -> str:
    call = await h.tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]
            and c.params["chat_id"] == message["chat"]["id"]
        ),  # type: ignore[index]
    )
    text = call.params["text"]
    assert isinstance(text, str)
    return text


async def settle(h: BotHarness) -> None:
    """Let queued updates be handled: a /help round trip proves the earlier ones were seen."""
    probe = h.tg.send_text(12345, 12345, "/help")
    await reply_to(h, probe)
    await asyncio.sleep(0.5)  # updates run concurrently; give earlier ones time to finish
