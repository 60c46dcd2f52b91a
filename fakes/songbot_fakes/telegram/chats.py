"""The bot, its chats and members, its commands and menu button."""

from __future__ import annotations

import copy
import json

from songbot_fakes.telegram._common import (
    _BOT_COMMAND_RE,
    _LANGUAGE_RE,
    JSON,
    _bad,
)
from songbot_fakes.telegram.messages import _Messages
from songbot_fakes.telegram.records import (
    UploadedFile,
)


class _Chats(_Messages):
    """The bot, its chats and members, its commands and menu button."""

    async def _true(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return dict(self.bot_user)

    @staticmethod
    def _scope_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    async def _set_chat_menu_button(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """The bot's menu button (all private chats, or one): Telegram opens a web_app only
        over https, and its label is 1-64 characters."""
        button = params.get("menu_button") or {"type": "default"}
        kind = button.get("type")
        if kind not in ("default", "commands", "web_app"):
            raise _bad("BUTTON_TYPE_INVALID")
        if kind == "web_app":
            url = str((button.get("web_app") or {}).get("url", ""))
            if not url.startswith("https://"):
                raise _bad("BUTTON_URL_INVALID")
            if not 1 <= len(str(button.get("text", ""))) <= 64:
                raise _bad("BUTTON_TEXT_INVALID")
        self.menu_buttons[params.get("chat_id")] = copy.deepcopy(button)
        return True

    async def _get_chat_menu_button(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return copy.deepcopy(self.menu_buttons.get(params.get("chat_id"), {"type": "default"}))

    async def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _BOT_COMMAND_RE.fullmatch(command["command"]):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code") or ""
        if not _LANGUAGE_RE.fullmatch(language):
            raise _bad("invalid language code specified")
        key = self._scope_key(params.get("scope"), language)
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._scope_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _member(self, status: str, user: JSON) -> JSON:
        """A ChatMember of `status` with every field the spec requires."""
        subtype = next(
            spec
            for name in self.spec.types["ChatMember"].subtypes
            for spec in [self.spec.types[name]]
            if spec.fields["status"].constant == status
        )
        member: JSON = {"status": status, "user": user}
        for name, field_spec in subtype.fields.items():
            if name in member or not field_spec.required:
                continue
            if field_spec.types == ("Boolean",):
                member[name] = (
                    status == "administrator"
                    and name.startswith("can_")
                    and (name != "can_be_edited")
                )
            elif field_spec.types == ("Integer",):
                member[name] = 0
        return member

    async def _get_chat_member(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        user_id = params["user_id"]
        if user_id == self.bot_user["id"]:
            user = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        elif user_id in self._users:
            user = dict(self._users[user_id])
            user.pop("language_code", None)
        else:
            raise _bad("user not found")
        status = chat.statuses.get(user_id)
        if status is None:
            status = "administrator" if user_id in chat.admins else "member"
        return self._member(status, user)

    async def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        info = chat.as_chat()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info
