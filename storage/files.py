"""Looking at a database file from outside the bot: its schema version, a backup's health.

Why synchronous sqlite3 here: operator commands and start-up checks read a file that may not be
a songbot database at all, before any async connection exists; they run these on a worker
thread (`asyncio.to_thread`). The SQL stays in `storage/` like every other query.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class CopyHealth:
    schema_version: int
    jobs: int
    check: str  # PRAGMA quick_check's answer: "ok" when the copy is sound


def schema_version_of(path: Path) -> int:
    """The file's `user_version` (0 for a new or foreign file); raises `sqlite3.Error`."""
    conn = sqlite3.connect(path, timeout=5)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def inspect_copy(path: Path) -> CopyHealth:
    """Open a backup read-only and say whether it is sound and what it holds."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        check = str(conn.execute("PRAGMA quick_check").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        jobs = int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
    finally:
        conn.close()
    return CopyHealth(version, jobs, check)


def probe_writable(path: Path) -> int:
    """Open (creating if needed) and prove a write would succeed, rolled back; the version.

    A read-only file opens fine and fails at the first write, so a write is attempted.
    """
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {version}")
        finally:
            conn.execute("ROLLBACK")
        return version
    finally:
        conn.close()
