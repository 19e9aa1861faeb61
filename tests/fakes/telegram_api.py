"""A fake Telegram Bot API server that the real python-telegram-bot (PTB) talks to over HTTP.

Why: Buurtbot's tests should exercise PTB's real networking stack (parameter encoding, error
mapping, long polling, webhooks, file uploads) without contacting Telegram. This module runs an
``aiohttp.web`` server on 127.0.0.1 that implements the part of the Bot API the bot uses, answers
like Telegram does (same JSON shapes, same error texts, same limits), records every call, and
simulates people who write to the bot.

What it enforces, so that tests catch what Telegram would reject:

* text of 1-4096 and captions of 0-1024 UTF-16 code units, measured after entity parsing;
* HTML / MarkdownV2 / Markdown parsing ported from tdlib (``can't parse entities: ...``);
* inline ``callback_data`` of 1-64 bytes (``BUTTON_DATA_INVALID``);
* edits that change nothing (``message is not modified``);
* answers to unknown or already answered callback queries;
* optional flood limits (HTTP 429 with ``retry_after``).

Every such refusal is also appended to :attr:`FakeTelegramServer.violations`, so a test can assert
that the bot never did anything Telegram would refuse.

Typical use::

    async with FakeTelegramServer() as server:
        app = server.application_builder().build()
        app.add_handler(...)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            ada = server.user(42, first_name="Ada")
            ada.send_text("hallo")
            replies = await ada.wait_reply()
            assert replies[0].text == "..."
            await app.updater.stop()
            await app.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import inspect
import itertools
import json
import math
import re
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, Self

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import ApplicationBuilder

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "FakeTelegramServer",
    "FakeUser",
    "TelegramApiError",
    "UpdateDict",
    "UploadedFile",
]

DEFAULT_TOKEN: Final = "123456789:AAFakeTokenForBuurtbotTests_0123456789"
"""Token the fake accepts when none is given; the part before ':' becomes the bot's user id."""

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
MAX_COMMANDS: Final = 100

SENT_METHODS: Final = ("sendMessage", "sendPhoto", "sendDocument")
"""Methods that create a new message; what :meth:`FakeTelegramServer.sent_messages` reports."""

EDIT_METHODS: Final = ("editMessageText", "editMessageReplyMarkup", "editMessageCaption")
"""Methods that change an existing message; together with SENT_METHODS these are 'replies'."""

BLOCKED_BY_USER: Final = "Forbidden: bot was blocked by the user"
KICKED_FROM_GROUP: Final = "Forbidden: bot was kicked from the group chat"
NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = "query is too old and response timeout expired or query ID is invalid"

_RATE_LIMITED_METHODS: Final = frozenset(
    m.lower()
    for m in (
        *SENT_METHODS,
        *EDIT_METHODS,
        "sendSticker",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendLocation",
        "sendContact",
        "sendMediaGroup",
        "sendPoll",
        "copyMessage",
        "forwardMessage",
    )
)
_REPLY_METHODS: Final = frozenset(m.lower() for m in (*SENT_METHODS, *EDIT_METHODS))
_CHAT_ACTIONS: Final = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
_NOT_DELIVERED_BY_DEFAULT: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_BUTTON_ACTIONS: Final = (
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
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")

# --- request parameter normalisation -------------------------------------------------------------
#
# PTB (telegram.request.RequestParameter.json_value) sends every parameter as a string: str values
# as-is, everything else json.dumps()-ed. So chat_id=42 arrives as "42", True as "true" and
# reply_markup as a JSON document. Decoding "every string that parses as JSON" would turn the text
# "123" into an int, so decoding is driven by the parameter name instead.

_JSON_PARAMS: Final = frozenset(
    [
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "permissions",
        "options",
        "prices",
        "message_ids",
        "reaction",
        "menu_button",
        "rights",
        "input_message_content",
        "button",
        "suggested_post_parameters",
    ]
)
_NUMBER_PARAMS: Final = frozenset(
    [
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "duration",
        "width",
        "height",
        "until_date",
        "latitude",
        "longitude",
        "horizontal_accuracy",
        "live_period",
        "heading",
        "proximity_alert_radius",
    ]
)
_BOOL_PREFIXES: Final = (
    "is_",
    "has_",
    "disable_",
    "allow_",
    "can_",
    "show_",
    "protect_",
    "drop_",
    "supports_",
    "only_",
)
_INT_RE: Final = re.compile(r"-?\d+")


def _normalise_value(key: str, value: Any) -> Any:
    """Decode one parameter the way Telegram would interpret it (see the comment above)."""
    if not isinstance(value, str):
        return value
    if key in _JSON_PARAMS or key.endswith("entities"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in _NUMBER_PARAMS:
        if _INT_RE.fullmatch(value):
            return int(value)
        try:
            return float(value)
        except ValueError:
            return value
    if key.startswith(_BOOL_PREFIXES) and value in ("true", "false"):
        return value == "true"
    return value


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --- entity parsing (ported from tdlib's MessageEntity.cpp) ------------------------------------


class _EntityParseError(Exception):
    """Markup that Telegram refuses with ``Bad Request: can't parse entities: <message>``."""


def _is_first_utf8_unit(c: int) -> bool:
    return (c & 0xC0) != 0x80


def _utf16_units_of_lead_byte(c: int) -> int:
    """UTF-16 units contributed by the UTF-8 sequence starting with byte ``c``."""
    return 2 if c >= 0xF0 else 1


def _is_space(c: int) -> bool:
    return c in (0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C)


def _check_url(url: str) -> str | None:
    """Normalise a link target like tdlib does, or None when Telegram would drop the link."""
    url = url.strip()
    if not url:
        return None
    parts = urllib.parse.urlsplit(url if "://" in url or url.startswith("tg:") else f"http://{url}")
    scheme = parts.scheme.lower()
    if scheme in ("tg", "ton"):
        return url
    if scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.hostname or ""
    if "." not in host and host != "localhost":
        return None
    return urllib.parse.urlunsplit(
        (scheme, parts.netloc, parts.path or "/", parts.query, parts.fragment)
    )


def _link_entity(url: str, offset: int, length: int) -> dict[str, Any] | None:
    """Entity for a link: text_mention for ``tg://user?id=N``, text_link otherwise."""
    match = re.fullmatch(r"tg:(?://)?user/?\?(?:.*&)?id=(\d+)(?:[&#].*)?", url.strip(), re.I)
    if match:
        user = {"id": int(match.group(1)), "is_bot": False, "first_name": ""}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    checked = _check_url(url)
    if checked is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


def _sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS: Final = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    ]
)
_HTML_SIMPLE: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&lt;``-style references like tdlib: returns (code point or 0, position after)."""
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    end = pos + 1
    value = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                value = value * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while ord("0") <= at(end) <= ord("9"):
                value = value * 10 + at(end) - ord("0")
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end):
            end += 1
        name = data[pos + 1 : end]
        value = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(name, 0)
        if value == 0:
            return 0, pos
    if at(end) == ord(";"):
        end += 1
    return value, end


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode, ported from tdlib's ``do_parse_html``; byte offsets in errors."""
    data = text.encode("utf-8")
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    result = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    # (tag name, argument, utf16 offset, result byte position, begin byte offset)
    nested: list[tuple[str, str, int, int, int]] = []
    i = 0
    while i < size:
        c = data[i]
        if c == ord("&"):
            ch, after = _decode_html_entity(data, i)
            if ch:
                encoded = chr(ch).encode("utf-8", "surrogatepass")
                result += encoded
                utf16 += 2 if ch > 0xFFFF else 1
                i = after
                continue
        if c != ord("<"):
            if _is_first_utf8_unit(c):
                utf16 += _utf16_units_of_lead_byte(c)
            result.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) and not _is_space(at(i)) and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise _EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise _EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            attributes: dict[str, str] = {}
            while at(i) != ord(">"):
                while at(i) and _is_space(at(i)):
                    i += 1
                if at(i) == ord(">"):
                    break
                if at(i) == 0:
                    raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                attr_begin = i
                while at(i) and not _is_space(at(i)) and at(i) not in (ord("="), ord(">")):
                    i += 1
                attr_name = data[attr_begin:i].decode("utf-8", "replace").lower()
                if not attr_name:
                    raise _EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while at(i) and _is_space(at(i)):
                    i += 1
                if at(i) != ord("="):
                    if tag == "blockquote" and attr_name == "expandable":
                        attributes[attr_name] = ""
                        continue
                    raise _EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) and _is_space(at(i)):
                    i += 1
                if at(i) == 0:
                    raise _EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while (at(i) < 0x80 and chr(at(i)).isalnum()) or at(i) in (ord("."), ord("-")):
                        i += 1
                    value += data[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ord(">"):
                        raise _EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    while at(i) != quote and at(i):
                        if at(i) == ord("&"):
                            ch, after = _decode_html_entity(data, i)
                            if ch:
                                value += chr(ch).encode("utf-8", "surrogatepass")
                                i = after
                                continue
                        value.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                if at(i) == 0:
                    raise _EntityParseError(f"Unclosed start tag at byte offset {begin}")
                attributes[attr_name] = value.decode("utf-8", "replace")
            if tag == "a":
                argument = attributes.get("href", "")
            elif tag == "code":
                css = attributes.get("class", "")
                argument = css[len("language-") :] if css.startswith("language-") else ""
            elif tag == "span":
                if attributes.get("class") != "tg-spoiler":
                    raise _EntityParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                    )
            elif tag == "tg-emoji":
                argument = attributes.get("emoji-id", "")
                if not argument.isdigit() or argument.startswith("0"):
                    raise _EntityParseError("Invalid custom emoji identifier specified")
            elif tag == "blockquote" and "expandable" in attributes:
                argument = "expandable"
            nested.append((tag, argument, utf16, len(result), begin))
            i += 1  # skip '>'
            continue

        # an end tag
        if not nested:
            raise _EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) and not _is_space(at(i)) and at(i) != ord(">"):
            i += 1
        end_name = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) and _is_space(at(i)):
            i += 1
        if at(i) != ord(">"):
            raise _EntityParseError(f"Unclosed end tag at byte offset {begin}")
        i += 1
        tag, argument, offset, result_pos, _ = nested.pop()
        if end_name and end_name != tag:
            raise _EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_name}>"'
            )
        length = utf16 - offset
        if length <= 0:
            continue
        entity: dict[str, Any] | None
        if tag in _HTML_SIMPLE:
            entity = {"type": _HTML_SIMPLE[tag], "offset": offset, "length": length}
        elif tag == "a":
            url = argument or result[result_pos:].decode("utf-8", "replace")
            entity = _link_entity(url, offset, length)
        elif tag == "tg-emoji":
            entity = {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument else "blockquote"
            entity = {"type": kind, "offset": offset, "length": length}
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (offset, length)
                and last.get("language")
            ):
                last["type"] = "pre"
                entity = None
            else:
                entity = {"type": "pre", "offset": offset, "length": length}
        else:  # code
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "pre"
                and (last["offset"], last["length"]) == (offset, length)
                and argument
            ):
                last["language"] = argument
                entity = None
            else:
                entity = {"type": "code", "offset": offset, "length": length}
                if argument:
                    entity["language"] = argument
        if entity is not None:
            entities.append(entity)
    if nested:
        raise _EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    try:
        plain = result.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        ) from exc
    return plain, _sort_entities(entities)


_MDV2_RESERVED: Final = frozenset(b"_*[]()~`>#+-=|{}.!")
_MDV2_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def _parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's MarkdownV2 parse mode, ported from tdlib's ``do_parse_markdown_v2``.

    Supports bold, italic, underline, strikethrough, spoiler, code, pre, links, custom emoji and
    ``>`` block quotes at line starts; unescaped reserved characters are refused like Telegram.
    """
    data = text.encode("utf-8")
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    result = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    # (kind, argument, utf16 offset, byte offset in input, result byte position)
    nested: list[tuple[str, str, int, int, int]] = []
    quote_start: int | None = None
    i = 0
    while i < size:
        c = data[i]
        at_line_start = i == 0 or data[i - 1] in (0x0A, 0x0D)
        in_code = bool(nested) and nested[-1][0] in ("code", "pre", "pre_code")
        if at_line_start and quote_start is not None and c != ord(">"):
            # a quote covers its lines including the last line break
            entities.append(
                {"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start}
            )
            quote_start = None
        if at_line_start and c == ord(">") and not in_code:
            if quote_start is None:
                quote_start = utf16
            i += 1
            continue
        if c == ord("\\") and 0 < at(i + 1) <= 126:
            result.append(at(i + 1))
            utf16 += 1
            i += 2
            continue
        reserved = frozenset(b"`") if in_code else _MDV2_RESERVED
        if c not in reserved:
            if _is_first_utf8_unit(c):
                utf16 += _utf16_units_of_lead_byte(c)
            result.append(c)
            i += 1
            continue
        top = nested[-1][0] if nested else None
        is_end = (
            (top == "bold" and c == ord("*"))
            or (top == "italic" and c == ord("_") and at(i + 1) != ord("_"))
            or (top == "underline" and c == ord("_") and at(i + 1) == ord("_"))
            or (top == "strikethrough" and c == ord("~"))
            or (top == "spoiler" and c == ord("|") and at(i + 1) == ord("|"))
            or (top == "code" and c == ord("`"))
            or (top in ("pre", "pre_code") and data[i : i + 3] == b"```")
            or (top in ("text_link", "custom_emoji") and c == ord("]"))
        )
        if not is_end:
            begin = i
            argument = ""
            if c == ord("_"):
                kind = "underline" if at(i + 1) == ord("_") else "italic"
                i += 2 if kind == "underline" else 1
            elif c == ord("*"):
                kind, i = "bold", i + 1
            elif c == ord("~"):
                kind, i = "strikethrough", i + 1
            elif c == ord("|") and at(i + 1) == ord("|"):
                kind, i = "spoiler", i + 2
            elif c == ord("["):
                kind, i = "text_link", i + 1
            elif c == ord("!") and at(i + 1) == ord("["):
                kind, i = "custom_emoji", i + 2
            elif c == ord("`") and data[i : i + 3] == b"```":
                i += 3
                kind = "pre"
                lang_end = i
                while at(lang_end) and not _is_space(at(lang_end)) and at(lang_end) != ord("`"):
                    lang_end += 1
                if i != lang_end and lang_end < size and at(lang_end) != ord("`"):
                    kind = "pre_code"
                    argument = data[i:lang_end].decode("utf-8", "replace")
                    i = lang_end
                if at(i) in (0x0A, 0x0D):
                    pair = at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1)
                    i += 2 if pair else 1
            elif c == ord("`"):
                kind, i = "code", i + 1
            else:
                raise _EntityParseError(
                    f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'"
                )
            nested.append((kind, argument, utf16, begin, len(result)))
            continue

        kind, argument, offset, _, result_pos = nested.pop()
        length = utf16 - offset
        entity: dict[str, Any] | None = None
        if kind in ("text_link", "custom_emoji"):
            if at(i + 1) != ord("("):
                if kind == "custom_emoji":
                    raise _EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = result[result_pos:].decode("utf-8", "replace")
                i += 1
            else:
                i += 2
                url_begin = i
                raw_url = bytearray()
                while i < size and data[i] != ord(")"):
                    if data[i] == ord("\\") and 0 < at(i + 1) <= 126:
                        raw_url.append(at(i + 1))
                        i += 2
                        continue
                    raw_url.append(data[i])
                    i += 1
                if at(i) != ord(")"):
                    what = "a custom emoji URL" if kind == "custom_emoji" else "a URL"
                    raise _EntityParseError(f"Can't find end of {what} at byte offset {url_begin}")
                i += 1
                url = raw_url.decode("utf-8", "replace")
            if kind == "custom_emoji":
                match = re.search(r"[?&]id=(\d+)", url)
                if not url.lower().startswith("tg://emoji") or match is None:
                    raise _EntityParseError("Custom emoji URL must have an emoji identifier")
                if length > 0:
                    entity = {"type": "custom_emoji", "offset": offset, "length": length}
                    entity["custom_emoji_id"] = match.group(1)
            elif length > 0:
                entity = _link_entity(url, offset, length)
        else:
            i += {"underline": 2, "spoiler": 2, "pre": 3, "pre_code": 3}.get(kind, 1)
            if length > 0:
                entity = {"type": "pre" if kind == "pre_code" else kind}
                entity.update(offset=offset, length=length)
                if kind == "pre_code":
                    entity["language"] = argument
        if entity is not None:
            entities.append(entity)
    if nested:
        kind, _, _, byte_offset, _ = nested[-1]
        raise _EntityParseError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {byte_offset}"
        )
    if quote_start is not None:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start}
        )
    plain = result.decode("utf-8", "replace")
    return plain, _sort_entities([e for e in entities if e["length"] > 0])


def _parse_markdown_legacy(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's legacy Markdown parse mode, ported from tdlib's ``parse_markdown``."""
    data = text.encode("utf-8")
    size = len(data)

    def at(i: int) -> int:
        return data[i] if i < size else 0

    result = bytearray()
    entities: list[dict[str, Any]] = []
    utf16 = 0
    i = 0
    while i < size:
        c = data[i]
        if c == ord("\\") and at(i + 1) in b"_*`[":
            result.append(at(i + 1))
            utf16 += 1
            i += 2
            continue
        if c not in b"_*`[":
            if _is_first_utf8_unit(c):
                utf16 += _utf16_units_of_lead_byte(c)
            result.append(c)
            i += 1
            continue
        begin = i
        end_char = ord("]") if c == ord("[") else c
        is_pre = False
        language = ""
        i += 1
        if c == ord("`") and at(i) == ord("`") and at(i + 1) == ord("`"):
            i += 2
            is_pre = True
            lang_end = i
            while at(lang_end) and not _is_space(at(lang_end)) and at(lang_end) != ord("`"):
                lang_end += 1
            if i != lang_end and lang_end < size and at(lang_end) != ord("`"):
                language = data[i:lang_end].decode("utf-8", "replace")
                i = lang_end
            if at(i) in (0x0A, 0x0D):
                i += 2 if at(i + 1) in (0x0A, 0x0D) and at(i) != at(i + 1) else 1
        offset = utf16
        while i < size and (
            data[i] != end_char or (is_pre and not (at(i + 1) == at(i + 2) == ord("`")))
        ):
            if _is_first_utf8_unit(data[i]):
                utf16 += _utf16_units_of_lead_byte(data[i])
            result.append(data[i])
            i += 1
        if i == size:
            raise _EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        entity: dict[str, Any] | None = None
        if utf16 > offset:
            length = utf16 - offset
            if c == ord("_"):
                entity = {"type": "italic", "offset": offset, "length": length}
            elif c == ord("*"):
                entity = {"type": "bold", "offset": offset, "length": length}
            elif c == ord("["):
                if at(i + 1) != ord("("):
                    url = data[begin + 1 : i].decode("utf-8", "replace")
                else:
                    i += 2
                    url_start = i
                    while i < size and data[i] != ord(")"):
                        i += 1
                    url = data[url_start:i].decode("utf-8", "replace")
                entity = _link_entity(url, offset, length)
            elif is_pre:
                entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    entity["language"] = language
            else:
                entity = {"type": "code", "offset": offset, "length": length}
        if entity is not None:
            entities.append(entity)
        i += 3 if is_pre else 1
    return result.decode("utf-8", "replace"), _sort_entities(entities)


def _parse_formatted(
    text: str, parse_mode: str | None, entities: Any
) -> tuple[str, list[dict[str, Any]]]:
    """Apply a parse mode (or explicit entities) the way the Bot API does before sending."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        if isinstance(entities, list):
            return text, _sort_entities([dict(e) for e in entities if isinstance(e, dict)])
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown_legacy(text)
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram and move entities along with the text."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    moved: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


_AUTO_ENTITY_RE: Final = re.compile(
    r"(?P<bot_command>(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<url>\bhttps?://[^\s]+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{5,32})"
)


def _detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities a Telegram client attaches to typed text: commands, URLs and @mentions."""
    found: list[dict[str, Any]] = []
    for match in _AUTO_ENTITY_RE.finditer(text):
        kind = match.lastgroup or "url"
        offset = _utf16_len(text[: match.start()])
        found.append({"type": kind, "offset": offset, "length": _utf16_len(match.group())})
    return found


# --- public data types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, kept so tests can check name, type and size."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        """Length of the uploaded content in bytes."""
        return len(self.data)


@dataclass(eq=False)
class Call:
    """One HTTP request to the Bot API, as the fake understood it.

    ``params`` holds decoded values (ints for ids, dicts for ``reply_markup``...). ``status`` is
    None while the request is still being answered (e.g. a long poll), then the HTTP status.
    ``time`` is ``time.monotonic()`` at arrival.
    """

    method: str
    params: dict[str, Any]
    time: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the fake answered ``{"ok": true, ...}``."""
        return self.status == HTTPStatus.OK

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer (e.g. the sent Message), else None."""
        return self.response.get("result") if self.response else None

    @property
    def description(self) -> str | None:
        """The error ``description`` of a failed answer, else None."""
        return self.response.get("description") if self.response else None

    @property
    def chat_id(self) -> Any:
        """The ``chat_id`` parameter (an int for numeric ids), if any."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """The raw ``text`` parameter, or the ``caption`` for media; None if neither was sent."""
        value = self.params.get("text", self.params.get("caption"))
        return None if value is None else str(value)

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The decoded ``reply_markup`` parameter, if any."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None


class TelegramApiError(Exception):
    """An error answer of the Bot API; raise it from custom method handlers to refuse a call."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        """Describe the answer: HTTP status, Telegram's description and optional parameters."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def body(self) -> dict[str, Any]:
        """The JSON document Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class UpdateDict(dict[str, Any]):
    """An update as queued for the bot; also awaitable (to itself) so tests may ``await`` it.

    Why: the simulated-user helpers only enqueue data and need no I/O, but tests read naturally
    either way: ``ada.send_text("hoi")`` and ``await ada.send_text("hoi")`` both work.
    """

    def __await__(self) -> Generator[Any, None, UpdateDict]:
        """Complete immediately with the update itself."""

        async def _ready() -> UpdateDict:
            return self

        return _ready().__await__()


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None
    mime_type: str | None


class _Sentinel(enum.Enum):
    REGISTERED = enum.auto()


_FAULT_DESCRIPTIONS: Final = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: BLOCKED_BY_USER,
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_FAKE_JPEG: Final = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 64 + b"\xff\xd9"
_FAKE_OGG: Final = b"OggS\x00\x02" + b"\x00" * 64
_FAKE_PDF: Final = b"%PDF-1.4\n% fake document for tests\n%%EOF\n"
_FAKE_WEBP: Final = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


# --- simulated people -----------------------------------------------------------------------------


class FakeUser:
    """A person who talks to the bot; every action enqueues one update and returns it.

    The private chat id equals the user id, like on Telegram. After each action the user
    remembers the position in the call log, so :meth:`wait_reply` returns what the bot sent back.
    """

    def __init__(
        self,
        server: FakeTelegramServer,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        """Create the user and its private chat (use :meth:`FakeTelegramServer.user` instead)."""
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self._cursor = len(server.calls)
        self._reply_chat_id = user_id

    @property
    def chat_id(self) -> int:
        """Id of the private chat with the bot (== user id)."""
        return self.user_id

    def as_json(self) -> dict[str, Any]:
        """The ``User`` object Telegram puts in ``from`` fields."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def private_chat(self) -> dict[str, Any]:
        """The ``Chat`` object of the private chat with the bot."""
        chat: dict[str, Any] = {
            "id": self.user_id,
            "type": "private",
            "first_name": self.first_name,
        }
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # --- actions -----------------------------------------------------------------------------

    def _mark(self, chat_id: int) -> None:
        self._cursor = len(self.server.calls)
        self._reply_chat_id = chat_id

    def _send(self, content: Mapping[str, Any], chat: dict[str, Any] | None = None) -> UpdateDict:
        chat = chat or self.private_chat()
        self._mark(chat["id"])
        message = {
            "message_id": self.server._next_message_id(chat["id"]),
            "from": self.as_json(),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        return self.server.queue_update({"message": message})

    def send_text(self, text: str) -> UpdateDict:
        """Type a text message; commands, URLs and @mentions get entities like in the apps."""
        content: dict[str, Any] = {"text": text}
        entities = _detect_entities(text)
        if entities:
            content["entities"] = entities
        return self._send(content)

    def send_command(self, command: str, payload: str | None = None) -> UpdateDict:
        """Send ``/command payload`` with a ``bot_command`` entity (the slash is optional)."""
        text = "/" + command.lstrip("/")
        if payload:
            text = f"{text} {payload}"
        return self.send_text(text)

    def press(
        self,
        button_text: str | None = None,
        callback_data: str | None = None,
        message_id: int | None = None,
        *,
        chat_id: int | None = None,
    ) -> UpdateDict:
        """Press an inline button: a ``callback_query`` for the latest bot message with a keyboard.

        The button is found by its visible text or its data; with neither, the message must
        have exactly one callback button. ``message_id`` picks an older message.
        """
        target_chat = self.user_id if chat_id is None else chat_id
        message = self.server._find_keyboard_message(target_chat, message_id)
        buttons = [
            button
            for row in message["reply_markup"]["inline_keyboard"]
            for button in row
            if isinstance(button, dict)
        ]
        if button_text is not None:
            candidates = [b for b in buttons if b.get("text") == button_text]
        elif callback_data is not None:
            candidates = [b for b in buttons if b.get("callback_data") == callback_data]
        else:
            candidates = [b for b in buttons if "callback_data" in b]
        if len(candidates) != 1 or "callback_data" not in candidates[0]:
            shown = [(b.get("text"), b.get("callback_data")) for b in buttons]
            raise LookupError(
                f"no single callback button matching text={button_text!r} "
                f"data={callback_data!r} on message {message['message_id']}: {shown}"
            )
        return self._query(target_chat, message, candidates[0]["callback_data"])

    def press_data(
        self, data: str, message_id: int | None = None, *, chat_id: int | None = None
    ) -> UpdateDict:
        """Press a button carrying any ``data``, as a modified client can (forged buttons).

        The query refers to ``message_id`` (default: the latest bot message in the chat,
        with or without a keyboard), so old buttons whose keyboard is gone can be replayed.
        """
        target_chat = self.user_id if chat_id is None else chat_id
        messages = self.server.messages_for(target_chat)
        if message_id is None:
            if not messages:
                raise LookupError(f"no bot message in chat {target_chat}")
            message_id = max(messages)
        if message_id not in messages:
            raise LookupError(f"no bot message {message_id} in chat {target_chat}")
        return self._query(target_chat, messages[message_id], data)

    def _query(self, chat_id: int, message: dict[str, Any], data: str) -> UpdateDict:
        self._mark(chat_id)
        query_id = str(next(self.server._query_ids))
        self.server._callback_queries[query_id] = None
        query = {
            "id": query_id,
            "from": self.as_json(),
            "message": copy.deepcopy(message),
            "chat_instance": f"{abs(chat_id) * 7919 % 10**12}",
            "data": data,
        }
        return self.server.queue_update({"callback_query": query})

    def send_sticker(self, emoji: str = "👍") -> UpdateDict:
        """Send a regular (static) sticker."""
        stored = self.server._register_file(_FAKE_WEBP, "sticker", None, "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._send({"sticker": sticker})

    def send_photo(
        self, file_id: str | None = None, caption: str | None = None, data: bytes | None = None
    ) -> UpdateDict:
        """Send a photo; its file can be fetched through getFile and the file URL."""
        stored = self.server._register_file(
            data or _FAKE_JPEG, "photo", None, "image/jpeg", file_id=file_id
        )
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 1280,
            "height": 960,
            "file_size": len(stored.data),
        }
        content: dict[str, Any] = {"photo": [size]}
        if caption:
            content["caption"] = caption
        return self._send(content)

    def send_voice(self, duration: int = 3, data: bytes | None = None) -> UpdateDict:
        """Send a voice note."""
        stored = self.server._register_file(data or _FAKE_OGG, "voice", None, "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._send({"voice": voice})

    def send_location(self, latitude: float, longitude: float) -> UpdateDict:
        """Share a (static) location."""
        return self._send({"location": {"latitude": latitude, "longitude": longitude}})

    def send_contact(
        self,
        phone_number: str = "+31612345678",
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> UpdateDict:
        """Share a contact; by default the user's own (as the 'share my number' button does)."""
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or self.first_name,
        }
        if last_name:
            contact["last_name"] = last_name
        owner = self.user_id if user_id is None and first_name is None else user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._send({"contact": contact})

    def send_document(
        self,
        file_name: str = "document.pdf",
        data: bytes = _FAKE_PDF,
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> UpdateDict:
        """Send a file as a document."""
        stored = self.server._register_file(data, "document", file_name, mime_type)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return self._send(content)

    def edit_text(self, message_id: int, text: str) -> UpdateDict:
        """Edit one of the user's own earlier text messages (an ``edited_message`` update)."""
        original = self.server._messages.get(self.user_id, {}).get(message_id)
        if original is None or original.get("from", {}).get("id") != self.user_id:
            raise LookupError(f"user {self.user_id} has no message {message_id} to edit")
        self._mark(self.user_id)
        original["text"] = text
        original["edit_date"] = int(time.time())
        original.pop("entities", None)
        entities = _detect_entities(text)
        if entities:
            original["entities"] = entities
        return self.server.queue_update({"edited_message": copy.deepcopy(original)})

    def block(self) -> UpdateDict:
        """Block the bot: a ``my_chat_member`` update (kicked); later sends get HTTP 403."""
        self.server.block_chat(self.user_id)
        return self._member_update(old="member", new="kicked")

    def unblock(self) -> UpdateDict:
        """Unblock the bot (restart it): a ``my_chat_member`` update back to member."""
        self.server.unblock_chat(self.user_id)
        return self._member_update(old="kicked", new="member")

    def _member_update(self, old: str, new: str) -> UpdateDict:
        self._mark(self.user_id)
        bot = self.server.bot_user
        old_member: dict[str, Any] = {"status": old, "user": bot}
        new_member: dict[str, Any] = {"status": new, "user": bot}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        update = {
            "chat": self.private_chat(),
            "from": self.as_json(),
            "date": int(time.time()),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }
        return self.server.queue_update({"my_chat_member": update})

    def send_in_group(self, text: str, group_id: int, title: str = "Buurtgroep") -> UpdateDict:
        """Write ``text`` in a group chat (negative id; ``-100...`` ids become supergroups)."""
        kind = "supergroup" if str(group_id).startswith("-100") else "group"
        chat = {"id": group_id, "type": kind, "title": title}
        self.server._chats.setdefault(group_id, chat)
        content: dict[str, Any] = {"text": text}
        entities = _detect_entities(text)
        if entities:
            content["entities"] = entities
        return self._send(content, chat=self.server._chats[group_id])

    # --- waiting -------------------------------------------------------------------------------

    async def wait_reply(self, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until the bot sent/edited ``count`` messages in this chat since the last action.

        Returns those successful calls (see ``SENT_METHODS``/``EDIT_METHODS``) in order and moves
        past them, so a second ``wait_reply()`` returns the next replies.
        """
        chat_id = self._reply_chat_id

        def collect() -> tuple[list[Call], int] | None:
            found: list[Call] = []
            for index in range(self._cursor, len(self.server.calls)):
                call = self.server.calls[index]
                if call.method.lower() not in _REPLY_METHODS or call.chat_id != chat_id:
                    continue
                if call.status is None:
                    return None  # an earlier reply is still in flight; keep the order
                if call.ok:
                    found.append(call)
                    if len(found) == count:
                        return found, index + 1
            return None

        try:
            found, next_cursor = await self.server.wait_for(collect, timeout=timeout)
        except TimeoutError:
            sent = [
                (c.method, c.status, c.text)
                for c in self.server.calls[self._cursor :]
                if c.chat_id == chat_id
            ]
            raise TimeoutError(
                f"bot did not send {count} message(s) to chat {chat_id} within {timeout}s; "
                f"calls for this chat since the last action: {sent}"
            ) from None
        self._cursor = next_cursor
        return found

    def messages(self) -> dict[int, dict[str, Any]]:
        """Current state of the bot's messages in the private chat (see ``messages_for``)."""
        return self.server.messages_for(self.user_id)


# --- the server -----------------------------------------------------------------------------------

_Handler = Callable[[Call], Any]


class FakeTelegramServer:
    """Fake Bot API server; see the module docstring for what it does and why.

    Rate limits are off unless given: ``global_rate`` send calls per sliding second over all
    chats, ``per_chat_rate`` per second per chat with bursts of ``per_chat_burst`` and
    ``per_group_per_minute`` for group chats. ``strict_chats`` makes sends to chats the fake has
    never seen fail with ``chat not found`` like Telegram does for users who never started the bot.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        check_token: bool = True,
        bot_username: str = "buurtbot_test_bot",
        bot_first_name: str = "Buurtbot",
        global_rate: int | None = None,
        per_chat_rate: float | None = None,
        per_chat_burst: int = 3,
        per_group_per_minute: int | None = None,
        deliver_webhooks: bool = False,
        webhook_retry_delay: float = 0.2,
        strict_chats: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        """Configure the fake; nothing listens until :meth:`start` (or ``async with``)."""
        self.token = token
        self.check_token = check_token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456789
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = per_chat_burst
        self.per_group_per_minute = per_group_per_minute
        self.deliver_webhooks = deliver_webhooks
        self.webhook_retry_delay = webhook_retry_delay
        self.strict_chats = strict_chats
        self.host = host

        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.count_429 = 0
        self.callback_answers: dict[str, dict[str, Any]] = {}

        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._changed = asyncio.Event()
        self._busy = 0
        self._last_activity = time.monotonic()

        self._update_ids = itertools.count(100_000)
        self._query_ids = itertools.count(4_000_000_000_001)
        self._file_counter = itertools.count(1)
        self._updates: list[UpdateDict] = []
        self._delivered: set[int] = set()
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._reply_keyboards: dict[int, dict[str, Any] | None] = {}
        self._blocked: set[int] = set()
        self._callback_queries: dict[str, dict[str, Any] | None] = {}
        self._files: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._webhook: dict[str, Any] | None = None
        self._webhook_error: tuple[int, str] | None = None

        self._faults: dict[str, deque[TelegramApiError | None]] = {}  # None: let one pass
        self._delays: dict[str, float] = {}
        self._global_window: deque[float] = deque()
        self._chat_buckets: dict[int, tuple[float, float]] = {}
        self._group_windows: dict[int, deque[float]] = {}

        self._methods: dict[str, tuple[str, _Handler]] = {}
        for name, handler in {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendChatAction": self._m_send_chat_action,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "sendDocument": self._m_send_document,
            "sendPhoto": self._m_send_photo,
            "getFile": self._m_get_file,
            "getChat": self._m_get_chat,
            "close": self._m_true,
            "logOut": self._m_true,
        }.items():
            self.register_method(name, handler)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        """Listen on a free port of ``host`` and start the webhook delivery task."""
        if self._runner is not None:
            return self
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 10 * 1024 * 1024)
        app.router.add_route("*", r"/bot{token:[^/]+}/{method}", self._handle_api)
        app.router.add_get(r"/file/bot{token:[^/]+}/{path:.+}", self._handle_file)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._stopping = False
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._webhook_loop(), name="fake-tg-webhooks")
        return self

    async def stop(self) -> None:
        """End long polls, stop webhook delivery and close the listening socket."""
        self._stopping = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server for an ``async with`` block."""
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server at the end of an ``async with`` block."""
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:43125``."""
        if self._port is None:
            raise RuntimeError("FakeTelegramServer is not started")
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    def application_builder(self) -> ApplicationBuilder:
        """A PTB ``ApplicationBuilder`` already pointed at this server with its token."""
        from telegram.ext import Application

        return (
            Application.builder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    def bot(self) -> Bot:
        """A plain PTB ``Bot`` pointed at this server (use ``async with`` to initialise it)."""
        from telegram import Bot

        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url)

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's ``User`` object as it appears in ``from`` fields."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # --- inspection ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """All recorded calls of ``method`` (case-insensitive), failed ones included."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | str | None = None) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendDocument calls, in order, optionally per chat."""
        wanted = {m.lower() for m in SENT_METHODS}
        return [
            call
            for call in self.calls
            if call.method.lower() in wanted
            and call.ok
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def messages_for(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """The bot's messages in a chat as users see them now (after edits and deletions).

        Maps message_id to the ``Message`` JSON (``text``/``caption``, ``entities``,
        ``reply_markup``...), in sending order.
        """
        return {
            message_id: copy.deepcopy(message)
            for message_id, message in self._messages.get(chat_id, {}).items()
            if message.get("from", {}).get("id") == self.bot_id
        }

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        """The newest bot message in a chat, or None."""
        messages = self.messages_for(chat_id)
        return messages[max(messages)] if messages else None

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The custom reply keyboard the bot last set in a chat (None after removal)."""
        return copy.deepcopy(self._reply_keyboards.get(chat_id))

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Commands stored by setMyCommands for a scope (default scope) and language."""
        return copy.deepcopy(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def unanswered_callback_queries(self) -> list[str]:
        """Ids of pressed buttons the bot never answered (Telegram shows a spinner for these)."""
        return [qid for qid, answer in self._callback_queries.items() if answer is None]

    def drop_pending_updates(self) -> None:
        """Forget every queued update, as `drop_pending_updates=True` makes Telegram do."""
        self._updates.clear()
        self._delivered.clear()

    @property
    def pending_updates(self) -> int:
        """Queued updates not yet handed out through getUpdates or a webhook."""
        return sum(1 for u in self._updates if u["update_id"] not in self._delivered)

    @property
    def unconfirmed_updates(self) -> int:
        """Updates not yet confirmed (getUpdates offset / webhook 2xx); Telegram's pending count."""
        return len(self._updates)

    @property
    def webhook_url(self) -> str:
        """The registered webhook URL, or '' when none is set."""
        return self._webhook["url"] if self._webhook else ""

    @property
    def webhook_secret(self) -> str | None:
        """The registered webhook secret token, if any."""
        return self._webhook.get("secret_token") if self._webhook else None

    def clear_calls(self) -> None:
        """Forget recorded calls and violations (e.g. after a test's setup phase)."""
        self.calls.clear()
        self.violations.clear()
        self.count_429 = 0
        for user in self._users.values():
            user._cursor = 0

    # --- scripting -----------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Ada",
        language_code: str | None = "nl",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The simulated person with this id (created on first use; later args are ignored)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        person = FakeUser(self, user_id, first_name, language_code, last_name, username)
        self._users[user_id] = person
        self._chats[user_id] = person.private_chat()
        return person

    def queue_update(self, update: Mapping[str, Any]) -> UpdateDict:
        """Queue a raw update for the bot; an ``update_id`` is assigned when missing."""
        queued = UpdateDict(update)
        if "update_id" not in queued:
            queued["update_id"] = next(self._update_ids)
        else:
            later = int(queued["update_id"]) + 1
            if later > self._peek_update_id():
                self._update_ids = itertools.count(later)
        for key in ("message", "edited_message", "channel_post"):
            message = queued.get(key)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                self._chats.setdefault(message["chat"]["id"], message["chat"])
                if key != "edited_message":
                    self._store_message(copy.deepcopy(message))  # later edits must not leak
        self._updates.append(queued)
        self._touch()
        return queued

    def fail_next(
        self,
        method: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error instead of handling them.

        With ``after``, that many calls are handled normally first (the second message of
        a reply fails, not the first).

        429 answers carry ``parameters.retry_after`` (default 1 s). Default descriptions follow
        Telegram: 403 is 'Forbidden: bot was blocked by the user', 502 'Bad Gateway', etc.
        """
        parameters: dict[str, Any] | None = None
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = 1 if retry_after is None else retry_after
            parameters = {"retry_after": retry_after}
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            if retry_after is not None:
                parameters = {"retry_after": retry_after}
            fallback = _FAULT_DESCRIPTIONS.get(status)
            if fallback is None:
                try:
                    fallback = HTTPStatus(status).phrase
                except ValueError:
                    fallback = f"Error {status}"
            text = description or fallback
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend([None] * after)
        for _ in range(times):
            queue.append(TelegramApiError(status, text, parameters))

    def clear_faults(self) -> None:
        """Forget the errors queued by :meth:`fail_next` that were not used up."""
        self._faults.clear()

    def block_chat(self, chat_id: int) -> None:
        """Make every call aimed at this chat fail with 403, as when the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo :meth:`block_chat`."""
        self._blocked.discard(chat_id)

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of ``method`` only after ``seconds`` (0 removes the delay)."""
        if seconds > 0:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    def register_method(self, name: str, handler: _Handler) -> None:
        """Add or replace a Bot API method; ``handler(call)`` returns the result (may be async).

        Raise :class:`TelegramApiError` from the handler to answer with an error.
        """
        self._methods[name.lower()] = (name, handler)

    def add_file(
        self,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        kind: str = "document",
    ) -> str:
        """Store a downloadable file and return its ``file_id`` (for getFile tests)."""
        return self._register_file(data, kind, file_name, mime_type).file_id

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a stored or uploaded file."""
        return self._files[file_id].data

    # --- waiting -------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[..., Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy; re-checked whenever a call or update happens.

        The predicate may take no argument or the server. Returns its truthy value; raises
        ``TimeoutError`` after ``timeout`` seconds.
        """
        pass_self = _wants_argument(predicate)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            value = predicate(self) if pass_self else predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait for ``count`` successful calls of ``method``; returns the first ``count``."""

        def done() -> list[Call] | None:
            answered = [call for call in self.calls_to(method) if call.ok]
            return answered[:count] if len(answered) >= count else None

        result: list[Call] = await self.wait_for(done, timeout=timeout)
        return result

    async def wait_idle(self, idle: float = 0.1, timeout: float = 5.0) -> None:
        """Wait until every update was handed out and no call happened for ``idle`` seconds.

        Long polls waiting for updates do not count as activity.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            now = time.monotonic()
            quiet = self.pending_updates == 0 and self._busy == 0
            remaining = deadline - loop.time()
            if quiet and now - self._last_activity >= idle:
                return
            if remaining <= 0:
                raise TimeoutError(
                    f"not idle after {timeout}s: {self.pending_updates} pending update(s), "
                    f"{self._busy} call(s) in flight"
                )
            wait = min(remaining, idle - (now - self._last_activity)) if quiet else remaining
            try:
                await asyncio.wait_for(changed.wait(), max(wait, 0.001))
            except TimeoutError:
                continue

    # --- webhooks ------------------------------------------------------------------------------

    async def post_to_webhook(
        self,
        update: Mapping[str, Any] | None = None,
        *,
        secret_token: str | _Sentinel | None = _Sentinel.REGISTERED,
    ) -> int:
        """POST an update to the registered webhook and return the HTTP status it answered.

        Without ``update`` the oldest undelivered queued update is sent. ``secret_token``
        defaults to the registered one; pass another value (or None) to test the bot's check.
        A 2xx answer confirms a queued update, like Telegram.
        """
        if not self._webhook:
            raise RuntimeError("no webhook registered (setWebhook was not called)")
        if update is None:
            pending = self._next_undelivered()
            if pending is None:
                raise LookupError("no queued update to deliver")
            update = pending
        elif "update_id" not in update:
            update = {**update, "update_id": next(self._update_ids)}
        token = self.webhook_secret if secret_token is _Sentinel.REGISTERED else secret_token
        status = await self._post_update(update, token)
        if 200 <= status < 300:
            self._confirm(update["update_id"])
        else:
            self._delivered.discard(update["update_id"])  # Telegram would retry it
        return status

    async def _post_update(self, update: Mapping[str, Any], secret_token: str | None) -> int:
        if self._session is None or not self._webhook:
            raise RuntimeError("FakeTelegramServer is not started or has no webhook")
        headers = {"Content-Type": "application/json"}
        if secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        self._delivered.add(update["update_id"])
        self._touch()
        async with self._session.post(
            self._webhook["url"], data=json.dumps(update), headers=headers
        ) as response:
            await response.read()
            status = response.status
        if not 200 <= status < 300:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Unknown"
            message = f"Wrong response from the webhook: {status} {phrase}"
            self._webhook_error = (int(time.time()), message)
        self._touch()
        return status

    async def _webhook_loop(self) -> None:
        """Push queued updates to the webhook one at a time while ``deliver_webhooks`` is on."""
        while not self._stopping:
            changed = self._changed
            update = self._next_undelivered() if self.deliver_webhooks and self._webhook else None
            if update is None:
                await changed.wait()
                continue
            try:
                status = await self._post_update(update, self.webhook_secret)
            except Exception as exc:  # keep delivering: a dead loop would only show as timeouts
                self._webhook_error = (int(time.time()), f"Connection failed: {exc!r}")
                status = 0
            if 200 <= status < 300:
                self._confirm(update["update_id"])
            else:
                self._delivered.discard(update["update_id"])
                await asyncio.sleep(self.webhook_retry_delay)

    # --- HTTP plumbing -------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake everybody waiting for a change (long polls, wait_for, webhook delivery)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._notify()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method_name = request.match_info["method"]
        params, files = await _read_params(request)
        canonical, handler = self._methods.get(method_name.lower(), (method_name, None))
        call = Call(canonical, params, time.monotonic(), files)
        is_poll = canonical.lower() == "getupdates"
        self.calls.append(call)
        if not is_poll:
            self._busy += 1
            self._touch()
        else:
            self._notify()
        try:
            status, body = await self._dispatch(call, request.match_info["token"], handler)
        except asyncio.CancelledError:
            call.status = 499  # client went away (e.g. PTB cancelled its long poll)
            raise
        finally:
            if not is_poll:
                self._busy -= 1
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.count_429 += 1
        call.status, call.response = status, body
        if not is_poll or body.get("result"):
            self._touch()
        else:
            self._notify()
        return web.json_response(body, status=status)

    async def _dispatch(
        self, call: Call, token: str, handler: _Handler | None
    ) -> tuple[int, dict[str, Any]]:
        if self.check_token and token != self.token:
            return 401, TelegramApiError(401, "Unauthorized").body()
        lowered = call.method.lower()
        pause = self._delays.get(lowered)
        if pause:
            await asyncio.sleep(pause)
        faults = self._faults.get(lowered)
        if faults:
            fault = faults.popleft()
            if fault is not None:
                return fault.status, fault.body()
        if handler is None:
            return 404, TelegramApiError(404, "Not Found: method not found").body()
        try:
            result = handler(call)
            if inspect.isawaitable(result):
                result = await result
        except TelegramApiError as error:
            return error.status, error.body()
        return 200, {"ok": True, "result": copy.deepcopy(result)}

    async def _handle_file(self, request: web.Request) -> web.Response:
        if self.check_token and request.match_info["token"] != self.token:
            return web.json_response(TelegramApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return web.json_response(TelegramApiError(404, "Not Found").body(), status=404)

    # --- shared helpers ------------------------------------------------------------------------

    def _peek_update_id(self) -> int:
        upcoming = next(self._update_ids)
        self._update_ids = itertools.count(upcoming)
        return upcoming

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _store_message(self, message: dict[str, Any]) -> None:
        chat_id = message["chat"]["id"]
        message_id = int(message["message_id"])
        self._messages.setdefault(chat_id, {})[message_id] = message
        if message_id > self._last_message_id.get(chat_id, 0):
            self._last_message_id[chat_id] = message_id

    def _find_keyboard_message(self, chat_id: int, message_id: int | None) -> dict[str, Any]:
        bot_messages = self.messages_for(chat_id)
        if message_id is not None:
            message = bot_messages.get(message_id)
            if message is None or "inline_keyboard" not in message.get("reply_markup", {}):
                raise LookupError(f"bot message {message_id} in chat {chat_id} has no keyboard")
            return message
        for candidate in reversed(bot_messages.values()):
            if "inline_keyboard" in candidate.get("reply_markup", {}):
                return candidate
        raise LookupError(f"no bot message with an inline keyboard in chat {chat_id}")

    def _register_file(
        self,
        data: bytes,
        kind: str,
        file_name: str | None,
        mime_type: str | None,
        *,
        file_id: str | None = None,
    ) -> _StoredFile:
        number = next(self._file_counter)
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photo":
            suffix = ".jpg"
        elif kind == "voice":
            suffix = ".oga"
        elif kind == "sticker":
            suffix = ".webp"
        stored = _StoredFile(
            file_id=file_id or f"FAKE{kind.upper()}-{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{kind}s/file_{number}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _scope_key(scope: Any) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def _bad_request(
        self, call: Call, description: str, *, violation: bool = True
    ) -> TelegramApiError:
        """A 400 answer; recorded as a violation when it is something the bot must not do."""
        error = TelegramApiError(400, f"Bad Request: {description}")
        if violation:
            where = f"(chat_id={call.chat_id})" if "chat_id" in call.params else ""
            self.violations.append(f"{call.method}{where}: {error.description}")
        return error

    def _chat_id(self, call: Call) -> int:
        """Resolve ``chat_id`` (numeric or ``@username``) to a known chat id."""
        raw = call.params.get("chat_id")
        if raw is None or raw == "":
            raise self._bad_request(call, "chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat_id, chat in self._chats.items():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return chat_id
            raise self._bad_request(call, "chat not found")
        if not isinstance(raw, int):
            raise self._bad_request(call, "chat not found")
        if raw not in self._chats:
            if self.strict_chats:
                raise self._bad_request(call, "chat not found")
            if raw > 0:
                self._chats[raw] = {"id": raw, "type": "private", "first_name": f"User {raw}"}
            else:
                kind = "supergroup" if str(raw).startswith("-100") else "group"
                self._chats[raw] = {"id": raw, "type": kind, "title": f"Chat {raw}"}
        return raw

    def _ensure_reachable(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise TelegramApiError(403, BLOCKED_BY_USER if chat_id > 0 else KICKED_FROM_GROUP)

    def _check_rate(self, call: Call, chat_id: int) -> None:
        """Telegram-like flood control; raises 429 with retry_after when a limit is exceeded."""
        if call.method.lower() not in _RATE_LIMITED_METHODS:
            return
        now = time.monotonic()
        if self.global_rate is not None:
            window = self._global_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= self.global_rate:
                raise _too_many(window[0] + 1.0 - now)
        bucket: tuple[float, float] | None = None
        if self.per_chat_rate is not None:
            tokens, last = self._chat_buckets.get(chat_id, (float(self.per_chat_burst), now))
            tokens = min(float(self.per_chat_burst), tokens + (now - last) * self.per_chat_rate)
            if tokens < 1.0:
                raise _too_many((1.0 - tokens) / self.per_chat_rate)
            bucket = (tokens - 1.0, now)
        group_window: deque[float] | None = None
        if self.per_group_per_minute is not None and chat_id < 0:
            group_window = self._group_windows.setdefault(chat_id, deque())
            while group_window and group_window[0] <= now - 60.0:
                group_window.popleft()
            if len(group_window) >= self.per_group_per_minute:
                raise _too_many(group_window[0] + 60.0 - now)
        if self.global_rate is not None:
            self._global_window.append(now)
        if bucket is not None:
            self._chat_buckets[chat_id] = bucket
        if group_window is not None:
            group_window.append(now)

    def _formatted(
        self, call: Call, key: str, entities_key: str, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        """Parse and validate a text or caption; raises Telegram's 400 answers."""
        is_caption = key == "caption"
        raw = call.params.get(key)
        if raw is None or raw == "":
            if is_caption:
                return "", []
            raise self._bad_request(call, "message text is empty")
        try:
            text, entities = _parse_formatted(
                str(raw), call.params.get("parse_mode"), call.params.get(entities_key)
            )
        except _EntityParseError as exc:
            raise self._bad_request(call, f"can't parse entities: {exc}") from None
        except ValueError:
            raise self._bad_request(call, "unsupported parse_mode") from None
        text, entities = _trim(text, entities)
        if not text and not is_caption:
            raise self._bad_request(call, "message text is empty")
        if _utf16_len(text) > limit:
            raise self._bad_request(
                call, "message caption is too long" if is_caption else "message is too long"
            )
        return text, entities

    def _reply_markup(self, call: Call, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate ``reply_markup``; enforces Telegram's inline button rules."""
        markup = call.params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise self._bad_request(call, "can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise self._bad_request(call, "inline keyboard expected")
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise self._bad_request(
                call, 'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or "text" not in button:
                    raise self._bad_request(
                        call,
                        'can\'t parse inline keyboard button: Field "text" must be of type String',
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if size == 0 or size > MAX_CALLBACK_DATA_BYTES:
                        raise self._bad_request(call, "BUTTON_DATA_INVALID")
                if not any(action in button for action in _BUTTON_ACTIONS):
                    raise self._bad_request(
                        call,
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard",
                    )
        return markup

    def _reply_to(self, call: Call, chat_id: int) -> dict[str, Any] | None:
        params = call.params
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply"))
            chat_id = (
                reply.get("chat_id", chat_id) if isinstance(reply.get("chat_id"), int) else chat_id
            )
        else:
            message_id = params.get("reply_to_message_id")
            allow = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        original = self._messages.get(chat_id, {}).get(message_id)
        if original is None:
            if allow:
                return None
            raise self._bad_request(call, "message to be replied not found")
        replied = copy.deepcopy(original)
        replied.pop("reply_to_message", None)
        return replied

    def _new_bot_message(
        self,
        chat_id: int,
        content: dict[str, Any],
        markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": copy.deepcopy(self._chats[chat_id]),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup is not None:
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
            elif "keyboard" in markup:
                self._reply_keyboards[chat_id] = markup
            elif markup.get("remove_keyboard"):
                self._reply_keyboards[chat_id] = None
        self._store_message(message)
        return message

    def _text_content(
        self, text: str, entities: list[dict[str, Any]], key: str = "text"
    ) -> dict[str, Any]:
        content: dict[str, Any] = {}
        if text or key == "text":
            content[key] = text
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    def _editable(self, call: Call, chat_id: int) -> dict[str, Any]:
        message_id = call.params.get("message_id")
        message = self._messages.get(chat_id, {}).get(message_id) if message_id else None
        if message is None:
            raise self._bad_request(call, "message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise self._bad_request(call, "message can't be edited")
        return message

    def _next_undelivered(self) -> UpdateDict | None:
        for update in list(self._updates):
            if update["update_id"] in self._delivered:
                continue
            if not self._is_allowed(update):
                self._updates.remove(update)  # Telegram silently drops unwanted update types
                continue
            return update
        return None

    def _is_allowed(self, update: Mapping[str, Any]) -> bool:
        kinds = [key for key in update if key != "update_id"]
        kind = kinds[0] if kinds else ""
        allowed = self._allowed_updates
        if self._webhook and self._webhook.get("allowed_updates") is not None:
            allowed = self._webhook["allowed_updates"]
        if not allowed:
            return kind not in _NOT_DELIVERED_BY_DEFAULT
        return kind in allowed

    def _confirm(self, update_id: int) -> None:
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._delivered.discard(update_id)
        self._notify()

    # --- Bot API methods -----------------------------------------------------------------------

    def _m_true(self, call: Call) -> bool:
        return True

    def _m_get_me(self, call: Call) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, call: Call) -> list[dict[str, Any]]:
        if self._webhook:
            raise TelegramApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        params = call.params
        offset = params.get("offset")
        if isinstance(offset, int):
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            kept = {u["update_id"] for u in self._updates}
            self._delivered &= kept
        limit = params.get("limit", 100)
        limit = min(max(int(limit), 1), 100) if isinstance(limit, (int, float)) else 100
        timeout = params.get("timeout", 0)
        timeout = float(timeout) if isinstance(timeout, (int, float)) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # ends an older long poll with 409 Conflict, like Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            if generation != self._poll_generation:
                raise TelegramApiError(409, _FAULT_DESCRIPTIONS[409])
            batch: list[dict[str, Any]] = []
            for update in list(self._updates):
                if len(batch) >= limit:
                    break
                if not self._is_allowed(update):
                    self._updates.remove(update)
                    continue
                batch.append(update)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._stopping:
                self._delivered.update(u["update_id"] for u in batch)
                return [dict(u) for u in batch]
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    def _m_set_webhook(self, call: Call) -> bool:
        params = call.params
        url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
            self._delivered.clear()
        if not url:
            self._webhook = None
            return True
        if not re.match(r"https?://[^/\s]+", url):
            raise self._bad_request(
                call, "bad webhook: Failed to resolve host: Name or service not known"
            )
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise self._bad_request(call, "secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        self._webhook = {
            "url": url,
            "secret_token": None if secret is None else str(secret),
            "max_connections": int(params.get("max_connections") or 40),
            "allowed_updates": allowed if isinstance(allowed, list) else None,
            "has_custom_certificate": "certificate" in call.files,
            "ip_address": params.get("ip_address"),
        }
        self._webhook_error = None
        self._delivered.clear()
        self._notify()
        return True

    def _m_delete_webhook(self, call: Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
            self._delivered.clear()
        self._webhook = None
        self._notify()
        return True

    def _m_get_webhook_info(self, call: Call) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["has_custom_certificate"] = self._webhook["has_custom_certificate"]
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
            if self._webhook["ip_address"]:
                info["ip_address"] = self._webhook["ip_address"]
        if self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _m_send_message(self, call: Call) -> dict[str, Any]:
        chat_id = self._chat_id(call)
        text, entities = self._formatted(call, "text", "entities", MAX_TEXT_LENGTH)
        markup = self._reply_markup(call)
        reply_to = self._reply_to(call, chat_id)
        self._ensure_reachable(chat_id)
        self._check_rate(call, chat_id)
        content = self._text_content(text, entities)
        options = call.params.get("link_preview_options")
        if isinstance(options, dict) and options:
            content["link_preview_options"] = options
        return self._new_bot_message(chat_id, content, markup, reply_to)

    def _media_file(
        self, call: Call, field_name: str, kind: str, default_name: str | None, mime: str
    ) -> _StoredFile:
        upload = call.files.get(field_name)
        value = call.params.get(field_name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value.removeprefix("attach://"))
        if upload is not None:
            if upload.size == 0:
                raise self._bad_request(call, "file must be non-empty")
            if upload.size > MAX_UPLOAD_BYTES:
                raise TelegramApiError(413, "Request Entity Too Large")
            return self._register_file(
                upload.data, kind, upload.filename or default_name, upload.content_type or mime
            )
        if not value:
            raise self._bad_request(call, f"there is no {field_name} in the request")
        known = self._files.get(str(value))
        if known is not None:
            return known
        if str(value).startswith(("http://", "https://")):
            name = str(value).rsplit("/", 1)[-1] or default_name
            return self._register_file(b"fake remote content", kind, name, mime)
        raise self._bad_request(call, "wrong file identifier/HTTP URL specified")

    def _send_media(self, call: Call, field_name: str, kind: str) -> dict[str, Any]:
        chat_id = self._chat_id(call)
        caption, entities = self._formatted(call, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        markup = self._reply_markup(call)
        reply_to = self._reply_to(call, chat_id)
        default_name = "document" if kind == "document" else None
        mime = "image/jpeg" if kind == "photo" else "application/octet-stream"
        stored = self._media_file(call, field_name, kind, default_name, mime)
        self._ensure_reachable(chat_id)
        self._check_rate(call, chat_id)
        content: dict[str, Any]
        if kind == "photo":
            content = {
                "photo": [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": 1280,
                        "height": 960,
                        "file_size": len(stored.data),
                    }
                ]
            }
        else:
            document: dict[str, Any] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
            }
            if stored.file_name:
                document["file_name"] = stored.file_name
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            content = {"document": document}
        content.update(self._text_content(caption, entities, key="caption"))
        return self._new_bot_message(chat_id, content, markup, reply_to)

    def _m_send_photo(self, call: Call) -> dict[str, Any]:
        return self._send_media(call, "photo", "photo")

    def _m_send_document(self, call: Call) -> dict[str, Any]:
        return self._send_media(call, "document", "document")

    def _m_edit_message_text(self, call: Call) -> dict[str, Any] | bool:
        if call.params.get("inline_message_id"):
            self._formatted(call, "text", "entities", MAX_TEXT_LENGTH)
            self._reply_markup(call, inline_only=True)
            return True
        chat_id = self._chat_id(call)
        message = self._editable(call, chat_id)
        text, entities = self._formatted(call, "text", "entities", MAX_TEXT_LENGTH)
        markup = self._reply_markup(call, inline_only=True)
        if "text" not in message:
            raise self._bad_request(call, "there is no text in the message to edit")
        if (
            message.get("text") == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise self._bad_request(call, NOT_MODIFIED)
        self._ensure_reachable(chat_id)
        self._check_rate(call, chat_id)
        message["text"] = text
        _set_or_drop(message, "entities", entities)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    def _m_edit_message_caption(self, call: Call) -> dict[str, Any] | bool:
        if call.params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(call)
        message = self._editable(call, chat_id)
        caption, entities = self._formatted(call, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        markup = self._reply_markup(call, inline_only=True)
        if "text" in message:
            raise self._bad_request(call, "there is no caption in the message to edit")
        if (
            message.get("caption", "") == caption
            and message.get("caption_entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise self._bad_request(call, NOT_MODIFIED)
        self._ensure_reachable(chat_id)
        self._check_rate(call, chat_id)
        _set_or_drop(message, "caption", caption)
        _set_or_drop(message, "caption_entities", entities)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    def _m_edit_message_reply_markup(self, call: Call) -> dict[str, Any] | bool:
        if call.params.get("inline_message_id"):
            self._reply_markup(call, inline_only=True)
            return True
        chat_id = self._chat_id(call)
        message = self._editable(call, chat_id)
        markup = self._reply_markup(call, inline_only=True)
        if message.get("reply_markup") == markup:
            raise self._bad_request(call, NOT_MODIFIED)
        self._ensure_reachable(chat_id)
        self._check_rate(call, chat_id)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    def _m_delete_message(self, call: Call) -> bool:
        chat_id = self._chat_id(call)
        message_id = call.params.get("message_id")
        chat_messages = self._messages.get(chat_id, {})
        if message_id not in chat_messages:
            raise self._bad_request(call, "message to delete not found")
        self._ensure_reachable(chat_id)
        del chat_messages[message_id]
        return True

    def _m_answer_callback_query(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id", ""))
        if query_id not in self._callback_queries or self._callback_queries[query_id] is not None:
            raise self._bad_request(call, QUERY_TOO_OLD)
        text = call.params.get("text")
        if text is not None and _utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise self._bad_request(call, "MESSAGE_TOO_LONG")
        answer = {k: v for k, v in call.params.items() if k != "callback_query_id"}
        self._callback_queries[query_id] = answer
        self.callback_answers[query_id] = answer
        return True

    def _m_send_chat_action(self, call: Call) -> bool:
        chat_id = self._chat_id(call)
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise self._bad_request(call, "wrong parameter action in request")
        self._ensure_reachable(chat_id)
        return True

    def _m_set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
            raise self._bad_request(call, "can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or "description" not in command:
                raise self._bad_request(
                    call, "can't parse BotCommand: Can't find field \"description\""
                )
            if not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise self._bad_request(call, "BOT_COMMAND_INVALID")
            description = str(command["description"]).strip()
            if not description:
                raise self._bad_request(call, "command description must be non-empty")
            if len(description) > 256:
                raise self._bad_request(call, "command description is too long")
        key = (self._scope_key(call.params.get("scope")), str(call.params.get("language_code", "")))
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        key = (self._scope_key(call.params.get("scope")), str(call.params.get("language_code", "")))
        return self._commands.get(key, [])

    def _m_delete_my_commands(self, call: Call) -> bool:
        key = (self._scope_key(call.params.get("scope")), str(call.params.get("language_code", "")))
        self._commands.pop(key, None)
        return True

    def _m_get_file(self, call: Call) -> dict[str, Any]:
        stored = self._files.get(str(call.params.get("file_id", "")))
        if stored is None:
            raise self._bad_request(call, "invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise self._bad_request(call, "file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _m_get_chat(self, call: Call) -> dict[str, Any]:
        chat_id = self._chat_id(call)
        return {**self._chats[chat_id], "accent_color_id": 0, "max_reaction_count": 11}


# --- module helpers -------------------------------------------------------------------------------


def _too_many(wait: float) -> TelegramApiError:
    retry_after = max(1, math.ceil(wait))
    return TelegramApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _set_or_drop(message: dict[str, Any], key: str, value: Any) -> None:
    if value:
        message[key] = value
    else:
        message.pop(key, None)


def _wants_argument(predicate: Callable[..., Any]) -> bool:
    """Whether a wait_for predicate expects the server as its single argument."""
    try:
        signature = inspect.signature(predicate)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return bool(positional)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Merge query string and body (form, multipart or JSON) into decoded parameters."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files[key] = UploadedFile(key, value.filename, value.content_type, data)
                else:
                    raw[key] = value
    return {key: _normalise_value(key, value) for key, value in raw.items()}, files
