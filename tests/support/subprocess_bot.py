"""Runs the real `songbot run` in a child process against fakes served by the test process.

Why a real process: SIGKILL, SIGTERM, exit codes and "a second instance is polling" can only be
tested on a process of its own; the fakes stay in the test's event loop (127.0.0.1), so the test
reads exactly what the bot did on the wire while it kills and restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]

# How long the fake Telegram, sharing two CPUs with the bots under test, may stall and then handle
# what arrived meanwhile together (its `flood_jitter`). A real Telegram has CPUs of its own; the
# bot's even pacing is pinned by the limiter's unit tests and the fleet's slot spacing.
RECEIVER_STALL = 0.2


def subprocess_env(
    tg: FakeTelegram, api: FakeAimlApi, db: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The child's whole environment: the fakes, a private DB, fast knobs, nothing inherited
    that could point it at the real services (proxies, a stray TELEGRAM_BOT_TOKEN, …)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "PTB_TIMEDELTA": "1",
        "TELEGRAM_BOT_TOKEN": tg.token,
        "AIMLAPI_KEY": api.api_key,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "AIMLAPI_BASE_URL": api.base_url,
        "SONGBOT_DB": str(db),
        "SONGBOT_POLL_INTERVAL": "0.1",
        "SONGBOT_JOB_TIMEOUT": "90",
        "SONGBOT_LEASE_SECONDS": "1.5",
        "SONGBOT_RECONCILE_GRACE": "1",
        "SONGBOT_LOG_LEVEL": "INFO",
        # The suite makes many songs per user; the public-bot defaults (5 a day, 5 waiting) have
        # tests of their own (tests/test_security_money.py).
        "SONGBOT_USER_DAILY_LIMIT": "0",
        "SONGBOT_MAX_WAITING_PER_USER": "0",
    }
    ffmpeg = os.environ.get("IMAGEIO_FFMPEG_EXE")
    if ffmpeg:
        env["IMAGEIO_FFMPEG_EXE"] = ffmpeg
    env.update(extra or {})
    return env


@dataclass
class BotProcess:
    """One `python -m bot run` child; its stdout+stderr go to `log_path`."""

    env: dict[str, str]
    workdir: Path
    name: str = "bot"
    proc: asyncio.subprocess.Process | None = None
    log_path: Path | None = None
    started_at: float = 0.0
    generation: int = 0
    history: list[str] = field(default_factory=list)
    # (soft, hard) RLIMIT_NOFILE for the child, set before the bot's code runs (a small
    # descriptor budget makes exhaustion reachable with a few hundred connections).
    nofile: tuple[int, int] | None = None
    # Extra arguments after `run` (e.g. "--webhook").
    args: tuple[str, ...] = ()
    # A process group of its own, so a test can signal the group as GNU `timeout` does.
    new_session: bool = False

    def command(self) -> list[str]:
        if self.nofile is None:
            return [sys.executable, "-m", "bot", "run", *self.args]
        soft, hard = self.nofile
        launcher = (
            "import os, resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))\n"
            f"os.execv(sys.executable, [sys.executable, '-m', 'bot', 'run', *{list(self.args)!r}])"
        )
        return [sys.executable, "-c", launcher]

    async def start(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            raise RuntimeError("already running")
        self.generation += 1
        self.log_path = self.workdir / f"{self.name}-{self.generation}.log"
        # The child gets its own file descriptor; the parent's copy closes right away.
        with self.log_path.open("wb") as log_file:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command(),
                cwd=self.workdir,  # no stray .env from the repository
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=self.new_session,
            )
        self.started_at = time.monotonic()
        self.history.append(f"start #{self.generation} pid {self.proc.pid}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the child."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.history.append(f"SIGKILL #{self.generation}")

    async def signal(self, sig: int) -> None:
        """`sig` to the child; one that has already exited (a stop quicker than the gap before
        a second signal) is left alone, as `kill` would find it."""
        assert self.proc is not None
        try:
            self.proc.send_signal(sig)
        except ProcessLookupError:
            self.history.append(f"signal {sig} #{self.generation}: already exited")
            return
        self.history.append(f"signal {sig} #{self.generation}")

    def signal_group(self, sig: int) -> None:
        """`sig` to the child's whole process group (needs `new_session`)."""
        assert self.proc is not None and self.new_session
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        self.history.append(f"group signal {sig} #{self.generation}")

    async def wait(self, timeout: float) -> int:
        """The exit code; raises TimeoutError (and kills the child) if it does not exit."""
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.kill()
            raise TimeoutError(
                f"{self.name} did not exit within {timeout}s; log tail:\n{self.tail()}"
            ) from None

    async def stop(self) -> None:
        """Test teardown: make sure nothing outlives the test."""
        if self.running:
            await self.kill()

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text("utf-8", "replace")

    def all_logs(self) -> str:
        parts = []
        for number in range(1, self.generation + 1):
            path = self.workdir / f"{self.name}-{number}.log"
            if path.exists():
                parts.append(f"--- {path.name} ---\n" + path.read_text("utf-8", "replace"))
        return "\n".join(parts)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    async def wait_for_log(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log():
            if not self.running:
                raise AssertionError(
                    f"{self.name} exited before logging {needle!r}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{needle!r} not logged within {timeout}s:\n{self.tail()}")
            await asyncio.sleep(0.02)

    def children(self) -> list[tuple[int, str]]:
        """(pid, command line) of the child's own children, e.g. a running ffmpeg."""
        if not self.running:
            return []
        found: list[tuple[int, str]] = []
        task_dir = Path(f"/proc/{self.pid}/task")
        with contextlib.suppress(OSError):
            for task in task_dir.iterdir():
                with contextlib.suppress(OSError):
                    for pid in (task / "children").read_text().split():
                        with contextlib.suppress(OSError):
                            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                            found.append(
                                (int(pid), raw.replace(b"\0", b" ").decode("utf-8", "replace"))
                            )
        return found


def read_jobs(db: Path) -> list[dict[str, Any]]:
    """Every job row as a dict, read with a separate connection (WAL: never blocks the bot)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute("SELECT * FROM jobs ORDER BY id").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        return [dict(r) for r in rows]
    finally:
        conn.close()


def integrity_check(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


async def jobs_async(db: Path) -> list[dict[str, Any]]:
    return await asyncio.to_thread(read_jobs, db)


# ---- shared by the kill and fault tests ---------------------------------------------------------


def outcome_messages(tg: FakeTelegram, chat: int, request_id: int) -> tuple[int, list[str]]:
    """(audios, ❌ failure texts) the bot left in `chat` as replies to `request_id`."""
    audios, failures = 0, []
    for message in tg.bot_messages(chat):
        reply = message.get("reply_to_message") or {}
        if reply.get("message_id") != request_id:
            continue
        if "audio" in message:
            audios += 1
        elif "⚠️" in message.get("text", ""):
            failures.append(message["text"])
    return audios, failures
