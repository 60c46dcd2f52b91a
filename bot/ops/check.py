"""`songbot check`: is everything the bot needs there and working, before it runs?

Each check is bounded in time and reports ok, warn or FAIL with one line an operator can act on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bot.config import Config, ConfigError
from bot.ops.operator_db import open_unmigrated
from bot.tls import client_tls
from storage.files import schema_version_of

if TYPE_CHECKING:
    pass


CHECK_TIMEOUT: Final = 20.0


OK: Final = "ok"


WARN: Final = "warn"


FAIL: Final = "FAIL"


# ------------------------------------------------------------------------------------- check
@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(format_report([Check("config", FAIL, str(exc))]))
        return 1
    from bot.ops.logging_setup import setup_logging

    setup_logging("WARNING", "text", config.secrets)
    checks = asyncio.run(run_checks(config, timeout=float(args.timeout)))
    print(format_report(checks))
    return 1 if any(c.status == FAIL for c in checks) else 0


def format_report(checks: Sequence[Check]) -> str:
    width = max((len(c.name) for c in checks), default=8)
    lines = ["songbot check"]
    lines += [f"  {c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks]
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    if failed:
        lines.append(f"{failed} of {len(checks)} checks failed.")
    else:
        extra = f" ({warned} warning{'s' if warned != 1 else ''})" if warned else ""
        lines.append(f"All {len(checks)} checks passed{extra}.")
    return "\n".join(lines)


async def run_checks(config: Config, *, timeout: float = CHECK_TIMEOUT) -> list[Check]:
    """Every check, in a fixed order; details are redacted of the configured secrets."""
    from bot.ops.logging_setup import Redactor

    redact = Redactor(config.secrets)
    checks = [_config_check(config), *_spending_checks(config)]
    checks += await _guard("telegram", _telegram_checks(config), timeout)
    checks += await _guard("aimlapi", _aimlapi_check(config), timeout)
    checks += await _guard("models", _models_check(config), timeout)
    checks += await _guard("ffmpeg", _ffmpeg_check(), timeout)
    if config.database_url is not None:
        database = _postgres_check(config.database_url.get())
    else:
        database = _database_check(config.db_path)
    checks += await _guard("database", database, timeout)
    return [Check(c.name, c.status, redact(c.detail)) for c in checks]


async def _guard(name: str, work: Awaitable[Check | list[Check]], timeout: float) -> list[Check]:
    try:
        result = await asyncio.wait_for(work, timeout=timeout)
    except TimeoutError:
        return [Check(name, FAIL, f"no answer within {timeout:g}s")]
    except Exception as exc:  # a check must report, never crash the report
        return [Check(name, FAIL, f"{type(exc).__name__}: {exc}")]
    return result if isinstance(result, list) else [result]


def _spending_checks(config: Config) -> list[Check]:
    """A bot anyone can find, with no daily limit, lets strangers spend the key's credits."""
    if config.allowed_chat_ids or config.user_daily_limit > 0:
        return []
    return [
        Check(
            "limits",
            WARN,
            "the bot serves every chat and SONGBOT_USER_DAILY_LIMIT is 0: anyone can keep "
            "generations running on your key; set a daily limit or SONGBOT_ALLOWED_CHAT_IDS",
        )
    ]


def _config_check(config: Config) -> Check:
    mode = "webhook" if config.webhook_url else "long polling"
    port = "off" if config.http_port is None else str(config.http_port)
    if config.webhook_url:
        port = str(config.http_port if config.http_port is not None else 8080)
    return Check(
        "config",
        OK,
        f"{mode}; database {_database_name(config)}; models {config.default_model} / "
        f"{config.instrumental_model} / {config.reference_model}; health port {port}",
    )


async def _telegram_checks(config: Config) -> list[Check]:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError
    from telegram.request import HTTPXRequest

    base = config.telegram_api_base_url
    tls = {"verify": client_tls()}
    request = HTTPXRequest(
        connection_pool_size=2, connect_timeout=10.0, read_timeout=15.0, httpx_kwargs=tls
    )
    updates_request = HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls)
    bot = Bot(
        config.telegram_token.get(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,
        get_updates_request=updates_request,
    )
    try:
        try:
            await bot.initialize()  # getMe
            info = await bot.get_webhook_info()
        except InvalidToken:
            # PTB's message for this error contains the token itself: say it in our words.
            return [Check("telegram", FAIL, f"the bot token was rejected by {base}")]
        except NetworkError as exc:
            return [Check("telegram", FAIL, f"cannot reach {base}: {exc}")]
        except TelegramError as exc:
            return [Check("telegram", FAIL, f"{type(exc).__name__}: {exc}")]
        me = bot.bot
        checks = [Check("telegram", OK, f"token accepted: @{me.username} (id {me.id}) at {base}")]
        checks.append(_webhook_check(config, info.url, info.pending_update_count, info))
        checks.append(inline_check(bool(me.supports_inline_queries), me.username or str(me.id)))
        checks.append(mini_app_check(config, bool(me.has_main_web_app), me.username or str(me.id)))
        return checks
    finally:
        await request.shutdown()
        await updates_request.shutdown()


def inline_check(supported: bool, username: str) -> Check:
    """Inline mode (#26.2): `@bot words` shares a song from the library in any chat. Only
    BotFather switches it on; without it the library still shares by link."""
    if supported:
        return Check("inline", OK, f"inline mode is on: @{username} <words> shares songs")
    # Off is a choice, not a fault: say so and how to switch it on, without a warning.
    return Check(
        "inline",
        OK,
        "inline mode is off, so songs are shared by link only; to let users share with "
        f"@{username} in any chat, send BotFather /setinline, pick @{username} and set a "
        "placeholder (e.g. 'search your songs'); /setinlinefeedback is optional",
    )


def mini_app_check(config: Config, has_main_app: bool, username: str) -> Check:
    """The Mini App (#29): on with SONGBOT_PUBLIC_URL, and where. A group's 📚 button is a link
    to the bot's main Mini App, which only BotFather sets: without it that link opens nothing."""
    if config.public_url is None:
        return Check("mini-app", OK, "off (set SONGBOT_PUBLIC_URL to serve it)")
    port = config.http_port if config.http_port is not None else 8080
    where = f"on at {config.public_url}/app/ (served on port {port} behind your TLS proxy)"
    if has_main_app:
        return Check("mini-app", OK, f"{where}; groups open it as @{username}'s main Mini App")
    return Check(
        "mini-app",
        WARN,
        f"{where}; @{username} has no main Mini App, so the 📚 link in groups opens nothing: "
        f"in BotFather, Bot Settings → Configure Mini App, set {config.public_url}/app/",
    )


def _webhook_check(config: Config, url: str, pending: int, info: Any) -> Check:
    last_error = ""
    if info.last_error_date is not None and info.last_error_message:
        when = info.last_error_date.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        last_error = f"; last delivery error {when}: {info.last_error_message}"
    if config.webhook_url:
        if not config.webhook_secret:
            return Check("webhook", FAIL, "SONGBOT_WEBHOOK_SECRET is required with a webhook")
        if url == config.webhook_url:
            return Check("webhook", OK, f"registered at {url}, {pending} pending{last_error}")
        now = f"currently {url}" if url else "currently none"
        return Check(
            "webhook",
            WARN,
            f"{now}; `songbot run` will register {config.webhook_url}{last_error}",
        )
    if url:
        return Check(
            "webhook",
            WARN,
            f"a webhook is registered ({url}); long polling will remove it at start",
        )
    return Check("webhook", OK, f"none registered (long polling), {pending} pending updates")


async def _models_check(config: Config) -> Check:
    """Which registry models the key can use (`GET /v1/models`); a configured one missing warns,
    and so does music-01 missing whatever is configured (its docs have been hidden since
    2026-08: it may be retired; a chat's /model or `model:01` can still ask for it)."""
    from bot.aimlapi.availability import FALLBACKS
    from bot.aimlapi.client import AimlApiClient
    from bot.aimlapi.errors import ProviderError
    from bot.aimlapi.models import MODELS

    async with AimlApiClient(
        base_url=config.aimlapi_base_url,
        api_key=config.aimlapi_key.get(),
        max_attempts=2,
        backoff_base=0.5,
    ) as client:
        try:
            listed = await client.list_models()
        except ProviderError as exc:
            reason = exc.provider_message or exc.detail or type(exc).__name__
            return Check("models", WARN, f"GET /v1/models did not answer usably ({reason})")
    usable = sorted(m for m in MODELS if m in listed)
    missing = sorted(m for m in MODELS if m not in listed)
    configured = {config.default_model, config.instrumental_model, config.reference_model}
    gone = sorted(configured & set(missing))
    detail = f"usable: {', '.join(usable) or 'none'}"
    if missing:
        detail += f"; not listed: {', '.join(missing)}"
    fallbacks = [
        f"{model} is not listed (it may be retired): its requests go to {FALLBACKS[model]} "
        "once the provider refuses it"
        for model in sorted(FALLBACKS)
        if model in missing
    ]
    if gone:
        detail = f"configured but not listed: {', '.join(gone)}; {detail}"
    if fallbacks:
        detail = f"{'; '.join(fallbacks)}; {detail}"
    return Check("models", WARN if gone or fallbacks else OK, detail)


async def _aimlapi_check(config: Config) -> Check:
    from bot.aimlapi.client import AimlApiClient
    from bot.aimlapi.errors import InvalidApiKey, OutOfCredits, ProviderError

    base = config.aimlapi_base_url
    async with AimlApiClient(
        base_url=base, api_key=config.aimlapi_key.get(), max_attempts=2, backoff_base=0.5
    ) as client:
        try:
            await client.check_key()
        except InvalidApiKey:
            return Check("aimlapi", FAIL, f"the API key was rejected by {base}")
        except OutOfCredits:
            return Check(
                "aimlapi", WARN, f"key accepted by {base}, but the account has no credits"
            )
        except ProviderError as exc:
            reason = exc.provider_message or exc.detail or type(exc).__name__
            status = f"HTTP {exc.http_status}: " if exc.http_status else ""
            return Check("aimlapi", FAIL, f"{base} did not confirm the key ({status}{reason})")
    return Check("aimlapi", OK, f"key accepted by {base}")


async def _ffmpeg_check() -> Check:
    """The codecs the bot really uses, really used: a short tone made into an MP3 by the same
    child process a reference goes through, then decoded back as the cover does."""
    from bot.delivery.codec import CodecMissing, MediaError, self_test

    try:
        return Check("ffmpeg", OK, await self_test(CHECK_TIMEOUT))
    except (CodecMissing, MediaError) as exc:
        return Check("ffmpeg", FAIL, exc.detail or str(exc))


async def _database_check(path: Path) -> Check:
    from storage.db import StorageError, load_migrations

    latest = (await asyncio.to_thread(load_migrations))[-1].version
    if not await asyncio.to_thread(path.exists):
        problem = await asyncio.to_thread(_folder_problem, path)
        if problem:
            return Check("database", FAIL, problem)
        return Check("database", OK, f"{path} does not exist yet; it is created at first start")
    try:
        version = await asyncio.to_thread(schema_version_of, path)
    except sqlite3.Error as exc:
        return Check("database", FAIL, f"{path} is not a usable SQLite database: {exc}")
    if version > latest:
        return Check(
            "database",
            FAIL,
            f"{path} has schema version {version}, newer than this songbot knows ({latest})",
        )
    if version == 0:
        return Check("database", WARN, f"{path} is empty; the bot creates its tables at start")
    try:
        db = await open_unmigrated(path, version)
        try:
            await db.check_writable()
        finally:
            await db.close()
    except StorageError as exc:
        return Check("database", FAIL, str(exc))
    if version < latest:
        return Check(
            "database",
            WARN,
            f"{path}: writable, schema version {version}; the bot applies migrations up to "
            f"{latest} at its next start",
        )
    return Check("database", OK, f"{path}: writable, schema version {version} (current)")


async def _postgres_check(url: str) -> Check:
    """Connect without migrating; the schema version and a write that is rolled back."""
    from storage.db import StorageError, load_migrations
    from storage.open_db import open_database

    latest = (await asyncio.to_thread(load_migrations, "postgresql"))[-1].version
    try:
        db = await open_database(url, migrate_to=0)  # connect only: never migrate from here
    except StorageError as exc:
        return Check("database", FAIL, str(exc))
    try:
        version = await db.schema_version()
        if version > latest:
            return Check(
                "database",
                FAIL,
                f"{db.path} has schema version {version}, newer than this songbot knows "
                f"({latest})",
            )
        if version == 0:
            return Check("database", WARN, f"{db.path} is empty; the bot creates its tables")
        await db.check_writable()
        if version < latest:
            return Check(
                "database",
                WARN,
                f"{db.path}: writable, schema version {version}; the first replica to start "
                f"applies migrations up to {latest}",
            )
        return Check("database", OK, f"{db.path}: writable, schema version {version} (current)")
    except StorageError as exc:
        return Check("database", FAIL, str(exc))
    finally:
        await db.close()


def _folder_problem(path: Path) -> str | None:
    folder = path.resolve().parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"cannot create {path}: {probe} is not writable"
    return None


def _database_name(config: Config) -> str:
    if config.database_url is None:
        return str(config.db_path)
    from storage.postgres_db import redact

    return redact(config.database_url.get())
