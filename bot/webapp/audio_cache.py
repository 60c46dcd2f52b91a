"""Songs for the Mini App's player: fetched from Telegram by file_id, kept in a bounded disk cache.

Why on disk and through the bot: the page must never see a Telegram file URL (it holds the bot
token), and aiohttp's FileResponse answers range requests from a file by itself, so seeking in
the player costs no second download. The cache is bounded in bytes (oldest use evicted first) and
each file is fetched once even when several players ask for it at the same moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Final

from telegram import Bot

from bot.telegram.limits import TELEGRAM_DOWNLOAD_LIMIT

log = logging.getLogger(__name__)

CACHE_BYTES: Final = 200 * 1024 * 1024


class AudioTooLarge(Exception):
    """Telegram lets bots download at most 20 MB; a larger song cannot be played in the app."""


class AudioCache:
    def __init__(self, folder: Path, *, max_bytes: int = CACHE_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._locks: dict[str, asyncio.Lock] = {}

    def _path(self, file_unique_id: str) -> Path:
        # A hash, not the id itself: ids are Telegram's, file names are ours.
        return self.folder / (hashlib.sha256(file_unique_id.encode()).hexdigest()[:32] + ".audio")

    async def get(self, bot: Bot, file_id: str, file_unique_id: str) -> Path:
        """The song's local copy, fetched if needed; AudioTooLarge over Telegram's limit."""
        path = self._path(file_unique_id)
        lock = self._locks.setdefault(file_unique_id, asyncio.Lock())
        try:
            async with lock:
                if path.is_file():
                    with contextlib.suppress(OSError):
                        os.utime(path)  # the last use decides what is evicted first
                    return path
                await self._fetch(bot, file_id, path)
        finally:
            if not lock.locked():
                self._locks.pop(file_unique_id, None)
        await asyncio.to_thread(self._evict)
        return path

    async def _fetch(self, bot: Bot, file_id: str, path: Path) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > TELEGRAM_DOWNLOAD_LIMIT:
            raise AudioTooLarge(file_id)
        partial = path.with_suffix(".part")
        try:
            await file.download_to_drive(partial)
            partial.chmod(0o600)
            partial.replace(path)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()

    def _evict(self) -> None:
        """Oldest use first, until the folder is under its bound (a blocking walk: in a thread)."""
        try:
            entries = [
                (p.stat().st_mtime, p.stat().st_size, p) for p in self.folder.glob("*.audio")
            ]
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size

    def clear_older_than(self, seconds: float) -> None:
        cutoff = time.time() - seconds
        for path in self.folder.glob("*.audio"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
