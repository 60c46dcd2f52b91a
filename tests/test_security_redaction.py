"""Issue #24.6: a provider's error text that echoes secrets reaches no chat unredacted.

The fake AI/ML API answers the paid submit with a 400 whose message holds the API key, the bot
token, a Bearer value and a key-shaped string the bot does not know; every text the bot sends
(the failure reply, the status edits) is checked. Through the real bot against the fakes.
"""

from __future__ import annotations

from typing import Any

from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import SONG, SUBMIT

FOREIGN_KEY = "sk-proj-9fQ2xL7mZ4kR8vT1wY6uP3sN5bH0cJ2dA"  # shaped like a key, not ours


def _leak(harness: BotHarness) -> str:
    token = harness.tg.token
    return (
        f"Invalid request: header Authorization: Bearer {harness.api.api_key} rejected; "
        f"callback {harness.tg.base_url}/bot{token}/sendAudio refused; "
        f"upstream said Bearer {FOREIGN_KEY} and api_key={FOREIGN_KEY}"
    )


def _texts(call: Any) -> str:
    params = call.params
    return " ".join(str(params.get(k, "")) for k in ("text", "caption"))


async def test_provider_error_text_is_redacted_in_every_reply(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.script(SUBMIT, status=400, body={"message": _leak(harness), "statusCode": 400})
    request = tg.send_text(PRIVATE_CHAT, USER, SONG)
    job = await harness.wait_for_job(
        lambda j: j.request_message_id == request["message_id"] and j.outcome_sent_at is not None
    )
    assert job.state == "failed"
    sent = [c for c in tg.calls if c.method in ("sendMessage", "editMessageText")]
    shown = " ".join(_texts(c) for c in sent)
    # The reason is the catalogue's, in the user's language (#25.11): the provider's own words,
    # secrets and all, go to the log only.
    assert "rejected this request" in shown
    assert "Bearer" not in shown
    for secret in (api.api_key, tg.token, tg.token.split(":", 1)[1], FOREIGN_KEY):
        assert secret not in shown


async def test_write_provider_error_is_redacted_in_the_preview(harness: BotHarness) -> None:
    tg, api = harness.tg, harness.api
    api.script(
        "POST /v1/chat/completions",
        status=400,
        body={"message": _leak(harness), "statusCode": 400},
    )
    request = tg.send_text(PRIVATE_CHAT, USER, "/write a song about my cat")
    placeholder = await tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.ok
            and c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
        ),
    )
    edit = await tg.wait_for_call(
        "editMessageText",
        lambda c: c.params.get("message_id") == placeholder.result["message_id"],
    )
    shown = _texts(edit)
    assert "rejected this request" in shown and "Bearer" not in shown
    for secret in (api.api_key, tg.token, tg.token.split(":", 1)[1], FOREIGN_KEY):
        assert secret not in shown


async def test_every_text_sent_to_a_chat_is_redacted_on_its_way_out(harness: BotHarness) -> None:
    """The choke point itself: a reply that quotes text shaped like a credential (here the
    newcomer's message, which the bot offers to make a song of) shows `***` in its place."""
    tg = harness.tg
    request = tg.send_text(PRIVATE_CHAT, USER, f"a song about my key {FOREIGN_KEY} please")
    reply = await tg.wait_for_call(
        "sendMessage",
        lambda c: (
            c.ok
            and c.params.get("reply_parameters", {}).get("message_id") == request["message_id"]
        ),
    )
    shown = _texts(reply)
    assert "a song about my key" in shown and "***" in shown
    assert FOREIGN_KEY not in shown
