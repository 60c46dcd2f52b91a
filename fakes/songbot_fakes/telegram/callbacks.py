"""Button presses (callback queries) and inline mode, both sides."""

from __future__ import annotations

import copy
import re
import secrets
import time

from songbot_fakes.telegram._common import (
    INLINE_QUERY_TOO_OLD,
    JSON,
    QUERY_TOO_OLD,
    _bad,
)
from songbot_fakes.telegram.control import _Control
from songbot_fakes.telegram.records import (
    UploadedFile,
    _CallbackQuery,
    _InlineQuery,
)


class _Callbacks(_Control):
    """Button presses (callback queries) and inline mode, both sides."""

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, check_button: bool = True
    ) -> str:
        """The user taps an inline button: a `callback_query` update; returns its id.
        With `check_button` the message must really carry a button with this callback_data."""
        chat = self._chats[chat_id]
        message = chat.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if not 1 <= len(data.encode("utf-8")) <= 64:
            raise ValueError("callback_data must be 1-64 bytes")
        if check_button:
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            found = {b.get("callback_data") for row in rows for b in row}
            if data not in found:
                raise ValueError(f"message {message_id} has no button with data {data!r}: {found}")
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        self._callbacks[query_id] = _CallbackQuery(self.clock(), chat_id, message_id, user_id)
        query: JSON = {
            "id": query_id,
            "from": self._user(user_id),
            "message": copy.deepcopy(message),
            "chat_instance": str(abs(hash((chat_id, self.bot_user["id"]))) % 10**18),
            "data": data,
        }
        self.enqueue_raw_update({"callback_query": query})
        return query_id

    def set_inline_mode(self, on: bool = True) -> None:
        """BotFather's /setinline: getMe's supports_inline_queries, and whether Telegram sends
        the bot inline queries at all."""
        self.bot_user["supports_inline_queries"] = on

    def send_inline_query(
        self, user_id: int, query: str = "", *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """The user types `@bot query` in some chat: an `inline_query` update; returns its id."""
        if not self.bot_user.get("supports_inline_queries"):
            raise RuntimeError("inline mode is off: Telegram sends no inline queries")
        if len(query) > 256:
            raise ValueError("an inline query is at most 256 characters")
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        self._inline_queries[query_id] = _InlineQuery(self.clock(), user_id, query, offset)
        update: JSON = {
            "id": query_id,
            "from": self._user(user_id),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.enqueue_raw_update({"inline_query": update})
        return query_id

    async def inline_answer(self, query_id: str, *, timeout: float = 10.0) -> JSON:
        """The bot's accepted answer to inline query `query_id` (waits for it)."""
        await self.wait_for_call(
            "answerInlineQuery",
            lambda c: c.ok and c.params.get("inline_query_id") == query_id,
            timeout=timeout,
        )
        return copy.deepcopy(self.inline_answers[query_id])

    def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> JSON:
        """The user taps a result: the message appears in `chat_id` from the user `via_bot`
        (not an update: the bot does not see a chat it is not in), and, as with BotFather's
        inline feedback on, a `chosen_inline_result` update is queued. Returns the message."""
        inline = self._inline_queries[query_id]
        answer = self.inline_answers.get(query_id)
        if answer is None:
            raise ValueError(f"inline query {query_id} has no answer to choose from")
        result = next((r for r in answer["results"] if r.get("id") == result_id), None)
        if result is None:
            raise ValueError(f"no result {result_id!r} in the answer to {query_id}")
        chat = self._chat_for_inject(chat_id)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": self._user(inline.user_id),
            "chat": chat.as_chat(),
            "date": int(time.time()),
            "via_bot": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
        }
        stored = self._files.get(str(result.get("audio_file_id")))
        if stored is not None:
            message["audio"] = copy.deepcopy(stored.obj)
        if result.get("caption"):
            message["caption"] = result["caption"]
        chat.messages[message["message_id"]] = message
        chosen: JSON = {
            "result_id": result_id,
            "from": self._user(inline.user_id),
            "query": inline.query,
        }
        self.enqueue_raw_update({"chosen_inline_result": chosen})
        return copy.deepcopy(message)

    async def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query = self._callbacks.get(params["callback_query_id"])
        if query is None or query.answered or self.clock() - query.created > self.callback_ttl:
            raise _bad(QUERY_TOO_OLD)
        if len(params.get("text") or "") > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers[params["callback_query_id"]] = dict(params)
        return True

    async def _answer_inline_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """Telegram's checks on an answer: a live query answered once, at most 50 results with
        unique ids of 1-64 bytes, a next_offset of at most 64 bytes, cached files that exist
        and are of the result's kind, captions within 1024 characters after parsing, and a
        button's start_parameter of 1-64 characters A-Za-z0-9_-. (The types of every result
        and button are checked against the spec before this runs.)"""
        query = self._inline_queries.get(str(params["inline_query_id"]))
        if query is None or query.answered or self.clock() - query.created > self.inline_ttl:
            raise _bad(INLINE_QUERY_TOO_OLD)
        results = params["results"]
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = str(result["id"])
            if not 1 <= len(result_id.encode("utf-8")) <= 64:
                raise _bad("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            self._check_inline_result(result)
        if len(str(params.get("next_offset") or "").encode("utf-8")) > 64:
            raise _bad("NEXT_OFFSET_INVALID")
        button = params.get("button")
        start = button.get("start_parameter") if isinstance(button, dict) else None
        if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
            raise _bad("START_PARAM_INVALID")
        query.answered = True
        self.inline_answers[str(params["inline_query_id"])] = copy.deepcopy(params)
        return True

    def _check_inline_result(self, result: JSON) -> None:
        for key, value in result.items():
            if not key.endswith("_file_id"):
                continue
            stored = self._files.get(str(value))
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if stored.kind != key.removesuffix("_file_id"):
                raise _bad("type of file mismatch")
        if result.get("caption") is not None:
            self._format(str(result["caption"]), result, caption=True)
        if result.get("reply_markup") is not None:
            self._markup({"reply_markup": result["reply_markup"]})
