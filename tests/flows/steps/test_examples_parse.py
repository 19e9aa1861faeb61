"""Every example the bot gives ("For example 12-06", "for example: 1, 3") is an answer the
bot takes, in every language, as the translator wrote it."""

from __future__ import annotations

import re

import pytest

from bot.flows.check import check_folder
from bot.flows.context import FlowContext
from bot.flows.events import Text
from bot.flows.state import State
from bot.flows.steps.base import Accept
from tests.flows.conftest import ROOT, flow_from

LANGUAGES = ["nl", "en", "tr", "ar", "pl", "uk"]
KINDS = ("date", "time", "number")
# The example at the end of a text: digits (any script) with their separators.
EXAMPLE = re.compile(r"(\d+(?:\s*[-/.:،,]\s*\d+)*)\s*[.»”]?\s*$")


def steps_with_examples():
    loaded, _ = check_folder(ROOT / "conversations")
    for item in loaded:
        for step in item.flow.steps:
            if step.kind in KINDS and re.search(r"\d", step.text):
                yield pytest.param(item.flow.id, step, id=f"{item.flow.id}:{step.key}")


@pytest.mark.parametrize(("flow_id", "step"), list(steps_with_examples()))
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_example_in_a_question_is_an_answer(
    flow_id: str, step, language: str, ctx: FlowContext
) -> None:
    here = ctx.with_language(language)
    text = here.flow_text(step.msgctxt(flow_id), step.text)
    match = EXAMPLE.search(text.strip())
    assert match, f"no example at the end of {text!r}"
    parsed = step.parse(Text(match.group(1)), here, flow_id, State(flow_id, 1, step.key))
    assert isinstance(parsed, Accept), (text, parsed)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_example_of_several_answers_is_an_answer(language: str, ctx: FlowContext) -> None:
    here = ctx.with_language(language)
    hint = here.t.gettext("Type the numbers of your choice, for example: 1, 3")
    example = hint.rsplit(":", 1)[1]
    flow = flow_from(
        "id: f\nversion: 1\ntitle: T\nsteps:\n  - {key: q, kind: multiple_choice, text: Q, "
        "options: [{value: a, label: A}, {value: b, label: B}, {value: c, label: C}]}\n"
    )
    parsed = flow.steps[0].parse(Text(example), here, "f", State("f", 1, "q"))
    assert isinstance(parsed, Accept) and parsed.value == ["a", "c"], (hint, parsed)
