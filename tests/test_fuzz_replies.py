"""Property tests: every reply the bot formats is HTML Telegram accepts, within its limits.

Random user-controlled values (styles, lyrics, names, provider error texts, model ids) go through
the real formatting code: every catalogue template via `bot.i18n.t`, the status texts
(`bot.progress.status.render_status`, failure texts included), song captions
(`bot.delivery.send.song_caption`) and error replies (`SongbotError.user_message`). The fake's
strict parser (`songbot_fakes.telegram_html`) stands in for Telegram: it raises exactly where
Telegram answers 400 "can't parse entities".
"""

from __future__ import annotations

import string
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.aimlapi.models import MODELS
from bot.delivery.send import song_caption
from bot.errors import SongbotError
from bot.i18n import LANGUAGES, Raw, t, texts_of
from bot.i18n.en import EN
from bot.i18n.plural import Plural
from bot.progress.status import render_status
from songbot_fakes.telegram_html import parse_html, strip_text, utf16_len
from storage.jobs import JOB_COLUMNS, Job
from storage.states import JobState

NASTY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "&amp;",
        "<b>",
        "</b>",
        '<a href="x">',
        '"',
        "*_`[]()~|#",
        "\u202e",
        "\u200f",
        "\u200d",
        "👩‍👩‍👧",
        "🇺🇦",
        "𝄞",
        "مرحبا",
        "\n",
        "\r\n",
        "\x00",
        "{model}",
        "%s",
    ]
)
TEXT = st.lists(
    st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), NASTY),
    max_size=20,
).map("".join)
LONG = st.one_of(TEXT, st.builds(lambda piece, n: piece * n, NASTY, st.integers(1, 5000)))
VALUE = st.one_of(LONG, st.integers(-(10**12), 10**12), st.floats(allow_nan=False))
LANG = st.sampled_from([*LANGUAGES, "de", None])


def assert_renders(html: str, *, limit: int = 4096, caption: bool = False) -> None:
    parsed = strip_text(parse_html(html))  # raises where Telegram would answer 400
    if not caption:
        assert parsed.text, "Telegram refuses empty messages"
    assert utf16_len(parsed.text) <= limit, utf16_len(parsed.text)


def fields(entry: str | Plural) -> list[str]:
    """The fields of a template, or of every variant of a `Plural` (one per CLDR category)."""
    return sorted(
        {
            name
            for text in texts_of(entry)
            for _, name, _, _ in string.Formatter().parse(text)
            if name
        }
    )


def make_job(**values: Any) -> Job:
    row: dict[str, Any] = dict.fromkeys(JOB_COLUMNS)
    now = time.time()
    row.update(
        id=7,
        key="sb-fuzz",
        chat_id=1001,
        chat_type="private",
        user_id=1001,
        user_name="Ann",
        user_lang="en",
        request_message_id=3,
        model="minimax/music-2.0",
        prompt="dreamy synth-pop",
        options={},
        state=JobState.PENDING,
        submit_attempts=1,
        poll_count=0,
        delivery_attempts=0,
        transient_errors=0,
        claims=1,
        deadline_at=now + 900,
        created_at=now - 65,
        updated_at=now,
        submitted_at=now - 60,
    )
    row.update(values)
    return Job(**row)


# Templates whose value is inserted as trusted HTML (`Raw`): the code builds those values itself.
RAW_FIELDS = {"reason_html", "link", "mention"}
# Command descriptions for setMyCommands are plain text, never parsed as HTML.
HTML_KEYS = sorted(k for k in EN if not k.startswith("cmd_"))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(HTML_KEYS), lang=LANG, data=st.data())
def test_every_catalogue_entry_renders_with_any_values(
    key: str, lang: str | None, data: Any
) -> None:
    params: dict[str, object] = {}
    for name in fields(EN[key]):
        if name in RAW_FIELDS:
            params[name] = Raw(t("error_generation_failed_reason", lang, reason=data.draw(TEXT)))
        else:
            params[name] = data.draw(VALUE)
    text = t(key, lang, **params)
    # Catalogue entries are messages or parts of them (button labels, captions): all must parse.
    parse_html(text)
    # An entry that is only its fields (`<b>{title}</b>`) is a fragment: empty fields leave it
    # empty, and it is never sent alone. Every other entry must stay a sendable message.
    fragment = not strip_text(parse_html(t(key, lang, **dict.fromkeys(params, "")))).text
    message = SongbotError(key, **params).user_message(lang) or "x"
    assert_renders(message, limit=10**9, caption=fragment)


@settings(max_examples=300, deadline=None)
@given(
    state=st.sampled_from(list(JobState)),
    prompt=LONG,
    model=st.one_of(st.sampled_from(sorted(MODELS)), TEXT),
    error_key=st.one_of(
        st.none(), st.sampled_from(sorted(k for k in EN if k.startswith("error_")))
    ),
    reason=st.one_of(st.none(), LONG),
    position=st.one_of(st.none(), st.integers(0, 10**6)),
    expected=st.one_of(st.none(), st.floats(0, 10**6)),
    lang=LANG,
)
def test_status_texts_render(
    state: JobState,
    prompt: str,
    model: str,
    error_key: str | None,
    reason: str | None,
    position: int | None,
    expected: float | None,
    lang: str | None,
) -> None:
    job = make_job(state=state, prompt=prompt or "x", model=model, error_key=error_key)
    assert_renders(render_status(job, lang=lang, position=position, expected=expected))
    if reason is not None:
        # How the runner words a provider's failure reason in the outcome message.
        error_text = t("error_generation_failed_reason", lang, reason=reason[:1000])
        assert_renders(render_status(job, lang=lang, error_text=error_text))


@settings(max_examples=300, deadline=None)
@given(
    prompt=LONG,
    user_name=TEXT.map(lambda s: s[:64]),
    chat_type=st.sampled_from(["private", "group", "supergroup"]),
    model=st.sampled_from(sorted(MODELS)),
    lang=LANG,
)
def test_song_captions_render_within_1024(
    prompt: str, user_name: str, chat_type: str, model: str, lang: str | None
) -> None:
    job = make_job(
        prompt=prompt or "x", user_name=user_name, chat_type=chat_type, model=model, chat_id=-5
    )
    assert_renders(song_caption(job, lang), limit=1024, caption=True)
