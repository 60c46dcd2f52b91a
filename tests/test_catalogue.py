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

from bot.i18n import (
    BARE_COUNTS,
    CATALOGUE,
    COUNT_PARAMS,
    Plural,
    Raw,
    ago,
    day,
    number,
    plain,
    plural_category,
    t,
    texts_of,
)
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


def fields(entry: str | Plural) -> set[str]:
    """The fields of a template, or of every variant of a `Plural`."""
    return {
        name
        for text in texts_of(entry)
        for _, name, _, _ in string.Formatter().parse(text)
        if name
    }


def tags(entry: str | Plural) -> list[str]:
    """The HTML tags of a template; a `Plural`'s variants must all have the same ones."""
    found = {
        tuple(sorted(re.findall(r"</?([a-zA-Z][a-zA-Z0-9-]*)", text))) for text in texts_of(entry)
    }
    assert len(found) == 1, f"plural variants differ in markup: {found}"
    return list(found.pop())


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
        assert all(text.strip() for text in texts_of(table[key])), f"{lang}:{key} is empty"
        assert isinstance(table[key], Plural) == isinstance(english, Plural), (
            f"{lang}:{key}: counted in one language, not in the other"
        )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("value", [HOSTILE, LONG_HOSTILE, "Ann", "3,000"])
def test_every_string_renders_to_valid_telegram_text(lang: str, value: str) -> None:
    for key in EN:
        template = CATALOGUE[lang].get(key, EN[key])
        params = samples(template, value)
        if isinstance(template, Plural):
            params[template.count] = 21  # the value picks the variant: must be a number
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
        if value == HOSTILE and any(v == HOSTILE for v in params.values()):
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


# --- CLDR plurals (issue #25 item 8) ---
NUMBERS = (0, 1, 2, 5, 21, 22, 25)
# The word that must follow the count, per language and number: the whole CLDR table for each.
SONG_FORMS = {
    "en": {0: "songs", 1: "song", 2: "songs", 5: "songs", 21: "songs", 22: "songs", 25: "songs"},
    "ru": {0: "песен", 1: "песня", 2: "песни", 5: "песен", 21: "песня", 22: "песни", 25: "песен"},
    "es": {
        0: "canciones",
        1: "canción",
        2: "canciones",
        5: "canciones",
        21: "canciones",
        22: "canciones",
        25: "canciones",
    },
}


def counted_keys() -> list[str]:
    return sorted(k for k, v in EN.items() if isinstance(v, Plural))


def sample_params(entry: str | Plural, count: int) -> dict[str, object]:
    params: dict[str, object] = samples(entry, "Ann") if isinstance(entry, str) else {}
    if isinstance(entry, Plural):
        params = {name: (RAW_SAMPLE if is_raw_field(name) else 3) for name in fields(entry)}
        params[entry.count] = count
    return params


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("number", NUMBERS)
def test_every_counted_message_renders_for_each_number(lang: str, number: int) -> None:
    """Every Plural, rendered for 0, 1, 2, 5, 21, 22, 25: the CLDR category's own template,
    with the number written in it (a one-form may say "a song" only where `one` is just 1)."""
    keys = counted_keys()
    assert len(keys) >= 20, keys  # every counted message was converted
    for key in keys:
        entry = CATALOGUE[lang][key]
        assert isinstance(entry, Plural), f"{lang}:{key} counts without plural forms"
        params = sample_params(entry, number)
        rendered = plain(key, lang, **params) if is_plain(key) else t(key, lang, **params)
        if not is_plain(key):
            parse_html(rendered)
        # Where CLDR's `one` is exactly 1 (en, es), its form may say "a song"; in Russian `one`
        # also holds 21, 31…, so the number must be written.
        exact_one = plural_category(lang, 21) != "one"
        if not (number == 1 and exact_one):
            assert str(number) in rendered, f"{lang}:{key} for {number}: {rendered!r}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("number", NUMBERS)
def test_song_counts_take_the_cldr_form(lang: str, number: int) -> None:
    """ru 21 → "песня", 22 → "песни", 25 → "песен"; es 1 → "canción"; en 1 → "song"."""
    word = SONG_FORMS[lang][number]
    for key in ("stars_invoice_title", "stars_invoice_label"):
        assert plain(key, lang, songs=number) == f"{number} {word}"
    assert f"{number} {word}" in plain("stars_pack_button", lang, songs=number, stars=50)
    balance = t("stars_balance", lang, left=number, free=0, credits=0, bought=0, used=0, held=0)
    assert re.search(rf"<b>{number}</b> {word}\b", balance), balance
    limit = t("error_daily_limit", lang, limit=number)
    assert f"{number} {word}" in limit, limit


def test_russian_forms_agree_in_case() -> None:
    """The accusative after "на" and the genitive after "до" follow the same three categories."""
    assert "на 21 песню." in t("stars_invoice_description", "ru", songs=21)
    assert "на 22 песни." in t("stars_invoice_description", "ru", songs=22)
    assert "на 25 песен." in t("stars_invoice_description", "ru", songs=25)
    assert t("model_lyrics_required", "ru", limit=21) == "нужен текст (до 21 символа)"
    assert t("model_lyrics_required", "ru", limit=25) == "нужен текст (до 25 символов)"
    assert "22 черновика" in t("error_lyrics_daily_limit", "ru", limit=22)
    assert "1 черновик " in t("error_lyrics_daily_limit", "ru", limit=1)


@pytest.mark.parametrize("lang", LANGS)
def test_no_count_goes_into_a_plain_template(lang: str) -> None:
    """A parameter that counts things (COUNT_PARAMS) may only be a Plural's count, or a bare
    number declared in BARE_COUNTS (a label: "Free today: 3"), so "1 songs" cannot come back."""
    for key, entry in CATALOGUE[lang].items():
        allowed = set(BARE_COUNTS.get(key, frozenset()))
        if isinstance(entry, Plural):
            allowed.add(entry.count)
        counted = fields(entry) & COUNT_PARAMS
        assert counted <= allowed, (
            f"{lang}:{key} puts {sorted(counted - allowed)} into a template without plural "
            "forms: make it a Plural (or a declared bare number)"
        )


def test_count_guard_catches_a_plain_counted_template() -> None:
    """The guard itself: a str template with a count parameter is what it rejects."""
    assert fields("You have {songs} songs") & COUNT_PARAMS == {"songs"}
    assert "stars_invoice_title" not in BARE_COUNTS


# --- CLDR numbers, durations, dates (issue #25 item 9) ---
def test_numbers_use_each_languages_separators() -> None:
    assert t("stars_balance", "en", left=3000, free=0, credits=1519, bought=0, used=0, held=0)
    assert "3,000" in t("error_daily_limit", "en", limit=3000)
    assert "3\xa0000" in t("error_daily_limit", "ru", limit=3000)
    spanish = t("error_daily_limit", "es", limit=3000)
    assert "3,000" not in spanish and ("3.000" in spanish or "3000" in spanish)
    assert "1,519" not in t(
        "stars_balance", "es", left=1, free=0, credits=1519, bought=0, used=0, held=0
    )


def test_durations_are_written_in_words_of_the_language() -> None:
    long = t("error_reference_too_long", "en", kind="voice note", seconds=660, maximum=360)
    assert "660" not in long and "11 min" in long and "6 min" in long
    assert "11 мин" in t(
        "error_reference_too_long", "ru", kind="голосовое", seconds=660, maximum=360
    )
    assert "45 s" in t(
        "error_reference_too_short", "es", kind="nota de voz", seconds=45, minimum=50
    )
    assert "6 min 30 sec" in t("model_length_seconds", "en", seconds=390)


def test_dates_and_ago_follow_the_locale() -> None:
    noon = 1796558400.0  # 2026-12-06 12:00 UTC
    assert day(noon, "en") == "Dec 6, 2026"
    assert day(noon, "ru").startswith("6 дек")
    assert day(noon, "es").startswith("6 dic")
    assert ago(5 * 60, "ru") == "5 минут назад"
    assert ago(22 * 60, "ru") == "22 минуты назад"
    assert ago(60, "es") == "hace 1 minuto"
    assert number(1519, "es") != "1,519" and number(3000, "ru") == "3\xa0000"


def test_an_absurd_duration_still_renders() -> None:
    # Hypothesis once fed help_limit_timeout a number past Babel's decimal context.
    for lang in LANGS:
        assert t("help_limit_timeout", lang, waited=1e300)
