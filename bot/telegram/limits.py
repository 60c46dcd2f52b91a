"""Telegram's size limits that the intake and the engine both check."""

from __future__ import annotations

from typing import Final

# Telegram's getFile limit: PTB's FileSizeLimit.FILESIZE_DOWNLOAD, decimal megabytes.
TELEGRAM_DOWNLOAD_LIMIT: Final = 20_000_000
MB: Final = 1_000_000
