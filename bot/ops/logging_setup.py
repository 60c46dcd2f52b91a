"""Logging with secrets redacted everywhere, human-readable or JSON lines.

Why a filter on the handler and not just care at call sites: PTB and httpx put the token in URLs
and exception messages (telegram.md §7); a filter on the root handler catches every path, including
tracebacks, so neither secret can reach a log line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, ClassVar, Final, TextIO

from telegram.error import TelegramError

# The job key of the job being worked on, so every log line about a job carries it.
current_job_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_job_key", default=None
)


# PTB's network retry loop (getUpdates, and bootstrapping with `bootstrap_retries`).
PTB_RETRY_LOGGER: Final = "telegram.ext"  # what PTB names the logger of its _utils modules


class Redactor:
    """Replaces each secret (and its URL-encoded form) with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        from urllib.parse import quote

        for secret in secrets:
            if len(secret) < 4:
                continue
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                if form not in self._secrets:
                    self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Renders the record once, redacted, so formatters can only see the safe text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            formatter = logging.Formatter()
            message = f"{message}\n{formatter.formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message = f"{message}\n{record.stack_info}"
            record.stack_info = None
        record.msg = REDACTOR(message)
        record.args = None
        if not hasattr(record, "job"):
            record.job = current_job_key.get()
        return True


class AbortedRetryFilter(logging.Filter):
    """Drop PTB's traceback when its network retry loop gives up on a Telegram error.

    Why: the error is re-raised to songbot, which says in one line what happened
    (`bot.ops.serve.exit_code_for`); PTB's own record would print a traceback first (with no
    network, about 90 lines) and, for a bad token, a message that can contain the token.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (record.levelno >= logging.ERROR and isinstance(exc, TelegramError))


class OneLineTelegramErrorFilter(logging.Filter):
    """PTB's updater logs a Telegram error with a full traceback, e.g. at every stop while
    another instance polls (`Conflict` on the last getUpdates): one line, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, TelegramError):
            first = record.getMessage().split(". ", 1)[0].rstrip(".")
            record.msg, record.args = "%s: %s", (first, brief(exc))
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class InvalidJsonFilter(logging.Filter):
    """PTB logs a whole non-JSON answer (a proxy's HTML error page) with a traceback, then
    raises a TelegramError that its caller reports in one line; the first record goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Can not load invalid JSON data")


_PARSING = re.compile(r"\.\s*Parsing the server response.*", re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def brief(exc: BaseException) -> str:
    """One short line for a log: no traceback, no HTML page a proxy sent instead of JSON."""
    text = str(exc)
    if _PARSING.search(text):
        text = _PARSING.sub("", text) + " (the answer was not JSON)"
    text = " ".join(_TAGS.sub(" ", text).split())
    return f"{type(exc).__name__}: {text}"[:200]


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        job = getattr(record, "job", None)
        prefix = f"[{job}] " if job else ""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        return f"{stamp} {record.levelname:<7} {record.name}: {prefix}{record.getMessage()}"


class JsonFormatter(logging.Formatter):
    _FIELDS: ClassVar[tuple[str, ...]] = ("chat_id", "user_id", "model", "state", "event")

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        job = getattr(record, "job", None)
        if job:
            payload["job"] = job
        for name in self._FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        return json.dumps(payload, ensure_ascii=False)


def setup_logging(
    level: str = "INFO",
    fmt: str = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure the root logger once; safe to call again (tests, `songbot demo`)."""
    REDACTOR.add(*secrets)
    # Neither format prints source lines, threads or processes; not collecting them saves a
    # stack walk per record (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_songbot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._songbot = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and PTB's URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # PTB's Bot logger prints the API URL (with the token) at DEBUG.
    logging.getLogger("telegram.Bot").setLevel(max(logging.INFO, root.level))
    logging.getLogger("telegram.ext.ExtBot").setLevel(max(logging.INFO, root.level))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its values at DEBUG: lyrics, names, chat ids.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
    # psycopg's pool warns on every failed reconnect attempt, with libpq's multi-line text;
    # songbot reports a lost database itself, once, in one line (and on /healthz).
    logging.getLogger("psycopg.pool").setLevel(max(logging.ERROR, root.level))
    logging.getLogger("psycopg").setLevel(max(logging.WARNING, root.level))
    retry_loop = logging.getLogger(PTB_RETRY_LOGGER)
    if not any(isinstance(f, AbortedRetryFilter) for f in retry_loop.filters):
        retry_loop.addFilter(AbortedRetryFilter())
    request = logging.getLogger("telegram.request.BaseRequest")
    if not any(isinstance(f, InvalidJsonFilter) for f in request.filters):
        request.addFilter(InvalidJsonFilter())
    updater = logging.getLogger("telegram.ext.Updater")
    if not any(isinstance(f, OneLineTelegramErrorFilter) for f in updater.filters):
        updater.addFilter(OneLineTelegramErrorFilter())
