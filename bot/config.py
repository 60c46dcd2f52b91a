"""The one typed, immutable configuration object, read from the environment (and `.env`).

Why one object: every module gets exactly the values the operator set, validated once at start, and
secrets are wrapped so that printing the config (or an exception holding it) never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values


class ConfigError(ValueError):
    """A missing or malformed setting; the CLI prints it as one line and exits 2."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class Secret:
    """A string that prints as `***` so it cannot leak through repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class StarPack:
    """Credits for `songs` songs, sold for `stars` Telegram Stars in one invoice."""

    songs: int
    stars: int


# Telegram's bounds for one XTR price (a Star amount of an invoice).
MAX_PACK_STARS: Final = 10_000


def default_packs(price: int) -> tuple[StarPack, ...]:
    """One song at the price, five at 10 % off, twenty at 20 % off (50 -> 1:50,5:225,20:800)."""
    if price <= 0:
        return ()
    return tuple(
        StarPack(songs, max(1, round(price * songs * share)))
        for songs, share in ((1, 1.0), (5, 0.9), (20, 0.8))
        if round(price * songs * share) <= MAX_PACK_STARS
    )


LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS: Final = ("text", "json")


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the bot reads from its environment; see the README's configuration table.

    No defaults here: each one is written once, beside its variable's name, in `_parse`.
    """

    telegram_token: Secret
    aimlapi_key: Secret
    telegram_api_base_url: str
    aimlapi_base_url: str
    db_path: Path
    # PostgreSQL instead of SQLite (several replicas may share it); holds a password.
    database_url: Secret | None
    default_model: str
    instrumental_model: str
    reference_model: str
    poll_interval: float
    job_timeout: float
    retention_days: float
    # A song Telegram kept refusing is kept this many days for a re-send (📤 / /jobs); 0: never.
    unsent_audio_days: float
    # At most this many such kept songs per requester (disk): the oldest goes first; 0: no bound.
    unsent_per_user: int
    admin_ids: frozenset[int]
    allowed_chat_ids: frozenset[int]
    user_daily_limit: int
    max_waiting_per_user: int
    # Telegram Stars: 0 stars per song means songs are free (no payments at all).
    stars_per_song: int
    free_songs_per_day: int
    star_packs: tuple[StarPack, ...]
    log_level: str
    log_format: str
    max_jobs_per_user: int
    max_jobs_per_chat: int
    max_jobs_total: int
    lease_seconds: float
    reconcile_grace: float
    temp_dir: Path | None
    webhook_url: str | None
    webhook_secret: Secret | None
    webhook_listen: str
    metrics_token: Secret | None
    http_port: int | None
    # Testing/benchmarks only: compresses Telegram's flood-limit windows by this factor.
    telegram_rate_scale: float
    # Start-up calls to Telegram (getMe, deleteWebhook, setWebhook) retried this often.
    startup_retries: int
    # /write: the AI/ML API chat model that writes lyrics, and how many drafts a user gets a day.
    lyrics_model: str
    lyrics_daily_limit: int
    # Failed or refused references (voice notes, audio files) a user may send in a day before
    # reference requests are refused outright; 0 switches the limit off.
    reference_failure_limit: int
    # --- identity: songs a day that all channel posts and anonymous admins together may ask
    # for on a free bot (each such chat also meets the daily limit); 0: none (#24.2).
    chat_sender_daily_limit: int = 5
    # The Mini App (#29): the public https root the bot's own web server is reachable at; it is
    # served under /app/. None: no Mini App, no menu button.
    public_url: str | None = None

    @property
    def work_dir(self) -> Path:
        """Where temporary audio lives: next to the database unless set: one volume holds all."""
        if self.temp_dir is not None:
            return self.temp_dir
        return self.db_path.resolve().parent / "songbot-tmp"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Raw secret values, for the log redaction filter."""
        values = [self.telegram_token.get(), self.aimlapi_key.get()]
        if self.webhook_secret is not None:
            values.append(self.webhook_secret.get())
        if self.metrics_token is not None:
            values.append(self.metrics_token.get())
        if self.database_url is not None:
            values.extend(_url_secrets(self.database_url.get()))
        return tuple(v for v in values if v)

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"Config({parts})"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
    ) -> Config:
        """Build and validate the config; the process environment wins over `.env`."""
        merged: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        merged.update(os.environ if environ is None else environ)
        return _parse(merged)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is required but not set")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ConfigError(name, f"must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number, got {raw!r}") from None
    if not value >= minimum or value != value or value == float("inf"):
        raise ConfigError(name, f"must be a number >= {minimum:g}, got {raw!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be >= {minimum}, got {raw!r}")
    return value


def _id_set(env: Mapping[str, str], name: str) -> frozenset[int]:
    raw = env.get(name, "").strip()
    if not raw:
        return frozenset()
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise ConfigError(
                name, f"must be comma-separated Telegram ids, {part!r} is not a number"
            ) from None
    return frozenset(ids)


def _packs(env: Mapping[str, str], name: str, price: int) -> tuple[StarPack, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default_packs(price)
    packs: list[StarPack] = []
    for part in raw.split(","):
        songs_raw, sep, stars_raw = part.strip().partition(":")
        try:
            pack = StarPack(int(songs_raw), int(stars_raw))
        except ValueError:
            pack = None
        if not sep or pack is None or not (1 <= pack.songs <= 1000):
            raise ConfigError(name, f"must be songs:stars pairs like 1:50,5:225; got {part!r}")
        if not 1 <= pack.stars <= MAX_PACK_STARS:
            raise ConfigError(name, f"stars per pack must be 1-{MAX_PACK_STARS}; got {part!r}")
        if any(p.songs == pack.songs for p in packs):
            raise ConfigError(name, f"two packs of {pack.songs} songs")
        packs.append(pack)
    return tuple(packs)


def _model(env: Mapping[str, str], name: str, default: str) -> str:
    from bot.aimlapi.models import MODELS  # local import: the registry is data, config is wiring

    value = env.get(name, "").strip() or default
    if value not in MODELS:
        known = ", ".join(sorted(MODELS))
        raise ConfigError(name, f"unknown model {value!r}; known models: {known}")
    return value


def _parse(env: Mapping[str, str]) -> Config:
    token = _required(env, "TELEGRAM_BOT_TOKEN")
    if ":" not in token or any(c.isspace() for c in token):
        raise ConfigError("TELEGRAM_BOT_TOKEN", "does not look like a bot token (<id>:<secret>)")
    key = _required(env, "AIMLAPI_KEY")
    if any(c.isspace() for c in key):
        raise ConfigError("AIMLAPI_KEY", "must not contain whitespace")

    log_level = (env.get("SONGBOT_LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError("SONGBOT_LOG_LEVEL", f"must be one of {', '.join(LOG_LEVELS)}")
    log_format = (env.get("SONGBOT_LOG_FORMAT", "").strip() or "text").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError("SONGBOT_LOG_FORMAT", "must be 'text' or 'json'")

    db_raw = env.get("SONGBOT_DB", "").strip() or "songbot.db"
    url_raw = env.get("SONGBOT_DATABASE_URL", "").strip()
    if url_raw and not url_raw.lower().startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "SONGBOT_DATABASE_URL", "must be a postgresql://user:password@host:port/dbname URL"
        )
    temp_raw = env.get("SONGBOT_TEMP_DIR", "").strip()

    webhook_url = env.get("SONGBOT_WEBHOOK_URL", "").strip() or None
    # Telegram only calls https URLs; plain http is allowed for local tests and proxies.
    local = ("https://", "http://127.0.0.1", "http://localhost")
    if webhook_url is not None and not webhook_url.startswith(local):
        raise ConfigError("SONGBOT_WEBHOOK_URL", "must be an https:// URL")
    secret_raw = env.get("SONGBOT_WEBHOOK_SECRET", "").strip()
    webhook_secret = None
    if secret_raw:
        if not (1 <= len(secret_raw) <= 256) or not all(
            c.isascii() and (c.isalnum() or c in "_-") for c in secret_raw
        ):
            raise ConfigError(
                "SONGBOT_WEBHOOK_SECRET", "must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        webhook_secret = Secret(secret_raw)
    token_raw = env.get("SONGBOT_METRICS_TOKEN", "").strip()
    public_url = env.get("SONGBOT_PUBLIC_URL", "").strip().rstrip("/") or None
    # Telegram opens Mini Apps over https only; http on this machine is for tests and the demo.
    if public_url is not None and not public_url.startswith(local):
        raise ConfigError("SONGBOT_PUBLIC_URL", "must be an https:// URL")
    port_raw = env.get("SONGBOT_HTTP_PORT", "").strip()
    http_port = 8080 if public_url is not None else None
    if port_raw:
        http_port = _int(env, "SONGBOT_HTTP_PORT", 0, minimum=0)
        if http_port > 65535:
            raise ConfigError("SONGBOT_HTTP_PORT", "must be a TCP port (0-65535)")

    stars_per_song = _int(env, "SONGBOT_STARS_PER_SONG", 0, minimum=0)
    if stars_per_song > MAX_PACK_STARS:
        raise ConfigError("SONGBOT_STARS_PER_SONG", f"must be at most {MAX_PACK_STARS}")
    star_packs = _packs(env, "SONGBOT_STAR_PACKS", stars_per_song)
    if stars_per_song and not star_packs:
        raise ConfigError("SONGBOT_STAR_PACKS", "a paying bot needs at least one pack")

    return Config(
        telegram_token=Secret(token),
        aimlapi_key=Secret(key),
        telegram_api_base_url=_url(env, "TELEGRAM_API_BASE_URL", "https://api.telegram.org"),
        aimlapi_base_url=_url(env, "AIMLAPI_BASE_URL", "https://api.aimlapi.com"),
        db_path=Path(db_raw),
        database_url=Secret(url_raw) if url_raw else None,
        default_model=_model(env, "SONGBOT_DEFAULT_MODEL", "minimax/music-2.0"),
        instrumental_model=_model(env, "SONGBOT_INSTRUMENTAL_MODEL", "stable-audio"),
        reference_model=_model(env, "SONGBOT_REFERENCE_MODEL", "music-01"),
        poll_interval=_float(env, "SONGBOT_POLL_INTERVAL", 5.0, minimum=0.05),
        job_timeout=_float(env, "SONGBOT_JOB_TIMEOUT", 900.0, minimum=1.0),
        # Finished jobs (prompts, lyrics, names) are deleted after this many days; 0 keeps them.
        retention_days=_float(env, "SONGBOT_RETENTION_DAYS", 90.0, minimum=0.0),
        unsent_audio_days=_float(env, "SONGBOT_KEEP_UNSENT_DAYS", 7.0, minimum=0.0),
        # A kept song was paid for (#24.1), so a few are worth keeping; a requester whose every
        # upload is refused (~20 songs an hour) must not fill the disk for 7 days.
        unsent_per_user=_int(env, "SONGBOT_KEEP_UNSENT_PER_USER", 5, minimum=0),
        admin_ids=_id_set(env, "SONGBOT_ADMIN_IDS"),
        allowed_chat_ids=_id_set(env, "SONGBOT_ALLOWED_CHAT_IDS"),
        # Safe defaults for a bot anyone can find: every song costs the operator money.
        # 0 switches either off (the README says so first thing).
        user_daily_limit=_int(env, "SONGBOT_USER_DAILY_LIMIT", 5, minimum=0),
        max_waiting_per_user=_int(env, "SONGBOT_MAX_WAITING_PER_USER", 5, minimum=0),
        stars_per_song=stars_per_song,
        free_songs_per_day=_int(env, "SONGBOT_FREE_SONGS_PER_DAY", 1, minimum=0),
        star_packs=star_packs if stars_per_song else (),
        log_level=log_level,
        log_format=log_format,
        max_jobs_per_user=_int(env, "SONGBOT_MAX_JOBS_PER_USER", 2, minimum=1),
        max_jobs_per_chat=_int(env, "SONGBOT_MAX_JOBS_PER_CHAT", 5, minimum=1),
        max_jobs_total=_int(env, "SONGBOT_MAX_JOBS_TOTAL", 20, minimum=1),
        lease_seconds=_float(env, "SONGBOT_LEASE_SECONDS", 30.0, minimum=0.5),
        reconcile_grace=_float(env, "SONGBOT_RECONCILE_GRACE", 120.0, minimum=0.0),
        temp_dir=Path(temp_raw) if temp_raw else None,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        # The port must face Telegram in webhook mode; in polling mode it only serves /healthz
        # and /metrics, so it stays on this machine unless the operator says otherwise.
        webhook_listen=env.get("SONGBOT_WEBHOOK_LISTEN", "").strip()
        or ("0.0.0.0" if webhook_url else "127.0.0.1"),
        metrics_token=Secret(token_raw) if token_raw else None,
        http_port=http_port,
        telegram_rate_scale=_float(env, "SONGBOT_TG_RATE_SCALE", 1.0, minimum=1.0),
        # 8 retries: about a minute of back-off (1 s, x1.5 up to 30 s) before giving up.
        startup_retries=_int(env, "SONGBOT_STARTUP_RETRIES", 8, minimum=0),
        # A fast, cheap chat model: a draft is a few hundred tokens (issue #18).
        lyrics_model=_chat_model(env, "SONGBOT_LYRICS_MODEL", "gpt-4o-mini"),
        # Drafts cost tokens, not songs: a limit of their own; 0 switches it off.
        lyrics_daily_limit=_int(env, "SONGBOT_LYRICS_DAILY_LIMIT", 20, minimum=0),
        # A bad reference costs the operator conversion time, not credits, so failures are free;
        # without a cap one user could send transcode bombs all day (#17.4).
        reference_failure_limit=_int(env, "SONGBOT_REFERENCE_FAILURE_LIMIT", 5, minimum=0),
        # One person can create any number of groups and channels, each its own requester: the
        # songs all of them get together must have one bound (#24.2).
        chat_sender_daily_limit=_int(env, "SONGBOT_CHAT_SENDER_DAILY_LIMIT", 5, minimum=0),
        public_url=public_url,
    )


def _chat_model(env: Mapping[str, str], name: str, default: str) -> str:
    """A chat model id as the AI/ML API spells them (`gpt-4o-mini`, `openai/gpt-4.1-mini`)."""
    value = env.get(name, "").strip() or default
    if len(value) > 128 or not all(c.isascii() and (c.isalnum() or c in "._-/:") for c in value):
        raise ConfigError(name, "must be a model id such as gpt-4o-mini")
    return value


def _url_secrets(url: str) -> list[str]:
    """The URL and its password, for the log redaction filter (redacted forms stay readable)."""
    password = urlsplit(url).password
    if not password:
        return []  # nothing secret in it: the URL may be printed (as it is by `songbot check`)
    return [url, unquote(password), password]
