"""The catalogue of every user-facing string, per language, and the one function that renders them.

Why one catalogue: translations, HTML escaping and Telegram's length limits can then be checked for
every string in one test, and no handler hard-codes text.
Templates use `str.format` fields; values are HTML-escaped by `t()` unless passed pre-rendered via
`Raw`, because every message is sent with `parse_mode=HTML`. A counted message is a `Plural` (one
template per CLDR category); numbers are written per language (`formats.py`), and a number in a
`DURATION_PARAMS` field is written as a length of time.
"""

from __future__ import annotations

import html
from typing import Final

from bot.i18n.en import EN
from bot.i18n.es import ES
from bot.i18n.formats import (
    DURATION_PARAMS,
    format_ago,
    format_day,
    format_duration,
    format_number,
)
from bot.i18n.names import MODEL_PARAMS, model_name
from bot.i18n.plural import Plural, plural_category, texts_of
from bot.i18n.ru import RU

Template = str | Plural

CATALOGUE: Final[dict[str, dict[str, Template]]] = {"en": EN, "ru": RU, "es": ES}
DEFAULT_LANGUAGE: Final = "en"
LANGUAGES: Final = tuple(CATALOGUE)

# Parameters that count things ("{limit} songs"): a plain `str` template may not contain one
# (tests/test_catalogue.py), it must be a `Plural` keyed on it, or written as a bare number
# ("Songs left: 3") and declared in BARE_COUNTS, so no new string can bring "1 songs" back.
COUNT_PARAMS: Final = frozenset(
    {
        "n",
        "count",
        "limit",
        "songs",
        "left",
        "free",
        "credits",
        "length",
        "per_user",
        "max_chars",
        "unused",
        "total",
        "done",
        "failed",
        "working",
        "waiting",
        "today",
        "credits_today",
        "credits_total",
        "refunded",
        "bought",
        "used",
        "held",
        "paid",
        "received",
        "stars",
    }
)

# Keys whose listed count parameters are written as a bare number beside a label or a symbol
# ("Free today: 3", "(5 of 30)", "3 ⭐", "▶️ 3."), where no language inflects anything.
BARE_COUNTS: Final[dict[str, frozenset[str]]] = {
    "button_resend": frozenset({"n"}),
    "button_cancel_job": frozenset({"n"}),
    "jobs_line": frozenset({"n"}),
    "library_line": frozenset({"n"}),
    # The Mini App's labels (filled in by the page itself, bot/webapp/static/app.js).
    "app_plays": frozenset({"n"}),
    "app_lyrics_counter": frozenset({"used", "max"}),
    "app_lyrics_over": frozenset({"over"}),
    "board": frozenset({"working", "waiting", "done", "total"}),
    "board_finished": frozenset({"done", "failed"}),
    "board_finished_none": frozenset({"failed"}),
    "stats": frozenset({"today", "credits_today", "total", "credits_total", "refunded"}),
    "stats_top_line": frozenset({"count"}),
    "stats_stars": frozenset({"received", "refunded", "paid", "free"}),
    "stars_balance": frozenset({"left", "free", "credits", "bought", "used", "held"}),
    "stars_pack_button": frozenset({"stars"}),
    "stars_refunded": frozenset({"stars", "songs"}),
    "stars_paid": frozenset({"credits"}),
    "stars_refund_spent": frozenset({"unused"}),
    "error_prompt_too_short": frozenset({"limit"}),
    "error_prompt_too_long": frozenset({"limit"}),
    "error_lyrics_too_short": frozenset({"limit"}),
    "error_lyrics_too_long": frozenset({"limit"}),
    "error_write_idea_too_long": frozenset({"limit"}),
    "error_reference_lyrics_too_long": frozenset({"length"}),
    "write_preview": frozenset({"length"}),
}


class Raw(str):
    """A value that is already safe HTML (e.g. a mention link); `t()` inserts it unescaped."""

    __slots__ = ()


def pick_language(code: str | None) -> str:
    """Map a Telegram `language_code` (e.g. `ru`, `es-419`, `pt-br`) to a catalogue language."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in CATALOGUE else DEFAULT_LANGUAGE


def _format_value(name: str, value: object, lang: str) -> str:
    if isinstance(value, Raw):
        return str(value)
    if name in MODEL_PARAMS and isinstance(value, str):
        return html.escape(model_name(value), quote=False)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if name in DURATION_PARAMS:
            return html.escape(format_duration(float(value), lang), quote=False)
        return html.escape(format_number(value, lang), quote=False)
    return html.escape(str(value), quote=False)


def template_for(key: str, lang: str | None, params: dict[str, object]) -> str:
    """The `str.format` template `t()` fills in: the entry itself, or a `Plural`'s pick."""
    language = lang if lang in CATALOGUE else DEFAULT_LANGUAGE
    entry = CATALOGUE[language].get(key)
    if entry is None:
        language = DEFAULT_LANGUAGE
        entry = EN.get(key)
    if entry is None:
        raise KeyError(f"no catalogue entry {key!r}")
    if isinstance(entry, Plural):
        return entry.pick(language, params.get(entry.count))
    return entry


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """Render `key` in `lang` (falling back to English) with HTML-escaped parameters."""
    language = lang if lang in CATALOGUE else DEFAULT_LANGUAGE
    template = template_for(key, language, params)
    return template.format(**{k: _format_value(k, v, language) for k, v in params.items()})


def plain(key: str, lang: str | None, /, **params: object) -> str:
    """A catalogue string for plain-text places (buttons, callback answers, command menu).

    `t()` escapes values for HTML; plain-text templates contain no markup of their own, so
    unescaping the result gives back exactly the template with the raw values.
    """
    return html.unescape(t(key, lang, **params))


def wait_length(seconds: float, lang: str | None) -> str:
    """How long something took, for a sentence ("45 sec", "11 min", "6 min 30 sec")."""
    return format_duration(max(0.0, seconds), lang if lang in CATALOGUE else DEFAULT_LANGUAGE)


def ago(seconds: float, lang: str | None) -> str:
    """How long ago, in the language's words ("5 minutes ago", "hace 5 minutos")."""
    return format_ago(seconds, lang if lang in CATALOGUE else DEFAULT_LANGUAGE)


def day(timestamp: float, lang: str | None) -> str:
    """A calendar day as the language writes it."""
    return format_day(timestamp, lang if lang in CATALOGUE else DEFAULT_LANGUAGE)


def number(value: int | float, lang: str | None) -> str:
    """A number as the language writes it ("3,000", "3 000", "3000")."""
    return format_number(value, lang if lang in CATALOGUE else DEFAULT_LANGUAGE)


__all__ = [
    "BARE_COUNTS",
    "CATALOGUE",
    "COUNT_PARAMS",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "MODEL_PARAMS",
    "Plural",
    "Raw",
    "Template",
    "ago",
    "day",
    "model_name",
    "number",
    "pick_language",
    "plain",
    "plural_category",
    "t",
    "template_for",
    "texts_of",
    "wait_length",
]
