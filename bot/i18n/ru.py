"""Russian strings; a missing key falls back to English."""

from typing import Final

RU: Final[dict[str, str]] = {}
