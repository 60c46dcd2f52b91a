"""Randomised end to end: nasty `/song` messages (and odd entities) through the real bot.

The property tests in test_fuzz_song.py / test_fuzz_replies.py drive the parser and formatters
directly; this one sends a seeded random batch through PTB, the handlers and the runner against
both fakes, which enforce Telegram's and the provider's rules on the wire. Whatever was sent:
no handler crashes, Telegram never answers 400 to the bot, the provider never rejects a body,
every request gets exactly one acknowledgement and every accepted one exactly one outcome.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

import pytest

from songbot_fakes.telegram_html import utf16_len
from tests.support.harness import BotHarness

SEED = int(os.environ.get("FUZZ_SEED", str(random.SystemRandom().randrange(10**6))))
PIECES = [
    "<",
    ">",
    "&",
    "&amp;",
    "<b>",
    "</i>",
    '<a href="tg://x">',
    '"',
    "'",
    "*",
    "_",
    "`",
    "```",
    "~",
    "[",
    "]",
    "(",
    ")",
    "||",
    "\\",
    "#",
    "\u200f",
    "\u200e",
    "\u202e",
    "\u200d",
    "\u200b",
    "\ufeff",
    "\u00ad",
    "e\u0301",
    "👩‍👩‍👧",
    "🏳️‍🌈",
    "🇺🇦",
    "👍🏽",
    "𝄞",
    "مرحبا بالعالم",
    "שלום",
    "日本語の歌",
    "\t",
    "\r\n",
    "\u2028",
    "@everyone",
    "model:",
    "model:cover",
    "model:2.6",
    "ref:",
    "ref: https://example.com/take.mp3",
    "voice:",
    "[Verse]",
    "[Chorus]",
    "{model}",
    "%s",
    "dreamy",
    "synth-pop",
    "with",
    "female",
    "vocals",
    "la la la",
    "\n",
]
SUBMIT = "POST /v2/generate/audio"


def nasty(rng: random.Random, max_pieces: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, max_pieces)))


def random_song(rng: random.Random) -> str:
    style = rng.choice(["dreamy synth-pop ", "sad country ballad ", "lo-fi ", ""]) + nasty(rng, 6)
    shape = rng.randrange(5)
    if shape == 0:
        return f"/song {style}"
    if shape == 1:
        return f"/song {style} | {nasty(rng, 15)}"
    if shape == 2:
        return f"/song {style}\n" + nasty(rng, 40) * rng.randint(1, 30)  # long, maybe too long
    if shape == 3:
        return "/song " + "🎵<&>" * rng.randint(1, 3000)
    return f"/song@SongTestBot {style}\n[Verse]\n{nasty(rng, 20)}\n[Chorus]\n{nasty(rng, 20)}"


def odd_entities(rng: random.Random, text: str) -> list[dict[str, Any]]:
    length = utf16_len(text)
    command = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
    extra = [
        {"type": "bold", "offset": rng.randint(0, length), "length": rng.randint(1, 10_000)},
        {"type": "italic", "offset": 1, "length": 1},
        {
            "type": "custom_emoji",
            "offset": 0,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
        {
            "type": "text_mention",
            "offset": 0,
            "length": 5,
            "user": {"id": 99, "is_bot": False, "first_name": "<Eve & co>"},
        },
        {"type": "text_link", "offset": 2, "length": 3, "url": "https://example.com/<x>"},
        {"type": "spoiler", "offset": length + 5, "length": 3},
        {"type": "pre", "offset": 0, "length": length, "language": "<script>"},
        {"type": "expandable_blockquote", "offset": 0, "length": 1},
    ]
    rng.shuffle(extra)
    return [command, *extra[: rng.randint(0, len(extra))]]


@pytest.mark.timeout(120)
async def test_random_nasty_requests_end_to_end(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    tg, api = harness.tg, harness.api
    reason = nasty(rng, 30) * 400 + "<script>&"  # a provider failure text of any size
    api.set_outcome(fail=reason if rng.random() < 0.5 else None)
    chats: dict[int, str] = {}
    for number in range(30):
        chat = 90_000 + number
        text = random_song(rng)
        chats[chat] = text
        if number % 3 == 0:
            tg.add_chat(chat)
            tg.enqueue_raw_update(
                {
                    "message": {
                        "message_id": 1,
                        "from": {"id": chat, "is_bot": False, "first_name": nasty(rng, 3) or "x"},
                        "chat": {"id": chat, "type": "private", "first_name": "x"},
                        "date": int(time.time()),
                        "text": text,
                        "entities": odd_entities(rng, text),
                    }
                }
            )
        else:
            tg.send_text(chat, chat, text)

    def acknowledged(chat: int) -> bool:
        return any(c.ok and c.params.get("chat_id") == chat for c in tg.calls_to("sendMessage"))

    deadline = time.monotonic() + 40
    while not all(acknowledged(c) for c in chats):
        assert time.monotonic() < deadline, [c for c in chats if not acknowledged(c)]
        await asyncio.sleep(0.05)
    jobs = await harness.jobs()
    job_chats = {j.chat_id for j in jobs}
    deadline = time.monotonic() + 60
    while any(j.outcome_sent_at is None for j in await harness.jobs()):
        assert time.monotonic() < deadline, [(j.chat_id, j.state) for j in await harness.jobs()]
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # anything late (a duplicate) would arrive now

    where = f"FUZZ_SEED={SEED}"
    refused = [c.brief() for c in tg.calls if c.http_status == 400]
    assert not refused, f"{where}: Telegram refused what the bot sent: {refused}"
    rejected = [r.json for r in api.requests_to(SUBMIT) if r.status != 200]
    assert not rejected, f"{where}: the provider rejected: {rejected}"
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, f"{where}: {crashes}"
    for chat, text in chats.items():
        sent = tg.bot_messages(chat)
        audios = [m for m in sent if "audio" in m]
        failures = [m for m in sent if "⚠️" in m.get("text", "")]
        if chat in job_chats:
            assert len(audios) + len(failures) == 1, (where, text, sent)
        else:  # refused at intake: exactly one explanation, nothing charged
            assert len(sent) == 1 and not audios, (where, text, sent)
    assert len(api.paid_submissions()) == len(jobs)
