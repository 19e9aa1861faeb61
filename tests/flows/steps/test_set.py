"""`set`: a fixed answer, stored without asking, that later steps can branch on."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from bot.flows import engine
from bot.flows.check import check_graph
from bot.flows.context import FlowContext
from bot.flows.effects import SetProfile
from bot.flows.events import Ask, Say, Text
from bot.flows.extract import extract_flows
from bot.flows.loader import FlowError, load_flow_text
from bot.flows.steps import set as set_kind
from bot.flows.steps.set import SetStep
from tests.flows.conftest import flow_from

FLOW = """\
id: f
version: 1
title: T
steps:
  - {key: hello, kind: message, text: Hello}
  - {key: status, kind: set, value: registered, label: Registered}
  - {key: hood, kind: set, value: centrum, store_as: neighbourhood}
  - key: age
    kind: number
    text: How old are you?
    next:
      - when: {step: status, equals: registered}
        goto: bye
      - goto: end
  - {key: bye, kind: message, text: Bye}
"""


def test_stores_its_value_and_profile_field_without_a_message(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    turn, state = engine.start(flow, ctx)
    assert [type(m) for m in turn.messages] == [Say, Ask]
    assert [m.text for m in turn.messages] == ["Hello", "How old are you?"]
    assert [(a.step, a.value, a.display) for a in turn.answers] == [
        ("status", "registered", "Registered"),
        ("hood", "centrum", "centrum"),
    ]
    assert SetProfile("neighbourhood", "centrum") in turn.effects
    assert state.step == "age"
    assert engine.progress(flow, state) == (0, 1)  # a set step is not a question


def test_later_steps_branch_on_the_set_value(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Text("40"), ctx)
    assert [m.text for m in turn.messages] == ["Bye"]
    assert state.values == {"status": "registered", "hood": "centrum", "age": 40}


def test_label_is_the_value_s_option_for_reports(ctx: FlowContext) -> None:
    step = flow_from(FLOW).step("status")
    assert isinstance(step, SetStep)
    assert [(o.value, o.label) for o in step.options(ctx, "f")] == [("registered", "Registered")]
    assert flow_from(FLOW).step("hood").options(ctx, "f") == []


def test_a_set_step_at_the_end_finishes_the_flow(ctx: FlowContext) -> None:
    flow = flow_from("id: f\nversion: 1\ntitle: T\nsteps:\n  - {key: s, kind: set, value: 3}\n")
    turn, state = engine.start(flow, ctx)
    assert turn.finished and state.finished and turn.messages == []
    assert [(a.step, a.value) for a in turn.answers] == [("s", 3)]


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("{key: s, kind: set}", "value"),
        ("{key: s, kind: set, value: '  '}", "value is empty"),
        ("{key: s, kind: set, value: x, text: Hi}", "says nothing"),
        ("{key: s, kind: set, value: x, skippable: true}", "cannot be skippable"),
        ("{key: s, kind: set, value: x, label: ''}", "label"),
        ("{key: s, kind: set, value: [1, 2]}", "value must be one text"),
    ],
)
def test_invalid_set_steps_are_refused(step: str, words: str) -> None:
    with pytest.raises(FlowError) as error:
        load_flow_text(f"id: f\nversion: 1\ntitle: T\nsteps:\n  - {step}\n", Path("f.yaml"))
    assert words in str(error.value)


def test_check_finds_a_condition_that_can_never_hold() -> None:
    text = FLOW.replace("equals: registered", "equals: other")
    problems = check_graph(load_flow_text(text, Path("f.yaml")))
    assert [p.message for p in problems] == ["step 'status' always stores 'registered': never true"]
    assert check_graph(load_flow_text(FLOW, Path("f.yaml"))) == []


def test_the_docstring_example_is_a_valid_flow(ctx: FlowContext) -> None:
    doc = set_kind.__doc__ or ""
    example = doc.split("Example::", 1)[1].split("\n\n", 2)[1]
    steps = textwrap.indent(textwrap.dedent(example), "  ")
    loaded = load_flow_text(f"id: f\nversion: 1\ntitle: T\nsteps:\n{steps}\n", Path("f.yaml"))
    assert [step.kind for step in loaded.flow.steps] == ["set", "set"]
    assert check_graph(loaded) == []
    turn, _ = engine.start(loaded.flow, ctx)
    assert [a.step for a in turn.answers] == ["status", "hood"]


def test_the_label_is_extracted_under_the_context_the_step_looks_up() -> None:
    handle = io.BytesIO(FLOW.encode())
    handle.name = "conversations/f.yaml"  # type: ignore[attr-defined]
    found = {
        messages: comments[0] for _, _, messages, comments in extract_flows(handle, [], [], {})
    }
    assert found[("f:status:registered", "Registered")] == (
        "flow f, step status (answer the flow stores without asking): "
        "name of the value 'registered' in reports; keep it short"
    )
    assert not any(context.startswith("f:hood") for context, _ in found)
