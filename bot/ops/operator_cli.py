"""Operator subcommands of `songbot`: check, jobs, stats, backup and demo.

Why separate from `run`: these are what an operator types on the host (or `docker compose exec`)
to answer "is it configured right?", "what is it doing?" and "is my data safe?" without reading
logs. None of them changes the bot's state: they never migrate the database (a newer CLI must not
upgrade the schema under an older running bot) and `backup` uses SQLite's online backup API, which
is safe while the bot runs. Exit codes: 0 fine, 1 a problem was found, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.config import Config, ConfigError

if TYPE_CHECKING:
    from storage.db import Database
    from storage.jobs import Job
    from storage.usage import UsageStats

CHECK_TIMEOUT: Final = 20.0
OK: Final = "ok"
WARN: Final = "warn"
FAIL: Final = "FAIL"


class OperatorError(Exception):
    """A problem to report as one line (exit 1), not a traceback."""


# ------------------------------------------------------------------------------ argparse wiring
def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the operator subcommands on `songbot`'s subparsers."""
    from storage.states import JobState

    check = sub.add_parser(
        "check",
        help="check the configuration, the token, the API key, ffmpeg and the database",
        description=(
            "Check everything the bot needs, without starting it and without creating anything: "
            "the configuration, the Telegram token (getMe) and webhook registration, the AI/ML "
            "API key (a free read-only call), ffmpeg, and the database. Exit 0 if all is well, "
            "1 otherwise."
        ),
    )
    check.add_argument(
        "--timeout", type=float, default=CHECK_TIMEOUT, help="seconds per network check"
    )

    jobs = sub.add_parser(
        "jobs",
        help="list recent jobs from the database",
        description="List jobs, newest first, read straight from the database (safe while the "
        "bot runs).",
    )
    jobs.add_argument("--state", choices=[s.value for s in JobState], help="only this state")
    jobs.add_argument("--chat", type=int, metavar="CHAT_ID", help="only this chat")
    jobs.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    jobs.add_argument("--json", action="store_true", help="one JSON object per line")
    _db_argument(jobs)

    stats = sub.add_parser(
        "stats",
        help="usage and job statistics from the database",
        description="Generations and credits (today in UTC and in total), top users, average "
        "generation time per model, and jobs by state.",
    )
    stats.add_argument("--json", action="store_true", help="print JSON")
    _db_argument(stats)

    backup = sub.add_parser(
        "backup",
        help="copy the database safely, even while the bot runs",
        description="Write a consistent copy of the database with SQLite's online backup API. "
        "PATH may be a file or an existing folder (a timestamped file is created in it).",
    )
    backup.add_argument("path", type=Path, metavar="PATH")
    _db_argument(backup)

    demo = sub.add_parser(
        "demo",
        help="rehearse a whole conversation offline (no token or key needed)",
        description="Start local fakes of Telegram and the AI/ML API, run the real bot against "
        "them, play a short scripted chat, print it, and save the songs it delivered.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to save the songs (default ./songbot-demo-<timestamp>)",
    )
    demo.add_argument(
        "--generation-seconds",
        type=float,
        default=1.0,
        help="how long the fake provider takes per song (default 1)",
    )
    demo.add_argument("--verbose", action="store_true", help="show the bot's log lines")


def _db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help="database file (default: SONGBOT_DB or songbot.db)"
    )


def dispatch(args: argparse.Namespace) -> int:
    commands = {
        "check": cmd_check,
        "jobs": cmd_jobs,
        "stats": cmd_stats,
        "backup": cmd_backup,
        "demo": cmd_demo,
    }
    handler = commands.get(str(args.command))
    if handler is None:
        print(f"songbot: unknown command {args.command!r}", file=sys.stderr)
        return 2
    try:
        return handler(args)
    except OperatorError as exc:
        print(f"songbot {args.command}: {exc}", file=sys.stderr)
        return 1


def operator_env(env_file: Path = Path(".env")) -> dict[str, str]:
    """The environment as the bot sees it: `.env` first, the process environment wins."""
    from dotenv import dotenv_values

    merged: dict[str, str] = {}
    if env_file.is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ)
    return merged


def db_path_from(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Path:
    explicit = getattr(args, "db", None)
    if explicit is not None:
        return Path(explicit)
    env = operator_env() if env is None else env
    return Path(env.get("SONGBOT_DB", "").strip() or "songbot.db")


# ------------------------------------------------------------------------------------- check
@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(format_report([Check("config", FAIL, str(exc))]))
        return 1
    from bot.ops.logging_setup import setup_logging

    setup_logging("WARNING", "text", config.secrets)
    checks = asyncio.run(run_checks(config, timeout=float(args.timeout)))
    print(format_report(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def format_report(checks: Sequence[Check]) -> str:
    width = max((len(c.name) for c in checks), default=8)
    lines = ["songbot check"]
    lines += [f"  {c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks]
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    if failed:
        lines.append(f"{failed} of {len(checks)} checks failed.")
    else:
        extra = f" ({warned} warning{'s' if warned != 1 else ''})" if warned else ""
        lines.append(f"All {len(checks)} checks passed{extra}.")
    return "\n".join(lines)


async def run_checks(config: Config, *, timeout: float = CHECK_TIMEOUT) -> list[Check]:
    """Every check, in a fixed order; details are redacted of the configured secrets."""
    from bot.ops.logging_setup import Redactor

    redact = Redactor(config.secrets)
    checks = [_config_check(config)]
    checks += await _guard("telegram", _telegram_checks(config), timeout)
    checks += await _guard("aimlapi", _aimlapi_check(config), timeout)
    checks += await _guard("ffmpeg", _ffmpeg_check(), timeout)
    checks += await _guard("database", _database_check(config.db_path), timeout)
    return [Check(c.name, c.status, redact(c.detail)) for c in checks]


async def _guard(name: str, work: Awaitable[Check | list[Check]], timeout: float) -> list[Check]:
    try:
        result = await asyncio.wait_for(work, timeout=timeout)
    except TimeoutError:
        return [Check(name, FAIL, f"no answer within {timeout:g}s")]
    except Exception as exc:  # a check must report, never crash the report
        return [Check(name, FAIL, f"{type(exc).__name__}: {exc}")]
    return result if isinstance(result, list) else [result]


def _config_check(config: Config) -> Check:
    mode = "webhook" if config.webhook_url else "long polling"
    port = "off" if config.http_port is None else str(config.http_port)
    if config.webhook_url:
        port = str(config.http_port if config.http_port is not None else 8080)
    return Check(
        "config",
        OK,
        f"{mode}; database {config.db_path}; models {config.default_model} / "
        f"{config.instrumental_model} / {config.reference_model}; health port {port}",
    )


async def _telegram_checks(config: Config) -> list[Check]:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError
    from telegram.request import HTTPXRequest

    base = config.telegram_api_base_url
    request = HTTPXRequest(connection_pool_size=2, connect_timeout=10.0, read_timeout=15.0)
    updates_request = HTTPXRequest(connection_pool_size=1)
    bot = Bot(
        config.telegram_token.get(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=updates_request,
    )
    try:
        try:
            await bot.initialize()  # getMe
            info = await bot.get_webhook_info()
        except InvalidToken:
            # PTB's message for this error contains the token itself: say it in our words.
            return [Check("telegram", FAIL, f"the bot token was rejected by {base}")]
        except NetworkError as exc:
            return [Check("telegram", FAIL, f"cannot reach {base}: {exc}")]
        except TelegramError as exc:
            return [Check("telegram", FAIL, f"{type(exc).__name__}: {exc}")]
        me = bot.bot
        checks = [Check("telegram", OK, f"token accepted: @{me.username} (id {me.id}) at {base}")]
        checks.append(_webhook_check(config, info.url, info.pending_update_count, info))
        return checks
    finally:
        await request.shutdown()
        await updates_request.shutdown()


def _webhook_check(config: Config, url: str, pending: int, info: Any) -> Check:
    last_error = ""
    if info.last_error_date is not None and info.last_error_message:
        when = info.last_error_date.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        last_error = f"; last delivery error {when}: {info.last_error_message}"
    if config.webhook_url:
        if not config.webhook_secret:
            return Check("webhook", FAIL, "SONGBOT_WEBHOOK_SECRET is required with a webhook")
        if url == config.webhook_url:
            return Check("webhook", OK, f"registered at {url}, {pending} pending{last_error}")
        now = f"currently {url}" if url else "currently none"
        return Check(
            "webhook",
            WARN,
            f"{now}; `songbot run` will register {config.webhook_url}{last_error}",
        )
    if url:
        return Check(
            "webhook",
            WARN,
            f"a webhook is registered ({url}); long polling will remove it at start",
        )
    return Check("webhook", OK, f"none registered (long polling), {pending} pending updates")


async def _aimlapi_check(config: Config) -> Check:
    from bot.aimlapi.client import AimlApiClient
    from bot.aimlapi.errors import InvalidApiKey, OutOfCredits, ProviderError

    base = config.aimlapi_base_url
    async with AimlApiClient(
        base_url=base, api_key=config.aimlapi_key.get(), max_attempts=2, backoff_base=0.5
    ) as client:
        try:
            await client.check_key()
        except InvalidApiKey:
            return Check("aimlapi", FAIL, f"the API key was rejected by {base}")
        except OutOfCredits:
            return Check(
                "aimlapi", WARN, f"key accepted by {base}, but the account has no credits"
            )
        except ProviderError as exc:
            reason = exc.provider_message or exc.detail or type(exc).__name__
            status = f"HTTP {exc.http_status}: " if exc.http_status else ""
            return Check("aimlapi", FAIL, f"{base} did not confirm the key ({status}{reason})")
    return Check("aimlapi", OK, f"key accepted by {base}")


async def _ffmpeg_check() -> Check:
    from bot.delivery.media import FfmpegMissing, find_ffmpeg

    try:
        exe = find_ffmpeg()
    except FfmpegMissing as exc:
        return Check("ffmpeg", FAIL, exc.detail or str(exc))
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-hide_banner",
        "-encoders",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    encoders, _ = await proc.communicate()
    version = await asyncio.create_subprocess_exec(
        exe, "-version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await version.communicate()
    first = (out.decode("utf-8", "replace").splitlines() or ["ffmpeg (version unknown)"])[0]
    first = " ".join(first.split()[:3])
    if proc.returncode != 0 or b"libmp3lame" not in encoders:
        return Check("ffmpeg", FAIL, f"{exe} ({first}) cannot encode MP3 (no libmp3lame)")
    return Check("ffmpeg", OK, f"{exe} ({first}, MP3 encoder present)")


async def _database_check(path: Path) -> Check:
    from storage.db import StorageError, load_migrations

    latest = (await asyncio.to_thread(load_migrations))[-1].version
    if not await asyncio.to_thread(path.exists):
        problem = await asyncio.to_thread(_folder_problem, path)
        if problem:
            return Check("database", FAIL, problem)
        return Check("database", OK, f"{path} does not exist yet; it is created at first start")
    try:
        version = await asyncio.to_thread(_user_version, path)
    except sqlite3.Error as exc:
        return Check("database", FAIL, f"{path} is not a usable SQLite database: {exc}")
    if version > latest:
        return Check(
            "database",
            FAIL,
            f"{path} has schema version {version}, newer than this songbot knows ({latest})",
        )
    if version == 0:
        return Check("database", WARN, f"{path} is empty; the bot creates its tables at start")
    try:
        db = await _open_unmigrated(path, version)
        try:
            await db.check_writable()
        finally:
            await db.close()
    except StorageError as exc:
        return Check("database", FAIL, str(exc))
    if version < latest:
        return Check(
            "database",
            WARN,
            f"{path}: writable, schema version {version}; the bot applies migrations up to "
            f"{latest} at its next start",
        )
    return Check("database", OK, f"{path}: writable, schema version {version} (current)")


def _folder_problem(path: Path) -> str | None:
    folder = path.resolve().parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"cannot create {path}: {probe} is not writable"
    return None


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=5)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def _open_unmigrated(path: Path, version: int) -> Database:
    from storage.db import Database

    return await Database.open(path, migrate_to=version)


@asynccontextmanager
async def open_existing(path: Path) -> AsyncIterator[Database]:
    """An existing songbot database at its current schema, opened without migrating it, and
    closed when the block ends."""
    from storage.db import StorageError, load_migrations

    if not await asyncio.to_thread(path.is_file):
        raise OperatorError(f"no database at {path} (set SONGBOT_DB or pass --db)")
    latest = (await asyncio.to_thread(load_migrations))[-1].version
    try:
        version = await asyncio.to_thread(_user_version, path)
    except sqlite3.Error as exc:
        raise OperatorError(f"{path} is not a usable SQLite database: {exc}") from None
    if version != latest:
        newer = "newer" if version > latest else "older"
        raise OperatorError(
            f"{path} has schema version {version}, {newer} than this songbot's {latest}; "
            "use the songbot version that runs the bot"
        )
    try:
        db = await _open_unmigrated(path, version)
    except StorageError as exc:
        raise OperatorError(str(exc)) from None
    try:
        yield db
    finally:
        await db.close()


# -------------------------------------------------------------------------------------- jobs
def cmd_jobs(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print("songbot jobs: --limit must be at least 1", file=sys.stderr)
        return 2
    jobs = asyncio.run(
        list_jobs(db_path_from(args), state=args.state, chat_id=args.chat, limit=args.limit)
    )
    if args.json:
        for job in jobs:
            print(json.dumps(job_summary(job), ensure_ascii=False))
    else:
        print(format_jobs(jobs, now=time.time()))
    return 0


async def list_jobs(
    path: Path, *, state: str | None = None, chat_id: int | None = None, limit: int = 50
) -> list[Job]:
    from storage.jobs import JobStore
    from storage.states import JobState

    async with open_existing(path) as db:
        return await JobStore(db).list_jobs(
            state=JobState(state) if state else None, chat_id=chat_id, limit=limit
        )


def job_summary(job: Job) -> dict[str, Any]:
    """What an operator needs per job; no lyrics, no provider URLs."""
    return {
        "id": job.id,
        "key": job.key,
        "state": str(job.state),
        "model": job.model,
        "chat_id": job.chat_id,
        "user_id": job.user_id,
        "user": job.user_name,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "generation_id": job.generation_id,
        "polls": job.poll_count,
        "credits": job.credits_used,
        "error": job.error_key,
    }


def format_jobs(jobs: Sequence[Job], *, now: float) -> str:
    if not jobs:
        return "no jobs"
    header = ("ID", "STATE", "MODEL", "CHAT", "USER", "CREATED (UTC)", "AGE", "ERROR")
    rows = [
        (
            str(job.id),
            str(job.state),
            job.model,
            str(job.chat_id),
            (job.user_name or str(job.user_id))[:20],
            _iso(job.created_at, minutes=True) or "",
            _age(now - job.created_at),
            job.error_key or "",
        )
        for job in jobs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)


def _iso(ts: float | None, *, minutes: bool = False) -> str | None:
    if ts is None:
        return None
    fmt = "%Y-%m-%d %H:%M" if minutes else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.fromtimestamp(ts, tz=UTC).strftime(fmt)


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


# ------------------------------------------------------------------------------------- stats
def cmd_stats(args: argparse.Namespace) -> int:
    stats = asyncio.run(read_stats(db_path_from(args)))
    if args.json:
        print(json.dumps(stats_dict(stats), ensure_ascii=False, indent=2))
    else:
        print(format_stats(stats))
    return 0


async def read_stats(path: Path) -> UsageStats:
    from storage.usage import UsageLedger

    async with open_existing(path) as db:
        return await UsageLedger(db).stats(time.time())


def stats_dict(stats: UsageStats) -> dict[str, Any]:
    return {
        "generations_today": stats.generations_today,
        "credits_today": stats.credits_today,
        "generations_total": stats.generations_total,
        "credits_total": stats.credits_total,
        "refunded_total": stats.refunded_total,
        "top_users": [
            {"user_id": uid, "name": name, "generations": n} for uid, name, n in stats.top_users
        ],
        "avg_generation_seconds": stats.avg_seconds_by_model,
        "jobs_by_state": stats.jobs_by_state,
    }


def format_stats(stats: UsageStats) -> str:
    lines = [
        f"generations  today {stats.generations_today:,}  total {stats.generations_total:,}"
        f"  (refunded {stats.refunded_total:,})",
        f"credits      today {stats.credits_today:,}  total {stats.credits_total:,}",
    ]
    states = ", ".join(f"{s} {n:,}" for s, n in stats.jobs_by_state.items() if n)
    lines.append(f"jobs         {states or 'none'}")
    if stats.avg_seconds_by_model:
        lines.append("avg generation time by model:")
        lines += [f"  {m:<28} {s:7.1f}s" for m, s in stats.avg_seconds_by_model.items()]
    if stats.top_users:
        lines.append("top users:")
        lines += [f"  {n:>6,}  {name or '?'} ({uid})" for uid, name, n in stats.top_users]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ backup
@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    size: int
    schema_version: int
    jobs: int
    check: str  # PRAGMA quick_check's answer: "ok" when the copy is sound


def cmd_backup(args: argparse.Namespace) -> int:
    source = db_path_from(args)
    info = asyncio.run(backup_database(source, Path(args.path)))
    print(
        f"backup written: {info.path} ({info.size:,} bytes, schema version "
        f"{info.schema_version}, {info.jobs:,} jobs, integrity {info.check})"
    )
    return 0 if info.check == "ok" else 1


async def backup_database(source: Path, dest: Path) -> BackupInfo:
    """Copy `source` into `dest` (a file, or a folder to put a timestamped file in) and verify."""
    from storage.db import StorageError

    if await asyncio.to_thread(dest.is_dir):
        stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
        dest = dest / f"{source.stem}-{stamp}.db"
    if await asyncio.to_thread(_same_file, source, dest):
        raise OperatorError(f"refusing to back up {source} onto itself")
    async with open_existing(source) as db:
        try:
            await db.backup(dest)
        except StorageError as exc:
            raise OperatorError(str(exc)) from None
    return await asyncio.to_thread(_inspect_backup, dest)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def _inspect_backup(path: Path) -> BackupInfo:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        check = str(conn.execute("PRAGMA quick_check").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        jobs = int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
    finally:
        conn.close()
    return BackupInfo(path, path.stat().st_size, version, jobs, check)


# -------------------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    # The fakes are a distribution of their own (fakes/): a plain install carries none.
    try:
        from bot.ops.demo import default_out_dir, run_demo, summary
    except ModuleNotFoundError as exc:
        if exc.name != "songbot_fakes":
            raise
        print(
            "songbot demo: the demo needs the local fakes; from a checkout run "
            '`pip install ./fakes` (or `pip install -e ".[dev]" -e ./fakes`)',
            file=sys.stderr,
        )
        return 2
    from bot.ops.logging_setup import setup_logging

    setup_logging("INFO" if args.verbose else "ERROR", "text")
    out_dir = args.out if args.out is not None else default_out_dir()
    result = asyncio.run(
        run_demo(
            out_dir,
            generation_seconds=float(args.generation_seconds),
            echo=lambda line: print(line, flush=True),
        )
    )
    print(summary(result))
    return 0 if result.ok else 1
