"""What text-only chats (Signal, the terminal) type is read as a button would be.

#16 point 5: "nothing" on a multiple-choice question, labels with the bot's direction
marks, Arabic comma and digits wherever numbers are typed, dates as people write them.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.flows.context import FlowContext
from bot.flows.events import Text
from bot.flows.steps.base import Accept, Reject
from bot.i18n.bidi import FSI, PDI, RLM
from tests.flows.steps.test_kinds import FRUIT, parse, value

NONE_ALLOWED = "{key: q, kind: multiple_choice, text: Q, min: 0, options: " + FRUIT + "}"
ONE_OR_MORE = "{key: q, kind: multiple_choice, text: Q, options: " + FRUIT + "}"
WITH_NOTHING = (
    "{key: q, kind: multiple_choice, text: Q, min: 0, options: "
    "[{value: a, label: Apple}, {value: nothing, label: Nothing}]}"
)


@pytest.fixture
def ar(ctx: FlowContext) -> FlowContext:
    return ctx.with_language("ar")


@pytest.mark.parametrize("typed", ["0", "", "  ", "done", "Done!", "nothing", "٠", "-"])
def test_nothing_chosen_where_nothing_is_allowed(typed: str, ctx: FlowContext) -> None:
    assert value(parse(NONE_ALLOWED, Text(typed), ctx)) == []


@pytest.mark.parametrize(
    ("language", "typed"),
    [("nl", "klaar"), ("nl", "Niks"), ("tr", "bitti"), ("tr", "hiçbiri"), ("ar", "تم")],
)
def test_the_done_word_of_each_language(language: str, typed: str, ctx: FlowContext) -> None:
    assert value(parse(NONE_ALLOWED, Text(typed), ctx.with_language(language))) == []


def test_the_done_word_closes_what_was_chosen_with_buttons(ctx: FlowContext) -> None:
    parsed = parse(ONE_OR_MORE, Text("done"), ctx, selection=["b"])
    assert value(parsed) == ["b"]


@pytest.mark.parametrize("typed", ["0", "", "done"])
def test_nothing_is_refused_where_one_is_needed(typed: str, ctx: FlowContext) -> None:
    parsed = parse(ONE_OR_MORE, Text(typed), ctx)
    assert isinstance(parsed, Reject)
    assert parsed.reason == "Please choose at least 1 option."


def test_an_option_called_nothing_is_that_option(ctx: FlowContext) -> None:
    assert value(parse(WITH_NOTHING, Text("Nothing"), ctx)) == ["nothing"]
    assert value(parse(WITH_NOTHING, Text("0"), ctx)) == []


@pytest.mark.parametrize("typed", ["١، ٣", "1، 3", "۱ ۳", "1؛3", "3، 1", "١ و ٣"])
def test_several_numbers_in_arabic_writing(typed: str, ar: FlowContext) -> None:
    if "و" in typed:  # "and" is not a separator: refused, not misread
        assert isinstance(parse(NONE_ALLOWED, Text(typed), ar), Reject)
        return
    assert value(parse(NONE_ALLOWED, Text(typed), ar)) == ["a", "c"]


def test_labels_match_without_the_bots_direction_marks(ctx: FlowContext) -> None:
    step = (
        "{key: q, kind: multiple_choice, text: Q, options: "
        f"[{{value: a, label: '{RLM}{FSI}Almelo{PDI} West'}}, {{value: b, label: Oost}}]}}"
    )
    assert value(parse(step, Text("almelo west, oost"), ctx)) == ["a", "b"]
    choice = f"{{key: q, kind: choice, text: Q, options: [{{value: a, label: '{RLM}نعم'}}]}}"
    assert value(parse(choice, Text("نعم"), ctx)) == "a"
    # And a person who copies the label with its marks is understood as well.
    plain = "{key: q, kind: choice, text: Q, options: [{value: a, label: Apple}]}"
    assert value(parse(plain, Text(f"{RLM}{FSI}Apple{PDI}"), ctx)) == "a"


@pytest.mark.parametrize(
    ("typed", "expected"), [("٣", 3), ("۳", 3), ("2٫5", 2.5), ("٢٫٥", 2.5), ("2,5", 2.5)]
)
def test_numbers_in_every_script(typed: str, expected: float, ar: FlowContext) -> None:
    step = "{key: q, kind: number, text: Q, integer: false, min: 0, max: 10}"
    assert value(parse(step, Text(typed), ar)) == expected


def test_scale_and_time_in_arabic_digits(ar: FlowContext) -> None:
    scale = "{key: q, kind: scale, text: Q, min: 1, max: 5}"
    assert value(parse(scale, Text("٤"), ar)) == 4
    assert value(parse("{key: q, kind: time, text: Q}", Text("١٤:٣٠"), ar)) == "14:30"


DATE = "{key: q, kind: date, text: Q, when: future}"
# The contexts' today is Monday 23 November 2026.


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("ar", "غدًا", "2026-11-24"),
        ("ar", "غدا", "2026-11-24"),
        ("ar", "بكرة", "2026-11-24"),
        ("ar", "بعد غد", "2026-11-25"),
        ("ar", "السبت", "2026-11-28"),
        ("ar", "يوم السبت", "2026-11-28"),
        ("ar", "١٢/١٢", "2026-12-12"),
        ("ar", "١٢ ديسمبر", "2026-12-12"),
        ("ar", "١٢ كانون الأول", "2026-12-12"),  # the Levantine month name
        ("tr", "yarın", "2026-11-24"),
        ("tr", "yarin", "2026-11-24"),
        ("tr", "cumartesi", "2026-11-28"),
        ("tr", "12 Aralık", "2026-12-12"),
        ("nl", "zaterdag", "2026-11-28"),
        ("nl", "Zaterdag 12 december", "2026-12-12"),
        ("nl", "maandag", "2026-11-30"),  # today is Monday: the next one
        ("nl", "overmorgen", "2026-11-25"),
        ("nl", "12 dec", "2026-12-12"),
        ("nl", "3 maart", "2027-03-03"),  # without a year: the next 3 March
        ("pl", "w sobotę", "2026-11-28"),
        ("pl", "pojutrze", "2026-11-25"),
        ("pl", "12 grudnia", "2026-12-12"),
        ("uk", "у пʼятницю", "2026-11-27"),
        ("uk", "у п'ятницю", "2026-11-27"),
        ("uk", "завтра", "2026-11-24"),
        ("en", "Saturday", "2026-11-28"),
        ("en", "December 12th", "2026-12-12"),
    ],
)
def test_dates_as_people_write_them(
    language: str, typed: str, expected: str, ctx: FlowContext
) -> None:
    assert value(parse(DATE, Text(typed), ctx.with_language(language))) == expected


@pytest.mark.parametrize("typed", ["zaterdag 3", "12 bananen", "31 februari", "ooit", "maandag X"])
def test_what_is_no_date_is_refused(typed: str, ctx: FlowContext) -> None:
    assert isinstance(parse(DATE, Text(typed), ctx.with_language("nl")), Reject)


def test_a_weekday_in_the_past(ctx: FlowContext) -> None:
    step = "{key: q, kind: date, text: Q, when: past}"
    parsed = parse(step, Text("zaterdag"), ctx.with_language("nl"))
    assert isinstance(parsed, Accept)
    assert date.fromisoformat(parsed.value) == date(2026, 11, 21)
