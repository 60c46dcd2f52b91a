"""The slice of the official Bot API spec (telegram-bot-api.json) the fake server checks against.

Why an embedded extract: CI machines and `songbot demo` have no copy of the 900 kB official file,
yet the fake must decode and check parameters exactly as the spec types them. The extract below is
generated from the official file by this module (`python -m bot.fakes.telegram_spec SPEC.json`
prints it, `--check` compares), so it is derived data, not a hand-written table. Set
`SONGBOT_TELEGRAM_SPEC=/path/to/telegram-bot-api.json` to validate against the full file instead.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = [
    "FAKE_METHODS",
    "ApiSpec",
    "FieldSpec",
    "MethodSpec",
    "ParamError",
    "TypeSpec",
    "load_spec",
]

SPEC_ENV: Final = "SONGBOT_TELEGRAM_SPEC"

# Methods the fake implements: their input types are embedded with their full closure.
FAKE_METHODS: Final = (
    "getMe",
    "logOut",
    "close",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "sendAudio",
    "sendVoice",
    "sendDocument",
    "sendPhoto",
    "sendChatAction",
    "answerCallbackQuery",
    "getFile",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getChatMember",
    "getChat",
)
# Result types the fake builds; embedded one level deep so tests can check required fields.
RESULT_TYPES: Final = (
    "Update",
    "Message",
    "User",
    "Chat",
    "ChatFullInfo",
    "AcceptedGiftTypes",
    "File",
    "Audio",
    "Voice",
    "Document",
    "PhotoSize",
    "Video",
    "VideoNote",
    "Sticker",
    "ChatMember",
    "WebhookInfo",
    "BotCommand",
    "CallbackQuery",
    "MessageEntity",
)
_PRIMITIVES: Final = frozenset({"String", "Integer", "Boolean", "Float", "InputFile", "True"})
_DISCRIMINATOR_RE: Final = re.compile(r'(?:must be|always) "?([a-z_]+)"?\s*$')
_INT_RE: Final = re.compile(r"-?[0-9]+")


class ParamError(ValueError):
    """A parameter Telegram would refuse; `str(err)` is the full `description`."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    constant: str | None = None  # discriminator value of a subtype ("chat", "creator", ...)


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]


def _base(type_name: str) -> str:
    while type_name.startswith("Array of "):
        type_name = type_name.removeprefix("Array of ")
    return type_name


class ApiSpec:
    """Methods and types of the Bot API, with the checks the fake applies to incoming values."""

    def __init__(
        self,
        version: str,
        methods: Mapping[str, MethodSpec],
        types: Mapping[str, TypeSpec],
        names: Iterable[str],
    ) -> None:
        self.version = version
        self.methods = dict(methods)
        self.types = dict(types)
        self.all_method_names = frozenset(names) | frozenset(methods)
        self._lower = {name.lower(): name for name in self.all_method_names}

    def canonical(self, method: str) -> str | None:
        """Telegram matches method names case-insensitively; return the spelled-out name."""
        return self._lower.get(method.lower())

    def method(self, name: str) -> MethodSpec | None:
        canonical = self.canonical(name)
        return self.methods.get(canonical) if canonical else None

    # ---- checking typed values -------------------------------------------------------------

    def check(self, value: object, types: Sequence[str], path: str) -> str | None:
        """Return why `value` matches none of `types` (spec spelling), or None when it fits."""
        errors = [self._check_one(value, t, path) for t in types]
        if any(error is None for error in errors):
            return None
        return errors[0]

    def _check_one(self, value: object, type_name: str, path: str) -> str | None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return f'field "{path}" must be an Array'
            inner = type_name.removeprefix("Array of ")
            for index, item in enumerate(value):
                error = self._check_one(item, inner, f"{path}[{index}]")
                if error:
                    return error
            return None
        ok: bool
        if type_name == "String":
            ok = isinstance(value, str)
        elif type_name == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_name == "Boolean":
            ok = isinstance(value, bool)
        elif type_name == "True":
            ok = value is True
        elif type_name == "InputFile":
            ok = not isinstance(value, dict | list | bool | int | float) and value is not None
        else:
            return self._check_object(value, type_name, path)
        return None if ok else f'field "{path}" must be of type {type_name}'

    def _check_object(self, value: object, type_name: str, path: str) -> str | None:
        spec = self.types.get(type_name)
        if spec is None:
            return None  # a type outside the embedded slice is not checked
        if not isinstance(value, dict):
            return f'field "{path}" must be an Object ({type_name})'
        if spec.subtypes:
            errors = [self._check_object(value, sub, path) for sub in spec.subtypes]
            if any(error is None for error in errors):
                return None
            wanted: list[str] = []
            for sub, error in zip(spec.subtypes, errors, strict=True):
                for field in self.types[sub].fields.values():
                    if field.constant is None:
                        continue
                    if value.get(field.name) == field.constant:
                        return error  # the discriminator picks the subtype: report its problem
                    wanted.append(field.constant)
            if wanted:
                return f'field "{path}" is not a valid {type_name}: expected one of {wanted}'
            return errors[0]
        for field in spec.fields.values():
            name = f"{path}.{field.name}"
            if field.name not in value:
                if field.required:
                    return f'field "{name}" is required'
                continue
            if field.constant is not None and value[field.name] != field.constant:
                return f'field "{name}" must be "{field.constant}"'
            error = self.check(value[field.name], field.types, name)
            if error:
                return error
        return None

    # ---- decoding request parameters -------------------------------------------------------

    def decode_param(self, field: FieldSpec, value: object) -> object:
        """Type a received parameter: form values arrive as strings, JSON-encoded if not String."""
        if isinstance(value, str) and "String" not in field.types:
            value = self._from_string(field, value)
        elif isinstance(value, str) and "Integer" in field.types and _INT_RE.fullmatch(value):
            value = int(value)  # chat_id: "Integer or String"
        elif isinstance(value, int) and not isinstance(value, bool) and field.types == ("String",):
            value = str(value)  # Telegram accepts a number where a string is expected
        error = self.check(value, field.types, field.name)
        if error:
            raise ParamError(f"Bad Request: can't parse parameter {field.name}: {error}")
        return value

    def _from_string(self, field: FieldSpec, value: str) -> object:
        kind = field.types[0]
        if kind == "Integer":
            if not _INT_RE.fullmatch(value.strip()):
                raise ParamError(f'Bad Request: field "{field.name}" must be of type Integer')
            return int(value)
        if kind == "Float":
            try:
                return float(value)
            except ValueError:
                raise ParamError(
                    f'Bad Request: field "{field.name}" must be of type Float'
                ) from None
        if kind in ("Boolean", "True"):
            lowered = value.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ParamError(f'Bad Request: field "{field.name}" must be of type Boolean')
        if kind == "InputFile":
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ParamError(f"Bad Request: can't parse {field.name} JSON object") from None


# ---- building an ApiSpec from the official JSON or from the embedded extract ---------------


def _field_from_json(raw: Mapping[str, Any]) -> FieldSpec:
    constant = None
    description = str(raw.get("description", ""))
    if raw.get("required") and raw["types"] == ["String"]:
        match = _DISCRIMINATOR_RE.search(description)
        if match and raw["name"] in ("type", "status", "source"):
            constant = match.group(1)
    return FieldSpec(raw["name"], tuple(raw["types"]), bool(raw.get("required")), constant)


def spec_from_official(raw: Mapping[str, Any]) -> ApiSpec:
    """Build the full spec from the official telegram-bot-api.json structure."""
    methods = {
        name: MethodSpec(
            name,
            {f["name"]: _field_from_json(f) for f in m.get("fields", [])},
            tuple(m.get("returns", [])),
        )
        for name, m in raw["methods"].items()
    }
    types = {
        name: TypeSpec(
            name,
            {f["name"]: _field_from_json(f) for f in t.get("fields", [])},
            tuple(t.get("subtypes", [])),
        )
        for name, t in raw["types"].items()
    }
    return ApiSpec(str(raw.get("version", "")), methods, types, raw["methods"])


def _slice_types(spec: ApiSpec) -> list[str]:
    """Types to embed: the closure of the fake's input types, plus result types one level deep."""
    wanted: set[str] = set()
    todo = [
        _base(t) for m in FAKE_METHODS for f in spec.methods[m].fields.values() for t in f.types
    ]
    while todo:
        name = todo.pop()
        if name in _PRIMITIVES or name in wanted or name not in spec.types:
            continue
        wanted.add(name)
        type_spec = spec.types[name]
        todo.extend(type_spec.subtypes)
        todo.extend(_base(t) for f in type_spec.fields.values() for t in f.types)
    for name in RESULT_TYPES:
        wanted.add(name)
        wanted.update(spec.types[name].subtypes)
    return sorted(wanted)


def _field_line(field: FieldSpec) -> str:
    line = f"  {field.name}: {' | '.join(field.types)}"
    if field.required:
        line += " (required)"
    if field.constant:
        line += f" = {field.constant}"
    return line


def render_extract(spec: ApiSpec) -> str:
    """The embedded text format: one header line per method/type, one indented line per field."""
    lines = [f"version {spec.version}"]
    names = sorted(spec.all_method_names)
    row: list[str] = []
    for name in names:
        if row and len(" ".join([*row, name])) > 88:
            lines.append("names " + " ".join(row))
            row = []
        row.append(name)
    if row:
        lines.append("names " + " ".join(row))
    for name in FAKE_METHODS:
        method = spec.methods[name]
        lines.append(f"method {name} -> {' | '.join(method.returns)}")
        lines.extend(_field_line(f) for f in method.fields.values())
    for name in _slice_types(spec):
        type_spec = spec.types[name]
        lines.append(f"type {name}")
        lines.extend(f"  | {sub}" for sub in type_spec.subtypes)
        lines.extend(_field_line(f) for f in type_spec.fields.values())
    return "\n".join(lines) + "\n"


_FIELD_RE: Final = re.compile(r"  (\w+): (.+?)( \(required\))?(?: = (\w+))?")


def parse_extract(text: str) -> ApiSpec:
    """Inverse of `render_extract`."""
    version = ""
    names: list[str] = []
    methods: dict[str, MethodSpec] = {}
    types: dict[str, TypeSpec] = {}
    current: tuple[str, str, tuple[str, ...]] | None = None
    fields: dict[str, FieldSpec] = {}
    subtypes: list[str] = []

    def flush() -> None:
        if current is None:
            return
        kind, name, returns = current
        if kind == "method":
            methods[name] = MethodSpec(name, dict(fields), returns)
        else:
            types[name] = TypeSpec(name, dict(fields), tuple(subtypes))

    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("version "):
            version = line.removeprefix("version ")
        elif line.startswith("names "):
            names.extend(line.split()[1:])
        elif line.startswith(("method ", "type ")):
            flush()
            fields, subtypes = {}, []
            head, _, returns = line.partition(" -> ")
            kind, name = head.split()
            current = (kind, name, tuple(r.strip() for r in returns.split("|")) if returns else ())
        elif line.startswith("  | "):
            subtypes.append(line.removeprefix("  | ").strip())
        else:
            match = _FIELD_RE.fullmatch(line)
            if match is None:
                raise ValueError(f"bad line in the embedded Bot API extract: {line!r}")
            name, type_text, required, constant = match.groups()
            fields[name] = FieldSpec(
                name, tuple(t.strip() for t in type_text.split("|")), bool(required), constant
            )
    flush()
    return ApiSpec(version, methods, types, names)


@functools.cache
def load_spec(path: str | None = None) -> ApiSpec:
    """The spec the fake validates with: `path` or $SONGBOT_TELEGRAM_SPEC if set, else embedded."""
    chosen = path or os.environ.get(SPEC_ENV)
    if chosen:
        return spec_from_official(json.loads(Path(chosen).read_text(encoding="utf-8")))
    return parse_extract(_EXTRACT)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot.fakes.telegram_spec SPEC.json [--check]`: print or verify the extract."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        print("usage: python -m bot.fakes.telegram_spec telegram-bot-api.json [--check]")
        return 2
    official = spec_from_official(json.loads(Path(paths[0]).read_text(encoding="utf-8")))
    rendered = render_extract(official)
    if check:
        same = rendered == _EXTRACT
        print("embedded extract is up to date" if same else "embedded extract differs")
        return 0 if same else 1
    print(rendered, end="")
    return 0


_EXTRACT: Final = """\
version Bot API 10.1
names addStickerToSet answerCallbackQuery answerChatJoinRequestQuery answerGuestQuery
names answerInlineQuery answerPreCheckoutQuery answerShippingQuery answerWebAppQuery
names approveChatJoinRequest approveSuggestedPost banChatMember banChatSenderChat close
names closeForumTopic closeGeneralForumTopic convertGiftToStars copyMessage copyMessages
names createChatInviteLink createChatSubscriptionInviteLink createForumTopic createInvoiceLink
names createNewStickerSet declineChatJoinRequest declineSuggestedPost
names deleteAllMessageReactions deleteBusinessMessages deleteChatPhoto deleteChatStickerSet
names deleteForumTopic deleteMessage deleteMessageReaction deleteMessages deleteMyCommands
names deleteStickerFromSet deleteStickerSet deleteStory deleteWebhook editChatInviteLink
names editChatSubscriptionInviteLink editForumTopic editGeneralForumTopic editMessageCaption
names editMessageChecklist editMessageLiveLocation editMessageMedia editMessageReplyMarkup
names editMessageText editStory editUserStarSubscription exportChatInviteLink forwardMessage
names forwardMessages getAvailableGifts getBusinessAccountGifts getBusinessAccountStarBalance
names getBusinessConnection getChat getChatAdministrators getChatGifts getChatMember
names getChatMemberCount getChatMenuButton getCustomEmojiStickers getFile
names getForumTopicIconStickers getGameHighScores getManagedBotAccessSettings
names getManagedBotToken getMe getMyCommands getMyDefaultAdministratorRights getMyDescription
names getMyName getMyShortDescription getMyStarBalance getStarTransactions getStickerSet
names getUpdates getUserChatBoosts getUserGifts getUserPersonalChatMessages
names getUserProfileAudios getUserProfilePhotos getWebhookInfo giftPremiumSubscription
names hideGeneralForumTopic leaveChat logOut pinChatMessage postStory promoteChatMember
names readBusinessMessage refundStarPayment removeBusinessAccountProfilePhoto
names removeChatVerification removeMyProfilePhoto removeUserVerification reopenForumTopic
names reopenGeneralForumTopic replaceManagedBotToken replaceStickerInSet repostStory
names restrictChatMember revokeChatInviteLink savePreparedInlineMessage
names savePreparedKeyboardButton sendAnimation sendAudio sendChatAction
names sendChatJoinRequestWebApp sendChecklist sendContact sendDice sendDocument sendGame
names sendGift sendInvoice sendLivePhoto sendLocation sendMediaGroup sendMessage
names sendMessageDraft sendPaidMedia sendPhoto sendPoll sendRichMessage sendRichMessageDraft
names sendSticker sendVenue sendVideo sendVideoNote sendVoice setBusinessAccountBio
names setBusinessAccountGiftSettings setBusinessAccountName setBusinessAccountProfilePhoto
names setBusinessAccountUsername setChatAdministratorCustomTitle setChatDescription
names setChatMemberTag setChatMenuButton setChatPermissions setChatPhoto setChatStickerSet
names setChatTitle setCustomEmojiStickerSetThumbnail setGameScore setManagedBotAccessSettings
names setMessageReaction setMyCommands setMyDefaultAdministratorRights setMyDescription
names setMyName setMyProfilePhoto setMyShortDescription setPassportDataErrors
names setStickerEmojiList setStickerKeywords setStickerMaskPosition setStickerPositionInSet
names setStickerSetThumbnail setStickerSetTitle setUserEmojiStatus setWebhook
names stopMessageLiveLocation stopPoll transferBusinessAccountStars transferGift
names unbanChatMember unbanChatSenderChat unhideGeneralForumTopic unpinAllChatMessages
names unpinAllForumTopicMessages unpinAllGeneralForumTopicMessages unpinChatMessage
names upgradeGift uploadStickerFile verifyChat verifyUser
method getMe -> User
method logOut -> Boolean
method close -> Boolean
method getUpdates -> Array of Update
  offset: Integer
  limit: Integer
  timeout: Integer
  allowed_updates: Array of String
method setWebhook -> Boolean
  url: String (required)
  certificate: InputFile
  ip_address: String
  max_connections: Integer
  allowed_updates: Array of String
  drop_pending_updates: Boolean
  secret_token: String
method deleteWebhook -> Boolean
  drop_pending_updates: Boolean
method getWebhookInfo -> WebhookInfo
method sendMessage -> Message
  business_connection_id: String
  chat_id: Integer | String (required)
  message_thread_id: Integer
  direct_messages_topic_id: Integer
  text: String (required)
  parse_mode: String
  entities: Array of MessageEntity
  link_preview_options: LinkPreviewOptions
  disable_notification: Boolean
  protect_content: Boolean
  allow_paid_broadcast: Boolean
  message_effect_id: String
  suggested_post_parameters: SuggestedPostParameters
  reply_parameters: ReplyParameters
  reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
method editMessageText -> Message | Boolean
  business_connection_id: String
  chat_id: Integer | String
  message_id: Integer
  inline_message_id: String
  text: String
  parse_mode: String
  entities: Array of MessageEntity
  link_preview_options: LinkPreviewOptions
  rich_message: InputRichMessage
  reply_markup: InlineKeyboardMarkup
method editMessageReplyMarkup -> Message | Boolean
  business_connection_id: String
  chat_id: Integer | String
  message_id: Integer
  inline_message_id: String
  reply_markup: InlineKeyboardMarkup
method deleteMessage -> Boolean
  chat_id: Integer | String (required)
  message_id: Integer (required)
method sendAudio -> Message
  business_connection_id: String
  chat_id: Integer | String (required)
  message_thread_id: Integer
  direct_messages_topic_id: Integer
  audio: InputFile | String (required)
  caption: String
  parse_mode: String
  caption_entities: Array of MessageEntity
  duration: Integer
  performer: String
  title: String
  thumbnail: InputFile | String
  disable_notification: Boolean
  protect_content: Boolean
  allow_paid_broadcast: Boolean
  message_effect_id: String
  suggested_post_parameters: SuggestedPostParameters
  reply_parameters: ReplyParameters
  reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
method sendVoice -> Message
  business_connection_id: String
  chat_id: Integer | String (required)
  message_thread_id: Integer
  direct_messages_topic_id: Integer
  voice: InputFile | String (required)
  caption: String
  parse_mode: String
  caption_entities: Array of MessageEntity
  duration: Integer
  disable_notification: Boolean
  protect_content: Boolean
  allow_paid_broadcast: Boolean
  message_effect_id: String
  suggested_post_parameters: SuggestedPostParameters
  reply_parameters: ReplyParameters
  reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
method sendDocument -> Message
  business_connection_id: String
  chat_id: Integer | String (required)
  message_thread_id: Integer
  direct_messages_topic_id: Integer
  document: InputFile | String (required)
  thumbnail: InputFile | String
  caption: String
  parse_mode: String
  caption_entities: Array of MessageEntity
  disable_content_type_detection: Boolean
  disable_notification: Boolean
  protect_content: Boolean
  allow_paid_broadcast: Boolean
  message_effect_id: String
  suggested_post_parameters: SuggestedPostParameters
  reply_parameters: ReplyParameters
  reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
method sendPhoto -> Message
  business_connection_id: String
  chat_id: Integer | String (required)
  message_thread_id: Integer
  direct_messages_topic_id: Integer
  photo: InputFile | String (required)
  caption: String
  parse_mode: String
  caption_entities: Array of MessageEntity
  show_caption_above_media: Boolean
  has_spoiler: Boolean
  disable_notification: Boolean
  protect_content: Boolean
  allow_paid_broadcast: Boolean
  message_effect_id: String
  suggested_post_parameters: SuggestedPostParameters
  reply_parameters: ReplyParameters
  reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
method sendChatAction -> Boolean
  business_connection_id: String
  chat_id: Integer | String (required)
  message_thread_id: Integer
  action: String (required)
method answerCallbackQuery -> Boolean
  callback_query_id: String (required)
  text: String
  show_alert: Boolean
  url: String
  cache_time: Integer
method getFile -> File
  file_id: String (required)
method setMyCommands -> Boolean
  commands: Array of BotCommand (required)
  scope: BotCommandScope
  language_code: String
method getMyCommands -> Array of BotCommand
  scope: BotCommandScope
  language_code: String
method deleteMyCommands -> Boolean
  scope: BotCommandScope
  language_code: String
method getChatMember -> ChatMember
  chat_id: Integer | String (required)
  user_id: Integer (required)
method getChat -> ChatFullInfo
  chat_id: Integer | String (required)
type AcceptedGiftTypes
  unlimited_gifts: Boolean (required)
  limited_gifts: Boolean (required)
  unique_gifts: Boolean (required)
  premium_subscription: Boolean (required)
  gifts_from_channels: Boolean (required)
type Audio
  file_id: String (required)
  file_unique_id: String (required)
  duration: Integer (required)
  performer: String
  title: String
  file_name: String
  mime_type: String
  file_size: Integer
  thumbnail: PhotoSize
type BotCommand
  command: String (required)
  description: String (required)
type BotCommandScope
  | BotCommandScopeDefault
  | BotCommandScopeAllPrivateChats
  | BotCommandScopeAllGroupChats
  | BotCommandScopeAllChatAdministrators
  | BotCommandScopeChat
  | BotCommandScopeChatAdministrators
  | BotCommandScopeChatMember
type BotCommandScopeAllChatAdministrators
  type: String (required) = all_chat_administrators
type BotCommandScopeAllGroupChats
  type: String (required) = all_group_chats
type BotCommandScopeAllPrivateChats
  type: String (required) = all_private_chats
type BotCommandScopeChat
  type: String (required) = chat
  chat_id: Integer | String (required)
type BotCommandScopeChatAdministrators
  type: String (required) = chat_administrators
  chat_id: Integer | String (required)
type BotCommandScopeChatMember
  type: String (required) = chat_member
  chat_id: Integer | String (required)
  user_id: Integer (required)
type BotCommandScopeDefault
  type: String (required) = default
type CallbackGame
type CallbackQuery
  id: String (required)
  from: User (required)
  message: MaybeInaccessibleMessage
  inline_message_id: String
  chat_instance: String (required)
  data: String
  game_short_name: String
type Chat
  id: Integer (required)
  type: String (required)
  title: String
  username: String
  first_name: String
  last_name: String
  is_forum: Boolean
  is_direct_messages: Boolean
type ChatAdministratorRights
  is_anonymous: Boolean (required)
  can_manage_chat: Boolean (required)
  can_delete_messages: Boolean (required)
  can_manage_video_chats: Boolean (required)
  can_restrict_members: Boolean (required)
  can_promote_members: Boolean (required)
  can_change_info: Boolean (required)
  can_invite_users: Boolean (required)
  can_post_stories: Boolean (required)
  can_edit_stories: Boolean (required)
  can_delete_stories: Boolean (required)
  can_post_messages: Boolean
  can_edit_messages: Boolean
  can_pin_messages: Boolean
  can_manage_topics: Boolean
  can_manage_direct_messages: Boolean
  can_manage_tags: Boolean
type ChatFullInfo
  id: Integer (required)
  type: String (required)
  title: String
  username: String
  first_name: String
  last_name: String
  is_forum: Boolean
  is_direct_messages: Boolean
  accent_color_id: Integer (required)
  max_reaction_count: Integer (required)
  photo: ChatPhoto
  active_usernames: Array of String
  birthdate: Birthdate
  business_intro: BusinessIntro
  business_location: BusinessLocation
  business_opening_hours: BusinessOpeningHours
  personal_chat: Chat
  parent_chat: Chat
  available_reactions: Array of ReactionType
  background_custom_emoji_id: String
  profile_accent_color_id: Integer
  profile_background_custom_emoji_id: String
  emoji_status_custom_emoji_id: String
  emoji_status_expiration_date: Integer
  bio: String
  has_private_forwards: Boolean
  has_restricted_voice_and_video_messages: Boolean
  join_to_send_messages: Boolean
  join_by_request: Boolean
  description: String
  invite_link: String
  pinned_message: Message
  permissions: ChatPermissions
  accepted_gift_types: AcceptedGiftTypes (required)
  can_send_paid_media: Boolean
  slow_mode_delay: Integer
  unrestrict_boost_count: Integer
  message_auto_delete_time: Integer
  has_aggressive_anti_spam_enabled: Boolean
  has_hidden_members: Boolean
  has_protected_content: Boolean
  has_visible_history: Boolean
  sticker_set_name: String
  can_set_sticker_set: Boolean
  custom_emoji_sticker_set_name: String
  linked_chat_id: Integer
  location: ChatLocation
  rating: UserRating
  first_profile_audio: Audio
  unique_gift_colors: UniqueGiftColors
  paid_message_star_count: Integer
  guard_bot: User
type ChatMember
  | ChatMemberOwner
  | ChatMemberAdministrator
  | ChatMemberMember
  | ChatMemberRestricted
  | ChatMemberLeft
  | ChatMemberBanned
type ChatMemberAdministrator
  status: String (required) = administrator
  user: User (required)
  can_be_edited: Boolean (required)
  is_anonymous: Boolean (required)
  can_manage_chat: Boolean (required)
  can_delete_messages: Boolean (required)
  can_manage_video_chats: Boolean (required)
  can_restrict_members: Boolean (required)
  can_promote_members: Boolean (required)
  can_change_info: Boolean (required)
  can_invite_users: Boolean (required)
  can_post_stories: Boolean (required)
  can_edit_stories: Boolean (required)
  can_delete_stories: Boolean (required)
  can_post_messages: Boolean
  can_edit_messages: Boolean
  can_pin_messages: Boolean
  can_manage_topics: Boolean
  can_manage_direct_messages: Boolean
  can_manage_tags: Boolean
  custom_title: String
type ChatMemberBanned
  status: String (required) = kicked
  user: User (required)
  until_date: Integer (required)
type ChatMemberLeft
  status: String (required) = left
  user: User (required)
type ChatMemberMember
  status: String (required) = member
  tag: String
  user: User (required)
  until_date: Integer
type ChatMemberOwner
  status: String (required) = creator
  user: User (required)
  is_anonymous: Boolean (required)
  custom_title: String
type ChatMemberRestricted
  status: String (required) = restricted
  tag: String
  user: User (required)
  is_member: Boolean (required)
  can_send_messages: Boolean (required)
  can_send_audios: Boolean (required)
  can_send_documents: Boolean (required)
  can_send_photos: Boolean (required)
  can_send_videos: Boolean (required)
  can_send_video_notes: Boolean (required)
  can_send_voice_notes: Boolean (required)
  can_send_polls: Boolean (required)
  can_send_other_messages: Boolean (required)
  can_add_web_page_previews: Boolean (required)
  can_react_to_messages: Boolean (required)
  can_edit_tag: Boolean (required)
  can_change_info: Boolean (required)
  can_invite_users: Boolean (required)
  can_pin_messages: Boolean (required)
  can_manage_topics: Boolean (required)
  until_date: Integer (required)
type CopyTextButton
  text: String (required)
type Document
  file_id: String (required)
  file_unique_id: String (required)
  thumbnail: PhotoSize
  file_name: String
  mime_type: String
  file_size: Integer
type File
  file_id: String (required)
  file_unique_id: String (required)
  file_size: Integer
  file_path: String
type ForceReply
  force_reply: Boolean (required)
  input_field_placeholder: String
  selective: Boolean
type InlineKeyboardButton
  text: String (required)
  icon_custom_emoji_id: String
  style: String
  url: String
  callback_data: String
  web_app: WebAppInfo
  login_url: LoginUrl
  switch_inline_query: String
  switch_inline_query_current_chat: String
  switch_inline_query_chosen_chat: SwitchInlineQueryChosenChat
  copy_text: CopyTextButton
  callback_game: CallbackGame
  pay: Boolean
type InlineKeyboardMarkup
  inline_keyboard: Array of Array of InlineKeyboardButton (required)
type InputRichMessage
  html: String
  markdown: String
  is_rtl: Boolean
  skip_entity_detection: Boolean
type KeyboardButton
  text: String (required)
  icon_custom_emoji_id: String
  style: String
  request_users: KeyboardButtonRequestUsers
  request_chat: KeyboardButtonRequestChat
  request_managed_bot: KeyboardButtonRequestManagedBot
  request_contact: Boolean
  request_location: Boolean
  request_poll: KeyboardButtonPollType
  web_app: WebAppInfo
type KeyboardButtonPollType
  type: String
type KeyboardButtonRequestChat
  request_id: Integer (required)
  chat_is_channel: Boolean (required)
  chat_is_forum: Boolean
  chat_has_username: Boolean
  chat_is_created: Boolean
  user_administrator_rights: ChatAdministratorRights
  bot_administrator_rights: ChatAdministratorRights
  bot_is_member: Boolean
  request_title: Boolean
  request_username: Boolean
  request_photo: Boolean
type KeyboardButtonRequestManagedBot
  request_id: Integer (required)
  suggested_name: String
  suggested_username: String
type KeyboardButtonRequestUsers
  request_id: Integer (required)
  user_is_bot: Boolean
  user_is_premium: Boolean
  max_quantity: Integer
  request_name: Boolean
  request_username: Boolean
  request_photo: Boolean
type LinkPreviewOptions
  is_disabled: Boolean
  url: String
  prefer_small_media: Boolean
  prefer_large_media: Boolean
  show_above_text: Boolean
type LoginUrl
  url: String (required)
  forward_text: String
  bot_username: String
  request_write_access: Boolean
type Message
  message_id: Integer (required)
  message_thread_id: Integer
  direct_messages_topic: DirectMessagesTopic
  from: User
  sender_chat: Chat
  sender_boost_count: Integer
  sender_business_bot: User
  sender_tag: String
  date: Integer (required)
  guest_query_id: String
  business_connection_id: String
  chat: Chat (required)
  forward_origin: MessageOrigin
  is_topic_message: Boolean
  is_automatic_forward: Boolean
  reply_to_message: Message
  external_reply: ExternalReplyInfo
  quote: TextQuote
  reply_to_story: Story
  reply_to_checklist_task_id: Integer
  reply_to_poll_option_id: String
  via_bot: User
  guest_bot_caller_user: User
  guest_bot_caller_chat: Chat
  edit_date: Integer
  has_protected_content: Boolean
  is_from_offline: Boolean
  is_paid_post: Boolean
  media_group_id: String
  author_signature: String
  paid_star_count: Integer
  text: String
  entities: Array of MessageEntity
  link_preview_options: LinkPreviewOptions
  suggested_post_info: SuggestedPostInfo
  effect_id: String
  rich_message: RichMessage
  animation: Animation
  audio: Audio
  document: Document
  live_photo: LivePhoto
  paid_media: PaidMediaInfo
  photo: Array of PhotoSize
  sticker: Sticker
  story: Story
  video: Video
  video_note: VideoNote
  voice: Voice
  caption: String
  caption_entities: Array of MessageEntity
  show_caption_above_media: Boolean
  has_media_spoiler: Boolean
  checklist: Checklist
  contact: Contact
  dice: Dice
  game: Game
  poll: Poll
  venue: Venue
  location: Location
  new_chat_members: Array of User
  left_chat_member: User
  chat_owner_left: ChatOwnerLeft
  chat_owner_changed: ChatOwnerChanged
  new_chat_title: String
  new_chat_photo: Array of PhotoSize
  delete_chat_photo: Boolean
  group_chat_created: Boolean
  supergroup_chat_created: Boolean
  channel_chat_created: Boolean
  message_auto_delete_timer_changed: MessageAutoDeleteTimerChanged
  migrate_to_chat_id: Integer
  migrate_from_chat_id: Integer
  pinned_message: MaybeInaccessibleMessage
  invoice: Invoice
  successful_payment: SuccessfulPayment
  refunded_payment: RefundedPayment
  users_shared: UsersShared
  chat_shared: ChatShared
  gift: GiftInfo
  unique_gift: UniqueGiftInfo
  gift_upgrade_sent: GiftInfo
  connected_website: String
  write_access_allowed: WriteAccessAllowed
  passport_data: PassportData
  proximity_alert_triggered: ProximityAlertTriggered
  boost_added: ChatBoostAdded
  chat_background_set: ChatBackground
  checklist_tasks_done: ChecklistTasksDone
  checklist_tasks_added: ChecklistTasksAdded
  direct_message_price_changed: DirectMessagePriceChanged
  forum_topic_created: ForumTopicCreated
  forum_topic_edited: ForumTopicEdited
  forum_topic_closed: ForumTopicClosed
  forum_topic_reopened: ForumTopicReopened
  general_forum_topic_hidden: GeneralForumTopicHidden
  general_forum_topic_unhidden: GeneralForumTopicUnhidden
  giveaway_created: GiveawayCreated
  giveaway: Giveaway
  giveaway_winners: GiveawayWinners
  giveaway_completed: GiveawayCompleted
  managed_bot_created: ManagedBotCreated
  paid_message_price_changed: PaidMessagePriceChanged
  poll_option_added: PollOptionAdded
  poll_option_deleted: PollOptionDeleted
  suggested_post_approved: SuggestedPostApproved
  suggested_post_approval_failed: SuggestedPostApprovalFailed
  suggested_post_declined: SuggestedPostDeclined
  suggested_post_paid: SuggestedPostPaid
  suggested_post_refunded: SuggestedPostRefunded
  video_chat_scheduled: VideoChatScheduled
  video_chat_started: VideoChatStarted
  video_chat_ended: VideoChatEnded
  video_chat_participants_invited: VideoChatParticipantsInvited
  web_app_data: WebAppData
  reply_markup: InlineKeyboardMarkup
type MessageEntity
  type: String (required)
  offset: Integer (required)
  length: Integer (required)
  url: String
  user: User
  language: String
  custom_emoji_id: String
  unix_time: Integer
  date_time_format: String
type PhotoSize
  file_id: String (required)
  file_unique_id: String (required)
  width: Integer (required)
  height: Integer (required)
  file_size: Integer
type ReplyKeyboardMarkup
  keyboard: Array of Array of KeyboardButton (required)
  is_persistent: Boolean
  resize_keyboard: Boolean
  one_time_keyboard: Boolean
  input_field_placeholder: String
  selective: Boolean
type ReplyKeyboardRemove
  remove_keyboard: Boolean (required)
  selective: Boolean
type ReplyParameters
  message_id: Integer (required)
  chat_id: Integer | String
  allow_sending_without_reply: Boolean
  quote: String
  quote_parse_mode: String
  quote_entities: Array of MessageEntity
  quote_position: Integer
  checklist_task_id: Integer
  poll_option_id: String
type Sticker
  file_id: String (required)
  file_unique_id: String (required)
  type: String (required)
  width: Integer (required)
  height: Integer (required)
  is_animated: Boolean (required)
  is_video: Boolean (required)
  thumbnail: PhotoSize
  emoji: String
  set_name: String
  premium_animation: File
  mask_position: MaskPosition
  custom_emoji_id: String
  needs_repainting: Boolean
  file_size: Integer
type SuggestedPostParameters
  price: SuggestedPostPrice
  send_date: Integer
type SuggestedPostPrice
  currency: String (required)
  amount: Integer (required)
type SwitchInlineQueryChosenChat
  query: String
  allow_user_chats: Boolean
  allow_bot_chats: Boolean
  allow_group_chats: Boolean
  allow_channel_chats: Boolean
type Update
  update_id: Integer (required)
  message: Message
  edited_message: Message
  channel_post: Message
  edited_channel_post: Message
  business_connection: BusinessConnection
  business_message: Message
  edited_business_message: Message
  deleted_business_messages: BusinessMessagesDeleted
  guest_message: Message
  message_reaction: MessageReactionUpdated
  message_reaction_count: MessageReactionCountUpdated
  inline_query: InlineQuery
  chosen_inline_result: ChosenInlineResult
  callback_query: CallbackQuery
  shipping_query: ShippingQuery
  pre_checkout_query: PreCheckoutQuery
  purchased_paid_media: PaidMediaPurchased
  poll: Poll
  poll_answer: PollAnswer
  my_chat_member: ChatMemberUpdated
  chat_member: ChatMemberUpdated
  chat_join_request: ChatJoinRequest
  chat_boost: ChatBoostUpdated
  removed_chat_boost: ChatBoostRemoved
  managed_bot: ManagedBotUpdated
type User
  id: Integer (required)
  is_bot: Boolean (required)
  first_name: String (required)
  last_name: String
  username: String
  language_code: String
  is_premium: Boolean
  added_to_attachment_menu: Boolean
  can_join_groups: Boolean
  can_read_all_group_messages: Boolean
  supports_guest_queries: Boolean
  supports_inline_queries: Boolean
  can_connect_to_business: Boolean
  has_main_web_app: Boolean
  has_topics_enabled: Boolean
  allows_users_to_create_topics: Boolean
  can_manage_bots: Boolean
  supports_join_request_queries: Boolean
type Video
  file_id: String (required)
  file_unique_id: String (required)
  width: Integer (required)
  height: Integer (required)
  duration: Integer (required)
  thumbnail: PhotoSize
  cover: Array of PhotoSize
  start_timestamp: Integer
  qualities: Array of VideoQuality
  file_name: String
  mime_type: String
  file_size: Integer
type VideoNote
  file_id: String (required)
  file_unique_id: String (required)
  length: Integer (required)
  duration: Integer (required)
  thumbnail: PhotoSize
  file_size: Integer
type Voice
  file_id: String (required)
  file_unique_id: String (required)
  duration: Integer (required)
  mime_type: String
  file_size: Integer
type WebAppInfo
  url: String (required)
type WebhookInfo
  url: String (required)
  has_custom_certificate: Boolean (required)
  pending_update_count: Integer (required)
  ip_address: String
  last_error_date: Integer
  last_error_message: String
  last_synchronization_error_date: Integer
  max_connections: Integer
  allowed_updates: Array of String
"""

if __name__ == "__main__":
    raise SystemExit(main())
