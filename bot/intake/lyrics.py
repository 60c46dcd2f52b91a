"""/write: an idea becomes a title, a style and lyrics that fit the song's model (issue #18).

Why here and not in the handler: the limits come from the same model choice `/song` makes
(`choose_model`), the answer is checked against them before anyone sees it, and the daily draft
limit is taken in the same statement that records the call (`storage/lyrics.py`). One completion
per press, plus at most one corrective retry when the answer is unusable (not JSON, too long, no
section tags, another script than the idea's); if the retry is still too long it is shortened here
at section and line boundaries, so what is shown always fits.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Final

from bot.aimlapi.errors import ProviderError
from bot.aimlapi.models import MODELS, ModelSpec
from bot.aimlapi.types import ChatAnswer
from bot.errors import NotAllowed, SongbotError
from bot.intake import lyrics_prompt as prompt
from bot.intake.requests import choose_model
from bot.services import Services
from bot.textutil import truncate_utf16, utf16_len
from storage.lyrics import DraftLimitReached
from storage.usage import utc_day_bounds

log = logging.getLogger(__name__)

TITLE_MAX: Final = 80
STYLE_CAP: Final = 300  # a style line longer than this helps no model
# The most completions one /write or 🔄 makes: the answer and one corrective retry.
MAX_COMPLETIONS: Final = 2
_TAG_LINE: Final = re.compile(r"^\s*\[[^\[\]\n]{1,40}\]\s*$")
_HTML_TAG: Final = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


class LyricsFailed(SongbotError):
    """The chat model gave nothing we can show (its refusal, an empty or unusable answer)."""

    key = "error_lyrics_unusable"


@dataclass(frozen=True, slots=True)
class Draft:
    title: str
    style: str
    lyrics: str


@dataclass(frozen=True, slots=True)
class Target:
    """The model whose limits the lyrics must fit, and the one 🎵 Make this song will use."""

    limits_spec: ModelSpec
    make_spec: ModelSpec
    limits: prompt.Limits


def lyrics_budget(spec: ModelSpec) -> int:
    """The lyrics a model takes, as the user types them (music-01's `##…##` counted out)."""
    return spec.lyrics_max - spec.lyrics_wrap_overhead


def target_for(services: Services, chat_model: str | None) -> Target:
    """The chat's /model decides: the lyrics fit it (when it sings lyrics at all) and the model
    /song would pick for lyrics, whichever is stricter."""
    make = choose_model(
        explicit=None,
        chat_default=chat_model,
        has_lyrics=True,
        reference=None,
        config=services.config,
    )
    chosen = MODELS.get(chat_model or "")
    limits_spec = make
    if chosen is not None and chosen.takes_lyrics and lyrics_budget(chosen) < lyrics_budget(make):
        limits_spec = chosen
    styles = [s.prompt_max for s in (make, limits_spec) if s.takes_prompt and s.prompt_max > 0]
    limits = prompt.Limits(
        lyrics_max=lyrics_budget(limits_spec),
        style_max=min([STYLE_CAP, *styles]),
        title_max=TITLE_MAX,
        model=limits_spec.id,
    )
    return Target(limits_spec=limits_spec, make_spec=make, limits=limits)


async def check_draft_limit(services: Services, user_id: int) -> None:
    """The friendly early check (the INSERT in `write_lyrics` is the one that cannot be raced)."""
    limit = services.config.lyrics_daily_limit
    if limit <= 0 or user_id in services.config.admin_ids:
        return
    start, end = utc_day_bounds(time.time())
    if await services.lyrics.count_today(user_id, start, end) >= limit:
        raise NotAllowed("error_lyrics_daily_limit", limit=limit)


async def write_lyrics(
    services: Services,
    *,
    user_id: int,
    draft_id: int,
    idea: str,
    lang: str,
    target: Target,
) -> Draft:
    """One draft for `idea`, counted against the user's daily limit; raises `SongbotError`."""
    config = services.config
    now = time.time()
    start, end = utc_day_bounds(now)
    limit = config.lyrics_daily_limit
    unlimited = limit <= 0 or user_id in config.admin_ids
    try:
        call_id = await services.lyrics.reserve_call(
            user_id=user_id,
            draft_id=draft_id,
            model=config.lyrics_model,
            limit=None if unlimited else limit,
            day_start=start,
            day_end=end,
            now=now,
        )
    except DraftLimitReached as exc:
        raise NotAllowed("error_lyrics_daily_limit", limit=exc.limit) from None
    try:
        return await _complete(services, call_id, idea, lang, target.limits)
    except ProviderError:
        # Nothing was shown: the provider failed (its tokens, if any, are still recorded).
        await services.lyrics.refund_call(call_id)
        raise
    except LyricsFailed as exc:
        # An answer we could not use is not a draft (#24.9); a refusal still counts.
        if exc.key == "error_lyrics_unusable":
            await services.lyrics.refund_call(call_id)
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        # Whatever else a hostile answer breaks while it is read: unusable, never a stuck
        # "✍️ Writing…" preview (`_write_into` shows every `SongbotError`).
        log.warning("lyrics answer could not be read: %s", type(exc).__name__)
        await services.lyrics.refund_call(call_id)
        raise LyricsFailed("error_lyrics_unusable") from None


async def _complete(
    services: Services, call_id: int, idea: str, lang: str, limits: prompt.Limits
) -> Draft:
    problems: list[str] = []
    best: Draft | None = None
    for attempt in range(1, MAX_COMPLETIONS + 1):
        messages = (
            prompt.first_messages(idea, limits, lang)
            if attempt == 1
            else prompt.retry_messages(idea, limits, lang, problems)
        )
        answer = await services.client.chat(
            services.config.lyrics_model,
            messages,
            json_object=True,
            max_tokens=_max_tokens(limits),
        )
        await services.lyrics.record_tokens(
            call_id, answer.prompt_tokens, answer.completion_tokens, answer.total_tokens
        )
        _raise_if_refused(answer)
        draft, problems = check_answer(answer.content or "", idea, lang, limits)
        if draft is not None:
            best = draft
            if not problems:
                return draft
        log.info("lyrics attempt %d unusable: %s", attempt, " ".join(problems))
    if best is None:
        raise LyricsFailed("error_lyrics_unusable")
    # The retry still had a problem we can live with: fit it and show it.
    return Draft(best.title, best.style, shorten(best.lyrics, limits.lyrics_max))


def _max_tokens(limits: prompt.Limits) -> int:
    # About one token per two characters of lyrics in most languages, plus the JSON around it.
    return 400 + limits.lyrics_max


def _raise_if_refused(answer: ChatAnswer) -> None:
    if answer.refusal is not None or answer.finish_reason == "content_filter":
        raise LyricsFailed("error_lyrics_refused")
    if not (answer.content or "").strip():
        raise LyricsFailed("error_lyrics_empty")


def check_answer(
    content: str, idea: str, lang: str, limits: prompt.Limits
) -> tuple[Draft | None, list[str]]:
    """The draft in `content` (cleaned) and what is wrong with it (empty: use it as it is)."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json goes
        return None, [prompt.PROBLEM_NOT_JSON]
    if not isinstance(data, dict):
        return None, [prompt.PROBLEM_NOT_JSON]
    fields = [data.get(name) for name in ("title", "style", "lyrics")]
    if not all(isinstance(value, str) and value.strip() for value in fields):
        return None, [prompt.PROBLEM_NOT_JSON]
    title, style, lyrics = (str(value) for value in fields)
    lyrics = clean_lyrics(lyrics)
    if not lyrics or all(_TAG_LINE.match(line) for line in lyrics.splitlines() if line.strip()):
        return None, [prompt.PROBLEM_NOT_JSON]
    draft = Draft(
        title=truncate_utf16(one_line(title), limits.title_max) or "…",
        style=truncate_utf16(one_line(style), limits.style_max, ""),
        lyrics=lyrics,
    )
    problems: list[str] = []
    length = utf16_len(lyrics)
    if length > limits.lyrics_max:
        problems.append(prompt.PROBLEM_TOO_LONG.format(length=length, limit=limits.lyrics_max))
    if not any(_TAG_LINE.match(line) for line in lyrics.splitlines()):
        problems.append(prompt.PROBLEM_NO_TAGS)
    expected = script_of(idea) or _LANGUAGE_SCRIPT.get(lang)
    got = script_of(lyrics)
    if expected is not None and got is not None and got != expected:
        problems.append(prompt.PROBLEM_LANGUAGE)
    return draft, problems


def one_line(text: str) -> str:
    text = _HTML_TAG.sub("", text)
    kept = (ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join("".join(kept).split())


def clean_lyrics(text: str) -> str:
    """Line breaks kept, HTML tags and control characters gone, blank runs collapsed."""
    text = _HTML_TAG.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines: list[str] = []
    for raw in text.split("\n"):
        line = "".join(
            ch for ch in raw if ch == "\t" or unicodedata.category(ch) not in ("Cc", "Cf")
        )
        line = " ".join(line.split())
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    return "\n".join(lines).strip()


def shorten(lyrics: str, limit: int) -> str:
    """Fit `lyrics` into `limit` UTF-16 units: whole sections off the end first, then lines.

    Linear in the text (#24.9: re-joining the lines on every cut took 15.8 s for 16,000 lines
    and froze the bot): the kept lines are a prefix `lines[:kept]`, whose length comes from
    running sums, and the section starts are popped as the prefix shrinks past them.
    """
    lines = lyrics.split("\n")
    ends = [0]  # ends[k]: UTF-16 units of lines[:k] without the line breaks between them
    for line in lines:
        ends.append(ends[-1] + utf16_len(line))
    starts = [i for i, line in enumerate(lines) if _TAG_LINE.match(line)]
    first_words = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    kept = len(lines)
    while kept and ends[kept] + kept - 1 > limit:
        while starts and starts[-1] >= kept:
            starts.pop()
        last = starts[-1] if starts else 0
        if last > 0 and first_words < last:
            kept = last  # the last section goes whole, if something is left before it
        elif kept > 1:
            kept -= 1
        else:
            lines[0] = truncate_utf16(lines[0], limit, "")
            ends[1] = utf16_len(lines[0])
        while kept and (not lines[kept - 1].strip() or _TAG_LINE.match(lines[kept - 1])):
            kept -= 1  # no empty tail, no tag without words
    return "\n".join(lines[:kept]).strip()


_LANGUAGE_SCRIPT: Final = {"en": "latin", "es": "latin", "ru": "cyrillic"}


def script_of(text: str) -> str | None:
    """The script most letters of `text` are in ("latin", "cyrillic", "other"), if clear."""
    counts = {"latin": 0, "cyrillic": 0, "other": 0}
    for line in text.splitlines():
        if _TAG_LINE.match(line):
            continue  # [Verse] is Latin in every language
        for ch in line:
            if not ch.isalpha():
                continue
            if "\u0400" <= ch <= "\u04ff":
                counts["cyrillic"] += 1
            elif ch.isascii() or "\u00c0" <= ch <= "\u024f":
                counts["latin"] += 1
            else:
                counts["other"] += 1
    total = sum(counts.values())
    if total < 8:
        return None
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] >= 0.7 * total else None
