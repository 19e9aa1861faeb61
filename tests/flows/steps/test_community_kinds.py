"""The step kinds community work added: `time`, `dynamic_choice`, `translations`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.flows import engine
from bot.flows.context import FlowContext
from bot.flows.events import Ask, Done, Event, Media, Pick, Text, Toggle
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Refresh, Reject
from tests.flows.conftest import flow_from


def parse(
    step_yaml: str,
    event: Event,
    ctx: FlowContext,
    selection: list[str] | None = None,
) -> Parsed:
    flow = flow_from(f"id: f\nversion: 1\ntitle: T\nsteps:\n  - {step_yaml}\n")
    step = flow.steps[0]
    state = State("f", 1, step.key, selection=selection or [])
    return step.parse(event, ctx, "f", state)


def value(parsed: Parsed) -> object:
    assert isinstance(parsed, Accept), parsed
    return parsed.value


TIME = "{key: q, kind: time, text: Q}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:00", "14:00"),
        ("14.30", "14:30"),
        ("9:05", "09:05"),
        ("14u", "14:00"),
        ("14u30", "14:30"),
        ("14 uur", "14:00"),
        ("2 uur", "14:00"),  # a bare hour from 1 to 7 is the afternoon
        ("om 2 uur", "14:00"),
        ("8", "08:00"),
        ("02:00", "02:00"),  # with a leading zero: the night
        ("2pm", "14:00"),
        ("12 am", "00:00"),
        ("7 p.m.", "19:00"),
        ("٢٠:٠٠", "20:00"),  # Arabic-Indic digits
    ],
)
def test_time_reads_the_ways_people_write_it(text: str, expected: str, ctx: FlowContext) -> None:
    assert value(parse(TIME, Text(text), ctx)) == expected


@pytest.mark.parametrize(
    "text", ["", "25:00", "14:60", "13pm", "noon", "12-12", "14:0", "🕑", "x" * 1000]
)
def test_time_refuses_what_is_not_a_time(text: str, ctx: FlowContext) -> None:
    parsed = parse(TIME, Text(text), ctx)
    assert isinstance(parsed, Reject) and "14:00" in parsed.reason


def test_time_is_shown_in_the_persons_locale(ctx: FlowContext) -> None:
    parsed = parse(TIME, Text("14:00"), ctx)
    assert isinstance(parsed, Accept) and parsed.display == "2:00\u202fPM"
    parsed = parse(TIME, Text("14:00"), replace(ctx, language="nl"))
    assert isinstance(parsed, Accept) and parsed.display == "14:00"
    assert isinstance(parse(TIME, Media("photo", "x"), ctx), Reject)


DYNAMIC = (
    "{key: q, kind: dynamic_choice, text: Q, options_from: things, "
    "options: [{value: none, label: None of these}]}"
)
MULTI = "{key: q, kind: dynamic_choice, text: Q, options_from: things, multiple: true, max: 2}"
THINGS = [
    {"value": "7", "label": {"_": "Buurtbarbecue", "tr": "Mahalle barbeküsü"}},
    {"value": "9", "label": "Voetbal"},
    {"bad": "entry"},
]


@pytest.fixture
def listed(ctx: FlowContext) -> FlowContext:
    return ctx.with_variables({"things": THINGS})


def test_dynamic_choice_offers_the_listed_options_then_the_fixed_ones(
    listed: FlowContext,
) -> None:
    flow = flow_from(f"id: f\nversion: 1\ntitle: T\nsteps:\n  - {DYNAMIC}\n")
    turn, _ = engine.start(flow, listed, {"things": THINGS})
    ask = turn.messages[-1]
    assert isinstance(ask, Ask)
    assert [(o.value, o.label) for o in ask.options] == [
        ("7", "Buurtbarbecue"),
        ("9", "Voetbal"),
        ("none", "None of these"),
    ]
    # A worker's label with translations shows in the person's language.
    turkish = replace(listed, language="tr")
    assert value(parse(DYNAMIC, Text("Mahalle barbeküsü"), turkish)) == "7"


@pytest.mark.parametrize(
    ("event", "expected"),
    [(Pick("q", "9"), "9"), (Text("1"), "7"), (Text("voetbal"), "9"), (Text("3"), "none")],
)
def test_dynamic_choice_reads_buttons_numbers_and_labels(
    event: Event, expected: str, listed: FlowContext
) -> None:
    assert value(parse(DYNAMIC, event, listed)) == expected


@pytest.mark.parametrize("event", [Pick("q", "8"), Text("4"), Text("tennis"), Toggle("q", "7")])
def test_dynamic_choice_never_takes_what_was_not_offered(event: Event, listed: FlowContext) -> None:
    assert isinstance(parse(DYNAMIC, event, listed), Reject)


def test_dynamic_choice_without_its_variable_offers_only_the_fixed_options(
    ctx: FlowContext,
) -> None:
    assert isinstance(parse(DYNAMIC, Pick("q", "7"), ctx), Reject)
    assert value(parse(DYNAMIC, Pick("q", "none"), ctx)) == "none"


def test_dynamic_multiple_toggles_then_closes(listed: FlowContext) -> None:
    parsed = parse(MULTI, Toggle("q", "9"), listed, selection=["7"])
    assert isinstance(parsed, Refresh) and parsed.selection == ("7", "9")
    # A pressed button toggles: the engine turns the pick into a toggle.
    flow = flow_from(f"id: f\nversion: 1\ntitle: T\nsteps:\n  - {MULTI}\n")
    _, state = engine.start(flow, listed, {"things": THINGS})
    turn, state = engine.handle(flow, state, Pick("q", index=1), listed)
    assert state.selection == ["9"] and turn.messages[0].refresh
    assert value(parse(MULTI, Done("q"), listed, selection=["9", "7"])) == ["7", "9"]
    assert value(parse(MULTI, Text("2, 1"), listed)) == ["7", "9"]
    assert isinstance(parse(MULTI, Done("q"), listed), Reject)  # min 1
    assert isinstance(parse(MULTI, Toggle("q", "8"), listed), Reject)


def test_dynamic_multiple_prefill_is_a_json_list(listed: FlowContext) -> None:
    assert value(parse(MULTI, Pick("q", '["9"]'), listed)) == ["9"]
    assert isinstance(parse(MULTI, Pick("q", '["8"]'), listed), Reject)
    assert isinstance(parse(MULTI, Pick("q", "[broken"), listed), Reject)
    flow = flow_from(f"id: f\nversion: 1\ntitle: T\nsteps:\n  - {MULTI}\n")
    turn, state = engine.start(flow, listed, {"things": THINGS, "prefill": {"q": '["7", "9"]'}})
    assert state.finished and turn.answers[0].value == ["7", "9"]


def test_dynamic_choice_shape_is_checked() -> None:
    from bot.flows.loader import FlowError

    with pytest.raises(FlowError, match="min and max are for multiple"):
        flow_from(
            "id: f\nversion: 1\ntitle: T\nsteps:\n  - {key: q, kind: dynamic_choice, "
            "text: Q, options_from: x, min: 2}\n"
        )


TRANSLATIONS = "{key: q, kind: translations, text: Q, max_length: 30}"


def test_translations_one_language_a_line(ctx: FlowContext) -> None:
    text = "tr: Mahalle barbeküsü\n\nPL = Grill sąsiedzki\nar - شواء الحي"
    assert value(parse(TRANSLATIONS, Text(text), ctx)) == {
        "tr": "Mahalle barbeküsü",
        "pl": "Grill sąsiedzki",
        "ar": "شواء الحي",
    }


@pytest.mark.parametrize(
    "text",
    [
        "Mahalle barbeküsü",  # no language
        "de: Grillfest",  # not a language of this deployment
        "tr:",  # nothing after it
        "tr: 👍",  # no words
        "tr: " + "x" * 31,  # too long
        "",
    ],
)
def test_translations_refuses(text: str, ctx: FlowContext) -> None:
    parsed = parse(TRANSLATIONS, Text(text), ctx)
    assert isinstance(parsed, Reject)


@pytest.mark.parametrize("module", ["time", "dynamic_choice", "translations"])
def test_the_docstring_example_is_a_valid_step(module: str) -> None:
    import importlib
    import textwrap

    doc = importlib.import_module(f"bot.flows.steps.{module}").__doc__ or ""
    example = doc.split("Example::", 1)[1].split("\n\n", 2)[1]
    step = textwrap.indent(textwrap.dedent(example), "  ")
    flow = flow_from(f"id: f\nversion: 1\ntitle: T\nsteps:\n{step}\n")
    assert flow.steps[0].kind == module
