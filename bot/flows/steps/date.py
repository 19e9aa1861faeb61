"""`date`: a day, typed the ways people write one.

Example::

    - key: when
      kind: date
      text: On which day? For example 12-12.
      when: future

Read: `12-12-2026`, `12/12`, `2026-12-12`, `12 december`, `zaterdag 12 december`,
`12 Aralık`, `١٢/١٢`, a weekday (`zaterdag`, `cumartesi`, `السبت`, `w sobotę`), and the
words for today, tomorrow and the day after tomorrow in the person's language, with or
without accents and vowel marks (`غدًا` and `غدا`, `yarın` and `yarin`). Month and
weekday names come from CLDR (Babel) for the person's language and English.

`when` is `any`, `future` (today or later) or `past` (today or earlier). Day and month
are read in the Dutch order (day first). A weekday alone is the next one to come (the
last one gone for `past`), never today: today has its own word. The stored value is the
ISO date.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from bot.flows.context import FlowContext
from bot.flows.events import Event, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.i18n.typed import fold, normalise, word_list

_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.\s](\d{1,2})(?:[-/.\s](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ORDINAL = re.compile(r"^(\d{1,4})(?:st|nd|rd|th|e|de|ste|\.)?$")
# Small words written around a date: "op zaterdag", "on Saturday", "cumartesi günü",
# "يوم السبت", "w sobotę", "у суботу", "volgende zaterdag", "السبت القادم".
_FILLER_WORDS = (
    "op on the of next this coming a de den het deze volgende aanstaande komende "
    "günü gunu gelecek bu önümüzdeki "
    "يوم في القادم القادمة الجاي الجاية هذا هذه "
    "w we na dnia najbliższy najbliższą następny następną przyszły przyszłą "
    "у в на цей цю наступний наступну найближчий найближчу"
)
_FILLER = frozenset(fold(word) for word in _FILLER_WORDS.split(" ") if word)
# Other CLDR locales whose names people of a language write (Levantine and Iraqi months).
_ALSO = {"ar": ("ar_SY", "ar_IQ")}


@lru_cache(maxsize=32)
def calendar_names(language: str) -> tuple[dict[str, int], dict[str, int]]:
    """Folded weekday names (Monday 0) and month names (January 1) people may type."""
    weekdays: dict[str, int] = {}
    months: dict[str, int] = {}
    base = language.replace("-", "_").split("_")[0]
    for code in dict.fromkeys(("en", base, language, *_ALSO.get(base, ()))):
        try:
            locale = Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in locale.days[context][width].items():
                    for form in _forms(fold(name), base):
                        weekdays.setdefault(form, number)
                for number, name in locale.months[context][width].items():
                    months.setdefault(fold(name), number)
    return weekdays, months


def _forms(name: str, language: str) -> set[str]:
    """A weekday's name as typed: `السبت`/`سبت`, Polish `sobotę`, Ukrainian `суботу`."""
    forms = {name, name.rstrip(".")}
    if language == "ar" and name.startswith("ال"):
        forms.add(name[2:])
    if language == "pl" and name.endswith("a"):
        forms.add(name[:-1] + "e")  # "sobotę" folds to "sobote"
    if language == "uk" and name[-1:] in ("а", "я"):
        forms.add(name[:-1] + ("у" if name.endswith("а") else "ю"))
    return {form for form in forms if len(form) > 1}


def read_date(
    text: str,
    today: date,
    words: dict[str, int],
    language: str = "en",
    backwards: bool = False,
) -> date | None:
    """A date from typed text; `words` maps folded words to a day offset."""
    cleaned = fold(text)
    if cleaned in words:
        return today + timedelta(days=words[cleaned])
    try:
        if match := _ISO.match(cleaned):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DAY_FIRST.match(cleaned):
            day, month, year = int(match[1]), int(match[2]), match[3]
            if year is None:
                return date(today.year, month, day)
            full = int(year) + (2000 if len(year) == 2 else 0)
            return date(full, month, day)
        return _read_names(cleaned, today, language, backwards)
    except ValueError:
        return None


def _read_names(cleaned: str, today: date, language: str, backwards: bool) -> date | None:
    """`12 december`, `zaterdag 12 dec 2026`, `december 12th`, `السبت`, `w sobotę`."""
    weekdays, months = calendar_names(language)
    # Longest names first, so "كانون الثاني" is one month and not "كانون" and a number.
    rest = f" {cleaned.replace(',', ' ')} "
    month = weekday = None
    for name in sorted(months, key=len, reverse=True):
        if month is None and f" {name} " in rest:
            month, rest = months[name], rest.replace(f" {name} ", " ", 1)
    for name in sorted(weekdays, key=len, reverse=True):
        if weekday is None and f" {name} " in rest:
            weekday, rest = weekdays[name], rest.replace(f" {name} ", " ", 1)
    numbers: list[int] = []
    for token in rest.split():
        if match := _ORDINAL.match(token):
            numbers.append(int(match[1]))
        elif token not in _FILLER:
            return None
    if month is not None:
        if not 1 <= len(numbers) <= 2:
            return None
        year = numbers[1] if len(numbers) == 2 else today.year
        return date(year + (2000 if year < 100 else 0), month, numbers[0])
    if weekday is None or numbers:
        return None
    step = -1 if backwards else 1
    day = today + timedelta(days=step)
    while day.weekday() != weekday:
        day += timedelta(days=step)
    return day


def date_words(ctx: FlowContext) -> dict[str, int]:
    """The person's words for today, tomorrow and the day after, and the English ones."""
    offsets = {
        0: ctx.t.pgettext("date word", "today"),
        1: ctx.t.pgettext("date word", "tomorrow"),
        2: ctx.t.pgettext("date word", "the day after tomorrow"),
    }
    words = {"today": 0, "tomorrow": 1, "the day after tomorrow": 2}
    for offset, listed in offsets.items():
        words.update(dict.fromkeys(word_list(listed), offset))
    return words


@register
class DateStep(Step):
    kind: Literal["date"] = "date"
    when: Literal["any", "future", "past"] = "any"

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if not isinstance(event, Text):
            return Reject(ctx.t.gettext("Please type a date, like 12-12."))
        day = read_date(
            event.text, ctx.today, date_words(ctx), ctx.language, backwards=self.when == "past"
        )
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
    """Whether a typed date names its year (`12-12-26`, `2026-12-12`, `12 dec 26`)."""
    typed = normalise(text)
    numbers = re.findall(r"\d+", typed)
    named = re.search(r"[^\W\d_]", typed) is not None
    return any(len(n) == 4 for n in numbers) or len(numbers) >= 3 or (named and len(numbers) == 2)
