"""/start, /help and the command menu.

Why together: the menu registered with `setMyCommands` must list exactly the commands the
handlers serve, and /help describes the same commands.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from bot.aimlapi.models import MODELS
from bot.bot_data import SongbotContext
from bot.config import Config
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Raw, plain, t
from bot.intake.language import chat_language
from bot.intake.parser import MAX_TOTAL_LENGTH
from bot.intake.stars import payments_on
from bot.services import Services
from bot.telegram import callback_data
from bot.telegram.callback_data import Action, pattern
from handlers import admin, cancel, flow, jobs, library, settings, song, stars, write
from handlers.buttons import answer, read_press
from handlers.commands import Command
from handlers.settings import (
    model_lines,
)

log = logging.getLogger(__name__)

COMMANDS: Final = (Command("start", private=0), Command("help", private=1, group=2))


def handlers() -> list[BaseHandler[Update, Any, Any]]:
    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("start", on_start, filters=only_new),
        CommandHandler("help", on_help, filters=only_new),
        CallbackQueryHandler(on_help_button, pattern=pattern(Action.HELP)),
    ]


def declared_commands() -> tuple[Command, ...]:
    """Every command the handlers serve, as each module declares it beside its handlers."""
    modules = (song, write, flow, settings, jobs, library, cancel, stars, admin)
    return (*COMMANDS, *(command for module in modules for command in module.COMMANDS))


def menu_commands(config: Config) -> tuple[tuple[Command, ...], tuple[Command, ...]]:
    """The private-chat and group menus for this configuration, in each scope's menu order."""
    shown = [c for c in declared_commands() if payments_on(config) or not c.paid]
    private = sorted((c for c in shown if c.private is not None), key=lambda c: c.private or 0)
    group = sorted((c for c in shown if c.group is not None), key=lambda c: c.group or 0)
    return tuple(private), tuple(group)


async def register_commands(bot: Bot, config: Config) -> None:
    """Fill Telegram's command menu for private chats and groups, in every catalogue language.
    Every scope is set in full each start, so commands of a switched-off feature disappear."""
    private, group = menu_commands(config)
    for lang in LANGUAGES:
        code = None if lang == DEFAULT_LANGUAGE else lang
        for commands, scope in (
            (private, BotCommandScopeAllPrivateChats()),
            (group, BotCommandScopeAllGroupChats()),
        ):
            await bot.set_my_commands(
                [BotCommand(c.name, plain(c.key, lang)) for c in commands],
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


async def on_start(update: Update, context: SongbotContext) -> None:
    """Welcome with one example that works as-is (in <code>, so a tap copies it)."""
    message = update.effective_message
    if message is None:
        return
    lang = await chat_language(context.services, message)
    await message.reply_text(
        t("start", lang, bot=context.bot.username or "songbot"), do_quote=True
    )


# The /help "more" sections, in button order; the first screen is "main" (issue #25 item 15:
# /help fits one phone screen, the rest is a tap away, and a group gets a short reply).
SECTIONS: Final = ("ways", "models", "refs", "groups", "limits")


def render_limits(services: Services, lang: str | None) -> str:
    config = services.config
    lines = [
        t("help_limits", lang),
        t("help_limit_chars", lang, max_chars=MAX_TOTAL_LENGTH),
        t("help_limit_parallel", lang, per_user=config.max_jobs_per_user),
        t("help_limit_timeout", lang, waited=config.job_timeout),
    ]
    if config.user_daily_limit > 0:
        lines.append(t("help_daily_limit", lang, limit=config.user_daily_limit))
    if config.lyrics_daily_limit > 0:
        lines.append(t("help_write_limit", lang, limit=config.lyrics_daily_limit))
    if payments_on(config):
        key = "help_stars" if config.free_songs_per_day > 0 else "help_stars_no_free"
        lines.append(t(key, lang, price=config.stars_per_song, free=config.free_songs_per_day))
    return "\n".join(lines)


def render_help(
    services: Services, lang: str | None, bot_username: str, section: str = "main"
) -> str:
    """One screen of /help: the first one, or the section a "more" button asks for."""
    if section == "ways":
        return "\n\n".join(
            (
                t("help_forms", lang, bot=bot_username),
                t("help_instrumental", lang),  # #25.2: the one-message instrumental, and /new
                t("help_write", lang),
            )
        )
    if section == "models":
        lines = model_lines(lang, moved=services.models.moved())
        return t("help_models", lang, lines_html=Raw(lines))
    if section == "refs":
        return t("help_references", lang) + "\n" + voice_model_line(services, lang)
    if section == "groups":
        return t("help_groups", lang, bot=bot_username)
    if section == "limits":
        return render_limits(services, lang)
    main = t("help_main", lang)
    if services.config.public_url is not None:  # the Mini App (#29) exists only with a public URL
        main += "\n\n" + t("help_app", lang)
    return main


def help_keyboard(lang: str | None, section: str = "main") -> InlineKeyboardMarkup:
    """The "more" buttons, two a row; a section's screen also has ⬅️ back to the first."""
    buttons = [
        InlineKeyboardButton(
            plain(f"button_help_{name}", lang),
            callback_data=callback_data.build(Action.HELP, name),
        )
        for name in SECTIONS
        if name != section
    ]
    if section != "main":
        buttons.append(
            InlineKeyboardButton(
                plain("button_help_main", lang),
                callback_data=callback_data.build(Action.HELP, "main"),
            )
        )
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def voice_model_line(services: Services, lang: str | None) -> str:
    """Which model sings voice notes now: the configured one, or its fallback once retired."""
    configured = MODELS[services.config.reference_model]
    serving = services.models.route(configured)
    if serving is configured:
        return t("help_voice_model", lang, model=configured.title)
    return t("help_voice_model_moved", lang, old=configured.title, model=serving.title)


async def on_help(update: Update, context: SongbotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    services = context.services
    lang = await chat_language(services, message)
    bot_username = context.bot.username or "songbot"
    if message.chat.type != Chat.PRIVATE:
        # A group (or topic) gets three lines, not a manual: the rest is in the private chat.
        await message.reply_text(t("help_group_short", lang, bot=bot_username), do_quote=True)
        return
    text = render_help(services, lang, bot_username)
    if context.bot.supports_inline_queries:  # only a switched-on inline mode is worth a line
        text += "\n\n" + t("help_inline", lang, bot=bot_username)
    await message.reply_text(text, reply_markup=help_keyboard(lang), do_quote=True)


async def on_help_button(update: Update, context: SongbotContext) -> None:
    """A "more" button: the help message becomes that section (one message, edited)."""
    press = await read_press(update, context)
    if press is None:
        return
    section = press.arg if press.arg in (*SECTIONS, "main") else "main"
    await answer(press.query)
    if press.message_id is None:
        return
    text = render_help(press.services, press.lang, context.bot.username or "songbot", section)
    try:
        await press.bot.edit_message_text(
            chat_id=press.chat.id,
            message_id=press.message_id,
            text=text,
            reply_markup=help_keyboard(press.lang, section),
        )
    except BadRequest as exc:  # "not modified" (a double tap) or the message is gone
        log.info("help edit skipped: %s", exc)
