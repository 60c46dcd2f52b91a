"""Numbers, durations and dates the way each language writes them (CLDR data via Babel).

Why: "3,000" reads as three in Spanish and is wrong in Russian ("3 000"); "660 s" is not how
anyone says eleven minutes. `t()` formats every number through here, so no caller hand-makes one.
This module must not import `bot.i18n` (see plural.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Final

from babel.dates import format_date as _babel_date
from babel.dates import format_timedelta
from babel.numbers import format_decimal
from babel.units import format_unit

from bot.i18n.plural import locale_of

# Parameters that always carry a length of time in seconds: `t()` renders a number passed in one
# of them as a duration ("45 sec", "11 min", "6 min 30 sec"), so templates never write a unit.
DURATION_PARAMS: Final = frozenset({"seconds", "minimum", "maximum", "waited"})
MAX_DURATION_SECONDS: Final = 1e12  # ~31,700 years


def format_number(value: int | float, lang: str) -> str:
    """`3000` → en "3,000", ru "3 000", es "3000"/"3.000"; floats keep at most one decimal."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        value = round(value, 1)
        if value.is_integer():
            value = int(value)
    try:
        return str(format_decimal(value, locale=locale_of(lang)))
    except ArithmeticError:  # beyond what Babel's decimal context holds: no real count is
        return str(value)


def _unit(value: int, unit: str, lang: str) -> str:
    return str(format_unit(value, unit, length="short", locale=locale_of(lang)))


def format_duration(seconds: float, lang: str) -> str:
    """A length of time for a sentence, in CLDR's short units, at most two of them:
    `45` → "45 sec", `660` → "11 min", `601` → "10 min 1 sec" (a limit and a value just
    over it must not read the same), `3900` → "1 hr 5 min"."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    # No real wait comes near this; beyond Babel's decimal context a unit cannot be formatted.
    total = int(min(seconds, MAX_DURATION_SECONDS) + 0.5)
    if total < 60:
        return _unit(total, "duration-second", lang)
    if total < 3600:
        minutes, secs = divmod(total, 60)
        if secs == 0:
            return _unit(minutes, "duration-minute", lang)
        return f"{_unit(minutes, 'duration-minute', lang)} {_unit(secs, 'duration-second', lang)}"
    hours, rest = divmod(round(total / 60), 60)
    if rest == 0:
        return _unit(hours, "duration-hour", lang)
    return f"{_unit(hours, 'duration-hour', lang)} {_unit(rest, 'duration-minute', lang)}"


def format_ago(seconds: float, lang: str) -> str:
    """How long ago, in words of the language: "5 minutes ago", "5 минут назад", "hace 5 minutos"."""
    return str(
        format_timedelta(
            timedelta(seconds=-max(0.0, seconds)),
            add_direction=True,
            threshold=1.0,
            locale=locale_of(lang),
        )
    )


def format_day(timestamp: float, lang: str) -> str:
    """A calendar day (UTC) as the language writes it: "Dec 6, 2026", "6 дек. 2026 г.", "6 dic 2026"."""
    day = datetime.fromtimestamp(timestamp, tz=UTC).date()
    return str(_babel_date(day, format="medium", locale=locale_of(lang)))
