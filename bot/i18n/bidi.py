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

- left-to-right pieces written inside a right-to-left sentence — `/commands` (with a
  code after them: `/worker ABCD-EFGH`), `@names`, links, and dates, times and numbers
  with separators (`12-06`, `14:00`, `2.5`) — are wrapped in LEFT-TO-RIGHT ISOLATE
  (U+2066) ... PDI. Without it the slash of `/stop` is a neutral between Arabic letters
  and goes to the right-to-left side (the reader sees `stop/`), `@{bot}` shows as
  `bot@`, and `12-06` shows as `06-12` (then read as 6 December).

All only for right-to-left languages, and only in a text that has right-to-left
letters (a text that fell back to Dutch stays as it is). The marks are invisible, and
Telegram stops a link before U+2069, so `{privacy_url}` stays a link. Every function
here gives the same text when applied twice, so a text may pass through more than one
of them on its way out (the flow engine, then the channel).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.i18n.translator import base_language

LRI = "\u2066"  # LEFT-TO-RIGHT ISOLATE
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


# A value the bot filled in (isolated already): FSI ... PDI, with no isolate inside.
_VALUE = f"{FSI}[^{FSI}{PDI}]*{PDI}"
_CODE = rf"(?:[A-Z0-9][A-Z0-9-]*\b|{_VALUE})"
# Left-to-right pieces of a right-to-left text, each to go in LRI ... PDI. Not one that is
# isolated already (just after an opening isolate), nor part of a longer word.
LTR_RUN = re.compile(
    rf"(?<![\w{LRI}{FSI}/@])"
    rf"(?:/[A-Za-z][A-Za-z0-9_]*(?:@\w+)?(?:[ \u00a0]{_CODE})*"  # /worker ABCD-EFGH
    rf"|@(?:\w[\w.]*\w|\w|{_VALUE})"  # @buurtbot, @{bot}
    rf"|https?://[^\s{PDI}]*[^\s{PDI}.,;:!?)»،؛؟]"  # a link, without the full stop after it
    rf"|\d+(?:[-/.:]\d+)+)"  # 12-06, 12/06/2026, 14:00, 2.5
)


def isolate_ltr_runs(text: str) -> str:
    """Every command, @name, link and date of a text in LRI ... PDI (see above)."""
    return LTR_RUN.sub(lambda match: f"{LRI}{match.group(0)}{PDI}", text)


def for_language(text: str, language: str | None) -> str:
    """A whole message ready to send; for RTL languages with its LTR pieces isolated.

    Only a text with right-to-left letters is changed: Dutch that a person reads because
    a translation is missing stays as it is.
    """
    if not is_rtl(language) or not has_rtl(text):
        return text
    return rtl_lines(isolate_ltr_runs(text))


def strip_marks(text: str) -> str:
    """The text without the directional marks (for comparing what a person typed)."""
    return "".join(ch for ch in text if ch not in _MARKS)


def fill(text: str, language: str | None, **values: Any) -> str:
    """`text.format(**values)`, each value in FSI ... PDI when `language` is RTL.

    The one place a value (a neighbourhood's or an activity's name) goes into a fixed,
    translated sentence: a Latin name inside an Arabic sentence keeps its own direction
    there and cannot pull the punctuation around it to the wrong side, as `{names}` in a
    flow's texts do (`FlowContext.flow_text`). Other languages get plain `format`.
    """
    if is_rtl(language) and has_rtl(text):
        return text.format(**isolate_values(values))
    return text.format(**values)
