"""The chat completion call (issue #18) and the fake's strict /v1/chat/completions.

A completion costs tokens, so it follows the paid-call rule without reconciliation: retried only
when it certainly never ran (never sent, 429, 503); anything after sending is one
ProviderUnavailable, never a second completion.
"""

from __future__ import annotations

import httpx
import pytest

from bot.aimlapi.client import AimlApiClient
from bot.aimlapi.errors import InvalidApiKey, InvalidRequest, ProviderUnavailable, RateLimited
from bot.aimlapi.types import ChatMessage
from songbot_fakes.aimlapi import FakeAimlApi
from tests.support.fixtures_aimlapi import make_aimlapi_client

CHAT = "POST /v1/chat/completions"
ASK = [ChatMessage("system", "Answer in JSON."), ChatMessage("user", "a song about rain")]


async def test_answer_content_and_usage_are_read(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.script_chat('{"title": "Rain"}', usage=(11, 7))
    answer = await aimlapi_client.chat("gpt-4o-mini", ASK, json_object=True, max_tokens=50)
    assert answer.content == '{"title": "Rain"}'
    assert (answer.prompt_tokens, answer.completion_tokens, answer.total_tokens) == (11, 7, 18)
    assert answer.refusal is None and answer.finish_reason == "stop"
    [sent] = fake_aimlapi.chat_requests()
    assert sent.json == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Answer in JSON."},
            {"role": "user", "content": "a song about rain"},
        ],
        "response_format": {"type": "json_object"},
        "max_tokens": 50,
    }
    assert sent.header("authorization") == f"Bearer {fake_aimlapi.api_key}"


async def test_refusal_is_reported(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.script_chat(None, refusal="I can't help with that.")
    answer = await aimlapi_client.chat("gpt-4o-mini", ASK)
    assert answer.content is None and answer.refusal == "I can't help with that."


@pytest.mark.parametrize("status", [429, 503])
async def test_certainly_not_run_is_retried(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, status: int
) -> None:
    fake_aimlapi.script(CHAT, status=status, times=2)
    answer = await aimlapi_client.chat("gpt-4o-mini", ASK)
    assert answer.content
    assert len(fake_aimlapi.chat_requests()) == 3


async def test_rate_limit_that_lasts_is_raised_after_the_bounded_attempts(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient
) -> None:
    fake_aimlapi.script(CHAT, status=429, times=None)
    with pytest.raises(RateLimited):
        await aimlapi_client.chat("gpt-4o-mini", ASK)
    assert len(fake_aimlapi.chat_requests()) == 4


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 502},
        {"status": 200, "body": "{garbled"},
        {"status": 200, "body": {"choices": []}},
        {"drop_connection": True},
    ],
)
async def test_anything_after_sending_is_one_attempt(
    fake_aimlapi: FakeAimlApi, aimlapi_client: AimlApiClient, fault: dict[str, object]
) -> None:
    fake_aimlapi.script(CHAT, **fault)  # type: ignore[arg-type]
    with pytest.raises(ProviderUnavailable):
        await aimlapi_client.chat("gpt-4o-mini", ASK)
    assert len(fake_aimlapi.chat_requests()) == 1


async def test_a_read_timeout_is_not_repeated(fake_aimlapi: FakeAimlApi) -> None:
    from bot.aimlapi.session import Timeouts

    client = make_aimlapi_client(fake_aimlapi, timeouts=Timeouts(connect=1.0, chat=0.3))
    fake_aimlapi.script(CHAT, status=200, delay=1.0, process=True)  # a slow answer
    try:
        with pytest.raises(ProviderUnavailable):
            await client.chat("gpt-4o-mini", ASK)
    finally:
        await client.aclose()
    assert len(fake_aimlapi.chat_requests()) == 1


async def test_bad_key_and_bad_request_are_final(fake_aimlapi: FakeAimlApi) -> None:
    wrong = make_aimlapi_client(fake_aimlapi, api_key="wrong")
    try:
        with pytest.raises(InvalidApiKey):
            await wrong.chat("gpt-4o-mini", ASK)
    finally:
        await wrong.aclose()
    client = make_aimlapi_client(fake_aimlapi)
    try:
        with pytest.raises(InvalidRequest):
            await client.chat("no-such-model", ASK)
    finally:
        await client.aclose()
    assert len(fake_aimlapi.chat_requests()) == 2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "body.model: Required"),
        ({"model": "gpt-4o-mini", "messages": []}, "body.messages"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "bot", "content": "x"}]}, ".role"),
        ({"model": "gpt-4o-mini", "messages": [{"role": "user"}]}, ".content"),
        (
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "a song"}],
                "response_format": {"type": "json_object"},
            },
            "must contain the word 'json'",
        ),
        (
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "json_schema", "json_schema": {}},
            },
            "json_schema.name",
        ),
        (
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "x"}],
                "max_tokens": 0,
            },
            "max_tokens",
        ),
    ],
)
async def test_fake_checks_the_request_shape(
    fake_aimlapi: FakeAimlApi, body: dict[str, object], problem: str
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{fake_aimlapi.base_url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {fake_aimlapi.api_key}"},
        )
    assert response.status_code == 400
    assert problem in response.json()["message"]


async def test_fake_answers_in_openai_shape(fake_aimlapi: FakeAimlApi) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{fake_aimlapi.base_url}/v1/chat/completions",
            json={
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": 'Song idea (JSON): "rainy days"'}],
                "response_format": {"type": "json_object"},
            },
            headers={"Authorization": f"Bearer {fake_aimlapi.api_key}"},
        )
    data = response.json()
    assert response.status_code == 200 and data["object"] == "chat.completion"
    message = data["choices"][0]["message"]
    assert message["role"] == "assistant" and "rainy days" in message["content"]
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
