"""What each environment variable means, for operators: docs/configuration.md is generated from it.

Why apart from `config.py`: the defaults stay written once, beside each variable in `config._parse`
(`scripts/config_docs.py` reads them from there); this module only says what a setting is for.
`DEFAULT_TEXT` names the defaults that are computed rather than written as one value.
"""

from typing import Final

MEANING: Final[dict[str, str]] = {
    "TELEGRAM_BOT_TOKEN": "the bot's token from BotFather",
    "AIMLAPI_KEY": "AI/ML API key",
    "TELEGRAM_API_BASE_URL": (
        "methods at `{base}/bot{token}/{method}`, files at `{base}/file/bot{token}/{path}` (also "
        "for a self-hosted Bot API server)"
    ),
    "AIMLAPI_BASE_URL": "provider root",
    "SONGBOT_DB": "SQLite file (its folder is created)",
    "SONGBOT_DATABASE_URL": (
        "`postgresql://user:password@host:port/dbname` (PostgreSQL 13+): several `songbot run` "
        "replicas may share it (see [Running more than one](operations.md#running-more-than-one)); a bad URL "
        "or a server that is down stops the start with exit 2 and one line, the password never "
        "printed"
    ),
    "SONGBOT_DEFAULT_MODEL": "model for requests with lyrics and no reference",
    "SONGBOT_INSTRUMENTAL_MODEL": "model for requests with no lyrics",
    "SONGBOT_REFERENCE_MODEL": "model for voice-note / audio references",
    "SONGBOT_POLL_INTERVAL": "base seconds between status checks near the expected finish (floats allowed)",
    "SONGBOT_JOB_TIMEOUT": "seconds before a pending job is given up (also bounds each audio download)",
    "SONGBOT_RETENTION_DAYS": (
        "finished jobs (prompts, lyrics, names) are deleted this many days after they "
        "finished, `/write` drafts (ideas, lyrics) this many days after their last change, "
        "and display names of users not seen for as long are blanked, at start and every 6 "
        "hours; the usage ledger behind daily limits and payments is kept, and so is the "
        "library of delivered songs (until their owners delete them); `0` keeps everything"
    ),
    "SONGBOT_KEEP_UNSENT_DAYS": (
        "a finished song that Telegram kept refusing to take is kept this long (in the temp "
        "folder's `kept.d/`) so the user can re-send it with 📤 Send again or ▶️ in `/jobs`, "
        "without a new generation or charge; swept with the retention run; `0` keeps none"
    ),
    "SONGBOT_KEEP_UNSENT_PER_USER": (
        "at most this many such kept songs per requester (the oldest is dropped first); `0`: "
        "no bound"
    ),
    "SONGBOT_REFERENCE_FAILURE_LIMIT": (
        "voice notes / audio files per user and UTC day that may fail (unreadable, no audio, too "
        "long or short once converted); after that the user's reference requests are refused "
        "until tomorrow (songs without one still work). Failed references cost no quota but do "
        "cost conversions; `0` switches it off"
    ),
    "SONGBOT_ADMIN_IDS": "comma-separated Telegram user ids of operators",
    "SONGBOT_ALLOWED_CHAT_IDS": "comma-separated chat ids the bot serves",
    "SONGBOT_USER_DAILY_LIMIT": (
        "generations per user per UTC day (failed ones and cancels before the paid call don't "
        "count); `0` = unlimited. **The first setting to raise** for a bot among friends; keep a "
        "limit on a bot anyone can find, since every song is paid from your key"
    ),
    "SONGBOT_LYRICS_MODEL": (
        "AI/ML API chat model that writes `/write` drafts (OpenAI-compatible "
        "`/v1/chat/completions`, same key)"
    ),
    "SONGBOT_LYRICS_DAILY_LIMIT": (
        "`/write` drafts (each 🔄 counts) per user per UTC day, separate from the song limit; "
        "enforced atomically; a draft the provider failed to write does not count; `0` = "
        "unlimited"
    ),
    "SONGBOT_MAX_WAITING_PER_USER": (
        "a user's songs waiting for a free slot at once; more are refused with a reply; `0` = no "
        "cap. The second setting to raise"
    ),
    "SONGBOT_STARS_PER_SONG": (
        "price of one song in Telegram Stars; `0` = songs are free (no payments). Above 0, a song"
        " costs one credit, bought in packs (see [Paying with Telegram "
        "Stars](usage.md#paying-with-telegram-stars))"
    ),
    "SONGBOT_FREE_SONGS_PER_DAY": "with a price: each user's first songs every UTC day that cost nothing",
    "SONGBOT_STAR_PACKS": "packs as `songs:stars`, e.g. `1:50,5:225,20:800`; each pack 1-10,000 Stars",
    "SONGBOT_MAX_JOBS_PER_USER": "a user's songs generating at once; more wait their turn",
    "SONGBOT_MAX_JOBS_PER_CHAT": "a chat's songs generating at once",
    "SONGBOT_MAX_JOBS_TOTAL": "songs generating at once, bot-wide (the provider's paid tier allows 20 concurrent)",
    "SONGBOT_LOG_LEVEL": "logging level",
    "SONGBOT_LOG_FORMAT": "`text` or `json` (one JSON object per line)",
    "SONGBOT_TEMP_DIR": "where audio lives between download and upload",
    "SONGBOT_LEASE_SECONDS": "how long a job claimed by a runner stays claimed without renewal",
    "SONGBOT_RECONCILE_GRACE": "how long a submit with an unknown outcome is looked for in the provider's request log",
    "SONGBOT_TG_RATE_SCALE": (
        "testing only: runs Telegram's flood-limit windows this many times faster (the tests pair"
        " it with a fake Telegram whose clock runs as fast)"
    ),
    "SONGBOT_WEBHOOK_URL": "public https URL: serve a webhook instead of long polling",
    "SONGBOT_WEBHOOK_SECRET": "required with a webhook: 1-256 chars `A-Za-z0-9_-`",
    "SONGBOT_WEBHOOK_LISTEN": (
        "address the webhook/health server binds (in polling mode the port serves only `/healthz`"
        " and `/metrics`, so it stays on this machine; the Docker image sets `0.0.0.0`, and "
        "compose publishes it on the host's `127.0.0.1` only)"
    ),
    "SONGBOT_METRICS_TOKEN": (
        "when set, `/metrics` wants `Authorization: Bearer <token>` (401 otherwise); `/healthz` "
        "stays open, it tells no more than up or down"
    ),
    "SONGBOT_HTTP_PORT": "port of the webhook, `/healthz` and `/metrics` server",
    "SONGBOT_STARTUP_RETRIES": (
        "how often the start-up calls to Telegram (`getMe`, `deleteWebhook`, `setWebhook`, "
        "`setMyCommands`) are retried, with back-off from 1 s up to 30 s, before the bot gives up "
        "with one line"
    ),
    "SONGBOT_CHAT_SENDER_DAILY_LIMIT": (
        "songs per UTC day that all channel posts and anonymous admins together may ask for "
        "(each such chat also meets `SONGBOT_USER_DAILY_LIMIT`), bot-wide; `0` = none. With "
        "Stars on they get none (see Security)"
    ),
    "SONGBOT_PUBLIC_URL": (
        "the public https root of the bot's web server (behind your TLS proxy), e.g. "
        "`https://bot.example.com`: the Mini App is served at `<url>/app/`, the chat menu button "
        "opens it, and 📚 buttons appear under songs (see [Mini App](usage.md#the-mini-app)); "
        "needs `SONGBOT_HTTP_PORT` (8080 when unset)"
    ),
}

# Defaults that depend on other settings, described instead of written as one value.
DEFAULT_TEXT: Final[dict[str, str]] = {
    "SONGBOT_DATABASE_URL": "empty = SQLite",
    "SONGBOT_ADMIN_IDS": "empty",
    "SONGBOT_ALLOWED_CHAT_IDS": "empty = everyone",
    "SONGBOT_STAR_PACKS": "from the price: `1:P,5:4.5P,20:16P`",
    "SONGBOT_TEMP_DIR": "`<db folder>/songbot-tmp`",
    "SONGBOT_WEBHOOK_URL": "empty",
    "SONGBOT_WEBHOOK_SECRET": "empty",
    "SONGBOT_WEBHOOK_LISTEN": "`0.0.0.0` with a webhook, else `127.0.0.1`",
    "SONGBOT_METRICS_TOKEN": "empty",
    "SONGBOT_HTTP_PORT": "off (polling) / `8080` (webhook or Mini App)",
    "SONGBOT_PUBLIC_URL": "empty (no Mini App)",
}
