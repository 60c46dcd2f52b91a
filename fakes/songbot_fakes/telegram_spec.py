"""The slice of the official Bot API spec (telegram-bot-api.json) the fake server checks against.

Why a shipped extract: CI machines and `songbot demo` have no copy of the 900 kB official file,
yet the fake must decode and check parameters exactly as the spec types them. The extract
(`data/bot_api_extract.json`) is generated from the official file by this module
(`python -m songbot_fakes.telegram_spec SPEC.json > …` writes it, `--check` compares), so it is
derived data, not a hand-written table. Set
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
from importlib import resources
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
# The generated slice of the official spec, shipped as package data.
EXTRACT_FILE: Final = "data/bot_api_extract.json"

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
    "answerInlineQuery",
    "getFile",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getChatMember",
    "getChat",
    "sendInvoice",
    "answerPreCheckoutQuery",
    "refundStarPayment",
    "getStarTransactions",
    "setChatMenuButton",
    "getChatMenuButton",
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
    "InlineQuery",
    "ChosenInlineResult",
    "MessageEntity",
    "Invoice",
    "PreCheckoutQuery",
    "SuccessfulPayment",
    "StarTransactions",
    "StarTransaction",
    "TransactionPartner",
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


def _field_json(field: FieldSpec) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": field.name, "types": list(field.types)}
    if field.required:
        raw["required"] = True
    if field.constant:
        raw["constant"] = field.constant
    return raw


def render_extract(spec: ApiSpec) -> str:
    """The data file's JSON: every method name, the fake's methods, the types they need."""
    data = {
        "version": spec.version,
        "method_names": sorted(spec.all_method_names),
        "methods": {
            name: {
                "returns": list(spec.methods[name].returns),
                "fields": [_field_json(f) for f in spec.methods[name].fields.values()],
            }
            for name in FAKE_METHODS
        },
        "types": {
            name: {
                "subtypes": list(spec.types[name].subtypes),
                "fields": [_field_json(f) for f in spec.types[name].fields.values()],
            }
            for name in _slice_types(spec)
        },
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _field_from_extract(raw: Mapping[str, Any]) -> FieldSpec:
    return FieldSpec(
        raw["name"], tuple(raw["types"]), bool(raw.get("required")), raw.get("constant")
    )


def parse_extract(text: str) -> ApiSpec:
    """Inverse of `render_extract`."""
    data = json.loads(text)
    methods = {
        name: MethodSpec(
            name, {f["name"]: _field_from_extract(f) for f in m["fields"]}, tuple(m["returns"])
        )
        for name, m in data["methods"].items()
    }
    types = {
        name: TypeSpec(
            name, {f["name"]: _field_from_extract(f) for f in t["fields"]}, tuple(t["subtypes"])
        )
        for name, t in data["types"].items()
    }
    return ApiSpec(str(data["version"]), methods, types, data["method_names"])


def _embedded_text() -> str:
    return resources.files("songbot_fakes").joinpath(EXTRACT_FILE).read_text(encoding="utf-8")


@functools.cache
def load_spec(path: str | None = None) -> ApiSpec:
    """The spec the fake validates with: `path` or $SONGBOT_TELEGRAM_SPEC if set, else embedded."""
    chosen = path or os.environ.get(SPEC_ENV)
    if chosen:
        return spec_from_official(json.loads(Path(chosen).read_text(encoding="utf-8")))
    return parse_extract(_embedded_text())


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m songbot_fakes.telegram_spec SPEC.json [--check]`: print or verify the extract."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    if len(paths) != 1:
        print("usage: python -m songbot_fakes.telegram_spec telegram-bot-api.json [--check]")
        return 2
    official = spec_from_official(json.loads(Path(paths[0]).read_text(encoding="utf-8")))
    rendered = render_extract(official)
    if check:
        same = rendered == _embedded_text()
        print("embedded extract is up to date" if same else "embedded extract differs")
        return 0 if same else 1
    print(rendered, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
