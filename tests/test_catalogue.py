"""Every catalogue string, in every language, against Telegram's rules.

Each template is rendered with sample values for its fields (hostile ones included, like `<b>&`),
then parsed with the fake Bot API's strict HTML parser and measured the way Telegram measures
(UTF-16 units after entity parsing). Plain-text strings (buttons, callback answers, the command
menu, the audio performer) must contain no markup at all.
"""

from __future__ import annotations

import html
import re
import string

import pytest

from bot.i18n import CATALOGUE, Raw, plain, t
from bot.i18n.en import EN
from songbot_fakes.telegram_html import parse_html, strip_text, utf16_len

LANGS = sorted(CATALOGUE)
HOSTILE = "<b>&amp; \"x\" 'y' </i> &"
LONG_HOSTILE = ("<b>&" * 30)[:80]
RAW_SAMPLE = Raw('<a href="tg://user?id=1">Ann &lt;3 &amp; co</a>')

# Plain-text places: Telegram shows these characters as they are (no parse_mode).
PLAIN_PREFIXES = ("cmd_", "button_", "answer_")
PLAIN_KEYS = frozenset({"song_performer", "cancelled_short", "not_your_job", "too_late_to_cancel"})
# Callback answers (answerCallbackQuery.text: 0-200 characters).
ANSWER_KEYS = frozenset(
    {k for k in EN if k.startswith("answer_")}
    | {"cancelled_short", "not_your_job", "too_late_to_cancel"}
)
CAPTION_KEYS = frozenset({"song_caption", "song_caption_group"})


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def tags(template: str) -> list[str]:
    return sorted(re.findall(r"</?([a-zA-Z][a-zA-Z0-9-]*)", template))


def is_plain(key: str) -> bool:
    return key.startswith(PLAIN_PREFIXES) or key in PLAIN_KEYS


def is_raw_field(name: str) -> bool:
    """Fields that carry already-rendered HTML (passed as `Raw`)."""
    return name.endswith("_html") or name in {"link", "mention", "current", "facts", "kind"}


def samples(template: str, value: str) -> dict[str, object]:
    return {name: RAW_SAMPLE if is_raw_field(name) else value for name in fields(template)}


@pytest.mark.parametrize("lang", ["ru", "es"])
def test_translations_have_exactly_the_english_keys(lang: str) -> None:
    table = CATALOGUE[lang]
    missing = sorted(set(EN) - set(table))
    extra = sorted(set(table) - set(EN))
    assert not missing, f"{lang} lacks {missing}"
    assert not extra, f"{lang} has keys English does not: {extra}"


@pytest.mark.parametrize("lang", ["ru", "es"])
def test_translations_keep_fields_and_tags(lang: str) -> None:
    table = CATALOGUE[lang]
    for key, english in EN.items():
        if key not in table:
            continue
        assert fields(table[key]) == fields(english), f"{lang}:{key} fields differ"
        if not is_plain(key):
            assert tags(table[key]) == tags(english), f"{lang}:{key} HTML tags differ"
        assert table[key].strip(), f"{lang}:{key} is empty"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("value", [HOSTILE, LONG_HOSTILE, "Ann", "3,000"])
def test_every_string_renders_to_valid_telegram_text(lang: str, value: str) -> None:
    for key in EN:
        template = CATALOGUE[lang].get(key, EN[key])
        params = samples(template, value)
        if is_plain(key):
            rendered = plain(key, lang, **{k: value for k in params})
            if value == HOSTILE:
                # What the user typed comes back exactly, not as entities.
                assert "&amp;" not in rendered.replace(HOSTILE, ""), f"{lang}:{key}"
            assert "<b>" not in rendered.replace(value, ""), f"{lang}:{key} has markup"
            length = utf16_len(rendered)
            assert 0 < length <= 256, f"{lang}:{key} is {length} long"
            if key in ANSWER_KEYS:
                assert length <= 200, f"{lang}:{key} is {length} long for a callback answer"
            if key.startswith("button_"):
                skeleton = plain(key, lang, **{k: "" for k in params})
                assert utf16_len(skeleton) <= 40, f"{lang}:{key} is a long button label"
            continue
        rendered = t(key, lang, **params)
        parsed = strip_text(parse_html(rendered))  # raises on any markup Telegram would refuse
        length = utf16_len(parsed.text)
        limit = 1024 if key in CAPTION_KEYS else 4096
        assert 0 < length <= limit, f"{lang}:{key} renders to {length} characters"
        if value == HOSTILE and params and not all(isinstance(v, Raw) for v in params.values()):
            assert HOSTILE in parsed.text, f"{lang}:{key} did not show the value as typed"


@pytest.mark.parametrize("lang", LANGS)
def test_command_descriptions_fit_the_menu(lang: str) -> None:
    for key in (k for k in EN if k.startswith("cmd_")):
        text = plain(key, lang)
        assert 0 < len(text) <= 256
        assert text == html.unescape(text)


def test_plain_strings_round_trip_values_exactly() -> None:
    assert plain("answer_model_set", "en", model="A <b> & B") == "Default model: A <b> & B"
    assert plain("button_resend", "ru", n=3, title="x&y") == "▶️ 3. x&y"
