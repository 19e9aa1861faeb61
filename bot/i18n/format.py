"""Dates, times and numbers as people read them in their language (Babel, CLDR data).

    format_when(dt, "nl", "Europe/Amsterdam")  -> "zaterdag 12 december om 14:00"
    format_when(dt, "tr", "Europe/Amsterdam")  -> "12 Aralık Cumartesi 14:00"
    format_when(dt, "ar", "Europe/Amsterdam")  -> "السبت، 12 ديسمبر، الساعة 2:00 م"
    format_when(dt, "pl", "Europe/Amsterdam")  -> "sobota, 12 grudnia o 14:00"

Day and month names and their order come from CLDR; how a day and a time go together
("om", "o", "о") is a translated text, because CLDR's plain joins read like a form.
Times are shown in the deployment's time zone (`BUURTBOT_TIMEZONE`); a datetime
without a time zone is taken to be UTC, as the database stores it. Digits are the
Western ones (0-9) in every language: the ones people type and read on their phones.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, match_skeleton
from babel.numbers import format_decimal
from babel.units import format_unit

from bot.i18n.catalogs import default_catalogs
from bot.i18n.translator import Translator

FALLBACK_LOCALE = "en"

# Quoted literals stay; runs of E (weekday) and M/L (month) are widened to full names.
_FIELDS = re.compile(r"'[^']*'|E+|M+|L+")


def locale_for(language: str) -> Locale:
    """The Babel locale of a language code (`pt_BR`, `pt-BR`, `ar`); English if unknown."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse(FALLBACK_LOCALE)


def local(dt: datetime, timezone: str | tzinfo | None) -> datetime:
    """`dt` in the deployment's time zone (a naive `dt` is UTC); no zone: as it is."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if timezone is None:
        return dt
    return dt.astimezone(timezone if isinstance(timezone, tzinfo) else ZoneInfo(timezone))


def _widen(pattern: str) -> str:
    """Full weekday and month names: `E d MMM` -> `EEEE d MMMM` (quoted text kept)."""

    def widen(match: re.Match[str]) -> str:
        field = match.group(0)
        if field.startswith("'"):
            return field
        if field[0] == "E":
            return "EEEE"
        return field[0] * 4 if len(field) >= 3 else field

    return _FIELDS.sub(widen, pattern)


def day_pattern(language: str, with_year: bool = False) -> str:
    """The CLDR pattern for a weekday, day and month name (and year) in `language`."""
    locale = locale_for(language)
    wanted = "yMMMMEEEEd" if with_year else "MMMMEEEEd"
    skeletons = locale.datetime_skeletons
    candidates = ["yMMMEd", "yMMMMEd"] if with_year else ["MMMEd", "MMMMEd"]
    available = [s for s in candidates if s in skeletons]
    best = match_skeleton(wanted, available) if available else None
    if best is None:
        return "EEEE d MMMM y" if with_year else "EEEE d MMMM"
    return _widen(str(skeletons[best]))


def format_day(
    day: date | datetime,
    language: str,
    timezone: str | tzinfo | None = None,
    *,
    with_year: bool = False,
) -> str:
    """`zaterdag 12 december`, `12 Aralık Cumartesi`, `sobota, 12 grudnia`."""
    if isinstance(day, datetime):
        day = local(day, timezone)
    locale = locale_for(language)
    return format_date(day, day_pattern(language, with_year), locale=locale)


def format_clock(dt: datetime, language: str, timezone: str | tzinfo | None = None) -> str:
    """The time of day as the language writes it: `14:00`, `2:00 م`, `2:00 PM`."""
    return format_time(local(dt, timezone), "short", locale=locale_for(language))


def format_when(
    dt: datetime,
    language: str,
    timezone: str | tzinfo | None = None,
    *,
    translator: Translator | None = None,
    now: datetime | None = None,
) -> str:
    """A day and time, like `zaterdag 12 december om 14:00`, in the deployment's zone.

    The year is shown only when the moment is more than half a year from `now`.
    """
    moment = local(dt, timezone)
    current = local(now, timezone) if now else datetime.now(moment.tzinfo)
    with_year = abs(moment - current) > timedelta(days=182)
    t = translator or default_catalogs()(language)
    # TRANSLATORS: {date} is like "Saturday 12 December", {time} like "14:00".
    pattern = t.pgettext("date and time", "{date} at {time}")
    return pattern.format(
        date=format_day(moment, language, with_year=with_year),
        time=format_clock(moment, language),
    )


def format_number(value: float | int, language: str) -> str:
    """`1234.5` -> `1.234,5` (nl), `1,234.5` (en), `1 234,5` (pl); Western digits."""
    return format_decimal(value, locale=locale_for(language))


def format_period(days: int, language: str) -> str:
    """Days as people say them: `365` -> "1 jaar", `14` -> "2 weken", `100` -> "100 dagen".

    Exact, never rounded: it states how long data is kept, so "about 3 months" for 100
    days would promise less than we do. Years and weeks only when the days are whole
    years (of 365) or weeks; otherwise days.
    """
    if days > 0 and days % 365 == 0:
        value, unit = days // 365, "duration-year"
    elif days > 0 and days % 7 == 0:
        value, unit = days // 7, "duration-week"
    else:
        value, unit = days, "duration-day"
    return format_unit(value, unit, length="long", locale=locale_for(language))


def format_plural(
    t: Translator, singular: str, plural: str, n: int, language: str, **values: Any
) -> str:
    """The right plural form from the catalog, with `{n}` as a local number.

    `format_plural(t, "{n} person", "{n} people", 3, "nl")` -> "3 mensen". The
    extractor knows this function (babel.cfg), so its texts land in the catalogs.
    """
    return t.ngettext(singular, plural, n).format(n=format_number(n, language), **values)
