"""OpenAI-compatible chat completions with the same key (`POST /v1/chat/completions`).

Why here and not in the music client: `/write` drafts lyrics with a chat model; the call costs
tokens, not a generation, so the session retries it only when it certainly never reached the
model (`tokens=True`, see session.py), and its answer has a shape of its own (`parse_chat`).
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from bot.aimlapi.responses import json_body, parse_chat
from bot.aimlapi.session import ApiSession
from bot.aimlapi.types import ChatAnswer, ChatMessage

CHAT_PATH: Final = "/v1/chat/completions"
# The most of a completion's answer read (#24.9): a draft is a few kilobytes of JSON (its
# max_tokens bound it), so anything near this is not an answer we could use anyway.
CHAT_MAX_BYTES: Final = 256 * 1024


class ChatCompletions(ApiSession):
    """`chat`: one completion, never sent twice once it may have run."""

    async def chat(
        self,
        model: str,
        messages: list[ChatMessage],
        *,
        json_object: bool = False,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatAnswer:
        """One OpenAI-compatible chat completion; see the module docstring for its retries."""
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        if json_object:
            body["response_format"] = {"type": "json_object"}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if temperature is not None:
            body["temperature"] = temperature

        async def parse(response: httpx.Response) -> ChatAnswer:
            return parse_chat(json_body(response), model)

        return await self._call(
            "POST",
            CHAT_PATH,
            json=body,
            timeout=self._timeouts.chat,
            parse=parse,
            tokens=True,
            max_body=CHAT_MAX_BYTES,
        )
