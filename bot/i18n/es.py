"""Spanish strings; a missing key falls back to English."""

from typing import Final

ES: Final[dict[str, str]] = {}
