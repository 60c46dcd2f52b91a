"""Benchmark 5, several replicas on PostgreSQL: the burst, and how fast a dead replica is replaced.

Run: .venv/bin/python bench/bench_replicas.py [--requests 1000 --chats 250 --generation 0.5]
     [--takeovers 5] [--skip-burst]

Needs the PostgreSQL server binaries (Debian's postgresql package); it starts a throwaway server
of its own, as the test suite does. Every configuration is the DEFAULT one (caps, lease, flood
budget); only the database differs. Each row starts on an empty database, so the bot has learned
nothing of this workload (no generation history, no estimates).

1. The 1,000-request burst of bench_burst.py, against a fake Bot API that enforces Telegram's
   flood limits (30 msg/s, 20/min per group) and answers 429 when they are broken: SQLite with
   one process (the reference), PostgreSQL with one replica, and PostgreSQL with three. The fleet
   cannot beat Telegram's per-bot limit: the floor is the counted messages / 29 per second.
2. Take-over, 3 replicas, `--takeovers` rounds each: SIGKILL the poller, time until another
   replica's getUpdates reaches Telegram; SIGKILL a worker holding leased jobs, time until every
   one of them is leased by a live replica.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    ROOT,
    Child,
    bot_env,
    header,
    loadavg,
    songbot,
    table,
    wait_until,
    workdir,
)

sys.path.insert(0, str(ROOT))

import psycopg
from bench_burst import FIRST_CHAT, TELEGRAM_RATE, text

from bot.telegram.flood import COUNTED_METHODS
from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.pg_server import PgServer

POLLER_LINE = "this replica is now the one polling Telegram"


def env_for(tg: FakeTelegram, api: FakeAimlApi, tmp: Path, url: str | None) -> dict[str, str]:
    extra = {"SONGBOT_USER_DAILY_LIMIT": "0", "SONGBOT_MAX_WAITING_PER_USER": "0"}
    if url:
        extra["SONGBOT_DATABASE_URL"] = url
    return bot_env(
        telegram_base=tg.base_url,
        token=tg.token,
        aimlapi_base=api.base_url,
        api_key=api.api_key,
        db=tmp / "songbot.db",
        **extra,
    )


async def burst(
    n: int, chats: int, generation: float, root: Path, url: str | None, replicas: int, label: str
) -> tuple[str, ...]:
    rng = random.Random(1)
    tmp = root / label.replace(" ", "-")
    tmp.mkdir()
    async with (
        FakeTelegram(flood_limits=True) as tg,
        FakeAimlApi(generation_seconds=generation) as api,
    ):
        children = []
        for i in range(replicas):
            folder = tmp / f"r{i}"
            folder.mkdir()
            children.append(songbot(env_for(tg, api, folder, url), folder, folder / "bot.log"))
        for child in children:
            child.start()
        try:
            await wait_until(
                lambda: tg.polls_waiting > 0, timeout=60, what="start", child=children[0]
            )
            await asyncio.sleep(3.0)  # every replica registered and sharing the budget
            requests: set[tuple[int, int]] = set()
            t0 = time.monotonic()
            for i in range(n):
                chat = FIRST_CHAT + i % chats
                message = tg.send_text(chat, chat, text(rng))
                requests.add((chat, int(message["message_id"])))

            def delivered() -> int:
                out = set()
                for call in tg.calls_to("sendAudio"):
                    reply = call.params.get("reply_parameters") or {}
                    if call.ok and isinstance(reply, dict) and "message_id" in reply:
                        out.add((int(call.params["chat_id"]), int(reply["message_id"])))
                return len(out & requests)

            t_done = await wait_until(
                lambda: delivered() == n, timeout=1800, interval=0.1, what="deliveries"
            )
        finally:
            for child in children:
                await child.stop()
    counted = [c for c in tg.calls if c.method in COUNTED_METHODS and c.ok]
    too_many = [c for c in tg.calls if c.http_status == 429]
    floor = len(counted) / TELEGRAM_RATE
    audio = sorted(c.time for c in tg.calls_to("sendAudio") if c.ok)
    span = audio[-1] - audio[0] if len(audio) > 1 else 0.0
    return (
        label,
        f"{t_done - t0:.1f} s",
        f"{floor:.1f} s ({len(counted):,} msgs)",
        f"{(t_done - t0) / floor:.2f}x",
        f"{(n - 1) / span:.1f}/s" if span else "–",
        _refusals(tg, len(too_many)),
        f"{len(api.requests_to('POST /v2/generate/audio')):,}",
    )


def _refusals(tg: FakeTelegram, total: int) -> str:
    """The 429 count, and which of Telegram's limits each broke (the fake says)."""
    if not total:
        return "0"
    kinds: dict[str, int] = {}
    for _, _, broken in tg.flood_refusals:
        key = "+".join(broken)
        kinds[key] = kinds.get(key, 0) + 1
    return f"{total} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"


def leased_by(url: str) -> dict[int, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, lease_owner FROM jobs WHERE lease_owner IS NOT NULL"
        ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def claims_of(url: str, ids: list[int]) -> dict[int, tuple[int, str | None, str]]:
    """(claims, lease owner, state) of each job."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, claims, lease_owner, state FROM jobs WHERE id = ANY(%s)", (ids,)
        ).fetchall()
    return {int(r[0]): (int(r[1]), r[2], str(r[3])) for r in rows}


def poller_id(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT id FROM instances WHERE role = 'poller' "
            "AND heartbeat_at > extract(epoch FROM now()) - 3 ORDER BY heartbeat_at DESC"
        ).fetchone()
    return None if row is None else str(row[0])


def current_id(child: Child) -> str:
    """The instance id of the child's latest start (each start registers a new one)."""
    found = ""
    for line in child.log_path.read_text(errors="replace").splitlines():
        if "joined (" in line and "replica " in line:
            found = line.split("replica ")[1].split(" ")[0]
    return found


async def restart(child: Child) -> None:
    """Start it again and wait until the new process has registered (a new instance id)."""
    old = current_id(child)
    await child.stop()
    child.start()
    await wait_until(lambda: current_id(child) not in ("", old), timeout=60, what="restart")


async def takeovers(rounds: int, root: Path, server: PgServer) -> list[tuple[str, ...]]:  # noqa: C901
    url = server.empty_database()
    tmp = root / "takeover"
    tmp.mkdir()
    poller_times: list[float] = []
    worker_times: list[float] = []
    async with (
        FakeTelegram(flood_limits=True) as tg,
        FakeAimlApi(generation_seconds=8.0) as api,  # jobs stay pending, leased, long enough
    ):
        children: list[Child] = []
        for i in range(3):
            folder = tmp / f"r{i}"
            folder.mkdir()
            children.append(songbot(env_for(tg, api, folder, url), folder, folder / "bot.log"))
        for child in children:
            child.start()
        rng = random.Random(2)
        chat = FIRST_CHAT
        try:
            for _ in range(rounds):
                # --- the poller: every replica up and one of them polling first
                await wait_until(
                    lambda: all(current_id(c) for c in children), timeout=60, what="registrations"
                )
                await wait_until(lambda: tg.polls_waiting > 0, timeout=60, what="a poller")
                poller = None
                deadline = time.monotonic() + 30
                while poller is None:  # the role reaches the table with the next heartbeat
                    pid = await asyncio.to_thread(poller_id, url)
                    poller = next((c for c in children if current_id(c) == pid), None)
                    if time.monotonic() > deadline:
                        raise RuntimeError("no replica says it is the poller")
                    await asyncio.sleep(0.1)
                before = len(tg.calls_to("getUpdates"))
                assert poller.proc is not None
                poller.proc.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                await wait_until(
                    lambda b=before: len(tg.calls_to("getUpdates")) > b,  # type: ignore[misc]
                    timeout=30,
                    interval=0.005,
                    what="a new poller",
                )
                poller_times.append(time.monotonic() - killed)
                await restart(poller)
                # --- a worker holding leased jobs
                for _ in range(12):
                    chat += 1
                    tg.send_text(chat, chat, text(rng))
                await asyncio.sleep(2.0)
                victims: list[Child] = []
                for _ in range(100):  # a lease is held only while a step runs: catch one
                    leases = await asyncio.to_thread(leased_by, url)
                    pid = await asyncio.to_thread(poller_id, url)
                    victims = [
                        c
                        for c in children
                        if c.alive() and current_id(c) != pid and current_id(c) in leases.values()
                    ]
                    if victims:
                        break
                    await asyncio.sleep(0.05)
                if not victims:
                    continue
                victim = victims[0]
                dead_id = current_id(victim)
                assert victim.proc is not None
                victim.proc.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                await asyncio.to_thread(victim.proc.wait)
                # Read after the death: only the leases it died holding (one it let go of just
                # before would be claimed again by the next poll, which is not a take-over).
                theirs = [j for j, o in (await asyncio.to_thread(leased_by, url)).items()]
                theirs = [
                    j
                    for j in theirs
                    if (await asyncio.to_thread(claims_of, url, [j]))[j][1] == dead_id
                ]
                if not theirs:
                    await restart(victim)
                    continue
                before = await asyncio.to_thread(claims_of, url, theirs)

                def taken(
                    ids: list[int] = theirs,
                    gone: str = dead_id,
                    was: dict[int, tuple[int, str | None, str]] = before,
                ) -> bool:
                    """Every job it held was claimed again by a live replica since the kill."""
                    now = claims_of(url, ids)
                    return all(now[j][0] > was[j][0] and now[j][1] != gone for j in ids)

                deadline = time.monotonic() + 60
                while not await asyncio.to_thread(taken):
                    if time.monotonic() > deadline:
                        raise RuntimeError("a dead worker's jobs were never taken over")
                    await asyncio.sleep(0.02)
                worker_times.append(time.monotonic() - killed)
                await restart(victim)
        finally:
            for child in children:
                await child.stop()

    def row(name: str, xs: list[float]) -> tuple[str, ...]:
        if not xs:
            return (name, "0", "–", "–", "–")
        return (
            name,
            str(len(xs)),
            f"{statistics.median(xs):.2f} s",
            f"{min(xs):.2f} s",
            f"{max(xs):.2f} s",
        )

    return [
        row("SIGKILL the poller → next getUpdates", poller_times),
        row("SIGKILL a worker → all its jobs claimed again", worker_times),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=250)
    parser.add_argument("--generation", type=float, default=0.5)
    parser.add_argument("--takeovers", type=int, default=5)
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument(
        "--configs", default="sqlite,pg1,pg3", help="burst rows to run (default all three)"
    )
    parser.add_argument("--workdir")
    args = parser.parse_args()
    print(header("bench_replicas: the burst on 1 and 3 PostgreSQL replicas; take-over times"))
    server = PgServer()
    server.start()
    try:
        with workdir(args.workdir) as tmp:
            if not args.skip_burst:
                rows: list[Any] = []
                n, c, g = args.requests, args.chats, args.generation
                wanted = set(args.configs.split(","))
                if "sqlite" in wanted:
                    rows.append(await burst(n, c, g, tmp, None, 1, "SQLite, 1 process"))
                for replicas in (1, 3):
                    if f"pg{replicas}" in wanted:
                        name = f"PostgreSQL, {replicas} replica{'s' if replicas > 1 else ''}"
                        url = server.empty_database()
                        rows.append(await burst(n, c, g, tmp, url, replicas, name))
                print(
                    table(
                        f"{n:,} /song at once from {c} chats, {g:g} s generations, default caps, "
                        "fake Bot API enforcing Telegram's flood limits",
                        [
                            "database",
                            "all delivered",
                            "floor (counted msgs / 29 per s)",
                            "delivered / floor",
                            "songs/s",
                            "429s",
                            "submits",
                        ],
                        rows,
                    )
                )
            print(
                table(
                    "take-over with 3 replicas (default heartbeat 1.5 s, stale after 6 s)",
                    ["event", "rounds", "median", "min", "max"],
                    await takeovers(args.takeovers, tmp, server),
                )
            )
    finally:
        server.stop()
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
