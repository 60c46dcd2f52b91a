"""Benchmark 1b, a burst at the DEFAULT caps: how fast 1,000 songs reach 250 chats.

Run: .venv/bin/python bench/bench_burst.py [--requests 1000 --chats 250 --generation 0.5]
     (add --env SONGBOT_MAX_JOBS_TOTAL=40 … for a tuned run, named as such in the output)

The real `songbot run` (a child process, default configuration unless --env says otherwise)
against the fake Bot API with its flood limits off (the bot's own limiter paces it at 27 counted
messages a second, just under Telegram's 30) and a fake AI/ML API whose generations take
--generation seconds. 4 requests per private chat, all queued at once. Reported:
- when every request was acknowledged (its status message) and every song delivered;
- the floor Telegram's limit sets: counted messages the bot sent (acknowledgements, edits, songs,
  failures) / 29 per second; the target is all songs within 1.25x that floor;
- songs per second while delivering, submits that started, and the Bot API calls by method.
bench_updates.py keeps its lifted caps (it measures the CPU cost of intake); this is the default.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path

from _common import bot_env, header, loadavg, songbot, table, wait_until, workdir

from bot.telegram.flood import COUNTED_METHODS
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram

FIRST_CHAT = 700_000
# Messages per second the floor is counted at: just under Telegram's 30, as in earlier rounds. The
# bot itself sends 27 (bot/telegram/flood.py OVERALL_INTERVAL): the rest is its margin for jitter.
TELEGRAM_RATE = 29.0
LINES = ["Neon lights over the bay", "We dance until the break of day", "Hold the line"]


def text(rng: random.Random) -> str:
    lines = "\n".join(rng.choice(LINES) for _ in range(6))
    return f"/song dreamy synth-pop\n[Verse]\n{lines}\n[Chorus]\n{lines}"


async def burst(
    n: int, chats: int, generation: float, tmp: Path, env: dict[str, str], label: str
) -> tuple[str, ...]:
    rng = random.Random(1)
    async with (
        FakeTelegram(flood_limits=False) as tg,
        FakeAimlApi(generation_seconds=generation) as api,
    ):
        db = tmp / f"{label.replace(' ', '-')}.db"
        child = songbot(
            bot_env(
                telegram_base=tg.base_url,
                token=tg.token,
                aimlapi_base=api.base_url,
                api_key=api.api_key,
                db=db,
                # Public-bot limits off (they would refuse 4 songs from one chat beyond 5 a day,
                # which is not what this measures); the concurrency caps stay at their defaults.
                SONGBOT_USER_DAILY_LIMIT="0",
                SONGBOT_MAX_WAITING_PER_USER="0",
                **env,
            ),
            tmp,
            tmp / f"{label.replace(' ', '-')}.log",
        )
        child.start()
        try:
            await wait_until(lambda: tg.polls_waiting > 0, timeout=60, what="start", child=child)
            await asyncio.sleep(1.5)
            requests: set[tuple[int, int]] = set()
            t0 = time.monotonic()
            for i in range(n):
                chat = FIRST_CHAT + i % chats
                message = tg.send_text(chat, chat, text(rng))
                requests.add((chat, int(message["message_id"])))

            def replies_to(method: str) -> set[tuple[int, int]]:
                out = set()
                for call in tg.calls_to(method):
                    reply = call.params.get("reply_parameters") or {}
                    if call.ok and isinstance(reply, dict) and "message_id" in reply:
                        out.add((int(call.params["chat_id"]), int(reply["message_id"])))
                return out & requests

            t_ack = await wait_until(
                lambda: len(replies_to("sendMessage")) == n,
                timeout=600,
                interval=0.05,
                what="acknowledgements",
                child=child,
            )
            t_done = await wait_until(
                lambda: len(replies_to("sendAudio")) == n,
                timeout=1800,
                interval=0.05,
                what="deliveries",
                child=child,
            )
        finally:
            await child.stop()
        audio = sorted(c.time for c in tg.calls_to("sendAudio") if c.ok)
        counted = [c for c in tg.calls if c.method in COUNTED_METHODS and c.ok]
        floor = len(counted) / TELEGRAM_RATE
        by_method: dict[str, int] = {}
        for call in counted:
            by_method[call.method] = by_method.get(call.method, 0) + 1
        span = audio[-1] - audio[0] if len(audio) > 1 else 0.0
        return (
            label,
            f"{t_ack - t0:.1f} s",
            f"{t_done - t0:.1f} s",
            f"{floor:.1f} s ({len(counted):,} msgs)",
            f"{(t_done - t0) / floor:.2f}x",
            f"{(n - 1) / span:.1f}/s" if span else "–",
            f"{len(api.requests_to('POST /v2/generate/audio')):,}",
            ", ".join(f"{k} {v}" for k, v in sorted(by_method.items())),
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=250)
    parser.add_argument("--generation", type=float, default=0.5)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    tuned = dict(item.split("=", 1) for item in args.env)
    print(header(f"bench_burst: {args.requests:,} requests from {args.chats} chats at once"))
    rows = []
    with workdir(args.workdir) as tmp:
        rows.append(
            await burst(args.requests, args.chats, args.generation, tmp, {}, "default caps")
        )
        if tuned:
            name = "tuned: " + " ".join(f"{k}={v}" for k, v in tuned.items())
            rows.append(await burst(args.requests, args.chats, args.generation, tmp, tuned, name))
    print(
        table(
            f"{args.requests:,} /song at once, {args.generation:g} s generations, fake Bot API "
            "flood limits off (the bot paces itself at 27 msg/s)",
            [
                "configuration",
                "all acknowledged",
                "all delivered",
                "floor (counted msgs / 29 per s)",
                "delivered / floor",
                "songs/s",
                "submits",
                "counted messages",
            ],
            rows,
        )
    )
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
