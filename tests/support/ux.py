"""Helpers shared by the issue #7 end-to-end tests (no tests in here).

Why helpers: the UX tests all need a delivered song, a button press and its answer; spelling
that out in every test would hide what each one checks.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from songbot_fakes.telegram import ApiCall, FakeTelegram
from songbot_fakes.telegram_html import parse_html, strip_text
from storage.jobs import Job, NewJob
from storage.states import JobState
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness

LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n\n[Chorus]\nStay, stay, stay"
TITLE = "Stay, stay, stay"  # the title of a song with LYRICS: the first chorus line (#25.12)
GROUP = -100_777
BOT = "SongTestBot"
_HISTORY_IDS = itertools.count(1)


def shown(html_text: str) -> str:
    """What Telegram shows for our HTML: tags gone, entities decoded, ends stripped."""
    return strip_text(parse_html(html_text)).text


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def button_data(message: dict[str, Any]) -> list[str]:
    return [str(b["callback_data"]) for b in buttons(message) if "callback_data" in b]


def replies_to(tg: FakeTelegram, chat_id: int, message_id: int) -> list[dict[str, Any]]:
    """Bot messages (still present) that reply to `message_id`."""
    return [
        m
        for m in tg.bot_messages(chat_id)
        if (m.get("reply_to_message") or {}).get("message_id") == message_id
    ]


def submits(h: BotHarness) -> list[dict[str, Any]]:
    return [
        r.json
        for r in h.api.requests
        if r.method == "POST" and r.path == "/v2/generate/audio" and isinstance(r.json, dict)
    ]


async def deliver(
    h: BotHarness,
    text: str = f"/song dreamy synth-pop with female vocals\n{LYRICS}",
    *,
    chat_id: int = PRIVATE_CHAT,
    user_id: int = USER,
) -> tuple[Job, dict[str, Any]]:
    """Send `text`, wait for the song; returns the job and the audio message as Telegram has it."""
    before = {j.id for j in await h.jobs()}
    request = h.tg.send_text(chat_id, user_id, text)
    job = await h.wait_for_job(
        lambda j: (
            j.id not in before
            and j.request_message_id == request["message_id"]
            and j.state == "delivered"
        ),
        timeout=30,
    )
    assert job.delivered_message_id is not None
    return job, h.tg.message(chat_id, job.delivered_message_id)


async def press(
    h: BotHarness, chat_id: int, user_id: int, message_id: int, data: str, **kwargs: Any
) -> ApiCall:
    """Tap a button and wait for the bot's answerCallbackQuery."""
    query_id = h.tg.press_button(chat_id, user_id, message_id, data, **kwargs)
    return await h.tg.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query_id
    )


async def edited(
    h: BotHarness, chat_id: int, message_id: int, *, count: int = 1
) -> dict[str, Any]:
    """Wait for the bot's `count`-th successful edit of a message; returns the message after it."""
    await h.tg.wait_for_call(
        "editMessageText",
        lambda c: (
            c.ok
            and c.params.get("chat_id") == chat_id
            and c.params.get("message_id") == message_id
        ),
        count=count,
    )
    return h.tg.message(chat_id, message_id)


async def all_handled(h: BotHarness, *, timeout: float = 15.0) -> None:
    """Until the bot has handled every update sent so far (every handler of it has returned).

    Why this is an event and not a sleep: the bot confirms an update (its next getUpdates offset
    passes it, and the fake drops it from its queue) only once the update's handlers are done
    (bot/telegram/confirming_bot.py), so an empty queue means nothing is still being handled.
    """
    deadline = time.monotonic() + timeout
    while h.tg.pending_updates:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{h.tg.pending_updates} update(s) still unhandled after {timeout}s"
            )
        await asyncio.sleep(0.02)


def ok_reply_to(chat_id: int, message_id: int) -> Any:
    """A wait_for_call predicate: a successful bot message replying to `message_id`."""
    return lambda c: (
        c.ok
        and c.params.get("chat_id") == chat_id
        and c.params.get("reply_parameters", {}).get("message_id") == message_id
    )


async def seed_history(h: BotHarness, model: str, seconds: float = 1.0, count: int = 3) -> None:
    """Past generations of `model`, as if the bot had delivered them (for the time estimate)."""
    now = time.time()
    for n in range(count):
        job, _ = await h.services.jobs.create(
            NewJob(
                key=f"history-{next(_HISTORY_IDS)}",
                chat_id=9_999,
                chat_type="private",
                topic_id=None,
                user_id=9_999,
                user_name="history",
                user_lang="en",
                request_message_id=next(_HISTORY_IDS),
                model=model,
                prompt="history",
                lyrics=None,
                deadline_at=now + 60,
                next_check_at=now + 3600,
                created_at=now - 600,
            )
        )
        await h.services.jobs.update(
            job.id,
            owner=None,
            now=now,
            generation_id=f"hist-{n}",
            submitted_at=now - 500,
            completed_at=now - 500 + seconds,
        )
        # Finished, so the runner never picks them up; only their timings matter.
        await h.services.jobs.transition(
            job.id, JobState.RECEIVED, JobState.CANCELLED, owner=None, now=now, outcome_sent_at=now
        )


async def help_section(h: BotHarness, chat_id: int, user_id: int, section: str) -> str:
    """/help in a private chat, then its "more" button for `section`: the text it shows (HTML)."""
    sent = h.tg.send_text(chat_id, user_id, "/help")
    reply = await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(chat_id, sent["message_id"]), timeout=15
    )
    if section == "main":
        return str(reply.params["text"])
    message_id = reply.result["message_id"]
    await press(h, chat_id, user_id, message_id, f"v1:help:{section}")
    edit = await h.tg.wait_for_call(
        "editMessageText",
        lambda c: (
            c.ok
            and c.params.get("chat_id") == chat_id
            and c.params.get("message_id") == message_id
        ),
        timeout=15,
    )
    return str(edit.params["text"])


async def ask(h: BotHarness, chat_id: int, user_id: int, text: str) -> ApiCall:
    """Send `text` and wait for the bot's reply to it."""
    sent = h.tg.send_text(chat_id, user_id, text)
    return await h.tg.wait_for_call(
        "sendMessage", ok_reply_to(chat_id, sent["message_id"]), timeout=15
    )
