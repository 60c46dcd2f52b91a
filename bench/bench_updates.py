"""Benchmark 1, the update path against its floor: 1,000 /song requests at once vs an echo bot.

Run: .venv/bin/python bench/bench_updates.py [--requests 1000]

Both bots run as child processes (`python -m bot run`, i.e. the real `songbot run`, and
bench/echo_bot.py) against the same kind of local fake Bot API with its flood limits off; the
fake AI/ML API completes every generation instantly. Each user writes from a private chat of their
own, and all requests are queued at once, so they arrive as fast as getUpdates hands them out
(100 per call). Measured from the moment they are queued:
- wall time until every request has its first reply (songbot: the status message), and until
  every song has been delivered (sendAudio answered);
- the bot process's CPU seconds over the same spans (utime+stime from /proc, startup excluded),
  and, for songbot, its children's (ffmpeg drawing covers).
Songbot's intake runs at the default caps first (2 per user, 5 per chat, 20 in all: most of the
1,000 jobs wait in line), then with every cap raised to the request count (tuned, named as such);
the full pipeline runs with the raised caps (bench_burst.py is the full burst at the default caps).
The echo bot runs twice: PTB's textbook echo bot, and the same with songbot's rate limiter and
64 concurrent updates. Target: acknowledging the requests costs at most 1.5x the echo bot's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import signal
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    CLOCK_TICKS,
    PYTHON,
    ROOT,
    Child,
    InstructionCounter,
    bot_env,
    header,
    loadavg,
    songbot,
    table,
    thread_cpu,
    wait_until,
    workdir,
)

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram

STYLES = [
    "dreamy synth-pop with female vocals",
    "sad country ballad, slide guitar",
    "upbeat funk with brass section",
    "lo-fi hip hop, rainy night",
    "epic orchestral rock anthem",
]
LINES = [
    "Neon lights over the bay",
    "We dance until the break of day",
    "Every road leads back to you",
    "Coffee's cold and the sky is blue",
    "Hold the line and sing it loud",
    "Lost my way inside the crowd",
]
FIRST_USER = 500_000
COUNT_INSTRUCTIONS = False  # --instructions: perf stat attached (it adds ~40 % to CPU seconds)
_RUN_NUMBER = itertools.count(1)


def request_text(rng: random.Random) -> str:
    verses = []
    for tag in ("[Verse]", "[Chorus]", "[Verse]", "[Chorus]"):
        verses.append(tag + "\n" + "\n".join(rng.choice(LINES) for _ in range(4)))
    return f"/song {rng.choice(STYLES)}\n" + "\n\n".join(verses)


@dataclass
class Run:
    name: str
    ack_wall: float
    ack_cpu: float
    done_wall: float | None = None
    done_cpu: float | None = None
    done_children_cpu: float | None = None
    startup_cpu: float = 0.0
    ack_split: dict[str, float] | None = None
    ack_instructions: float | None = None


def children_cpu(pid: int) -> float:
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


class Tracker:
    """Counts first replies and deliveries per chat by scanning the fake's call log once."""

    def __init__(self, tg: FakeTelegram, chats: set[int]) -> None:
        self.tg = tg
        self.chats = chats
        self.acked: set[int] = set()
        self.delivered: set[int] = set()
        self._seen = 0

    def scan(self) -> None:
        calls = self.tg.calls
        for call in calls[self._seen :]:
            if not call.ok:
                continue
            chat = call.params.get("chat_id")
            if chat not in self.chats:
                continue
            if call.method == "sendMessage":
                self.acked.add(chat)
            elif call.method == "sendAudio":
                self.delivered.add(chat)
        self._seen = len(calls)


async def wait_ready(tg: FakeTelegram, child: Child) -> None:
    """Ready = a long poll is held open (startup done); then let the runner settle."""
    await wait_until(
        lambda: tg.polls_waiting > 0, timeout=60, what="first getUpdates", child=child
    )
    await asyncio.sleep(1.5)


async def measure(
    tg: FakeTelegram,
    child: Child,
    texts: list[str],
    *,
    deliveries: bool,
    name: str,
    profile: bool = False,
) -> Run:
    await wait_ready(tg, child)
    startup = child.cpu()
    chats = {FIRST_USER + i for i in range(len(texts))}
    tracker = Tracker(tg, chats)
    counter = None
    if COUNT_INSTRUCTIONS:
        counter = InstructionCounter(child.pid, child.log_path.with_suffix(".perf"))
        counter.start()
        await asyncio.sleep(0.3)  # perf attaches to every thread before the span starts
    cpu0 = child.cpu()
    split0 = thread_cpu(child.pid)
    kids0 = children_cpu(child.pid)
    if profile:
        child.signal(signal.SIGUSR1)
    t0 = time.monotonic()
    for i, text in enumerate(texts):
        tg.send_text(FIRST_USER + i, FIRST_USER + i, text)

    def all_acked() -> bool:
        tracker.scan()
        return len(tracker.acked) == len(texts)

    t_ack = await wait_until(
        all_acked, timeout=60 + 0.2 * len(texts), interval=0.01, what="acks", child=child
    )
    run = Run(name, t_ack - t0, child.cpu() - cpu0, startup_cpu=startup)
    if counter is not None:
        run.ack_instructions = counter.stop()
    split = thread_cpu(child.pid)
    run.ack_split = {k: split[k] - split0[k] for k in split}
    if profile and not deliveries:
        child.signal(signal.SIGUSR2)
    if deliveries:

        def all_delivered() -> bool:
            tracker.scan()
            return len(tracker.delivered) == len(texts)

        t_done = await wait_until(
            all_delivered, timeout=1800, interval=0.05, what="deliveries", child=child
        )
        run.done_wall = t_done - t0
        run.done_cpu = child.cpu() - cpu0
        run.done_children_cpu = children_cpu(child.pid) - kids0
        if profile:  # the full run is profiled until every song is delivered
            child.signal(signal.SIGUSR2)
    return run


async def run_songbot(
    n: int,
    texts: list[str],
    tmp: Path,
    *,
    stalled: bool,
    lifted_caps: bool = True,
    profile: bool = False,
    env: dict[str, str] | None = None,
) -> tuple[Run, dict[str, Any]]:
    """The real bot; `stalled`: the provider holds every submit, so only intake runs;
    `lifted_caps`: every request may run at once (tuned), else the default caps (2/5/20)."""
    async with FakeTelegram(flood_limits=False) as tg, FakeAimlApi(generation_seconds=0.0) as api:
        if stalled:
            api.script("POST /v2/generate/audio", status=503, delay=300, times=None)
        stem = f"{'intake' if stalled else 'songbot'}-{next(_RUN_NUMBER)}"
        db = tmp / stem / "songbot.db"  # a fresh database (and temp folder) for every run
        db.parent.mkdir()
        env = bot_env(
            telegram_base=tg.base_url,
            token=tg.token,
            aimlapi_base=api.base_url,
            api_key=api.api_key,
            db=db,
            **{
                **(
                    {
                        "SONGBOT_MAX_JOBS_PER_USER": str(n),
                        "SONGBOT_MAX_JOBS_PER_CHAT": str(n),
                        "SONGBOT_MAX_JOBS_TOTAL": str(n),
                    }
                    if lifted_caps
                    else {}
                ),
                **(env or {}),
            },
        )
        caps = f"caps raised to {n:,} (tuned)" if lifted_caps else "default caps"
        name = f"songbot, intake only, {caps}" if stalled else f"songbot, full pipeline, {caps}"
        child = songbot(
            env, tmp, tmp / f"{stem}.log", profile=tmp / f"{stem}.prof" if profile else None
        )
        child.start()
        try:
            run = await measure(
                tg, child, texts, deliveries=not stalled, name=name, profile=profile
            )
        finally:
            await child.stop()
        extra = {
            "polls": len(api.requests_to("GET /v2/generate/audio")),
            "submits": len(api.requests_to("POST /v2/generate/audio")),
            "telegram_calls": len([c for c in tg.calls if c.method != "getUpdates"]),
            "by_method": _by_method(tg),
        }
        return run, extra


def _by_method(tg: FakeTelegram) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in tg.calls:
        counts[call.method] = counts.get(call.method, 0) + 1
    return counts


async def run_echo(
    texts: list[str], tmp: Path, *, like_songbot: bool, profile: bool = False
) -> Run:
    async with FakeTelegram(flood_limits=False) as tg:
        env = bot_env(
            telegram_base=tg.base_url,
            token=tg.token,
            aimlapi_base="http://127.0.0.1:9",
            api_key="unused",
            db=tmp / "unused.db",
        )
        stem = "echo-limiter" if like_songbot else "echo"
        argv = [PYTHON, str(ROOT / "bench" / "echo_bot.py")]
        if profile:
            argv[1:1] = [str(ROOT / "bench" / "profiled.py"), str(tmp / f"{stem}.prof")]
        if like_songbot:
            argv.append("--like-songbot")
        name = "echo bot + limiter, 64 concurrent" if like_songbot else "echo bot (plain)"
        child = Child(argv, env, tmp, tmp / f"{stem}.log")
        child.start()
        try:
            return await measure(tg, child, texts, deliveries=False, name=name, profile=profile)
        finally:
            await child.stop()


def _instructions_per_request(group: list[Run], n: int) -> str:
    counts = [r.ack_instructions for r in group if r.ack_instructions]
    return f"{statistics.median(counts) / n / 1e6:.2f} M" if counts else "–"


def fmt(value: float | None, unit: str = "s") -> str:
    return "–" if value is None else f"{value:.2f} {unit}"


async def main() -> None:  # noqa: C901
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="intake/echo runs, interleaved")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", help="keep logs (and profiles) in this folder")
    parser.add_argument("--profile", action="store_true", help="profile the measured spans")
    parser.add_argument("--intake-only", action="store_true", help="only the stalled-provider run")
    parser.add_argument("--skip-full", action="store_true", help="no full run (with deliveries)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions with perf stat (stable across runs, but perf's own "
        "overhead inflates the CPU seconds of that run)",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra bot setting"
    )
    args = parser.parse_args()
    global COUNT_INSTRUCTIONS
    COUNT_INSTRUCTIONS = args.instructions and InstructionCounter.available()
    if args.instructions and not COUNT_INSTRUCTIONS:
        print("perf stat cannot count instructions here; --instructions ignored")
    n = args.requests
    rng = random.Random(args.seed)
    texts = [request_text(rng) for _ in range(n)]
    extra_env = dict(item.split("=", 1) for item in args.env)
    print(header(f"bench_updates: {n:,} /song requests at once"))
    runs: dict[str, list[Run]] = {"default": [], "intake": [], "plain": [], "matched": []}
    with workdir(args.workdir) as tmp:

        async def one(kind: str) -> None:
            if kind in ("default", "intake"):
                run, _ = await run_songbot(
                    n,
                    texts,
                    tmp,
                    stalled=True,
                    lifted_caps=kind == "intake",
                    profile=args.profile,
                    env=extra_env,
                )
            else:
                run = await run_echo(
                    texts, tmp, like_songbot=kind == "matched", profile=args.profile
                )
            runs[kind].append(run)
            instructions = (
                f", {run.ack_instructions / 1e9:.2f} G instructions"
                if run.ack_instructions
                else ""
            )
            print(
                f"  {run.name}: ack {run.ack_wall:.2f} s, CPU {run.ack_cpu:.2f} s "
                f"({run.ack_split}){instructions}, load {loadavg()}",
                flush=True,
            )

        kinds = ["default", "intake"] + ([] if args.intake_only else ["plain", "matched"])
        for r in range(args.rounds):
            # Rotate the order so slow drifts in machine load do not favour one bot.
            for kind in kinds[r % len(kinds) :] + kinds[: r % len(kinds)]:
                await one(kind)
        if args.intake_only or args.skip_full:
            for kind, group in runs.items():
                if group:
                    cpu = statistics.median(r.ack_cpu for r in group)
                    print(f"{kind}: median CPU {cpu:.2f} s, {1000 * cpu / n:.2f} ms/request")
                    counts = [r.ack_instructions for r in group if r.ack_instructions]
                    if counts:
                        per = statistics.median(counts) / n / 1e6
                        print(f"{kind}: median {per:.2f} M instructions/request")
            return
        song, extra = await run_songbot(
            n, texts, tmp, stalled=False, profile=args.profile, env=extra_env
        )
        print(f"  {song.name}: {song}", flush=True)
        if not args.rounds:  # only the full run (e.g. to profile it)
            print(f"  {extra}")
            return
    print()
    rows = []
    for group in (runs["default"], runs["intake"], [song], runs["plain"], runs["matched"]):
        cpu = [r.ack_cpu for r in group]
        rows.append(
            (
                group[0].name,
                fmt(statistics.median(r.ack_wall for r in group)),
                fmt(statistics.median(cpu))
                + (f" ({min(cpu):.2f}-{max(cpu):.2f})" if len(cpu) > 1 else ""),
                f"{1000 * statistics.median(cpu) / n:.2f} ms",
                _instructions_per_request(group, n),
                fmt(group[0].done_wall),
                fmt(group[0].done_cpu),
                fmt(group[0].done_children_cpu),
                fmt(statistics.median(r.startup_cpu for r in group)),
            )
        )
    print(
        table(
            f"{n:,} requests queued at once; fake Bot API with flood limits off; instant "
            f"provider; medians of {args.rounds} rounds (range)",
            [
                "bot",
                "all acknowledged",
                "CPU to acknowledge",
                "CPU/request",
                "instructions/request",
                "all delivered",
                "CPU to deliver",
                "ffmpeg CPU",
                "startup CPU",
            ],
            rows,
        )
    )
    print()

    def paired(a: str, b: str) -> float:
        return statistics.median(
            x.ack_cpu / y.ack_cpu for x, y in zip(runs[a], runs[b], strict=True)
        )

    def paired_instructions(a: str, b: str) -> float | None:
        pairs = [
            x.ack_instructions / y.ack_instructions
            for x, y in zip(runs[a], runs[b], strict=True)
            if x.ack_instructions and y.ack_instructions
        ]
        return statistics.median(pairs) if pairs else None

    matched_cpu = statistics.median(r.ack_cpu for r in runs["matched"])
    matched_wall = statistics.median(r.ack_wall for r in runs["matched"])
    intake_wall = statistics.median(r.ack_wall for r in runs["default"])
    ratios = [
        (
            "intake, default caps / echo bot + limiter: CPU to acknowledge",
            paired("default", "matched"),
        ),
        (
            "intake, caps raised / echo bot + limiter: CPU to acknowledge",
            paired("intake", "matched"),
        ),
        ("intake / echo bot (plain): CPU to acknowledge", paired("intake", "plain")),
        ("full songbot / echo bot + limiter: CPU to acknowledge", song.ack_cpu / matched_cpu),
        ("intake, default caps / echo bot + limiter: wall time", intake_wall / matched_wall),
        (
            "full songbot / echo bot + limiter: wall time to acknowledge",
            song.ack_wall / matched_wall,
        ),
    ]
    for label, a, b in (
        ("intake / echo bot + limiter: instructions to acknowledge", "intake", "matched"),
        ("intake / echo bot (plain): instructions to acknowledge", "intake", "plain"),
    ):
        value = paired_instructions(a, b)
        if value is not None:
            ratios.append((label, value))
    print(
        table(
            "ratios (per-round pairs, median; target: CPU to acknowledge <= 1.5x)",
            ["ratio", "value"],
            [(name, f"{value:.2f}x") for name, value in ratios],
        )
    )
    print()
    print(
        f"full songbot run: {extra['submits']:,} submits, {extra['polls']:,} status polls, "
        f"Bot API calls: {extra['by_method']}"
    )
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
