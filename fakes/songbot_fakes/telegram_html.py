"""A strict parser for Telegram's `parse_mode=HTML`, used by the fake Bot API server.

Why strict: real Telegram answers 400 "can't parse entities" for an unknown tag, unbalanced tags or
a bare `<`; the fake additionally refuses a bare `&` that is not an entity, so a bot that forgets
to escape user text fails in tests instead of in production. Lengths and offsets are in UTF-16
code units, as in Telegram's `MessageEntity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "HtmlParseError",
    "ParsedText",
    "parse_html",
    "strip_text",
    "utf16_len",
]

# Tag name → entity type. `span` and `a`, `tg-emoji`, `blockquote`, `pre`, `code` need attributes.
_TAGS: Final[dict[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES: Final[dict[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE: Final = re.compile(
    r"&(?:([A-Za-z][A-Za-z0-9]*)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));"
)
_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_SPACE: Final = " \t\r\n"


class HtmlParseError(ValueError):
    """Invalid Telegram HTML; `str(err)` is the detail after "can't parse entities: "."""


@dataclass
class ParsedText:
    """Plain text after entity parsing plus Telegram-style `MessageEntity` dicts."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    start: int  # UTF-16 offset in the output
    byte_offset: int
    attrs: dict[str, str]
    language: str | None = None


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram uses for offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, index: int) -> tuple[str, int]:
    """Decode the HTML entity starting at `source[index] == "&"`; return (text, next index)."""
    match = _ENTITY_RE.match(source, index)
    if match is None:
        raise HtmlParseError(
            f'Character "&" at byte offset {_byte_offset(source, index)} does not start an HTML '
            "entity; escape it as &amp;"
        )
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise HtmlParseError(
                f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(source, index)}'
            )
        return _NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise HtmlParseError(
            f"Invalid character reference at byte offset {_byte_offset(source, index)}"
        )
    return chr(code), match.end()


def _decode_value(source: str, raw: str, index: int) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(raw):
        if raw[pos] == "&":
            # Re-run the entity decoder on the attribute text, reporting the tag's position.
            try:
                text, end = _decode_entity(raw, pos)
            except HtmlParseError as exc:
                raise HtmlParseError(
                    f"{exc} (in an attribute value at byte offset {_byte_offset(source, index)})"
                ) from None
            out.append(text)
            pos = end
        else:
            out.append(raw[pos])
            pos += 1
    return "".join(out)


def _parse_start_tag(source: str, index: int) -> tuple[str, dict[str, str], int]:
    """Parse `<name attr="v" ...>` at `index`; return (name, attributes, index after `>`)."""
    where = _byte_offset(source, index)
    name_match = _NAME_RE.match(source, index + 1)
    assert name_match is not None  # the pattern accepts the empty string
    name = name_match.group(0).lower()
    pos = name_match.end()
    if name not in _TAGS or (pos < len(source) and source[pos] not in _SPACE + ">"):
        shown = name + (source[pos] if pos < len(source) and source[pos] not in _SPACE else "")
        raise HtmlParseError(f'Unsupported start tag "{shown}" at byte offset {where}')
    attrs: dict[str, str] = {}
    while True:
        while pos < len(source) and source[pos] in _SPACE:
            pos += 1
        if pos >= len(source):
            raise HtmlParseError(f"Unclosed start tag at byte offset {where}")
        if source[pos] == ">":
            return name, attrs, pos + 1
        attr_match = _NAME_RE.match(source, pos)
        assert attr_match is not None
        attr = attr_match.group(0).lower()
        if not attr:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{name}" at byte offset {where}'
            )
        pos = attr_match.end()
        while pos < len(source) and source[pos] in _SPACE:
            pos += 1
        if pos < len(source) and source[pos] == "=":
            pos += 1
            while pos < len(source) and source[pos] in _SPACE:
                pos += 1
            if pos >= len(source):
                raise HtmlParseError(f"Unclosed start tag at byte offset {where}")
            quote = source[pos]
            if quote in "\"'":
                end = source.find(quote, pos + 1)
                if end < 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {where}")
                raw = source[pos + 1 : end]
                pos = end + 1
            else:
                end = pos
                while end < len(source) and source[end] not in _SPACE + ">":
                    end += 1
                raw = source[pos:end]
                pos = end
            attrs[attr] = _decode_value(source, raw, index)
        else:
            attrs[attr] = ""


def _check_attributes(tag: str, attrs: dict[str, str], where: int) -> None:
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
    if tag == "a" and not attrs.get("href"):
        raise HtmlParseError(
            f'Tag "a" must have a non-empty attribute "href" at byte offset {where}'
        )
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise HtmlParseError(
            f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {where}'
        )


def _entity(item: _Open, end: int) -> dict[str, Any] | None:
    length = end - item.start
    if length <= 0:
        return None
    kind = _TAGS[item.tag]
    entity: dict[str, Any] = {"type": kind, "offset": item.start, "length": length}
    if kind == "text_link":
        entity["url"] = item.attrs["href"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = item.attrs["emoji-id"]
    elif kind == "blockquote" and "expandable" in item.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "pre" and item.language:
        entity["language"] = item.language
    return entity


def parse_html(source: str) -> ParsedText:
    """Turn Telegram HTML into plain text and entities, or raise `HtmlParseError`."""
    out: list[str] = []
    offset = 0  # UTF-16 units written so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    index = 0
    length = len(source)
    while index < length:
        char = source[index]
        if char == "<" and source.startswith("</", index):
            where = _byte_offset(source, index)
            name_match = _NAME_RE.match(source, index + 2)
            assert name_match is not None
            name = name_match.group(0).lower()
            pos = name_match.end()
            while pos < length and source[pos] in _SPACE:
                pos += 1
            if pos >= length or source[pos] != ">":
                raise HtmlParseError(f"Can't find end of the end tag at byte offset {where}")
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {where}")
            top = stack.pop()
            if top.tag != name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {where}, expected "</{top.tag}>", '
                    f'found "</{name}>"'
                )
            index = pos + 1
            language = top.attrs.get("class", "")
            if (
                top.tag == "code"
                and stack
                and stack[-1].tag == "pre"
                and stack[-1].start == top.start
                and language.startswith("language-")
            ):
                # <pre><code class="language-x"> is one `pre` entity with a language.
                stack[-1].language = language.removeprefix("language-")
                continue
            entity = _entity(top, offset)
            if entity is not None:
                entities.append(entity)
        elif char == "<":
            where = _byte_offset(source, index)
            tag, attrs, index = _parse_start_tag(source, index)
            _check_attributes(tag, attrs, where)
            stack.append(_Open(tag, offset, where, attrs))
        elif char == "&":
            text, index = _decode_entity(source, index)
            out.append(text)
            offset += utf16_len(text)
        else:
            out.append(char)
            offset += 2 if ord(char) > 0xFFFF else 1
            index += 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)


def strip_text(parsed: ParsedText) -> ParsedText:
    """Trim leading/trailing whitespace like Telegram does, shifting and clipping entities."""
    text = parsed.text
    stripped = text.strip()
    if stripped == text:
        return parsed
    left = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)
