"""Messages the bot sends, edits and deletes: chats, topics, replies, HTML and markup."""

from __future__ import annotations

import copy
import time
from typing import Any

from songbot_fakes.telegram._common import (
    CHAT_ACTIONS,
    JSON,
    NOT_MODIFIED,
    _ApiError,
    _bad,
    _strip_reply,
)
from songbot_fakes.telegram.flood import _Flood
from songbot_fakes.telegram.records import (
    UploadedFile,
    _Chat,
)
from songbot_fakes.telegram_html import (
    HtmlParseError,
    ParsedText,
    parse_html,
    strip_text,
    utf16_len,
)


class _Messages(_Flood):
    """Messages the bot sends, edits and deletes: chats, topics, replies, HTML and markup."""

    def _resolve_chat(self, chat_id: Any) -> _Chat:
        chat: _Chat | None = None
        if isinstance(chat_id, int):
            chat = self._chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            chat = next(
                (c for c in self._chats.values() if (c.username or "").lower() == wanted), None
            )
        if chat is None or chat.state == "forgotten":
            raise _bad("chat not found")
        if chat.state == "blocked":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.state == "kicked":
            kind = "supergroup chat" if chat.type == "supergroup" else f"{chat.type} chat"
            raise _ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        return chat

    def _thread(self, chat: _Chat, params: JSON) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            return None
        if not chat.is_forum or thread_id == 1 or thread_id not in chat.topics:
            raise _bad("message thread not found")
        return int(thread_id)

    def _reply_target(self, chat: _Chat, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        if reply is None and isinstance(params.get("reply_to_message_id"), str | int):
            # Pre-7.0 style, still accepted by Telegram; not typed by the current spec.
            allow = str(params.get("allow_sending_without_reply", "")).lower() == "true"
            reply = {
                "message_id": int(params["reply_to_message_id"]),
                "allow_sending_without_reply": allow,
            }
        if reply is None:
            return None
        target_chat = chat
        if reply.get("chat_id") not in (None, chat.id):
            target_chat = self._resolve_chat(reply["chat_id"])
        target = target_chat.messages.get(reply["message_id"])
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        quote = reply.get("quote")
        if quote and quote not in (target.get("text") or target.get("caption") or ""):
            raise _bad("QUOTE_TEXT_INVALID")
        return target

    def _format(
        self, text: str | None, params: JSON, *, caption: bool
    ) -> tuple[str | None, list[JSON]]:
        """Apply parse_mode, strip like Telegram, enforce the length limits."""
        if text is None:
            return None, []
        mode_key = "parse_mode"
        mode = str(params.get(mode_key) or "").lower()
        entities_key = "caption_entities" if caption else "entities"
        if mode == "html":
            try:
                parsed = parse_html(text)
            except HtmlParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not parsed by the fake: the text is kept verbatim.
            parsed = ParsedText(text, list(params.get(entities_key) or []))
        else:
            raise _bad("unsupported parse_mode")
        parsed = strip_text(parsed)
        length = utf16_len(parsed.text)
        if caption:
            if length > 1024:
                raise _bad("message caption is too long")
        elif length == 0:
            raise _bad("message text is empty")
        elif length > 4096:
            raise _bad("message is too long")
        return parsed.text, parsed.entities

    @staticmethod
    def _markup(params: JSON, chat: _Chat | None = None) -> JSON | None:
        """The inline keyboard as Telegram checks it; with the chat, a `web_app` button is
        refused outside private chats (BUTTON_TYPE_INVALID) and without https, as Telegram does."""
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return None
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards are not part of the returned Message
        actions = (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        for row in rows:
            for button in row:
                if not any(key in button for key in actions):
                    raise _bad(
                        "can't parse inline keyboard button: Text buttons are unallowed "
                        "in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
                web_app = button.get("web_app")
                if web_app is not None:
                    if chat is not None and chat.type != "private":
                        raise _bad("BUTTON_TYPE_INVALID")
                    if not str((web_app or {}).get("url", "")).startswith("https://"):
                        raise _bad("BUTTON_URL_INVALID")
        return markup

    def _new_message(
        self,
        method: str,
        chat: _Chat,
        params: JSON,
        content: JSON,
    ) -> JSON:
        """Create, store and return a message the bot sent (after the flood check)."""
        thread = self._thread(chat, params)
        reply_to = self._reply_target(chat, params)
        markup = self._markup(params, chat)
        if markup is not None and not markup.get("inline_keyboard"):
            # What Telegram answers for `{"inline_keyboard": []}` on a new message (#25.3).
            raise _bad("field reply_markup.inline_keyboard is required")
        self._flood(method, chat)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": chat.as_chat(),
            "date": int(time.time()),
        }
        if thread is None and reply_to is not None and "message_thread_id" in reply_to:
            # A reply lands in the replied-to message's thread, as in Telegram.
            thread = reply_to["message_thread_id"]
            if reply_to.get("is_topic_message"):
                message["is_topic_message"] = True
            message["message_thread_id"] = thread
        elif thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = _strip_reply(reply_to)
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        return copy.deepcopy(message)

    async def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        text, entities = self._format(params["text"], params, caption=False)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._new_message("sendMessage", chat, params, content)

    def _editable(self, params: JSON) -> tuple[_Chat, JSON]:
        if "inline_message_id" in params and "chat_id" not in params:
            raise _bad("MESSAGE_ID_INVALID")
        if "chat_id" not in params:
            raise _bad("chat_id is empty")
        if "message_id" not in params:
            raise _bad("message identifier is not specified")
        chat = self._resolve_chat(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise _bad("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad("message can't be edited")
        return chat, message

    async def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat, message = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = self._format(params.get("text"), params, caption=False)
        if text is None:
            raise _bad("message text is empty")
        markup = self._markup(params, chat)
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise _bad(NOT_MODIFIED)
        self._flood("editMessageText", chat)
        message["text"] = text
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)  # an edit without markup drops the keyboard
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> JSON:
        chat, message = self._editable(params)
        markup = self._markup(params, chat)
        if markup == message.get("reply_markup"):
            raise _bad(NOT_MODIFIED)
        self._flood("editMessageReplyMarkup", chat)
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise _bad("message to delete not found")
        own = message["from"]["id"] == self.bot_user["id"]
        if not own and chat.type != "private" and self.bot_user["id"] not in chat.admins:
            raise _bad("message can't be deleted")
        del chat.messages[params["message_id"]]
        chat.deleted.add(params["message_id"])
        return True

    async def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._thread(chat, params)
        return True
