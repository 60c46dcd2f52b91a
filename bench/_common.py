"""Shared plumbing for the benchmarks: run the real bot as a child process, read its CPU and memory
from /proc, and print small tables.

Why a child process: the bot's CPU seconds and resident memory must be measured apart from the
local fakes (which run in the benchmark's own process and do a lot of work of their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# httpx honours proxy variables even for 127.0.0.1; PTB warns about RetryAfter without this.
os.environ["PTB_TIMEDELTA"] = "1"
_no_proxy = [p for p in os.environ.get("NO_PROXY", "").split(",") if p]
os.environ["NO_PROXY"] = ",".join([*_no_proxy, "127.0.0.1", "localhost"])


# ---- /proc readings ----


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (user + system CPU seconds), from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    # After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class InstructionCounter:
    """Instructions a process retires over a span, from `perf stat -p` (user + kernel, all its
    threads), or None where perf is missing or not allowed.

    Why next to CPU seconds: on a shared VM the same work costs ±20 % CPU time from run to run
    (clock, caches, neighbours); the instruction count moves by about 1 %, so it shows whether a
    change did less work. It does not see stalls: CPU time remains the figure of record.
    """

    PERF = shutil.which("perf") or "perf"

    def __init__(self, pid: int, out: Path) -> None:
        self.pid = pid
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        if shutil.which("perf") is None:
            return False
        probe = subprocess.run(
            [InstructionCounter.PERF, "stat", "-x,", "-e", "instructions", "true"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        return probe.returncode == 0 and b"not supported" not in probe.stderr

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.PERF,
                "stat",
                "-x,",
                "-e",
                "instructions",
                "-p",
                str(self.pid),
                "-o",
                str(self.out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> float | None:
        """Instructions since start(), or None if perf could not count them."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        for line in self.out.read_text().splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[2].startswith("instructions") and fields[0].isdigit():
                return float(fields[0])
        return None


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident since start or the last reset), in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, same user); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class RssSampler:
    """Samples a process's RSS every `interval` s: a peak that needs no clear_refs support."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.peak = memory_mb(self.pid)["VmRSS"]
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError, KeyError):
                self.peak = max(self.peak, memory_mb(self.pid)["VmRSS"])
            await asyncio.sleep(self.interval)

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(OSError, KeyError):
            self.peak = max(self.peak, memory_mb(self.pid)["VmRSS"])
        return self.peak


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine() -> str:
    """One line describing where the numbers came from."""
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GB RAM"
                break
    return (
        f"{model} x{os.cpu_count()}{mem}, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


# ---- the bot as a child process ----


def bot_env(
    *, telegram_base: str, token: str, aimlapi_base: str, api_key: str, db: Path, **extra: str
) -> dict[str, str]:
    """The environment `songbot run` needs to talk to the local fakes (plus `extra`)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SONGBOT_", "TELEGRAM_", "AIMLAPI_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        AIMLAPI_KEY=api_key,
        TELEGRAM_API_BASE_URL=telegram_base,
        AIMLAPI_BASE_URL=aimlapi_base,
        SONGBOT_DB=str(db),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    env.update(extra)
    return env


class Child:
    """A child process (the bot, or the echo bot) with its log in a file; stopped by SIGTERM."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log
        self.started_at = 0.0
        self._log: IO[bytes] | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(  # the bench runs our own interpreter and scripts
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def memory(self) -> dict[str, float]:
        return memory_mb(self.pid)

    async def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def songbot(env: Mapping[str, str], cwd: Path, log: Path, *, profile: Path | None = None) -> Child:
    """The real `songbot run` (the console script is `bot.ops.cli:main`; `python -m bot` is it).

    `profile` runs it under bench/profiled.py: SIGUSR1/SIGUSR2 bracket the span to profile.
    """
    prefix = [PYTHON, str(ROOT / "bench" / "profiled.py"), str(profile)] if profile else [PYTHON]
    return Child([*prefix, "-m", "bot", "run"], env, cwd, log)


@contextlib.contextmanager
def workdir(path: str | None) -> Iterator[Path]:
    """A temporary folder, or `path` (kept afterwards, to read logs and profiles)."""
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path).resolve()
        return
    with tempfile.TemporaryDirectory(prefix="songbot-bench-") as raw:
        yield Path(raw)


async def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.02,
    what: str = "condition",
    child: Child | None = None,
) -> float:
    """Wait for `predicate`; returns the monotonic time it became true. Fails loudly."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return time.monotonic()
        if child is not None and not child.alive():
            raise RuntimeError(f"the child exited while waiting for {what}:\n{child.tail()}")
        if time.monotonic() > deadline:
            extra = f"\n--- child log ---\n{child.tail()}" if child is not None else ""
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}{extra}")
        await asyncio.sleep(interval)


# ---- numbers and tables ----


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.4999))
    return ordered[min(len(ordered), rank) - 1]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (pastes straight into the README) under a bold title."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [f"**{title}**", "", line(cells[0]), sep, *(line(r) for r in cells[1:])]
    return "\n".join(out)


def header(name: str) -> str:
    return f"## {name}\n\nmachine: {machine()}\nload average at start: {loadavg()}\n"


# ---- databases prepared before the bot starts ----


async def insert_jobs(db_path: Path, rows: Sequence[Mapping[str, object]]) -> None:
    """Create the schema (the bot's own migrations), then bulk-insert raw `jobs` rows.

    Why raw rows: the benchmarks need states (pending, delivered) that only a long run would
    produce through the store's state machine; the table's CHECK constraints still apply.
    """
    import json
    import sqlite3

    from storage.open_db import open_database

    db = await open_database(db_path)
    await db.close()
    if not rows:
        return
    columns = sorted({name for row in rows for name in row})

    def value(row: Mapping[str, object], name: str) -> object:
        item = row.get(name)
        return json.dumps(item) if isinstance(item, dict) else item

    def write() -> None:
        conn = sqlite3.connect(db_path)
        try:
            with conn:
                conn.executemany(
                    f"INSERT INTO jobs ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [[value(row, c) for c in columns] for row in rows],
                )
        finally:
            conn.close()

    await asyncio.to_thread(write)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of the main thread vs all other threads (SQLite, to_thread workers), and
    user vs system time; threads that already exited are only in the process totals."""
    out = {"main": 0.0, "threads": 0.0, "user": 0.0, "system": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            raw = (task / "stat").read_text()
            fields = raw[raw.rindex(")") + 2 :].split()
            user, system = int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS
            out["main" if task.name == str(pid) else "threads"] += user + system
            out["user"] += user
            out["system"] += system
    return out
