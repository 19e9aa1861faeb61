"""`time`: a time of day, typed as 14:00, 14.30, 14u, 2 uur, 2pm or 14.

Example::

    - key: at
      kind: time
      text: At what time does it start? For example 14:00.

A bare hour from 1 to 7 ("2 uur", "2") is read as the afternoon (14:00): activities are
rarely at night; type 02:00 for the night. The words after the hour ("uur", "u", "h",
"o'clock") come from the translators, so `saat 14` and `о 14` work too. The stored value
is `HH:MM`; the answer is shown in the person's locale.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Literal

from babel.dates import format_time

from bot.flows.context import FlowContext
from bot.flows.events import Event, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.i18n.translator import Translator
from bot.i18n.typed import normalise

_TIME = re.compile(
    r"^(?P<hour>\d{1,2})(?:\s*[:.hu]\s*(?P<minute>\d{2}))?\s*(?P<half>am|pm|a\.m\.|p\.m\.)?$"
)


def _words(t: Translator) -> list[str]:
    # TRANSLATORS: words written around an hour, like "2 uur" or "saat 14", comma-separated.
    text = t.pgettext("time words", "uur, u, h, o'clock, at, om")
    words = {word.strip().casefold() for word in normalise(text).split(",") if word.strip()}
    words |= {"uur", "u", "h", "o'clock", "at", "om"}
    return sorted(words, key=len, reverse=True)


def read_time(text: str, words: list[str] | None = None) -> time | None:
    """A time of day from typed text, or None."""
    cleaned = normalise(text).strip().casefold()
    for word in words or []:
        # A word before or after the hour: "om 14:00", "14 uur", "saat 14".
        cleaned = re.sub(rf"(^|\s){re.escape(word)}(?=\s|$)", " ", cleaned)
        cleaned = re.sub(rf"(?<=\d){re.escape(word)}$", "", cleaned)
    cleaned = " ".join(cleaned.split())
    match = _TIME.match(cleaned)
    if not match:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    half = (match["half"] or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif 1 <= hour <= 7 and match["minute"] is None and not match["hour"].startswith("0"):
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


@register
class TimeStep(Step):
    kind: Literal["time"] = "time"

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if not isinstance(event, Text):
            return Reject(ctx.t.gettext("Please type a time, like 14:00."))
        found = read_time(event.text, _words(ctx.t))
        if found is None:
            return Reject(ctx.t.gettext("Please type a time, like 14:00."))
        shown = format_time(found, format="short", locale=ctx.language)
        return Accept(found.strftime("%H:%M"), raw=event.text, display=shown)
