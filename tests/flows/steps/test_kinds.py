"""Each step kind reads answers (and refuses bad input) as its docstring promises."""

from __future__ import annotations

import pytest

from bot.flows.context import FlowContext
from bot.flows.events import Event, Media, Other, Pick, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Suggest
from tests.flows.conftest import flow_from


def parse(
    step_yaml: str, event: Event, ctx: FlowContext, selection: list[str] | None = None
) -> Parsed:
    flow = flow_from(f"id: f\nversion: 1\ntitle: T\nsteps:\n  - {step_yaml}\n")
    step = flow.steps[0]
    state = State("f", 1, step.key, selection=selection or [])
    return step.parse(event, ctx, "f", state)


def value(parsed: Parsed) -> object:
    assert isinstance(parsed, Accept), parsed
    return parsed.value


FRUIT = "[{value: a, label: Apple}, {value: b, label: Banana}, {value: c, label: Cherry}]"
CHOICE = (
    "{key: q, kind: choice, text: Q, skippable: true, "
    "options: [{value: a, label: Apple}, {value: b, label: Banana}]}"
)
MULTI = "{key: q, kind: multiple_choice, text: Q, max: 2, options: " + FRUIT + "}"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (Text("2"), "b"),
        (Text(" banana "), "b"),
        (Text("APPLE"), "a"),
        (Text("٢"), "b"),  # Arabic-Indic digit two
        (Pick("q", "a"), "a"),
        (Text("2."), "b"),
    ],
)
def test_choice_reads_numbers_labels_and_buttons(
    event: Event, expected: str, ctx: FlowContext
) -> None:
    assert value(parse(CHOICE, event, ctx)) == expected


@pytest.mark.parametrize(
    "event",
    [
        Text(""),
        Text("   "),
        Text("7"),
        Text("0"),
        Text("x" * 10_000),
        Text("🍌"),
        Text("موز"),
        Pick("q", "zzz"),
        Other("sticker"),
        Media("photo", "f1"),
    ],
)
def test_choice_refuses_what_is_not_an_option(event: Event, ctx: FlowContext) -> None:
    assert isinstance(parse(CHOICE, event, ctx), Reject)


def test_skip_by_button_number_or_words(ctx: FlowContext) -> None:
    for event in (Pick("q", "_skip"), Text("3"), Text("rather not say")):
        parsed = parse(CHOICE, event, ctx)
        assert isinstance(parsed, Accept) and parsed.skipped and parsed.value is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 3", ["a", "c"]),
        ("1 3", ["a", "c"]),
        ("3,1", ["a", "c"]),
        ("apple, banana", ["a", "b"]),
        ("2", ["b"]),
    ],
)
def test_multiple_choice_typed(text: str, expected: list[str], ctx: FlowContext) -> None:
    assert value(parse(MULTI, Text(text), ctx)) == expected


def test_multiple_choice_limits(ctx: FlowContext) -> None:
    assert isinstance(parse(MULTI, Text("1 2 3"), ctx), Reject)
    assert isinstance(parse(MULTI, Text("1, 9"), ctx), Reject)
    assert isinstance(parse(MULTI, Text("hello"), ctx), Reject)


SCALE = "{key: q, kind: scale, text: Q, min: 1, max: 5, labels: {1: Bad, 5: Good}}"


def test_scale(ctx: FlowContext) -> None:
    assert value(parse(SCALE, Text("4"), ctx)) == 4
    assert value(parse(SCALE, Pick("q", "5"), ctx)) == 5
    assert value(parse(SCALE, Text("1 Bad"), ctx)) == 1
    assert isinstance(parse(SCALE, Text("6"), ctx), Reject)
    assert isinstance(parse(SCALE, Text("0"), ctx), Reject)


YESNO = "{key: q, kind: yes_no, text: Q}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("Yes!", True), ("1", True), ("no", False), ("2", False), ("N", False)],
)
def test_yes_no(text: str, expected: bool, ctx: FlowContext) -> None:
    assert value(parse(YESNO, Text(text), ctx)) is expected


def test_yes_no_refuses_other_words(ctx: FlowContext) -> None:
    assert isinstance(parse(YESNO, Text("maybe"), ctx), Reject)


TEXT = "{key: q, kind: text, text: Q, min_length: 2, max_length: 50}"


def test_text_accepts_words_in_any_script(ctx: FlowContext) -> None:
    assert value(parse(TEXT, Text("  الحديقة جميلة  "), ctx)) == "الحديقة جميلة"
    assert value(parse(TEXT, Text("Park 👍"), ctx)) == "Park 👍"
    assert value(parse(TEXT, Text("Парк"), ctx)) == "Парк"


@pytest.mark.parametrize("text", ["", "   ", "👍🎉", "x", "y" * 51, "z" * 10_000, "...!"])
def test_text_refuses_empty_emoji_short_and_long(text: str, ctx: FlowContext) -> None:
    assert isinstance(parse(TEXT, Text(text), ctx), Reject)


def test_text_refuses_media(ctx: FlowContext) -> None:
    assert isinstance(parse(TEXT, Media("photo", "abc"), ctx), Reject)


NUMBER = "{key: q, kind: number, text: Q, min: 1, max: 20}"


@pytest.mark.parametrize(("text", "expected"), [("3", 3), (" 20 ", 20), ("١٢", 12)])
def test_number(text: str, expected: int, ctx: FlowContext) -> None:
    assert value(parse(NUMBER, Text(text), ctx)) == expected


@pytest.mark.parametrize("text", ["0", "21", "3,5", "three", "", "-1", "1e3"])
def test_number_refuses(text: str, ctx: FlowContext) -> None:
    assert isinstance(parse(NUMBER, Text(text), ctx), Reject)


def test_decimal_number_with_a_comma(ctx: FlowContext) -> None:
    step = "{key: q, kind: number, text: Q, integer: false, min: 0, max: 10}"
    assert value(parse(step, Text("2,5"), ctx)) == 2.5


DATE = "{key: q, kind: date, text: Q, when: future}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12-12-2026", "2026-12-12"),
        ("12/12", "2026-12-12"),
        ("1-2", "2027-02-01"),
        ("2027-01-05", "2027-01-05"),
        ("tomorrow", "2026-11-24"),
        ("today", "2026-11-23"),
    ],
)
def test_date(text: str, expected: str, ctx: FlowContext) -> None:
    assert value(parse(DATE, Text(text), ctx)) == expected


@pytest.mark.parametrize("text", ["31-02-2027", "yesterday", "1-1-2020", "soon"])
def test_date_refuses(text: str, ctx: FlowContext) -> None:
    assert isinstance(parse(DATE, Text(text), ctx), Reject)


HOOD = "{key: q, kind: neighbourhood, text: Q}"


def test_neighbourhood_by_button_number_name_or_postcode(ctx: FlowContext) -> None:
    assert value(parse(HOOD, Pick("q", "kerkelanden"), ctx)) == "kerkelanden"
    assert value(parse(HOOD, Text("kerkelanden"), ctx)) == "kerkelanden"
    parsed = parse(HOOD, Text("7604BC"), ctx)
    # Asked back as a question of its own (the step renders it from the selection).
    assert isinstance(parsed, Suggest) and parsed.selection == ("haghoek",) and not parsed.note
    assert isinstance(parse(HOOD, Text("7604 MA"), ctx), Suggest)
    assert isinstance(parse(HOOD, Text("7606 ab"), ctx), Suggest)


@pytest.mark.parametrize("text", ["yes", "1", "Yes", "ok", "1."])
def test_a_postcode_is_confirmed_with_yes_or_1(text: str, ctx: FlowContext) -> None:
    parsed = parse(HOOD, Text(text), ctx, ["kerkelanden"])
    assert isinstance(parsed, Accept) and parsed.value == "kerkelanden"
    assert parsed.raw == ""  # the postcode is not kept
    assert value(parse(HOOD, Pick("q.ok", "yes"), ctx, ["kerkelanden"])) == "kerkelanden"


@pytest.mark.parametrize("text", ["no", "2", "No, choose another"])
def test_no_to_a_postcode_shows_the_list_again(text: str, ctx: FlowContext) -> None:
    parsed = parse(HOOD, Text(text), ctx, ["kerkelanden"])
    assert isinstance(parsed, Suggest) and parsed.selection == () and not parsed.note


def test_while_confirming_a_number_is_no_neighbourhood(ctx: FlowContext) -> None:
    # 3 is Kerkelanden in the list, but the question on screen has two options.
    assert isinstance(parse(HOOD, Text("3"), ctx, ["centrum"]), Reject)
    assert value(parse(HOOD, Text("centrum"), ctx, ["kerkelanden"])) == "centrum"  # corrected
    again = parse(HOOD, Text("7604 BC"), ctx, ["kerkelanden"])  # another postcode
    assert isinstance(again, Suggest) and again.selection == ("haghoek",)


def test_neighbourhood_unknown_postcode_is_explained(ctx: FlowContext) -> None:
    parsed = parse(HOOD, Text("1012 AB"), ctx)
    assert isinstance(parsed, Reject) and "postcode" in parsed.reason


MEDIA = "{key: q, kind: media, text: Q, accept: [photo, voice]}"


def test_media(ctx: FlowContext) -> None:
    assert value(parse(MEDIA, Media("photo", "file-1"), ctx)) == {"kind": "photo", "ref": "file-1"}
    assert value(parse(MEDIA, Media("voice", "file-2"), ctx)) == {"kind": "voice", "ref": "file-2"}
    assert isinstance(parse(MEDIA, Media("video", "file-3"), ctx), Reject)
    assert isinstance(parse(MEDIA, Text("a photo"), ctx), Reject)


def test_language_options_in_their_own_names_suggested_first(ctx: FlowContext) -> None:
    from dataclasses import replace

    from bot.flows.steps.language import language_options

    options = language_options(replace(ctx, suggested_language="ar"))
    assert [o.label for o in options] == [
        "العربية",
        "Nederlands",
        "English",
        "Türkçe",
        "Polski",
        "Українська",
    ]
