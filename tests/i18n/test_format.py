"""Dates, times, numbers and plural forms in the people's languages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.i18n.catalogs import Catalogs
from bot.i18n.format import (
    day_pattern,
    format_clock,
    format_day,
    format_number,
    format_period,
    format_plural,
    format_when,
)

ZONE = "Europe/Amsterdam"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# Saturday 12 December 2026, 13:00 UTC = 14:00 in Amsterdam (winter time).
SATURDAY = datetime(2026, 12, 12, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs(default="nl")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "zaterdag 12 december om 14:00"),
        ("tr", "12 Aralık Cumartesi 14:00"),
        ("ar", "السبت، 12 ديسمبر، الساعة 2:00 م"),
        ("pl", "sobota, 12 grudnia o 14:00"),
        ("uk", "субота, 12 грудня о 14:00"),
        ("en", "Saturday, December 12 at 2:00\u202fPM"),
    ],
)
def test_when_in_each_language(catalogs: Catalogs, language: str, expected: str) -> None:
    assert format_when(SATURDAY, language, ZONE, translator=catalogs(language), now=NOW) == expected


def test_when_is_in_the_deployment_s_time_zone(catalogs: Catalogs) -> None:
    summer = datetime(2026, 7, 4, 8, 30, tzinfo=UTC)  # 10:30 in Amsterdam (summer time)
    nl = catalogs("nl")
    assert format_when(summer, "nl", ZONE, translator=nl, now=NOW) == "zaterdag 4 juli om 10:30"
    # A naive datetime is UTC, as the database stores it.
    naive = datetime(2026, 12, 12, 13, 0)
    assert format_when(naive, "nl", ZONE, translator=nl, now=NOW).endswith("om 14:00")
    # Late at night in UTC is already the next day in Amsterdam.
    late = datetime(2026, 12, 11, 23, 30, tzinfo=UTC)
    assert format_when(late, "nl", ZONE, translator=nl, now=NOW) == (
        "zaterdag 12 december om 00:30"
    )


def test_the_year_only_when_it_is_far_away(catalogs: Catalogs) -> None:
    far = datetime(2027, 7, 4, 8, 30, tzinfo=UTC)
    assert format_when(far, "nl", ZONE, translator=catalogs("nl"), now=NOW) == (
        "zondag 4 juli 2027 om 10:30"
    )
    assert format_when(far, "tr", ZONE, translator=catalogs("tr"), now=NOW) == (
        "4 Temmuz 2027 Pazar 10:30"
    )


def test_day_names_and_months_come_from_cldr() -> None:
    assert day_pattern("nl") == "EEEE d MMMM"
    assert day_pattern("tr") == "d MMMM EEEE"
    assert format_day(date(2026, 12, 12), "pl") == "sobota, 12 grudnia"
    assert format_day(date(2026, 12, 12), "ar") == "السبت، 12 ديسمبر"
    assert format_day(date(2026, 12, 12), "pt_BR") == "sábado, 12 de dezembro"
    assert format_day(date(2026, 12, 12), "xx") == "Saturday, December 12"  # unknown: English
    assert format_clock(SATURDAY, "nl", ZONE) == "14:00"
    assert format_clock(SATURDAY, "ar", ZONE) == "2:00 م"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("nl", "1.234,5"), ("tr", "1.234,5"), ("ar", "1,234.5"), ("pl", "1\xa0234,5")],
)
def test_numbers(language: str, expected: str) -> None:
    assert format_number(1234.5, language) == expected


@pytest.mark.parametrize(
    ("days", "language", "expected"),
    [
        (365, "nl", "1 jaar"),
        (730, "pl", "2 lata"),
        (14, "nl", "2 weken"),
        (182, "tr", "26 hafta"),
        (100, "nl", "100 dagen"),  # never rounded to "3 months": it is a promise
        (400, "en", "400 days"),
        (1, "uk", "1 день"),
    ],
)
def test_periods_are_exact(days: int, language: str, expected: str) -> None:
    assert format_period(days, language) == expected


MIN = ("Please choose at least {n} option.", "Please choose at least {n} options.")


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("nl", 1, "Kies minstens 1 antwoord."),
        ("nl", 2, "Kies minstens 2 antwoorden."),
        ("nl", 0, "Kies minstens 0 antwoorden."),
        ("tr", 1, "Lütfen en az 1 seçenek seçin."),
        ("tr", 5, "Lütfen en az 5 seçenek seçin."),
        ("pl", 1, "Wybierz co najmniej 1 opcję."),
        ("pl", 3, "Wybierz co najmniej 3 opcje."),
        ("pl", 5, "Wybierz co najmniej 5 opcji."),
        ("pl", 12, "Wybierz co najmniej 12 opcji."),
        ("pl", 22, "Wybierz co najmniej 22 opcje."),
        ("uk", 1, "Виберіть щонайменше 1 варіант."),
        ("uk", 21, "Виберіть щонайменше 21 варіант."),
        ("uk", 3, "Виберіть щонайменше 3 варіанти."),
        ("uk", 11, "Виберіть щонайменше 11 варіантів."),
        ("ar", 1, "يُرجى اختيار خيار واحد على الأقل."),
        ("ar", 2, "يُرجى اختيار خيارين على الأقل."),
        ("ar", 3, "يُرجى اختيار 3 خيارات على الأقل."),
        ("ar", 11, "يُرجى اختيار 11 خيارًا على الأقل."),
        ("ar", 100, "يُرجى اختيار 100 خيار على الأقل."),
        ("ar", 0, "يُرجى اختيار 0 خيار على الأقل."),
    ],
)
def test_plural_forms_from_the_catalogs(
    catalogs: Catalogs, language: str, n: int, expected: str
) -> None:
    t = catalogs(language)
    assert t.ngettext(*MIN, n).format(n=n) == expected


def test_format_plural_writes_the_number_the_local_way(catalogs: Catalogs) -> None:
    text = format_plural(catalogs("nl"), *MIN, 1500, "nl")
    assert text == "Kies minstens 1.500 antwoorden."
    text = format_plural(catalogs("pl"), *MIN, 1002, "pl")
    assert text == "Wybierz co najmniej 1\xa0002 opcje."
