"""Property tests: any text a user can send as `/song …` is parsed, checked and answered safely.

For random Unicode (emoji, RTL, zero-width and control characters), HTML/Markdown control
characters, option words, huge and empty captions: the parser either returns a command, ignores
the message, or raises `UsageError`; the intake checks (`bot.intake.accept.check_request`, the same
function the handler runs) either accept it or raise a `SongbotError`; every reply renders as
HTML that Telegram's parser accepts (the fake's strict parser) within Telegram's length limit;
and every accepted request builds a body the provider accepts (the fake AI/ML API's validator).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.aimlapi.bodies import build_body, validate_request
from bot.aimlapi.models import MODELS, Endpoint
from bot.config import Config
from bot.errors import SongbotError
from bot.i18n import LANGUAGES
from bot.intake.accept import check_request
from bot.intake.parser import SongCommand, UsageError, parse_song_command
from bot.intake.request import Draft
from bot.intake.requests import ReferenceInfo, choose_model
from songbot_fakes.aimlapi import validate_body
from songbot_fakes.telegram_html import parse_html, strip_text, utf16_len

BOT = "SongTestBot"
CONFIG = Config.from_env(
    {
        "TELEGRAM_BOT_TOKEN": "1:fuzz",
        "AIMLAPI_KEY": "fuzz",
        "SONGBOT_DB": ":memory:",
        "SONGBOT_USER_DAILY_LIMIT": "0",  # the parser and the model rules are fuzzed, not quotas
    },
    env_file=None,
)
# What `check_request` touches: the client's offline validation and the daily-limit setting.
# No model retired here (tests/test_model_retired.py covers the routing).
SERVICES = SimpleNamespace(
    client=SimpleNamespace(validate=validate_request),
    config=CONFIG,
    models=SimpleNamespace(route=lambda spec: spec),
)

NASTY = [
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;b&gt;",
    "<b>",
    "</i>",
    "<a href='x'>",
    '"',
    "'",
    "*",
    "_",
    "`",
    "```",
    "~",
    "[",
    "]",
    "(",
    ")",
    "|",
    "||",
    "\\",
    "#",
    "\u200f",
    "\u200e",
    "\u202e",
    "\u2066",
    "\u200d",
    "\u200b",
    "\ufeff",
    "\u00ad",
    "\u0301",
    "👩‍👩‍👧",
    "🏳️‍🌈",
    "🇺🇦",
    "👍🏽",
    "𝄞",
    "مرحبا",
    "שלום",
    "日本語",
    "\t",
    "\r\n",
    "\r",
    "\x0b",
    "\x85",
    "\u2028",
    "\u2029",
    "\x00",
    "\x7f",
    "\x1b[31m",
    "@everyone",
    "/song",
    "model:",
    "model:cover",
    "model=2.6",
    "ref:",
    "ref: https://example.com/take.mp3",
    "ref:http://[::1]/a.wav",
    "voice:",
    "song:",
    "instrumental:",
    "[Verse]",
    "[Chorus]",
    "##",
    "{",
    "}",
    "{model}",
    "%s",
    "\n\n\n",
]
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # no lone surrogates in UTF-8
    max_size=80,
)
PIECE = st.one_of(TEXT, st.sampled_from(NASTY), st.sampled_from(sorted(MODELS)))
CHUNK = st.lists(PIECE, max_size=12).map("".join)
HUGE = st.builds(
    lambda piece, n: piece * n, st.sampled_from(["la ", "𝄞", "<&>", "\n"]), st.integers(1, 4000)
)


@st.composite
def song_messages(draw: st.DrawFn) -> str:
    command = draw(
        st.sampled_from(["/song", "/song", f"/song@{BOT}", "/SONG@songtestbot", "/song@Other"])
    )
    options = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["model:", "model=", "MODEL:"]).flatmap(
                    lambda k: st.one_of(
                        st.sampled_from(sorted(MODELS)),
                        st.sampled_from(
                            [
                                "2.0",
                                "2.6",
                                "1.5",
                                "cover",
                                "01",
                                "stable",
                                "lyria",
                                "eleven",
                                "legacy",
                            ]
                        ),
                        TEXT,
                    ).map(lambda v: k + v)
                ),
                st.sampled_from(["ref: ", "ref:", "REF: "]).flatmap(
                    lambda k: st.one_of(
                        st.just("https://example.com/take.mp3"),
                        st.just("http://example.com/a%20b.wav?x=<y>&z"),
                        TEXT,
                    ).map(lambda v: k + v)
                ),
                st.sampled_from(["voice:", "song:", "instrumental:"]),
            ),
            max_size=3,
        )
    )
    style = draw(
        st.one_of(
            st.builds(
                lambda words, extra: words + extra,
                st.sampled_from(
                    ["dreamy synth-pop with female vocals ", "sad country ", "lo-fi "]
                ),
                CHUNK,
            ),
            CHUNK,
            HUGE,
        )
    )
    tail = draw(
        st.one_of(
            st.just(""),
            CHUNK.map(lambda lyrics: "\n" + lyrics),
            HUGE.map(lambda lyrics: "\n" + lyrics),
            CHUNK.map(lambda lyrics: " | " + lyrics),
        )
    )
    separator = draw(st.sampled_from([" ", "  ", "\t", "\n", " \u00a0"]))
    return command + separator + " ".join([*options, style]) + tail


def assert_renders(html: str, *, limit: int = 4096) -> None:
    """What Telegram would do with this HTML: parse it, strip it, measure it."""
    parsed = strip_text(parse_html(html))  # raises on anything Telegram answers 400 for
    assert parsed.text, "Telegram refuses empty messages"
    assert utf16_len(parsed.text) <= limit, utf16_len(parsed.text)


def intake(command: SongCommand) -> None:
    """The handler's path after parsing, minus the database: choose, build, validate."""
    reference = (
        ReferenceInfo(kind="url", url=command.reference_url) if command.reference_url else None
    )
    spec = choose_model(
        explicit=command.model,
        chat_default=None,
        has_lyrics=command.lyrics is not None,
        reference=reference,
        config=CONFIG,
    )
    draft = Draft(
        spec=spec,
        style=command.style,
        lyrics=command.lyrics,
        reference_url=command.reference_url,
        purpose=command.purpose.value if command.purpose else None,
    )
    request = asyncio.run(check_request(SERVICES, 1001, draft))  # type: ignore[arg-type]
    spec, body = build_body(request)
    name = "music-01" if spec.endpoint is Endpoint.SYNC_REFERENCE else spec.id
    # What the provider would say about exactly this body (lengths in UTF-16, enums, URIs …),
    # including the stricter, prose-only limits.
    for strict in (False, True):
        assert validate_body(name, body, strict=strict) == [], (body, strict)
    assert body["model"] == spec.id
    event(f"accepted for {spec.id}")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(song_messages(), song_messages(), TEXT.map(lambda s: "/song" + s)),
    reply=st.none() | CHUNK,
)
@example(text="/song", reply=None)
@example(text="/song \n\n", reply=None)
@example(text="/song <b>bold</b> & co | <i>lyrics</i> & more", reply=None)
@example(text="/song model:music-01 voice: a cappella", reply=None)
@example(text="/song ref: https://example.com/x.mp3 jazz\n" + "la " * 1200, reply=None)
@example(text="/song " + "🎵" * 1500 + "\n" + "𝄞" * 1600, reply=None)
@example(text="/song model:stable lo-fi\nla la la la la la", reply=None)
def test_any_song_message_is_answered_safely(text: str, reply: str | None) -> None:
    try:
        command = parse_song_command(text, bot_username=BOT, reply_text=reply)
    except UsageError as exc:
        event(f"usage reply {exc.key}")
        for lang in LANGUAGES:
            assert_renders(exc.user_message(lang))
        return
    if command is None:
        event("ignored")
        return  # addressed to another bot, or not /song at all
    assert command.style.strip()
    try:
        intake(command)
    except SongbotError as exc:
        event(f"refused {exc.key}")
        for lang in LANGUAGES:
            assert_renders(exc.user_message(lang))


@settings(max_examples=200, deadline=None)
@given(text=TEXT, lyrics=st.none() | CHUNK)
def test_parse_never_crashes_on_arbitrary_text(text: str, lyrics: str | None) -> None:
    try:
        parse_song_command(text, bot_username=BOT, reply_text=lyrics)
    except UsageError as exc:
        assert_renders(exc.user_message("en"))
