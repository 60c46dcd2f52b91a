"""The catalogue of every user-facing string, per language, and the one function that renders them.

Why one catalogue: translations, HTML escaping and Telegram's length limits can then be checked for
every string in one test, and no handler hard-codes text.
Templates use `str.format` fields; values are HTML-escaped by `t()` unless passed pre-rendered via
`Raw`, because every message is sent with `parse_mode=HTML`.
"""

from __future__ import annotations

import html
from typing import Final

from bot.i18n.en import EN
from bot.i18n.es import ES
from bot.i18n.ru import RU

CATALOGUE: Final[dict[str, dict[str, str]]] = {"en": EN, "ru": RU, "es": ES}
DEFAULT_LANGUAGE: Final = "en"
LANGUAGES: Final = tuple(CATALOGUE)


class Raw(str):
    """A value that is already safe HTML (e.g. a mention link); `t()` inserts it unescaped."""

    __slots__ = ()


def pick_language(code: str | None) -> str:
    """Map a Telegram `language_code` (e.g. `ru`, `es-419`, `pt-br`) to a catalogue language."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in CATALOGUE else DEFAULT_LANGUAGE


def _format_value(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value), quote=False)


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """Render `key` in `lang` (falling back to English) with HTML-escaped parameters."""
    table = CATALOGUE.get(lang or DEFAULT_LANGUAGE, EN)
    template = table.get(key) or EN.get(key)
    if template is None:
        raise KeyError(f"no catalogue entry {key!r}")
    return template.format(**{k: _format_value(v) for k, v in params.items()})


def plain(key: str, lang: str | None, /, **params: object) -> str:
    """A catalogue string for plain-text places (buttons, callback answers, command menu).

    `t()` escapes values for HTML; plain-text templates contain no markup of their own, so
    unescaping the result gives back exactly the template with the raw values.
    """
    return html.unescape(t(key, lang, **params))


def wait_length(seconds: float, lang: str | None) -> str:
    """How long something took, for a sentence: seconds below a minute, else whole minutes
    ("45 s", not "0 min")."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return t("length_seconds", lang, n=round(seconds))
    return t("length_minutes", lang, n=round(seconds / 60))
