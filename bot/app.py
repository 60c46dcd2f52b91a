"""The composition root: build the Application, register every handler in order, own lifecycles.

Services (DB, AI/ML API client, runner, background loops) start in `start_services` (PTB's
`post_init`), each registering its stop with the application's lifecycle; `close_services` (PTB's
`post_stop` and `post_shutdown`) stops them all once. `bot/ops/serve.py` runs the whole order for
polling, webhook, the demo and the tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    Defaults,
)

from bot.bot_data import CONTEXT_TYPES, BotData, bot_data_of
from bot.config import Config
from bot.delivery.media import find_ffmpeg
from bot.engine.runner import JobRunner
from bot.intake.stars import payments_on
from bot.intake.stars_reconcile import MissedPaymentWatch
from bot.lifecycle import Lifecycle
from bot.ops.metrics import Metrics
from bot.periodic import Background
from bot.services import Services
from bot.telegram.confirming_bot import ConfirmAfterHandlingBot, TrackingProcessor
from bot.telegram.flood import (
    CHAT_BURST,
    CHAT_INTERVAL,
    FLEET_INTERVAL,
    GROUP_INTERVAL,
    OVERALL_INTERVAL,
    OVERALL_WINDOW,
    MessageRateLimiter,
)
from bot.telegram.poller_gate import PollerGate
from bot.telegram.startup import FIRST_DELAY, brief, is_retryable, retry_delay, retry_telegram
from bot.telegram.transport import make_requests

log = logging.getLogger(__name__)

# Only what the bot handles; Telegram keeps this setting, so it is always sent explicitly.
# pre_checkout_query is not in Telegram's default list: without it no Stars payment completes.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.PRE_CHECKOUT_QUERY,
    # Inline mode (#26.2): `@bot words` shares a song from the library in any chat.
    Update.INLINE_QUERY,
    Update.CHOSEN_INLINE_RESULT,
]


def build_application(
    config: Config, *, metrics: Metrics | None = None, polling: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A ready-to-run Application for `config`; nothing is opened until it starts."""
    base = config.telegram_api_base_url
    metrics = metrics or Metrics()
    # Every Bot API call and file download is timed and its errors counted (bot/telegram_request).
    request, updates_request = make_requests(metrics)
    bot = ConfirmAfterHandlingBot(
        config.telegram_token.get(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=request,  # timeouts: connect 10 s, read/write 30 s, media upload 120 s
        get_updates_request=updates_request,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        # Telegram's flood limits on message-sending methods only (bot/telegram/flood.py), waited
        # out client-side so Telegram never has to say 429 (one that still comes is retried after
        # retry_after): one message every 1/27 s overall, one per 3.5 s in each group, and in a
        # private chat a burst of 4, then one a second; and never more than 28 really sent in
        # any second, however late a busy event loop wakes them. Even pacing, not blocks:
        # Telegram counts 30 in any sliding second and 20 in any sliding minute, and blocks sent
        # at the edge of the window spill over it with any network jitter (bench 6: 240 429s in
        # a burst of 1,000); the gap between slots absorbs it.
        rate_limiter=MessageRateLimiter(
            overall_limit=1,
            overall_period=OVERALL_INTERVAL / config.telegram_rate_scale,
            group_limit=1,
            group_period=GROUP_INTERVAL / config.telegram_rate_scale,
            chat_burst=CHAT_BURST,
            chat_interval=CHAT_INTERVAL / config.telegram_rate_scale,
            overall_window=(OVERALL_WINDOW[0], OVERALL_WINDOW[1] / config.telegram_rate_scale),
            fleet_interval=FLEET_INTERVAL / config.telegram_rate_scale,
            max_retries=3,
        ),
    )
    bot.hide_secrets(config.secrets)  # never in a text sent to a chat (#24.6)
    builder = (
        ApplicationBuilder()
        .bot(bot)
        # Handlers only validate, store and reply; running them concurrently keeps bursts fast.
        .concurrent_updates(TrackingProcessor(64, bot.handled))
        .context_types(CONTEXT_TYPES)
        .post_init(start_services)
        # One idempotent close for both: whichever comes first stops everything.
        .post_stop(close_services)
        .post_shutdown(close_services)
    )
    if not polling:
        builder = builder.updater(None)  # webhook mode: bot/ops/web.py feeds the update queue
    app = builder.build()
    data = bot_data_of(app)
    data.config = config
    data.metrics = metrics
    register_handlers(app)
    return app


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler, in order. Order matters: the first matching handler in a group wins."""
    from handlers import (
        admin,
        buttons,
        cancel,
        errors,
        flow,
        gate,
        health,
        help,
        jobs,
        remake,
        resend,
        settings,
        song,
        song_lyrics,
        stars,
        write,
    )

    # Group -2: count every update and refresh "last seen" for health, then fall through.
    for handler in health.observers():
        app.add_handler(handler, group=-2)
    # Group -1 (one handler runs per group, so a group of its own): chats the bot does not
    # serve get one notice, then silence, from every command and button.
    for handler in gate.handlers():
        app.add_handler(handler, group=-1)
    features = (
        # Telegram Stars first: a payment message and a pre-checkout (10 s to answer) must be
        # credited and answered before any other handler could take the update; then /buy,
        # /balance, /refund and the pack buttons.
        stars,
        # /song (text, caption on media, reply forms): the reason the bot exists.
        song,
        # /cancel and ❌ under status messages and in /jobs: first, a cancel must never wait.
        cancel,
        # 🔁 Again and 🎲 Variation: new jobs through the same intake as /song.
        remake,
        # /write and its preview's buttons: lyrics from an idea (a chat completion, no song);
        # 🎵 Make this song goes through the same intake as /song.
        write,
        # 📝 Lyrics, ▶️ re-send from /jobs, 📤 a kept song: no charge, no provider call.
        song_lyrics,
        resend,
        # /new, `/start new` (before /start) and the guided flow's buttons (#26.3).
        flow,
        # /start, /help, /jobs: everyone's commands.
        help,
        jobs,
        # /model, /language and their menus: per chat (admins only in groups).
        settings,
        # /stats, /ban, /unban, /requests: operators and group admins.
        admin,
    )
    # The library and sharing (#26): ahead of the features, so that a song's link (/start s_…)
    # wins over /start and a pending ✏️ Rename takes the user's next private text before
    # anything that answers plain text. Each matches only its own updates (its commands, its
    # callback data, inline queries); payments and every feature's own updates pass by.
    from handlers import library, library_share

    for handler in (*library_share.handlers(bot_data_of(app)), *library.handlers()):
        app.add_handler(handler)
    for feature in features:
        for handler in feature.handlers():
            app.add_handler(handler)
    # An answer to every private message (#25.1): after every command above had its chance,
    # plain text (the guided flow), recordings, unknown commands and anything else.
    for handler in flow.fallback_handlers():
        app.add_handler(handler)
    # After every button: our data that no handler accepted (an older menu) stops the spinner.
    for handler in buttons.fallback_handlers():
        app.add_handler(handler)
    # Last: one place turns every unexpected error into a log line and a friendly reply.
    app.add_error_handler(errors.on_error)


def mini_app_routes(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> list[Any]:
    """The Mini App's routes on the bot's own port, when it has a public URL (#29)."""
    if config.public_url is None:
        return []
    from bot.webapp.api import MiniApp

    return MiniApp(app, token=config.telegram_token.get(), public_url=config.public_url).routes()


async def start_services(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Open the DB, the provider client and the temp folder; start the runner and the loops.

    Every start is followed at once by registering its stop with the application's lifecycle
    (bot/lifecycle.py), so a step that fails leaves nothing the earlier ones started running.
    """
    data = bot_data_of(app)
    life, config = data.lifecycle, data.config
    find_ffmpeg()  # fail at start, not at the first reference, if ffmpeg is missing
    services = await Services.open(config, metrics=data.metrics, bot=app.bot)
    life.on_close(services.close, "the database and the AI/ML API client")
    # The engine on top of the finished services; it reads what they tell it through the link
    # they were built with (`services.engine`). Started below, once leases are sorted out.
    runner = JobRunner(services, app.bot)
    data.services, data.runner = services, runner
    life.on_close(_forget_services(data), "the services")
    life.on_close(services.boards.close, "the group status boards")  # before PTB's HTTP client
    swept = services.temp.sweep(max_age_seconds=6 * 3600)
    if swept:
        log.info("removed %d stale temporary files", swept)
    if services.db.shared:
        await _join_fleet(app, services)
    elif data.sole_instance:
        # The instance lock proves every predecessor dead: take their leases back now.
        released = await services.jobs.release_every_lease(now=time.time())
        if released:
            log.info("took over %d job(s) from the previous run", released)
    runner.start()
    # A second stop signal hurries the stop: running steps get no grace period.
    life.on_close(lambda: runner.stop(grace=0.0 if life.hurried else 3.0), "the job runner")
    # Retention (#17.11): finished jobs past SONGBOT_RETENTION_DAYS, now and every few hours.
    from bot.ops.retention import retention_sweeper

    _start_loop(life, retention_sweeper(services))
    if payments_on(config):
        # Payments Telegram took that the ledger lacks (an update lost to a crash or a failed
        # write) are credited from Telegram's record, at start and every few minutes (#19).
        watch = MissedPaymentWatch(app.bot, services.stars, config.free_songs_per_day)
        _start_loop(life, watch.loop())
    await _set_command_menu(app)
    if config.http_port is not None and app.updater is not None:
        # Polling mode with health/metrics switched on (webhook mode serves them itself).
        from bot.ops.web import WebServer

        server = WebServer(
            app,
            host=config.webhook_listen,
            port=config.http_port,
            metrics_token=config.metrics_token.get() if config.metrics_token else None,
            extra_routes=mini_app_routes(app, config),
        )
        await server.start()
        life.on_close(server.stop, "the HTTP server")
        data.web_server = server


def _forget_services(data: BotData) -> Callable[[], Awaitable[None]]:
    async def forget() -> None:
        data.services, data.runner = None, None

    return forget


def _start_loop(life: Lifecycle, loop: Background) -> None:
    loop.start()
    life.on_close(loop.stop, loop.name)


async def close_services(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop everything `start_services` started, latest first, once (PTB's post_stop and
    post_shutdown both point here; the second call finds nothing left to do)."""
    await bot_data_of(app).lifecycle.close()


async def _join_fleet(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    """A replica on a shared database (PostgreSQL): heartbeats and take-overs (bot/engine/
    fleet.py), a wake-up on every new job or freed slot from any replica (LISTEN), its share of
    the flood budget, and in polling mode the poller lock in front of getUpdates."""
    from bot.engine.fleet import Fleet
    from storage.flood_slots import FloodSlots
    from storage.instances import InstanceStore
    from storage.jobs import WORK_CHANNEL
    from storage.poller_lock import PollerLock

    data = bot_data_of(app)
    life = data.lifecycle
    limiter = app.bot.rate_limiter
    flood = FloodSlots(services.db)
    if isinstance(limiter, MessageRateLimiter):
        limiter.use_shared(flood)
    fleet = Fleet(
        InstanceStore(services.db),
        services.engine.owner,
        wake=services.engine.wake,
        on_share=limiter.share if isinstance(limiter, MessageRateLimiter) else lambda n: None,
        on_role=data.metrics.set_role,
        flood=flood,
    )
    await fleet.start()
    life.on_close(fleet.stop, "the fleet heartbeat")
    data.fleet = fleet
    services.db.subscribe(WORK_CHANNEL, services.engine.notified)
    bot = app.bot
    if app.updater is not None and isinstance(bot, ConfirmAfterHandlingBot):
        url = services.config.database_url
        assert url is not None  # a shared database is PostgreSQL, set by its URL
        gate = PollerGate(PollerLock(url.get()), on_role=fleet.set_role)
        bot.gate_polling(gate)
        # Runs after the updater stopped (stops run latest first): a successor may poll.
        life.on_close(gate.release, "the poller lock")


# How long the command menu keeps being retried in the background before the bot says it gave up.
MENU_BUDGET = 300.0


async def _set_command_menu(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu: tried once now; if Telegram is having a bad moment, retried in the
    background (after the wait Telegram asked for). It is cosmetic: a warning, never a stop."""
    from handlers.help import register_commands

    data = bot_data_of(app)
    config = data.config
    try:
        await register_commands(app.bot, config)
        return
    except TelegramError as exc:
        if not is_retryable(exc):
            log.warning("the command menu could not be set: %s", brief(exc))
            return
        first_wait = retry_delay(exc, FIRST_DELAY)
        log.warning(
            "the command menu could not be set yet (%s); retrying in the background",
            brief(exc),
        )

    async def retry() -> None:
        await asyncio.sleep(first_wait)  # a 429's retry_after is honoured from the first retry
        try:
            await retry_telegram(
                lambda: register_commands(app.bot, config),
                what="setMyCommands",
                budget=MENU_BUDGET,
            )
            log.info("the command menu is set")
        except TelegramError as exc:
            log.warning("the command menu could not be set: %s", brief(exc))

    _start_loop(data.lifecycle, Background("songbot-command-menu", retry))


__all__ = [
    "ALLOWED_UPDATES",
    "build_application",
    "close_services",
    "start_services",
]
