"""📚 buttons that open the Mini App (#29), where Telegram allows each kind.

Why two kinds: a `web_app` inline button opens the app with a signed initData, but Telegram
accepts it only in private chats. In a group the button is a t.me link to the bot's main Mini App
(`?startapp=`), whose start parameter names the group (`g<chat id>`, '-' written '_' because
start parameters allow only letters, digits, '_' and '-'; bot/webapp/access.py reads it back).
Nothing is shown without SONGBOT_PUBLIC_URL: there is no app to open.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, WebAppInfo

from bot.i18n import plain


def app_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/app/"


def group_start_param(chat_id: int) -> str:
    return "g" + str(chat_id).replace("-", "_")


def private_app_button(public_url: str, lang: str | None) -> InlineKeyboardButton:
    """Opens the app in place, for a private chat."""
    return InlineKeyboardButton(
        plain("app_open_button", lang), web_app=WebAppInfo(url=app_url(public_url))
    )


def group_app_button(bot_username: str, chat_id: int, lang: str | None) -> InlineKeyboardButton:
    """Opens the bot's main Mini App on this group's songs (members only, checked by the app)."""
    url = f"https://t.me/{bot_username}?startapp={group_start_param(chat_id)}"
    return InlineKeyboardButton(plain("app_open_button", lang), url=url)


def app_button(
    public_url: str | None, bot_username: str, chat_id: int, chat_type: str, lang: str | None
) -> InlineKeyboardButton | None:
    """The right 📚 button for a chat, or None when the app is off."""
    if public_url is None:
        return None
    if chat_type == "private":
        return private_app_button(public_url, lang)
    return group_app_button(bot_username, chat_id, lang)
