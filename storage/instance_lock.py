"""One `songbot run` per SQLite database: an exclusive lock on a file beside it, held for life.

Why: SQLite has one writer host, and two bots on one database would fight over Telegram's
updates (409 Conflict) and wait out each other's leases. Holding the lock also proves that no
predecessor is alive, so the new process may take every lease back at once instead of waiting
for them to expire. The operating system drops the lock when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def lock_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class InstanceLock:
    """`acquire()` once at start; the lock lasts until `release()` or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True if this process now holds the lock; False if another process does."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        # A lock file an older version made 0644 (#24.8); if it is not ours to change, the
        # lock still works.
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """The pid the current holder wrote, for the error message ('' if unknown)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
