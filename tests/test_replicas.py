"""Several real `songbot run` processes on one PostgreSQL database (issue #20).

Three replicas share the suite's PostgreSQL server and one fake Telegram and AI/ML API. The tests
check from the fakes' own records and the database: one poller at a time (no 409 seen by any
replica), every request worked once with at most one paid POST, a dead replica's jobs taken over
by the others, and the poller's role handed on when it is killed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram
from tests.support.subprocess_bot import (
    RECEIVER_STALL,
    BotProcess,
    outcome_messages,
    subprocess_env,
)

pytestmark = pytest.mark.timeout(600)

SEED = int(os.environ.get("REPLICA_SEED", str(random.SystemRandom().randrange(10**6))))
ROUNDS = int(os.environ.get("REPLICA_ROUNDS", "10"))
LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day\n[Chorus]\nStay, stay, stay"
REQUEST = f"/song dreamy synth-pop with female vocals\n{LYRICS}"
POLLER_LINE = "this replica is now the one polling Telegram"


def read_pg(url: str, sql: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return list(conn.execute(sql).fetchall())


async def pg_rows(url: str, sql: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(read_pg, url, sql)


class Fleet:
    def __init__(self, tg: FakeTelegram, api: FakeAimlApi, url: str, root: Path) -> None:
        self.tg, self.api, self.url = tg, api, url
        env = subprocess_env(
            tg,
            api,
            root / "unused.db",
            {"SONGBOT_DATABASE_URL": url, "SONGBOT_LEASE_SECONDS": "30"},
        )
        self.bots = []
        self.ports = [_free_port() for _ in range(3)]
        for i in range(3):
            workdir = root / f"replica-{i}"
            workdir.mkdir()
            own = {**env, "SONGBOT_HTTP_PORT": str(self.ports[i])}
            self.bots.append(BotProcess(own, workdir, name=f"replica{i}"))

    async def start(self) -> None:
        """All three up: one of them polling, every one registered."""
        for bot in self.bots:
            await bot.start()
        await self.wait(lambda: self.tg.polls_waiting > 0, 40, "a poller")
        await self.wait(
            lambda: len(read_pg(self.url, "SELECT id FROM instances")) == 3, 30, "registrations"
        )

    async def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")
            await asyncio.sleep(0.02)

    def poller(self) -> BotProcess | None:
        """The running replica that most recently logged taking the poller lock."""
        for bot in self.bots:
            if bot.running and bot.log().count(POLLER_LINE) > 0:
                return bot
        return None

    def logs(self) -> str:
        return "\n".join(f"--- {b.name}\n{b.all_logs()[-6000:]}" for b in self.bots)

    async def stop(self) -> None:
        for bot in self.bots:
            await bot.stop()


def paid_by_key(api: FakeAimlApi) -> Counter[str]:
    return Counter(
        str(r.header("x-client-request-id")).split(".")[0] for r in api.paid_submissions()
    )


def conflicts_seen(fleet: Fleet) -> list[str]:
    return [
        line
        for bot in fleet.bots
        for line in bot.all_logs().splitlines()
        if re.search(r"Conflict|\b409\b", line)
    ]


async def settled(fleet: Fleet, requests: list[tuple[int, int]]) -> bool:
    jobs = await pg_rows(fleet.url, "SELECT chat_id, state, outcome_sent_at FROM jobs")
    finished = {j["chat_id"] for j in jobs if j["state"] in ("delivered", "failed", "interrupted")}
    for chat, request_id in requests:
        audios, failures = outcome_messages(fleet.tg, chat, request_id)
        if chat not in finished or not (audios or failures):
            return False
    return True


async def test_three_replicas_one_poller_every_request_once(tmp_path: Path, pg_url: str) -> None:
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=0.4)
    await tg.start()
    await api.start()
    fleet = Fleet(tg, api, pg_url, tmp_path)
    try:
        await fleet.start()
        requests = []
        for i in range(12):
            msg = tg.send_text(70_000 + i, 70_000 + i, REQUEST)
            requests.append((70_000 + i, int(msg["message_id"])))
        deadline = time.monotonic() + 90
        while not await settled(fleet, requests):
            assert time.monotonic() < deadline, fleet.logs()
            await asyncio.sleep(0.1)
        for chat, request_id in requests:
            assert outcome_messages(tg, chat, request_id) == (1, []), fleet.logs()
        assert all(n == 1 for n in paid_by_key(api).values()) and len(paid_by_key(api)) == 12
        pollers = [b.name for b in fleet.bots if POLLER_LINE in b.log()]
        assert len(pollers) == 1, pollers
        # Jobs were leased by more than one replica: the work is shared, not just stored.
        owners = {
            line.split("replica ")[1].split(" ")[0]
            for b in fleet.bots
            for line in b.log().splitlines()
            if "joined (" in line
        }
        assert len(owners) == 3
        assert not conflicts_seen(fleet)
        # The role reaches the instances table at the poller's next heartbeat (every 1.5 s).
        deadline = time.monotonic() + 10
        while True:
            roles = await pg_rows(pg_url, "SELECT role FROM instances ORDER BY role")
            if [r["role"] for r in roles] == ["poller", "worker", "worker"] or (
                time.monotonic() > deadline
            ):
                break
            await asyncio.sleep(0.2)
        assert [r["role"] for r in roles] == ["poller", "worker", "worker"]
        import httpx

        seen = []
        async with httpx.AsyncClient() as http:
            for port in fleet.ports:
                url = f"http://127.0.0.1:{port}/healthz"
                deadline = time.monotonic() + 10  # each replica counts the others at its beat
                health = (await http.get(url)).json()
                while health.get("replicas") != 3 and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    health = (await http.get(url)).json()
                assert health["status"] == "ok" and health["replicas"] == 3, health
                metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                labels = f'instance="{health["instance"]}",role="{health["role"]}"'
                assert f"songbot_replica_role{{{labels}}} 1.0" in metrics
                seen.append(health["role"])
        assert sorted(seen) == ["poller", "worker", "worker"]
        for bot in fleet.bots:
            await bot.signal(signal.SIGTERM)
        for bot in fleet.bots:
            assert await bot.wait(20) == 0, bot.tail()
        assert await pg_rows(pg_url, "SELECT id FROM instances") == []
        leased = await pg_rows(pg_url, "SELECT id FROM jobs WHERE lease_owner IS NOT NULL")
        assert leased == []
    finally:
        await fleet.stop()
        await tg.stop()
        await api.stop()


async def test_sigkill_poller_and_workers_keeps_the_guarantees(
    tmp_path: Path, pg_url: str
) -> None:
    rng = random.Random(SEED)
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=0.5)
    await tg.start()
    await api.start()
    fleet = Fleet(tg, api, pg_url, tmp_path)
    requests: list[tuple[int, int]] = []
    kills: Counter[str] = Counter()
    handovers: list[float] = []
    try:
        await fleet.start()
        for number in range(ROUNDS):
            for k in range(3):
                chat = 80_000 + number * 10 + k
                msg = tg.send_text(chat, chat, REQUEST)
                requests.append((chat, int(msg["message_id"])))
            await asyncio.sleep(rng.uniform(0.0, 1.2))
            poller = fleet.poller()
            if number % 2 == 0 and poller is not None:
                victim, kind = poller, "poller"
            else:
                workers = [b for b in fleet.bots if b.running and b is not poller]
                victim, kind = rng.choice(workers), "worker"
            await victim.kill()
            kills[kind] += 1
            if kind == "poller":
                killed = time.monotonic()
                await fleet.wait(
                    lambda: fleet.poller() is not None, 20, "another replica to take the poll"
                )
                handovers.append(time.monotonic() - killed)
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            await victim.start()
        deadline = time.monotonic() + 120
        while not await settled(fleet, requests):
            assert time.monotonic() < deadline, fleet.logs()
            await asyncio.sleep(0.2)
        jobs = {
            j["chat_id"]: j
            for j in await pg_rows(pg_url, "SELECT chat_id, state, claims, key FROM jobs")
        }
        for chat, request_id in requests:
            audios, failures = outcome_messages(tg, chat, request_id)
            job = jobs[chat]
            where = f"chat {chat} (seed {SEED}): {audios} audio(s), {failures}, {job}"
            if failures:
                # Only a submit cut by the kill may end so: nothing charged, the user told.
                assert job["state"] == "interrupted" and not paid_by_key(api)[job["key"]], where
                assert len(failures) == 1 and not audios, where
            else:
                # Two audios only if Telegram took one just before its sender was killed.
                assert audios == 1 or (audios == 2 and job["claims"] > 1), where
        over = {k: n for k, n in paid_by_key(api).items() if n > 1}
        assert not over, f"charged twice (seed {SEED}): {over}"
        assert not conflicts_seen(fleet), conflicts_seen(fleet)
        # A killed poller's abandoned long poll is the only getUpdates Telegram ends with a 409.
        refused = [c for c in tg.calls if c.method == "getUpdates" and not c.ok]
        assert len(refused) <= kills["poller"], refused
        assert all(h < 15 for h in handovers), handovers
        spans = sorted(round(h, 2) for h in handovers)
        print(f"\nkills {dict(kills)}; poller hand-over {spans} s")
    except BaseException:
        print(f"REPLICA_SEED={SEED}\n{fleet.logs()}")
        raise
    finally:
        await fleet.stop()
        await tg.stop()
        await api.stop()


async def test_a_database_that_goes_away_is_waited_out_not_crashed_on(tmp_path: Path) -> None:
    """PostgreSQL stops for a few seconds under a running replica: /healthz says so, the process
    stays up, and songs asked for after the server is back are made."""
    import httpx

    from tests.support.pg_server import PgServer

    server = PgServer()  # a server of its own: the suite's is shared by every other test
    server.start()
    tg = FakeTelegram()
    api = FakeAimlApi(generation_seconds=0.3)
    await tg.start()
    await api.start()
    url = server.create_database("outage")
    port = _free_port()
    env = subprocess_env(
        tg,
        api,
        tmp_path / "unused.db",
        {"SONGBOT_DATABASE_URL": url, "SONGBOT_HTTP_PORT": str(port)},
    )
    bot = BotProcess(env, tmp_path, name="replica")
    try:
        await bot.start()
        await bot.wait_for_log(POLLER_LINE, 40)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status_code == 200
            await asyncio.to_thread(server.pause)
            deadline = time.monotonic() + 30
            while True:
                answer = await http.get("/healthz", timeout=15)
                if answer.status_code == 503 and "database" in answer.text:
                    break
                assert time.monotonic() < deadline, answer.text
                await asyncio.sleep(0.5)
            await asyncio.sleep(3)  # the runner and the heartbeat meet the outage
            assert bot.running, bot.tail()
            await asyncio.to_thread(server.resume)
            deadline = time.monotonic() + 60
            while (await http.get("/healthz", timeout=15)).status_code != 200:
                assert time.monotonic() < deadline, bot.tail()
                await asyncio.sleep(0.5)
        msg = tg.send_text(90_001, 90_001, REQUEST)
        deadline = time.monotonic() + 60
        while outcome_messages(tg, 90_001, int(msg["message_id"])) != (1, []):
            assert time.monotonic() < deadline and bot.running, bot.tail(80)
            await asyncio.sleep(0.2)
        assert "Traceback" not in bot.log(), bot.tail(80)
    finally:
        await bot.stop()
        await tg.stop()
        await api.stop()
        server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_replicas_behind_one_url(tmp_path: Path, pg_url: str) -> None:
    """Three webhook replicas behind one URL (a round-robin proxy, as a load balancer would be):
    whichever gets an update stores it; one replica dying mid-stream loses nothing, since the
    proxy answers 502 and Telegram sends the update again, to the next replica."""
    from aiohttp import ClientSession, web

    tg = FakeTelegram()
    tg.webhook_attempts = 6
    api = FakeAimlApi(generation_seconds=0.3)
    await tg.start()
    await api.start()
    ports = [_free_port() for _ in range(3)]
    front = _free_port()
    path = "/telegram/hook-abc"
    served: Counter[int] = Counter()
    turn = 0
    session = ClientSession()

    async def forward(request: web.Request) -> web.Response:
        nonlocal turn
        port = ports[turn % len(ports)]
        turn += 1
        try:
            async with session.post(
                f"http://127.0.0.1:{port}{path}",
                data=await request.read(),
                headers=request.headers,
            ) as answer:
                if answer.status == 200:
                    served[port] += 1
                return web.Response(status=answer.status, body=await answer.read())
        except OSError:
            return web.Response(status=502)

    proxy = web.Application()
    proxy.router.add_post(path, forward)
    runner = web.AppRunner(proxy)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", front).start()
    bots = []
    for i, port in enumerate(ports):
        env = subprocess_env(
            tg,
            api,
            tmp_path / "unused.db",
            {
                "SONGBOT_DATABASE_URL": pg_url,
                "SONGBOT_WEBHOOK_URL": f"http://127.0.0.1:{front}{path}",
                "SONGBOT_WEBHOOK_SECRET": "webhook-secret_0123456789",
                "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
                "SONGBOT_HTTP_PORT": str(port),
            },
        )
        folder = tmp_path / f"w{i}"
        folder.mkdir()
        bots.append(BotProcess(env, folder, name=f"webhook{i}"))
    try:
        for bot in bots:
            await bot.start()
        for bot in bots:
            await bot.wait_for_log("joined (", 40)
            # Each replica's own server is listening once it has registered the webhook: on a
            # loaded machine "joined" can come long before that, and the proxy would find no
            # one at that port.
            await bot.wait_for_log("webhook mode: Telegram posts updates", 40)
        requests = []
        for i in range(12):
            if i == 6:
                # Mid-stream, after it has taken its share: what it held must not be lost.
                deadline = time.monotonic() + 30
                while not served[ports[0]]:
                    assert time.monotonic() < deadline, bots[0].tail(40)
                    await asyncio.sleep(0.05)
                await bots[0].kill()
            msg = tg.send_text(95_000 + i, 95_000 + i, REQUEST)
            requests.append((95_000 + i, int(msg["message_id"])))
            await asyncio.sleep(0.1)
        deadline = time.monotonic() + 90
        while not all(outcome_messages(tg, c, r) == (1, []) for c, r in requests):
            assert time.monotonic() < deadline, "\n".join(b.tail(40) for b in bots)
            await asyncio.sleep(0.2)
        assert len([p for p in ports if served[p]]) == 3, served
        assert not tg.calls_to("getUpdates")
        assert len(paid_by_key(api)) == 12 and all(n == 1 for n in paid_by_key(api).values())
    finally:
        for bot in bots:
            await bot.stop()
        await session.close()
        await runner.cleanup()
        await tg.stop()
        await api.stop()


async def test_the_fleet_keeps_telegrams_flood_limits_together(
    tmp_path: Path, pg_url: str
) -> None:
    """150 songs for 150 chats from three replicas against a fake Bot API that enforces the
    limits (30 a second overall): the fleet shares one budget in the database, so Telegram never
    has to answer 429, although each replica alone would be allowed 29 a second."""
    tg = FakeTelegram()  # flood limits on
    tg.flood_jitter = RECEIVER_STALL
    api = FakeAimlApi(generation_seconds=0.2)
    await tg.start()
    await api.start()
    fleet = Fleet(tg, api, pg_url, tmp_path)
    try:
        await fleet.start()
        await asyncio.sleep(2.0)
        requests = []
        for i in range(150):
            msg = tg.send_text(60_000 + i, 60_000 + i, REQUEST)
            requests.append((60_000 + i, int(msg["message_id"])))
        deadline = time.monotonic() + 150
        while not all(outcome_messages(tg, c, r) == (1, []) for c, r in requests):
            assert time.monotonic() < deadline, fleet.logs()
            await asyncio.sleep(0.2)
        assert not tg.rate_limited, [(c.method, c.params.get("chat_id")) for c in tg.rate_limited]
        slots = [r["at"] for r in read_pg(pg_url, "SELECT at FROM flood_slots WHERE scope = 0")]
        slots.sort()
        assert len(slots) >= 300  # every counted message took its slot from the shared budget
        assert all(b - a > 1 / 29 for a, b in itertools.pairwise(slots))
        senders = {b.name for b in fleet.bots if "delivered as message" in b.log()}
        assert len(senders) >= 2, senders  # the work really was shared
    finally:
        await fleet.stop()
        await tg.stop()
        await api.stop()
