"""/start, /help and the command menu.

Why together: the menu registered with `setMyCommands` must list exactly the commands the
handlers serve, and /help describes the same commands.
"""

from __future__ import annotations

from typing import Any, Final

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.aimlapi.models import MODELS
from bot.config import Config
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Raw, plain, t
from bot.intake.language import chat_language
from bot.intake.parser import MAX_TOTAL_LENGTH
from bot.intake.stars import payments_on
from bot.services import Services, get_services
from handlers.settings import (
    model_lines,
)

PRIVATE_COMMANDS: Final = (
    "start",
    "help",
    "song",
    "write",
    "model",
    "jobs",
    "songs",
    "cancel",
    "language",
)


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("start", on_start, filters=only_new),
        CommandHandler("help", on_help, filters=only_new),
    ]


GROUP_COMMANDS: Final = ("song", "write", "help", "model", "jobs", "songs", "cancel")
# Shown only while the bot sells songs (SONGBOT_STARS_PER_SONG > 0): a free bot answers /buy with
# "nothing to buy", which a menu should not advertise. Groups get them too: a song asked for in a
# group is paid for there, and the packs are offered in the group.
STARS_COMMANDS: Final = ("buy", "balance")


def menu_commands(config: Config) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The private-chat and group menus for this configuration."""
    extra = STARS_COMMANDS if payments_on(config) else ()
    return (*PRIVATE_COMMANDS, *extra), (*GROUP_COMMANDS, *extra)


async def register_commands(bot: Bot, config: Config) -> None:
    """Fill Telegram's command menu for private chats and groups, in every catalogue language.
    Every scope is set in full each start, so commands of a switched-off feature disappear."""
    private, group = menu_commands(config)
    for lang in LANGUAGES:
        code = None if lang == DEFAULT_LANGUAGE else lang
        for names, scope in (
            (private, BotCommandScopeAllPrivateChats()),
            (group, BotCommandScopeAllGroupChats()),
        ):
            await bot.set_my_commands(
                [BotCommand(name, plain(f"cmd_{name}", lang)) for name in names],
                scope=scope,
                language_code=code,
            )
    # The Mini App (#29): the menu button beside the text field opens it. One label for every
    # language: setChatMenuButton has no language_code.
    if config.public_url is not None:
        await bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(
                text=plain("app_menu_button", DEFAULT_LANGUAGE),
                web_app=WebAppInfo(url=f"{config.public_url}/app/"),
            )
        )


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome with one example that works as-is (in <code>, so a tap copies it)."""
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(get_services(context), message)
    await message.reply_text(
        t("start", lang, bot=context.bot.username or "songbot"), do_quote=True
    )


def render_help(services: Services, lang: str | None, bot_username: str) -> str:
    """Every /song form, the models and what each needs, the limits and the group rules."""
    config = services.config
    limits = t(
        "help_limits",
        lang,
        max_chars=MAX_TOTAL_LENGTH,
        per_user=config.max_jobs_per_user,
        minutes=max(1, round(config.job_timeout / 60)),
    )
    if config.user_daily_limit > 0:
        limits += "\n" + t("help_daily_limit", lang, limit=config.user_daily_limit)
    if config.lyrics_daily_limit > 0:
        limits += "\n" + t("help_write_limit", lang, limit=config.lyrics_daily_limit)
    if payments_on(config):
        limits += "\n" + t(
            "help_stars", lang, price=config.stars_per_song, free=config.free_songs_per_day
        )
    parts = [
        t("help_forms", lang, bot=bot_username) + "\n" + voice_model_line(services, lang),
        t("help_write", lang),
        t("help_models", lang, lines_html=Raw(model_lines(lang, moved=services.models.moved()))),
        limits,
        t("help_buttons", lang),
        t("help_groups", lang, bot=bot_username),
    ]
    if config.public_url is not None:  # the Mini App (#29) exists only with a public URL
        parts.append(t("help_app", lang))
    return "\n\n".join(parts)


def voice_model_line(services: Services, lang: str | None) -> str:
    """Which model sings voice notes now: the configured one, or its fallback once retired."""
    configured = MODELS[services.config.reference_model]
    serving = services.models.route(configured)
    if serving is configured:
        return t("help_voice_model", lang, model=configured.title)
    return t("help_voice_model_moved", lang, old=configured.title, model=serving.title)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    services = get_services(context)
    lang = await chat_language(services, message)
    text = render_help(services, lang, context.bot.username or "songbot")
    if context.bot.supports_inline_queries:  # only a switched-on inline mode is worth a line
        text += "\n\n" + t("help_inline", lang, bot=context.bot.username or "songbot")
    await message.reply_text(text, do_quote=True)
