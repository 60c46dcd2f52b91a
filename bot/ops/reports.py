"""`songbot jobs`, `stats` and `backup`: what the bot is doing and whether its data is safe.

All three read the live database without changing it (backup uses SQLite's online backup API,
which is safe while the bot runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.ops.operator_db import OperatorError, db_path_from, open_existing
from storage.files import inspect_copy

if TYPE_CHECKING:
    from storage.jobs import Job
    from storage.usage import UsageStats


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
    path: Path | str, *, state: str | None = None, chat_id: int | None = None, limit: int = 50
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


async def read_stats(path: Path | str) -> UsageStats:
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
        "lyrics_calls_today": stats.lyrics.calls_today,
        "lyrics_tokens_today": stats.lyrics.tokens_today,
        "lyrics_calls_total": stats.lyrics.calls_total,
        "lyrics_tokens_total": stats.lyrics.tokens_total,
        "stars_received": stats.stars_received,
        "stars_refunded": stats.stars_refunded,
        "songs_paid": stats.songs_paid,
        "songs_free": stats.songs_free,
    }


def format_stats(stats: UsageStats) -> str:
    lines = [
        f"generations  today {stats.generations_today:,}  total {stats.generations_total:,}"
        f"  (refunded {stats.refunded_total:,})",
        f"credits      today {stats.credits_today:,}  total {stats.credits_total:,}",
    ]
    lyrics = stats.lyrics
    lines.append(
        f"lyrics       today {lyrics.calls_today:,} drafts, {lyrics.tokens_today:,} tokens"
        f"  total {lyrics.calls_total:,} drafts, {lyrics.tokens_total:,} tokens"
    )
    lines.append(
        f"stars        received {stats.stars_received:,}  refunded {stats.stars_refunded:,}"
        f"  songs paid {stats.songs_paid:,}  free {stats.songs_free:,}"
    )
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
    info = asyncio.run(backup_database(source, str(args.path)))
    print(
        f"backup written: {info.path} ({info.size:,} bytes, schema version "
        f"{info.schema_version}, {info.jobs:,} jobs, integrity {info.check})"
    )
    return 0 if info.check == "ok" else 1


async def backup_database(source: Path | str, target: str) -> BackupInfo:
    """Copy `source` to `target` and verify the copy.

    `target` is a file, or a folder (an existing one, or any path ending in a slash, created if
    missing) that gets a timestamped file. An existing file is never overwritten.
    """
    from storage.db import StorageError
    from storage.postgres_db import redact

    if isinstance(source, str):
        raise OperatorError(
            f"the database is PostgreSQL ({redact(source)}): songbot backup copies SQLite files "
            f"only; use pg_dump, e.g. pg_dump --format=custom --file={target} "
            '"$SONGBOT_DATABASE_URL" (restore with pg_restore)'
        )
    dest = Path(target)
    if target.endswith(("/", os.sep)) or await asyncio.to_thread(dest.is_dir):
        stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
        dest = dest / f"{source.stem}-{stamp}.db"
    if await asyncio.to_thread(_same_file, source, dest):
        raise OperatorError(f"refusing to back up {source} onto itself")
    if await asyncio.to_thread(dest.exists):
        raise OperatorError(
            f"{dest} exists already; not overwriting it (remove it or pick a new name)"
        )
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
    health = inspect_copy(path)
    return BackupInfo(path, path.stat().st_size, health.schema_version, health.jobs, health.check)
