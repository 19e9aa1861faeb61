"""Engine messages as Signal messages: numbered options, every body under 2,000 bytes.

Signal has no buttons, so a question's options are written one per line as `1. label`;
the person answers with the number, the label, or a keycap reaction (1️⃣) on the message.
Signal cuts a body over 2,000 UTF-8 bytes and sends the rest as a long-text attachment
that many phones show badly, so longer texts are split at paragraphs, then lines, then
words — Arabic and Ukrainian letters take two bytes each, emoji four.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from bot.channels.direction import shaped
from bot.flows.events import Ask, Document, Outgoing, Say
from bot.flows.numbered import numbered
from bot.i18n import bidi
from bot.i18n.translator import Translator

MAX_BODY_BYTES = 2000
"""Signal's limit; every body sent is shorter than this."""

_BUDGET = MAX_BODY_BYTES - 1  # direction marks are added before splitting, so they count


@dataclass(frozen=True)
class Part:
    """One Signal message to send: a body, maybe an attachment (a `data:` URI).

    `ask` is the question the part belongs to, so a reaction on it can be read as an
    answer to that question.
    """

    text: str
    attachment: str | None = None
    ask: Ask | None = None


def render(message: Outgoing, language: str | None, t: Translator | None = None) -> list[Part]:
    """One engine message as one or more Signal messages, each under the byte limit."""
    original, message = message, shaped(message, language)
    if isinstance(message, Document):
        uri = data_uri(message.data, message.mime_type, message.filename)
        caption = bidi.for_language(message.caption.strip(), language)
        parts = [Part(text) for text in split(caption)] if caption else []
        if not parts:
            return [Part("", attachment=uri)]
        first = parts[0]
        return [Part(first.text, attachment=uri), *parts[1:]]
    if isinstance(message, Say):
        text = bidi.for_language(message.text.strip(), language)
        return [Part(chunk) for chunk in split(text)]
    assert isinstance(message, Ask)
    text = bidi.for_language(numbered(message, t), language)
    assert isinstance(original, Ask)
    return [Part(chunk, ask=original) for chunk in split(text)]


def data_uri(data: bytes, mime_type: str, filename: str) -> str:
    """An attachment signal-cli takes without a shared file system (RFC 2397 + filename)."""
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "file"
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{mime_type};filename={safe_name};base64,{encoded}"


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def split(text: str, limit: int = _BUDGET) -> list[str]:
    """Cut `text` into pieces of at most `limit` UTF-8 bytes, at the gentlest place.

    Paragraphs are kept whole when they fit, then lines, then words; a single word
    longer than the limit is cut between characters (never inside one).
    """
    if not text:
        return []
    if size(text) <= limit:
        return [text]
    pieces: list[str] = []
    for separator in ("\n\n", "\n", " "):
        if separator in text:
            return _pack(text.split(separator), separator, limit)
    current = ""
    for ch in text:
        if size(current + ch) > limit:
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def _pack(units: list[str], separator: str, limit: int) -> list[str]:
    """Join units greedily with `separator`; a unit too big alone is split further."""
    pieces: list[str] = []
    current: str | None = None
    for unit in units:
        if size(unit) > limit:
            if current is not None:
                pieces.append(current)
                current = None
            pieces.extend(split(unit, limit))
            continue
        candidate = unit if current is None else current + separator + unit
        if size(candidate) <= limit:
            current = candidate
        else:
            if current is not None:
                pieces.append(current)
            current = unit
    if current is not None:
        pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]
