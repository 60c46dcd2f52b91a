"""Benchmark 2, the polling policy: how soon a finished song is noticed, and at what request cost.

Run: .venv/bin/python bench/bench_polling.py            (simulation, 5-10 s)
     .venv/bin/python bench/bench_polling.py --real     (+ the real bot at 1/10 time scale, ~3 min)

Workload (music-2.0): lyrics of L characters, L uniform in 300..2,900; the provider takes
    T = clip(60 + 0.03 * L + N(0, 6), 60, 150) seconds
(longer lyrics make longer songs and longer generations; 60-150 s is the spread the provider's
docs report). Requests arrive as a Poisson process, one every 15 s on average.

(a) A discrete-event simulation drives the real policy (`bot.engine.poll_policy.fit_estimate` and
    `next_poll_delay`) exactly as `bot/engine/runner.py` calls it: first check at submit +
    next_poll_delay(0, …), then after each unfinished poll next_poll_delay(elapsed, …); the
    estimate comes from the history the bot keeps (lyrics length, seconds from submit to the poll
    that saw `completed`, the most recent 200, as the estimator reads it). 130 jobs: the
    first 30 seed the history (they start from the model's prior, 85 s ± 30 %), statistics are
    over the last 100. Lag = the poll that saw `completed` minus the provider's completion.
    Compared with fixed polling every 15 s (the provider's examples) and every 5 s.
(b) --real: the real bot (`python -m bot run`) against the fakes with every duration and the poll
    interval divided by --scale (default 10); 30 completed jobs drawn from the same model are put
    in the database first as history. Lag = the bot's audio download minus the fake's completion;
    requests = status polls per job. The same jobs (same submit times and durations) are then
    replayed through the simulation at the same scale, so both columns must agree. Figures are
    reported back in real (unscaled) seconds.
Target: mean lag <= 4 s with <= 12 status requests per job at the default SONGBOT_POLL_INTERVAL.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    bot_env,
    header,
    insert_jobs,
    loadavg,
    mean,
    percentile,
    songbot,
    table,
    wait_until,
)

from bot.aimlapi.models import MODELS
from bot.engine.poll_policy import fit_estimate, next_poll_delay

MODEL = "minimax/music-2.0"
TYPICAL = MODELS[MODEL].typical_seconds
HISTORY = 200  # as bot/engine/estimates.py
SEED_JOBS = 30
MEASURED_JOBS = 100
MEAN_GAP = 15.0
LYRICS_MIN, LYRICS_MAX = 300, 2900


def generation_seconds(lyrics_length: int, rng: random.Random) -> float:
    return min(150.0, max(60.0, 60.0 + 0.03 * lyrics_length + rng.gauss(0.0, 6.0)))


@dataclass
class SimJob:
    lyrics: int
    submit: float
    duration: float
    polls: int = 0
    seen: float | None = None  # when a poll saw it completed
    last_pending: float = 0.0  # when a poll last saw it still generating (or the submit)

    @property
    def done(self) -> float:
        return self.submit + self.duration

    @property
    def lag(self) -> float:
        assert self.seen is not None
        return self.seen - self.done


def workload(rng: random.Random, count: int, *, gap: float = MEAN_GAP) -> list[SimJob]:
    jobs, t = [], 0.0
    for _ in range(count):
        t += rng.expovariate(1.0 / gap)
        length = rng.randint(LYRICS_MIN, LYRICS_MAX)
        jobs.append(SimJob(length, t, generation_seconds(length, rng)))
    return jobs


Delay = Callable[[float, SimJob, list[tuple[int, float]]], float]


def adaptive(base: float, typical: float = TYPICAL) -> Delay:
    """The bot's policy: the real functions, fed the history as the runner would see it."""

    def delay(elapsed: float, job: SimJob, history: list[tuple[int, float]]) -> float:
        recent = history[-HISTORY:]
        return next_poll_delay(elapsed, fit_estimate(recent, job.lyrics, typical), base)

    return delay


def fixed(every: float) -> Delay:
    return lambda elapsed, job, history: every


def simulate(
    jobs: Sequence[SimJob], delay: Delay, history: list[tuple[int, float]] | None = None
) -> list[tuple[int, float]]:
    """Run every job to completion under `delay`; returns the history at the end."""
    hist = list(history or [])
    events: list[tuple[float, int, int]] = []  # (time, order, job index); submit = first poll
    for i, job in enumerate(jobs):
        job.polls, job.seen, job.last_pending = 0, None, job.submit
        heapq.heappush(events, (job.submit, 0, i))
    order = 1
    while events:
        now, _, i = heapq.heappop(events)
        job = jobs[i]
        elapsed = now - job.submit
        if elapsed > 0 or job.polls > 0:  # a poll (the submit event only schedules the first)
            job.polls += 1
            if now >= job.done:
                job.seen = now
                # As bot/engine/poll.py records it: the middle of the last "still generating"
                # answer and this one.
                hist.append((job.lyrics, (job.last_pending + now) / 2 - job.submit))
                continue
            job.last_pending = now
        heapq.heappush(events, (now + delay(elapsed, job, hist), order, i))
        order += 1
    return hist


def stats(jobs: Sequence[SimJob]) -> dict[str, float]:
    lags = [j.lag for j in jobs]
    polls = [float(j.polls) for j in jobs]
    return {
        "lag": mean(lags),
        "p95": percentile(lags, 95),
        "max": max(lags),
        "polls": mean(polls),
        "max_polls": max(polls),
    }


SETTINGS: list[tuple[str, Callable[[], Delay]]] = [
    ("bot, default configuration (SONGBOT_POLL_INTERVAL=5)", lambda: adaptive(5.0)),
    ("bot, tuned: SONGBOT_POLL_INTERVAL=2", lambda: adaptive(2.0)),
    ("bot, tuned: SONGBOT_POLL_INTERVAL=10", lambda: adaptive(10.0)),
    ("fixed 15 s (provider's examples)", lambda: fixed(15.0)),
    ("fixed 5 s", lambda: fixed(5.0)),
]


COLD: list[tuple[str, float, float]] = [("20-40 s", 20.0, 40.0), ("150-300 s", 150.0, 300.0)]
FIXED_CURVE = [1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0]


def cold_workload(rng: random.Random, count: int, lo: float, hi: float) -> list[SimJob]:
    """Generation times uniform in lo..hi, unrelated to the lyrics: nothing the bot has seen."""
    jobs, t = [], 0.0
    for _ in range(count):
        t += rng.expovariate(1.0 / MEAN_GAP)
        jobs.append(SimJob(rng.randint(LYRICS_MIN, LYRICS_MAX), t, rng.uniform(lo, hi)))
    return jobs


def fixed_lag_at(curve: list[tuple[float, float]], polls: float) -> float:
    """Mean lag fixed polling gets with `polls` requests per job (linear between points)."""
    points = sorted(curve)  # (polls, lag), fewer polls = more lag
    if polls <= points[0][0]:
        return points[0][1]
    for (p0, l0), (p1, l1) in itertools.pairwise(points):
        if p0 <= polls <= p1:
            return l0 + (l1 - l0) * (polls - p0) / (p1 - p0)
    return points[-1][1]


def run_cold(seed: int, replications: int) -> str:
    """No history at all, generation times far from the model's prior; every job counted."""
    rows = []
    curves = []
    for name, lo, hi in COLD:
        bot, curve = [], {every: [] for every in FIXED_CURVE}
        for r in range(replications):
            jobs = cold_workload(random.Random(seed + r), SEED_JOBS + MEASURED_JOBS, lo, hi)
            simulate(jobs, adaptive(5.0))
            bot.append(stats(jobs))
            for every in FIXED_CURVE:
                simulate(jobs, fixed(every))
                curve[every].append(stats(jobs))
        lag = mean([b["lag"] for b in bot])
        polls = mean([b["polls"] for b in bot])
        points = [
            (mean([c["polls"] for c in curve[e]]), mean([c["lag"] for c in curve[e]]))
            for e in FIXED_CURVE
        ]
        rival = fixed_lag_at(points, polls)
        rows.append(
            (
                name,
                f"{lag:.2f} s",
                f"{mean([b['p95'] for b in bot]):.2f} s",
                f"{polls:.2f}",
                f"{rival:.2f} s",
                "no" if lag <= rival + 1e-9 else "YES",
            )
        )
        curves.append(
            f"fixed polling on {name}: "
            + ", ".join(
                f"{e:g} s → {p:.1f} polls/{lg:.2f} s"
                for e, (p, lg) in zip(FIXED_CURVE, points, strict=True)
            )
        )
    return (
        table(
            f"(c) cold start: no history, {SEED_JOBS + MEASURED_JOBS} jobs all counted, "
            f"default SONGBOT_POLL_INTERVAL=5, average of {replications} runs",
            [
                "generation times",
                "mean lag",
                "p95 lag",
                "status requests/job",
                "fixed polling's lag at as many requests",
                "dominated by fixed polling?",
            ],
            rows,
        )
        + "\n\n"
        + "\n".join(curves)
    )


def run_simulation(seed: int, replications: int) -> str:
    out = []
    single: list[tuple[str, dict[str, float]]] = []
    pooled: list[tuple[str, dict[str, float]]] = []
    for name, make in SETTINGS:
        per_run = []
        for r in range(replications):
            jobs = workload(random.Random(seed + r), SEED_JOBS + MEASURED_JOBS)
            simulate(jobs, make())
            per_run.append(stats(jobs[SEED_JOBS:]))
        single.append((name, per_run[0]))
        pooled.append((name, {k: mean([s[k] for s in per_run]) for k in ("lag", "p95", "polls")}))
    out.append(
        table(
            f"(a) simulation, seed {seed}: 100 jobs after 30 seed jobs",
            ["policy", "mean lag", "p95 lag", "max lag", "status requests/job", "max requests"],
            [
                (
                    name,
                    f"{s['lag']:.2f} s",
                    f"{s['p95']:.2f} s",
                    f"{s['max']:.2f} s",
                    f"{s['polls']:.2f}",
                    f"{s['max_polls']:.0f}",
                )
                for name, s in single
            ],
        )
    )
    out.append("")
    out.append(
        table(
            f"(a) simulation, average over {replications} independent runs (seeds {seed}..)",
            ["policy", "mean lag", "p95 lag", "status requests/job"],
            [
                (name, f"{s['lag']:.2f} s", f"{s['p95']:.2f} s", f"{s['polls']:.2f}")
                for name, s in pooled
            ],
        )
    )
    return "\n".join(out)


# ---- (b) the real bot at a time scale ----

TAG = re.compile(r"take (\d{4})")
STYLE = "warm acoustic folk with harmonies"
WORDS = ["river", "light", "morning", "song", "window", "rain", "slow", "dance", "gold"]


def lyrics_of(index: int, length: int, rng: random.Random) -> str:
    """Lyrics of exactly `length` characters whose first line tags the job."""
    lines = [f"[Verse] take {index:04d}"]
    while sum(len(x) + 1 for x in lines) < length + 40:
        lines.append(" ".join(rng.choice(WORDS) for _ in range(6)))
    return "\n".join(lines)[:length].rstrip() or "la"


async def run_real(seed: int, scale: float, tmp: Path) -> tuple[list[SimJob], list[SimJob], str]:
    from songbot_fakes.aimlapi import FakeAimlApi
    from songbot_fakes.telegram import FakeTelegram

    rng = random.Random(seed)
    base = 5.0 / scale
    seeds = workload(rng, SEED_JOBS)
    measured = workload(rng, MEASURED_JOBS)
    texts = [lyrics_of(i, j.lyrics, rng) for i, j in enumerate(measured)]
    for job, text in zip(measured, texts, strict=True):
        job.lyrics = len(text)
    # History: 30 earlier deliveries (seen ~1 s after they completed), already in the database.
    now = time.time()
    history = [(j.lyrics, (j.duration + 1.0) / scale) for j in seeds]
    rows: list[dict[str, Any]] = []
    for i, (length, secs) in enumerate(history):
        done = now - 3600 + i * 60
        rows.append(
            {
                "key": f"seed-{i}",
                "chat_id": 900_000 + i,
                "chat_type": "private",
                "user_id": 900_000 + i,
                "request_message_id": 1,
                "model": MODEL,
                "prompt": STYLE,
                "lyrics": "x" * length,
                "state": "delivered",
                "generation_id": f"seed-generation-{i}",
                "deadline_at": done + 900,
                "submit_started_at": done - secs,
                "submitted_at": done - secs,
                "completed_at": done,
                "fetched_at": done,
                "delivered_at": done,
                "outcome_sent_at": done,
                "created_at": done - secs - 1,
                "updated_at": done,
            }
        )
    db_path = tmp / "polling.db"
    await insert_jobs(db_path, rows)

    durations = {i: j.duration / scale for i, j in enumerate(measured)}

    def generation_time(body: dict[str, Any]) -> float:
        match = TAG.search(str(body.get("lyrics", "")))
        return durations[int(match.group(1))] if match else 1.0

    async with FakeTelegram() as tg, FakeAimlApi() as api:
        api.generation_time_fn = generation_time
        env = bot_env(
            telegram_base=tg.base_url,
            token=tg.token,
            aimlapi_base=api.base_url,
            api_key=api.api_key,
            db=db_path,
            SONGBOT_POLL_INTERVAL=f"{base:g}",
        )
        child = songbot(env, tmp, tmp / "polling.log")
        child.start()
        try:
            await wait_until(
                lambda: tg.polls_waiting > 0, timeout=60, what="bot start", child=child
            )
            await asyncio.sleep(1.0)
            t0 = time.monotonic()
            users = [800_000 + i for i in range(len(measured))]
            for i, job in enumerate(measured):
                delay = t0 + job.submit / scale - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tg.send_text(users[i], users[i], f"/song {STYLE}\n{texts[i]}")

            def delivered() -> bool:
                return len(
                    {c.params.get("chat_id") for c in tg.calls_to("sendAudio") if c.ok}
                ) >= len(measured)

            await wait_until(delivered, timeout=600, interval=0.2, what="deliveries", child=child)
        finally:
            await child.stop()
        real = _real_jobs(api, measured, scale)
    # Replay: the same submit times and durations through the policy at the same scale.
    replay = [SimJob(j.lyrics, j.submit, j.duration) for j in real]
    simulate(replay, adaptive(base), history=list(history))
    for job in (*real, *replay):  # report in real-world (unscaled) seconds
        assert job.seen is not None
        job.submit, job.duration, job.seen = (
            job.submit * scale,
            job.duration * scale,
            job.seen * scale,
        )
    note = f"real run: {len(real)} jobs, base interval {base:g} s, load average {loadavg()}"
    return real, replay, note


def _real_jobs(api: Any, measured: Sequence[SimJob], scale: float) -> list[SimJob]:
    """Per generation: submit, provider completion, first audio download and poll count."""
    files = api.requests_to("GET /files")
    polls = api.requests_to("GET /v2/generate/audio")
    gens = sorted(api.generations.values(), key=lambda g: g.created_at)
    origin = gens[0].created_at
    out = []
    for gen in gens:
        match = TAG.search(str(gen.body.get("lyrics", "")))
        if match is None or gen.completed_at is None:
            raise RuntimeError(f"generation {gen.id} did not complete")
        fetched = min(r.time for r in files if gen.file_token in r.path)
        count = sum(1 for r in polls if r.query.get("generation_id") == gen.id)
        job = SimJob(
            measured[int(match.group(1))].lyrics,
            gen.created_at - origin,
            gen.completed_at - gen.created_at,
        )
        job.polls = count
        job.seen = fetched - origin
        out.append(job)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replications", type=int, default=50)
    parser.add_argument("--real", action="store_true", help="also run the real bot (minutes)")
    parser.add_argument("--scale", type=float, default=10.0)
    args = parser.parse_args()
    print(header("bench_polling: lag from `completed` to the bot's download, and requests"))
    started = time.perf_counter()
    print(run_simulation(args.seed, args.replications))
    print()
    print(run_cold(args.seed, max(5, args.replications // 5)))
    print(f"\n(simulation took {time.perf_counter() - started:.1f} s)\n")
    if args.real:
        with tempfile.TemporaryDirectory(prefix="songbot-bench-") as raw:
            real, replay, note = await run_real(args.seed, args.scale, Path(raw))
        rs, ps = stats(real), stats(replay)
        print(
            table(
                f"(b) real bot vs simulation, same jobs, 1/{args.scale:g} time scale "
                "(real seconds)",
                ["", "mean lag", "p95 lag", "max lag", "status requests/job", "max requests"],
                [
                    (
                        name,
                        f"{s['lag']:.2f} s",
                        f"{s['p95']:.2f} s",
                        f"{s['max']:.2f} s",
                        f"{s['polls']:.2f}",
                        f"{s['max_polls']:.0f}",
                    )
                    for name, s in (("real bot", rs), ("simulation", ps))
                ],
            )
        )
        print(f"\n{note}")


if __name__ == "__main__":
    asyncio.run(main())
