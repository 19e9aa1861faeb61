"""Date ranges for reports and exports, in the deployment's time zone.

A period runs from `since` (inclusive) to `until` (exclusive), both UTC instants; the
command line speaks in local dates, and an end date counts as a whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    since: datetime | None
    until: datetime | None
    label: str

    def contains(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )


def start_of(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of `day`, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date like 2026-03-31: {text!r}") from None


def between(first: date | None, last: date | None, zone: ZoneInfo) -> Period:
    """From the start of `first` to the end of `last` (both local days, inclusive)."""
    since = start_of(first, zone) if first else None
    until = start_of(last + timedelta(days=1), zone) if last else None
    label = f"{first.isoformat() if first else '…'} – {last.isoformat() if last else '…'}"
    return Period(since, until, label)


def month(year: int, number: int, zone: ZoneInfo, until_today: date | None = None) -> Period:
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    last = following - timedelta(days=1)
    if until_today is not None and until_today < last:
        last = until_today
    period = between(first, last, zone)
    return Period(period.since, period.until, f"{first:%Y-%m}")


def this_month_and_last(zone: ZoneInfo, today: date | None = None) -> tuple[Period, Period]:
    """(last month, this month so far)."""
    today = today or datetime.now(zone).date()
    current = month(today.year, today.month, zone, until_today=today)
    before = today.replace(day=1) - timedelta(days=1)
    return month(before.year, before.month, zone), current


def parse_range(text: str, zone: ZoneInfo) -> Period:
    first, sep, last = text.partition("..")
    if not sep:
        raise ValueError(f"not a range like 2026-01-01..2026-03-31: {text!r}")
    return between(
        parse_date(first) if first.strip() else None,
        parse_date(last) if last.strip() else None,
        zone,
    )


def parse_compare(text: str, zone: ZoneInfo, today: date | None = None) -> tuple[Period, Period]:
    """`this-month` (against last month), `A..B` (against the as long period before it),
    or `A..B,C..D` (two ranges). Returns (earlier, later)."""
    text = text.strip()
    if text in ("this-month", "month"):
        return this_month_and_last(zone, today)
    if "," in text:
        left, right = (parse_range(part, zone) for part in text.split(",", 1))
        return left, right
    later = parse_range(text, zone)
    if later.since is None or later.until is None:
        raise ValueError("a range to compare needs both dates, like 2026-03-01..2026-03-31")
    length = later.until - later.since
    first_day = later.since.astimezone(zone).date()
    days = round(length / timedelta(days=1))
    earlier = between(first_day - timedelta(days=days), first_day - timedelta(days=1), zone)
    return earlier, later
