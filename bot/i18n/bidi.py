"""Right-to-left text that stays right-to-left in Telegram and Signal.

A chat app picks each line's direction from its first strong letter. An Arabic sentence
that starts with a Latin name ("Welzijn Almelo ترحب بك") or a number is then laid out
left-to-right, and a Latin name or a number inside it can drag the punctuation around
it to the wrong side. Two standard Unicode remedies:

- every value filled into a `{placeholder}` is wrapped in FIRST STRONG ISOLATE (U+2068)
  ... POP DIRECTIONAL ISOLATE (U+2069): it keeps its own direction and cannot disturb
  the sentence around it;
- a line whose first strong character would be Latin (or a digit) starts with a
  RIGHT-TO-LEFT MARK (U+200F), so the line is right-to-left.

Both only for right-to-left languages, and the marks only in a text that has
right-to-left letters (a text that fell back to Dutch stays as it is). The marks are
invisible, and Telegram stops a link before U+2069, so `{privacy_url}` stays a link.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.i18n.translator import base_language

FSI = "\u2068"  # FIRST STRONG ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE
RLM = "\u200f"  # RIGHT-TO-LEFT MARK
LRM = "\u200e"

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "ug", "yi", "dv", "ckb", "iw"})

_LTR_START = {"L", "EN", "AN"}
_RTL = {"R", "AL"}
# Isolate and embedding controls: skipped when looking for a line's first strong
# character (RLM and LRM are strong themselves, and count).
_CONTROLS = {FSI, PDI, "\u2066", "\u2067", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"}
_MARKS = _CONTROLS | {RLM, LRM, "\u061c"}  # and the ARABIC LETTER MARK


def is_rtl(language: str | None) -> bool:
    """Whether a language is written right to left (`ar`, `ar_MA`, `fa`, `he`, `ur`)."""
    if not language:
        return False
    return base_language(language) in RTL_LANGUAGES


def isolate(text: str) -> str:
    """A text wrapped in FSI ... PDI; an empty text stays empty."""
    if not text or (text.startswith(FSI) and text.endswith(PDI)):
        return text
    return f"{FSI}{text}{PDI}"


class Isolated:
    """A value that formats as itself wrapped in FSI ... PDI.

    Format specs, conversions, attributes and items go to the value first, so
    `{n:d}`, `{price:.2f}`, `{name!s}` and `{activity.title}` work as they would without.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __format__(self, spec: str) -> str:
        return isolate(format(self.value, spec))

    def __str__(self) -> str:
        return isolate(str(self.value))

    def __repr__(self) -> str:
        return isolate(repr(self.value))

    def __getattr__(self, name: str) -> Isolated:
        return Isolated(getattr(self.value, name))

    def __getitem__(self, key: Any) -> Isolated:
        return Isolated(self.value[key])


def isolate_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every value isolated, for filling into a right-to-left text with `str.format`."""
    return {name: Isolated(value) for name, value in values.items()}


def has_rtl(text: str) -> bool:
    """Whether a text has at least one right-to-left letter."""
    return any(unicodedata.bidirectional(ch) in _RTL for ch in text)


def _starts_ltr(line: str) -> bool:
    """Whether the first strong character of a line (isolates looked into) is LTR or a digit.

    Isolated content is looked into on purpose: not every chat app honours isolates when
    it picks a line's direction.
    """
    for ch in line:
        if ch in _CONTROLS:
            continue
        kind = unicodedata.bidirectional(ch)
        if kind in _RTL:
            return False
        if kind in _LTR_START:
            return True
    return False


def rtl_lines(text: str) -> str:
    """Start each line that would read left-to-right with a RIGHT-TO-LEFT MARK."""
    if not text or not has_rtl(text):
        return text
    lines = text.split("\n")
    return "\n".join(RLM + line if _starts_ltr(line) else line for line in lines)


def for_language(text: str, language: str | None) -> str:
    """A whole message ready to send: right-to-left lines for RTL languages."""
    return rtl_lines(text) if is_rtl(language) else text


def strip_marks(text: str) -> str:
    """The text without the directional marks (for comparing what a person typed)."""
    return "".join(ch for ch in text if ch not in _MARKS)
