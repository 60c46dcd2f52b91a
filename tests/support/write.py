"""/write for the tests: the chat model's endpoint, an idea, a model answer and a /write sent.

Why helpers: the /write tests and the security tests on drafts and lyrics answers all send an
idea and wait for its preview; spelling that out in every test would hide what each one checks.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.ux import edited, ok_reply_to

CHAT = "POST /v1/chat/completions"
IDEA = "a birthday song for my sister Anna who loves cats and skateboarding"


def song_json(
    title: str = "Anna Rolls",
    style: str = "upbeat pop punk, bright guitars, female vocals",
    lyrics: str = "[Verse]\nAnna rolls down the hill\nCats on the porch sit still\n\n"
    "[Chorus]\nHappy birthday, Anna, ride",
) -> str:
    return json.dumps({"title": title, "style": style, "lyrics": lyrics}, ensure_ascii=False)


async def write(
    h: BotHarness, text: str, *, chat_id: int = PRIVATE_CHAT, user_id: int = USER, **kw: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send a /write and wait until its placeholder became the preview (or an error)."""
    request = h.tg.send_text(chat_id, user_id, text, **kw)
    placeholder = await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(chat_id, request["message_id"])
    )
    preview = await edited(h, chat_id, placeholder.result["message_id"])
    return request, preview
