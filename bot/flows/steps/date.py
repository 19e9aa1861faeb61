"""`date`: a day, typed as 12-12-2026, 12/12, 2026-12-12, or "today" / "tomorrow".

Example::

    - key: when
      kind: date
      text: On which day? For example 12-12.
      when: future

`when` is `any`, `future` (today or later) or `past` (today or earlier). Day and month
are read in the Dutch order (day first). The stored value is the ISO date.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from babel.dates import format_date

from bot.flows.context import FlowContext
from bot.flows.events import Event, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register

_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.\s](\d{1,2})(?:[-/.\s](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def read_date(text: str, today: date, words: dict[str, int]) -> date | None:
    """A date from typed text; `words` maps translated words to a day offset."""
    cleaned = text.strip().casefold()
    if cleaned in words:
        return today + timedelta(days=words[cleaned])
    try:
        if match := _ISO.match(cleaned):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DAY_FIRST.match(cleaned):
            day, month, year = int(match[1]), int(match[2]), match[3]
            if year is None:
                guess = date(today.year, month, day)
                return guess
            full = int(year) + (2000 if len(year) == 2 else 0)
            return date(full, month, day)
    except ValueError:
        return None
    return None


@register
class DateStep(Step):
    kind: Literal["date"] = "date"
    when: Literal["any", "future", "past"] = "any"

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if not isinstance(event, Text):
            return Reject(ctx.t.gettext("Please type a date, like 12-12."))
        words = {
            ctx.t.pgettext("date word", "today").casefold(): 0,
            ctx.t.pgettext("date word", "tomorrow").casefold(): 1,
            "today": 0,
            "tomorrow": 1,
        }
        day = read_date(event.text, ctx.today, words)
        if day is None:
            return Reject(ctx.t.gettext("Please type a date, like 12-12."))
        if self.when == "future" and day < ctx.today:
            if not _has_year(event.text):
                day = day.replace(year=day.year + 1)
            else:
                return Reject(ctx.t.gettext("Please type a date that is not in the past."))
        if self.when == "past" and day > ctx.today:
            if not _has_year(event.text):
                day = day.replace(year=day.year - 1)
            else:
                return Reject(ctx.t.gettext("Please type a date that is not in the future."))
        shown = format_date(day, format="long", locale=ctx.language)
        return Accept(day.isoformat(), raw=event.text, display=shown)


def _has_year(text: str) -> bool:
    return bool(re.search(r"\d{4}|\d{1,2}[-/.\s]\d{1,2}[-/.\s]\d{2}", text.strip()))
