"""The test-control API: recorded calls, scripted faults, users and chats, what users send."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable

from songbot_fakes.telegram._common import (
    _COMMAND_RE,
    CHANNEL_BOT,
    GROUP_ANONYMOUS_BOT,
    JSON,
    MEDIA_KINDS,
    _audio_duration,
    _image_info,
    _mention_entities,
    _strip_reply,
)
from songbot_fakes.telegram.records import (
    ApiCall,
    ScriptedFault,
    _Chat,
)
from songbot_fakes.telegram.updates import _Updates
from songbot_fakes.telegram_html import (
    utf16_len,
)


class _Control(_Updates):
    """The test-control API: recorded calls, scripted faults, users and chats, what users send."""

    def calls_to(self, method: str) -> list[ApiCall]:
        wanted = self.spec.canonical(method) or method
        return [call for call in self.calls if call.method == wanted]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        timeout: float = 10.0,
        count: int = 1,
    ) -> ApiCall:
        """Wait until `count` answered calls of `method` (matching `predicate`) exist; return the
        `count`-th. Raises TimeoutError listing recent calls so a failing test explains itself."""

        def matches(call: ApiCall) -> bool:
            try:
                return predicate is None or predicate(call)
            except (KeyError, IndexError, TypeError):
                return False  # e.g. `c.params["text"]` on a call without text

        def matching() -> list[ApiCall]:
            return [c for c in self.calls_to(method) if matches(c)]

        if await self._wait_until(lambda: len(matching()) >= count, timeout):
            return matching()[count - 1]
        recent = [c for c in self.calls if c.method != "getUpdates"][-15:]
        dump = "\n  ".join(c.brief() for c in recent) or "(no calls besides getUpdates)"
        raise TimeoutError(
            f"no {count} matching {method} call(s) within {timeout}s "
            f"(found {len(matching())}); recent calls:\n  {dump}"
        )

    def script(
        self,
        method: str,
        *,
        status: int | None = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        match: Callable[[JSON], bool] | None = None,
        delay: float = 0.0,
        delay_after: float = 0.0,
        abandon_if_gone: bool = False,
        garble: bool = False,
    ) -> ScriptedFault:
        """Plan a fault: the next `times` (None = always) calls of `method` whose typed params
        satisfy `match` wait `delay` seconds, then fail with `status` (None = answer normally).

        With `status=None`, `delay_after` handles the call first and answers that much later,
        and `abandon_if_gone` drops a call whose client went away during `delay`. `hits` and
        `handled` on the returned fault tell a test when a call arrived and when it was done."""
        canonical = self.spec.canonical(method)
        if canonical is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = ScriptedFault(
            canonical,
            status,
            description,
            retry_after,
            times,
            match,
            delay,
            delay_after=delay_after,
            abandon_if_gone=abandon_if_gone,
            garble=garble,
        )
        self.scripts.append(fault)
        return fault

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "Ann",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        chat = self._chats.get(user_id)
        if chat is not None and chat.type == "private":
            chat.first_name, chat.username = first_name, username
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        *,
        type: str = "private",
        title: str | None = None,
        is_forum: bool = False,
        admins: Iterable[int] = (),
    ) -> JSON:
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, groups negative ones")
        if is_forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        chat = _Chat(chat_id, type, is_forum=is_forum, admins=set(admins))
        for admin in chat.admins - set(self._users) - {self.bot_user["id"]}:
            self.add_user(admin)
        if type == "private":
            user = self._users.get(chat_id) or self.add_user(chat_id)
            chat.first_name, chat.username = user["first_name"], user.get("username")
        else:
            chat.title = title or f"Test group {abs(chat_id)}"
        previous = self._chats.get(chat_id)
        if previous is not None:  # keep the history when a test re-declares a chat
            chat.messages, chat.deleted = previous.messages, previous.deleted
            chat.next_message_id, chat.topics = previous.next_message_id, previous.topics
        self._chats[chat_id] = chat
        return chat.as_chat()

    def add_topic(self, chat_id: int, thread_id: int) -> None:
        """Declare a forum topic (its id is the id of the topic's first message)."""
        chat = self._chat_for_inject(chat_id, forum=True)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        chat.topics.add(thread_id)
        chat.next_message_id = max(chat.next_message_id, thread_id + 1)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Set what getChatMember reports (creator, administrator, member, restricted, left...)."""
        if status not in ("creator", "administrator", "member", "restricted", "left", "kicked"):
            raise ValueError(f"unknown member status {status!r}")
        if user_id not in self._users and user_id != self.bot_user["id"]:
            self.add_user(user_id)
        self._chat_for_inject(chat_id).statuses[user_id] = status

    def block_chat(self, chat_id: int, *, kicked: bool = False) -> None:
        """The user blocked the bot (private) or the bot was removed from the group."""
        chat = self._chat_for_inject(chat_id)
        chat.state = "kicked" if kicked and chat.type != "private" else "blocked"

    def unblock_chat(self, chat_id: int) -> None:
        self._chat_for_inject(chat_id).state = "ok"

    def forget_chat(self, chat_id: int) -> None:
        """Make the chat unknown to the API (400 "chat not found"); its history stays readable."""
        self._chat_for_inject(chat_id).state = "forgotten"

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Simulate a user deleting a message."""
        chat = self._chats[chat_id]
        if chat.messages.pop(message_id, None) is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        chat.deleted.add(message_id)

    def messages(self, chat_id: int) -> list[JSON]:
        """The conversation in order, edits applied, deleted messages gone."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [copy.deepcopy(chat.messages[k]) for k in sorted(chat.messages)]

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [m for m in self.messages(chat_id) if m["from"]["id"] == self.bot_user["id"]]

    def message(self, chat_id: int, message_id: int) -> JSON:
        return copy.deepcopy(self._chats[chat_id].messages[message_id])

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands set with setMyCommands for this scope and language."""
        return copy.deepcopy(self._commands.get(self._scope_key(scope, language_code), []))

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    def _user(self, user_id: int) -> JSON:
        return dict(self._users.get(user_id) or self.add_user(user_id))

    def _chat_for_inject(self, chat_id: int, *, forum: bool = False) -> _Chat:
        if chat_id not in self._chats:
            if chat_id > 0:
                self.add_chat(chat_id)
            else:
                self.add_chat(chat_id, type="supergroup", is_forum=forum)
        return self._chats[chat_id]

    def _user_message(
        self,
        chat_id: int,
        user_id: int,
        *,
        reply_to: int | None,
        thread_id: int | None,
        is_topic: bool,
        sender_chat: int | None = None,
    ) -> tuple[_Chat, JSON]:
        chat = self._chat_for_inject(chat_id, forum=is_topic)
        if is_topic:
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum: add_chat(..., is_forum=True)")
            if thread_id is None:
                raise ValueError("is_topic=True needs thread_id")
            chat.topics.add(thread_id)
            chat.next_message_id = max(chat.next_message_id, thread_id + 1)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": self._user(user_id),
            "chat": chat.as_chat(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if is_topic:
                message["is_topic_message"] = True
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            message["reply_to_message"] = _strip_reply(target)
        if sender_chat is not None:
            # As Telegram sends them: an anonymous admin speaks as the group itself with `from`
            # set to @GroupAnonymousBot; a user posting as a channel has `from` @Channel_Bot.
            if sender_chat == chat_id:
                message["from"] = dict(GROUP_ANONYMOUS_BOT)
                message["sender_chat"] = chat.as_chat()
            else:
                if sender_chat not in self._chats:
                    self.add_chat(sender_chat, type="channel", title=f"Channel {-sender_chat}")
                message["from"] = dict(CHANNEL_BOT)
                message["sender_chat"] = self._chats[sender_chat].as_chat()
        return chat, message

    def _command_entities(self, text: str) -> list[JSON]:
        match = _COMMAND_RE.match(text)
        if match is None:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        is_topic: bool = False,
        sender_chat: int | None = None,
    ) -> JSON:
        """A user writes `text`; a leading /command gets its `bot_command` entity.
        `sender_chat`: post as that channel, or as the group itself (an anonymous admin)."""
        chat, message = self._user_message(
            chat_id,
            user_id,
            reply_to=reply_to,
            thread_id=thread_id,
            is_topic=is_topic,
            sender_chat=sender_chat,
        )
        message["text"] = text
        entities = self._command_entities(text) + _mention_entities(text)
        if entities:
            message["entities"] = entities
        return self._store_and_enqueue(chat, message)

    def send_media(
        self,
        chat_id: int,
        user_id: int,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        duration: int | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        declared_size: int | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        is_topic: bool = False,
    ) -> JSON:
        """A user sends a file; getFile and the download route then serve `data`.
        `declared_size` overrides the reported size (to test the 20 MB limit cheaply)."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"kind must be one of {MEDIA_KINDS}")
        chat, message = self._user_message(
            chat_id, user_id, reply_to=reply_to, thread_id=thread_id, is_topic=is_topic
        )
        size = declared_size if declared_size is not None else len(data)
        if kind in ("voice", "audio", "video", "video_note") and duration is None:
            duration = _audio_duration(data) or 1
        meta: JSON = {}
        if kind == "voice":
            meta = {"duration": duration, "mime_type": mime_type or "audio/ogg"}
        elif kind == "audio":
            meta = {"duration": duration, "mime_type": mime_type or "audio/mpeg"}
        elif kind == "document":
            meta = {"mime_type": mime_type or "application/octet-stream"}
        elif kind == "video":
            meta = {"width": 640, "height": 360, "duration": duration}
            meta["mime_type"] = mime_type or "video/mp4"
        elif kind == "video_note":
            meta = {"length": 240, "duration": duration}
        elif kind == "sticker":
            meta = {"type": "regular", "width": 512, "height": 512}
            meta.update(is_animated=False, is_video=False)
        elif kind == "photo":
            info = _image_info(data)
            meta = {"width": info[1] if info else 800, "height": info[2] if info else 600}
        if file_name is not None and kind in ("audio", "document", "video"):
            meta["file_name"] = file_name
        stored = self._register_file(kind, data, meta, size=size, filename=file_name)
        message[kind] = copy.deepcopy(stored.obj)
        if caption is not None and kind != "sticker":
            message["caption"] = caption
            entities = self._command_entities(caption)
            if entities:
                message["caption_entities"] = entities
        return self._store_and_enqueue(chat, message)

    def edit_text(self, chat_id: int, message_id: int, new_text: str) -> JSON:
        """The user edits their message: an `edited_message` update with `edit_date`."""
        chat = self._chats[chat_id]
        message = chat.messages[message_id]
        key = "caption" if "caption" in message else "text"
        message[key] = new_text
        entities_key = "caption_entities" if key == "caption" else "entities"
        entities = self._command_entities(new_text)
        if entities:
            message[entities_key] = entities
        else:
            message.pop(entities_key, None)
        message["edit_date"] = int(time.time())
        self.enqueue_raw_update({"edited_message": copy.deepcopy(message)})
        return copy.deepcopy(message)
