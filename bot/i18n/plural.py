"""Counted messages: one template per CLDR plural category, picked by Babel's rules.

Why: "1 songs", "1 песен", "1 canciones" came from one template for every number. Russian needs
three forms (21 песня, 22 песни, 25 песен), Spanish and English two; the rules are CLDR's, read
from Babel rather than written by hand. This module must not import `bot.i18n` (the catalogue
files import it while that package is still loading).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Final

from babel import Locale

CATEGORIES: Final = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True, slots=True)
class Plural:
    """A message whose wording depends on the number in parameter `count`.

    Give a template for each CLDR category the language uses (en: one/other; ru: one/few/many/
    other; es: one/many/other); a missing category falls back to `other`. The number itself is
    formatted like any other value, so a template may also leave it out ("your first song").
    """

    count: str
    other: str
    one: str | None = None
    few: str | None = None
    many: str | None = None
    two: str | None = None
    zero: str | None = None

    def variants(self) -> dict[str, str]:
        """The templates given, by category (for the catalogue tests)."""
        found = {name: getattr(self, name) for name in CATEGORIES}
        return {name: text for name, text in found.items() if text is not None}

    def pick(self, lang: str, number: object) -> str:
        """The template for `number` in `lang`; non-numbers (a bad call) take `other`."""
        if isinstance(number, bool) or not isinstance(number, int | float):
            return self.other
        if isinstance(number, float) and not math.isfinite(number):
            return self.other
        category = plural_category(lang, number)
        chosen: str | None = getattr(self, category, None)
        return chosen if chosen is not None else self.other


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def plural_category(lang: str, number: int | float) -> str:
    """CLDR's plural category of `number` in `lang` ("one", "few", "many", "other"…)."""
    return str(_locale(lang).plural_form(abs(number)))


def locale_of(lang: str) -> Locale:
    """The Babel locale for a catalogue language (cached: parsing one costs a data load)."""
    return _locale(lang)


def texts_of(entry: str | Plural) -> list[str]:
    """Every template an entry can render with: itself, or each of a `Plural`'s variants."""
    return list(entry.variants().values()) if isinstance(entry, Plural) else [entry]
