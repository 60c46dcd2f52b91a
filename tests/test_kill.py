"""The kill test: SIGKILL the real `songbot run` process at every risky moment, many times.

Each round sends one `/song` in a fresh private chat, waits (through the fakes' hooks) until the
bot is exactly at one moment of the pipeline, waits a random jitter, SIGKILLs it, starts a new
process and waits for the request to settle. After every round and again at the end it checks
the guarantees from the fakes' own records:

1. at most one paid submission per `X-Client-Request-Id` (the fake AI/ML API's billing);
2. exactly one outcome per request in the fake Telegram chat: the audio or a ❌ reply; only a kill
   right after Telegram accepted the audio may leave two audios;
3. an interrupted submit tells the user to send the request again.

The same runs in webhook mode (#17.5): the fake Telegram POSTs each update to the bot's webhook
and, like Telegram, keeps retrying an update until the webhook answers 2xx. There the first moment
is the webhook POST itself: killed while it is in flight, or right after the bot answered 200
(which it does only once the job is stored). On top of the guarantees above, every request
makes exactly one job however often it was delivered, and every update is finally acknowledged.

`KILL_ROUNDS` (default 8) is the number of rounds per moment in polling mode,
`KILL_WEBHOOK_ROUNDS` (default 4) in webhook mode; `KILL_SEED` fixes the jitter.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram, WebhookPost
from tests.support.subprocess_bot import (
    BotProcess,
    integrity_check,
    jobs_async,
    outcome_messages,
    subprocess_env,
)

KILL_ROUNDS = int(os.environ.get("KILL_ROUNDS", "8"))
KILL_WEBHOOK_ROUNDS = int(os.environ.get("KILL_WEBHOOK_ROUNDS", "4"))
WEBHOOK_PATH = "/telegram/kill-test"
WEBHOOK_SECRET = "kill-test-secret_0123456789"
KILL_MOMENTS = os.environ.get("KILL_MOMENTS", "")  # comma-separated substrings; "" = all
KILL_SEED = int(os.environ.get("KILL_SEED", str(random.SystemRandom().randrange(10**6))))
SUBMIT = "POST /v2/generate/audio"
POLL = "GET /v2/generate/audio"
FILES = "GET /files"
HOLD = 30.0  # how long a hooked request is held; the kill always comes first
LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
MP3_REQUEST = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
WAV_REQUEST = "/song calm ambient piano for studying"  # instrumental: a WAV that needs ffmpeg

pytestmark = pytest.mark.timeout(600)


@dataclass
class Round:
    number: int
    moment: str
    chat: int
    request_id: int = 0
    killed_at: str = ""
    hit: bool = True  # the kill landed inside the intended window
    audios: int = 0
    failures: list[str] = field(default_factory=list)
    job_state: str = ""
    job_key: str = ""
    jobs: int = 0  # jobs made for the request: one, however often it was delivered


@dataclass
class World:
    tg: FakeTelegram
    api: FakeAimlApi
    bot: BotProcess
    db: Path
    rng: random.Random
    rounds: list[Round] = field(default_factory=list)
    webhook: bool = False


async def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, world: World
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{world.bot.tail()}")
        if not world.bot.running:
            raise AssertionError(f"bot exited while waiting for {what}\n{world.bot.tail()}")
        await asyncio.sleep(0.005)


async def wait_ready(world: World) -> None:
    """The bot is up when it holds a long poll open on the fake Telegram, or (webhook mode)
    when this process has registered its webhook, which it does once it listens."""
    if not world.webhook:
        await wait_until(
            lambda: world.tg.polls_waiting > 0, 30, "the bot's first getUpdates", world
        )
        return

    def registered() -> bool:
        ok = [c for c in world.tg.calls_to("setWebhook") if c.ok]
        return len(ok) >= world.bot.generation

    await wait_until(registered, 30, "the bot's setWebhook", world)


def paid_by_key(api: FakeAimlApi) -> Counter[str]:
    """Charges per job: a resubmit carries `<key>.2`, and counts against the same job."""
    return Counter(
        str(r.header("x-client-request-id")).split(".")[0] for r in api.paid_submissions()
    )


# ---- the moments --------------------------------------------------------------------------------
# Each arms the fakes, sends the request, and returns once the bot is inside the moment.


async def after_update(world: World, rnd: Round) -> None:
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    if world.webhook:
        await _webhook_post(world, rnd)
        return
    start = len(world.tg.calls)

    def received() -> bool:
        batches = [c.result for c in world.tg.calls[start:] if c.method == "getUpdates" and c.ok]
        chats = [u.get("message", {}).get("chat", {}).get("id") for b in batches for u in b or []]
        return rnd.chat in chats

    await wait_until(received, 15, "getUpdates to hand over the update", world)
    if rnd.number % 2 == 0:
        # The riskiest instant: the next getUpdates tells Telegram the update was handled.
        await wait_until(lambda: world.tg.polls_waiting > 0, 15, "the next getUpdates", world)
        await asyncio.sleep(world.rng.uniform(0.0, 0.01))
    else:
        await asyncio.sleep(world.rng.uniform(0.0, 0.15))


async def _webhook_post(world: World, rnd: Round) -> None:
    """Webhook mode: kill while the update's POST is in flight (the bot is handling it), or, in
    even rounds, right after the bot answered it 200 (acknowledged: Telegram forgets it)."""

    def posts() -> list[WebhookPost]:
        return [
            p
            for p in world.tg.webhook_posts
            if (p.update.get("message") or {}).get("chat", {}).get("id") == rnd.chat
        ]

    if rnd.number % 2 == 0:
        await wait_until(
            lambda: any(p.status == 200 for p in posts()), 15, "the webhook's 200", world
        )
        await asyncio.sleep(world.rng.uniform(0.0, 0.01))
        return
    await wait_until(lambda: bool(posts()), 15, "the webhook POST", world)
    await asyncio.sleep(world.rng.uniform(0.0, 0.01))
    rnd.hit = not posts()[0].done  # still being handled when the kill came


async def during_submit(world: World, rnd: Round) -> None:
    """The paid POST is on the wire and the provider has not processed it yet."""
    world.api.script(SUBMIT, status=500, delay=HOLD)
    before = len(world.api.requests_to(SUBMIT))
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    await wait_until(
        lambda: len(world.api.requests_to(SUBMIT)) > before, 15, "the paid POST", world
    )
    await asyncio.sleep(world.rng.uniform(0.0, 0.08))


async def after_submit(world: World, rnd: Round) -> None:
    """The provider created (and billed) the generation; its answer has not reached the bot."""
    world.api.script(SUBMIT, process=True, delay=HOLD)
    before = len(world.api.paid_submissions())
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    await wait_until(
        lambda: len(world.api.paid_submissions()) > before, 15, "a charged submit", world
    )
    await asyncio.sleep(world.rng.uniform(0.0, 0.08))


async def mid_poll(world: World, rnd: Round) -> None:
    world.api.set_outcome(generation_seconds=0.5)
    before = len(world.api.requests_to(POLL))
    world.api.script(POLL, process=True, delay=HOLD)
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    await wait_until(lambda: len(world.api.requests_to(POLL)) > before, 15, "a poll", world)
    await asyncio.sleep(world.rng.uniform(0.0, 0.08))


async def mid_download(world: World, rnd: Round) -> None:
    before = len(world.api.requests_to(FILES))
    world.api.script(FILES, process=True, delay=HOLD)
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    await wait_until(
        lambda: len(world.api.requests_to(FILES)) > before, 15, "the audio download", world
    )
    await asyncio.sleep(world.rng.uniform(0.0, 0.08))


async def mid_conversion(world: World, rnd: Round) -> None:
    """WAV → MP3: kill while the bot's ffmpeg child is encoding (a 40 s WAV takes ~0.4 s)."""
    world.api.audio_seconds = 40.0
    msg = world.tg.send_text(rnd.chat, rnd.chat, WAV_REQUEST)
    rnd.request_id = msg["message_id"]

    def encoding() -> bool:
        return any("libmp3lame" in cmd for _, cmd in world.bot.children())

    try:
        await wait_until(encoding, 20, "ffmpeg encoding the WAV", world)
    except AssertionError:
        rnd.hit = False  # conversion too quick to catch this time: kill right after instead
    await asyncio.sleep(world.rng.uniform(0.0, 0.05))
    rnd.hit = rnd.hit and encoding()


async def mid_upload(world: World, rnd: Round) -> None:
    """sendAudio is on its way; Telegram has not taken it (dropped if the client dies)."""
    fault = world.tg.script("sendAudio", status=None, delay=HOLD, abandon_if_gone=True, times=1)
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    await wait_until(lambda: fault.hits > 0, 20, "sendAudio to arrive", world)
    await asyncio.sleep(world.rng.uniform(0.0, 0.08))


async def after_accepted(world: World, rnd: Round) -> None:
    """Telegram stored the audio; half the rounds hold its answer, half race the bot's DB write."""
    msg = world.tg.send_text(rnd.chat, rnd.chat, MP3_REQUEST)
    rnd.request_id = msg["message_id"]
    if rnd.number % 2 == 0:
        fault = world.tg.script("sendAudio", status=None, delay_after=HOLD, times=1)
        await wait_until(lambda: fault.handled > 0, 20, "sendAudio to be accepted", world)
        await asyncio.sleep(world.rng.uniform(0.0, 0.05))
        return

    def answered() -> int:
        return len([c for c in world.tg.calls_to("sendAudio") if c.ok])

    before = answered()
    await wait_until(
        lambda: answered() > before,
        20,
        "sendAudio's answer",
        world,
    )
    await asyncio.sleep(world.rng.uniform(0.0, 0.01))


MOMENTS: dict[str, Callable[[World, Round], Awaitable[None]]] = {
    "after receiving the update": after_update,
    "during the paid POST": during_submit,
    "right after the paid POST": after_submit,
    "mid-poll": mid_poll,
    "mid-download": mid_download,
    "mid-conversion": mid_conversion,
    "mid-upload to Telegram": mid_upload,
    "right after Telegram accepted the audio": after_accepted,
}
MAY_DUPLICATE = "right after Telegram accepted the audio"
INTERRUPTED = "during the paid POST"
# A kill before the provider processed the POST may end "interrupted"; a jittered kill after
# receiving the update can land there too (the bot submits within milliseconds).
MAY_INTERRUPT = frozenset({INTERRUPTED, "after receiving the update"})


async def settle(world: World, rnd: Round) -> None:
    """Wait until the request has its outcome and its job is finished with the user told."""
    deadline = time.monotonic() + 40
    while True:
        rnd.audios, rnd.failures = outcome_messages(world.tg, rnd.chat, rnd.request_id)
        jobs = [j for j in await jobs_async(world.db) if j["chat_id"] == rnd.chat]
        rnd.jobs = len(jobs)
        if jobs:
            rnd.job_state, rnd.job_key = jobs[0]["state"], jobs[0]["key"]
        done = bool(jobs) and jobs[0]["outcome_sent_at"] is not None
        if done and (rnd.audios or rnd.failures):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"round {rnd.number} ({rnd.moment}) never settled: jobs={jobs} "
                f"audios={rnd.audios} failures={rnd.failures}\n{world.bot.tail(60)}"
            )
        if not world.bot.running:
            raise AssertionError(f"bot exited during round {rnd.number}\n{world.bot.tail(60)}")
        await asyncio.sleep(0.05)


def check_round(world: World, rnd: Round) -> None:
    where = f"round {rnd.number} ({rnd.moment}, seed {KILL_SEED})"
    rnd.audios, rnd.failures = outcome_messages(world.tg, rnd.chat, rnd.request_id)
    outcomes = rnd.audios + len(rnd.failures)
    assert rnd.jobs == 1, f"{where}: the request made {rnd.jobs} jobs"
    if rnd.moment == MAY_DUPLICATE:
        assert rnd.audios in (1, 2) and not rnd.failures, f"{where}: {rnd}"
    else:
        assert outcomes == 1, f"{where}: expected exactly one outcome, got {rnd}"
    if rnd.moment in MAY_INTERRUPT and rnd.failures:
        # The POST never reached the provider and the resubmit did not either.
        assert "send the request again" in rnd.failures[0], f"{where}: {rnd}"
        assert rnd.job_state == "interrupted", f"{where}: {rnd}"
        assert not paid_by_key(world.api)[rnd.job_key], f"{where}: charged, not delivered"
    elif rnd.moment == INTERRUPTED:
        # Either the killed POST went through (reconciled), or the request log proved it made
        # nothing and the one resubmit did: a song, and exactly one charge.
        assert rnd.audios == 1 and rnd.job_state == "delivered", f"{where}: {rnd}"
        assert paid_by_key(world.api)[rnd.job_key] == 1, f"{where}: {rnd}"
    elif rnd.failures:
        raise AssertionError(f"{where}: the song was lost: {rnd.failures}")
    over = {k: n for k, n in paid_by_key(world.api).items() if n > 1}
    assert not over, f"{where}: charged twice: {over}"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_sigkill_at_every_moment_keeps_the_guarantees(
    tmp_path: Path, mode: str, unused_tcp_port: int
) -> None:
    rng = random.Random(KILL_SEED)
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=0.3)
    await tg.start()
    await api.start()
    db = tmp_path / "songbot.db"
    extra: dict[str, str] = {}
    rounds = KILL_ROUNDS
    if mode == "webhook":
        extra = {
            "SONGBOT_WEBHOOK_URL": f"http://127.0.0.1:{unused_tcp_port}{WEBHOOK_PATH}",
            "SONGBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
            "SONGBOT_HTTP_PORT": str(unused_tcp_port),
        }
        # Telegram keeps an unacknowledged update and retries it; quickly here, so a restarted
        # bot gets it within a fraction of a second.
        tg.webhook_attempts = None
        tg.webhook_backoff, tg.webhook_backoff_max = 0.02, 0.2
        rounds = KILL_WEBHOOK_ROUNDS
    bot = BotProcess(subprocess_env(tg, api, db, extra), tmp_path)
    world = World(tg, api, bot, db, rng, webhook=mode == "webhook")
    wanted = [m for m in MOMENTS if any(w in m for w in KILL_MOMENTS.split(","))]
    schedule = [m for m in wanted for _ in range(rounds)]
    rng.shuffle(schedule)
    started = time.monotonic()
    try:
        await bot.start()
        await wait_ready(world)
        for number, moment in enumerate(schedule, start=1):
            rnd = Round(number, moment, chat=50_000 + number)
            world.rounds.append(rnd)
            api.set_outcome()
            api.audio_seconds = 3.0
            await MOMENTS[moment](world, rnd)
            await bot.kill()
            rnd.killed_at = f"{time.monotonic() - started:.2f}s"
            api.clear_faults()
            await bot.start()
            await wait_ready(world)
            await settle(world, rnd)
            check_round(world, rnd)
        # A clean stop after all that: exit 0, the database intact, nothing left running.
        await bot.signal(signal.SIGTERM)
        assert await bot.wait(15) == 0, bot.tail()
        assert await asyncio.to_thread(integrity_check, db) == "ok"
        for rnd in world.rounds:  # late duplicates would show up now
            check_round(world, rnd)
        jobs = await jobs_async(db)
        assert all(j["state"] in ("delivered", "interrupted") for j in jobs), jobs
        assert all(j["lease_owner"] is None for j in jobs)
        assert len(jobs) == len(world.rounds)  # one job per request, none duplicated
        if world.webhook:
            # Every update was finally acknowledged, none given up on.
            assert tg.webhook_deliveries and all(d.status == 200 for d in tg.webhook_deliveries), (
                tg.webhook_deliveries
            )
            acked = [d.update["update_id"] for d in tg.webhook_deliveries]
            assert len(acked) == len(set(acked))  # each acknowledged once: no redelivery after
    except BaseException:
        print(f"KILL_SEED={KILL_SEED}; rounds so far:")
        for rnd in world.rounds:
            print(f"  {rnd}")
        print(bot.all_logs()[-20000:])
        raise
    finally:
        await bot.stop()
        await tg.stop()
        await api.stop()
    if world.webhook:
        again = sum(1 for d in tg.webhook_deliveries if d.attempts > 1)
        print(f"\n{again} of {len(tg.webhook_deliveries)} updates needed a redelivery")
    summary = Counter((r.moment, r.audios, len(r.failures), r.hit) for r in world.rounds)
    print(
        f"\n{len(world.rounds)} kills ({mode}) in {time.monotonic() - started:.1f}s "
        f"(seed {KILL_SEED}):"
    )
    for (moment, audios, failures, hit), count in sorted(summary.items()):
        print(f"  {count} × {moment}: {audios} audio, {failures} failure, in window: {hit}")
    record: Any = os.environ.get("KILL_REPORT")
    if record:
        Path(record).write_text("\n".join(str(r) for r in world.rounds))
