"""The engine on its own: no database, no channel."""

from __future__ import annotations

from bot.flows import engine
from bot.flows.context import FlowContext
from bot.flows.effects import SetProfile
from bot.flows.events import Ask, Done, Other, Pick, Say, Text, Toggle
from bot.flows.steps.consent import Consent
from tests.flows.conftest import flow_from

FLOW = """
id: demo
version: 3
title: Demo
progress: true
steps:
  - key: hello
    kind: message
    text: Hello from {organisation}!
  - key: age
    kind: choice
    text: How old are you?
    skippable: true
    options:
      - {value: young, label: Young}
      - {value: old, label: Old}
    next:
      - when: {step: age, equals: young}
        goto: youth
      - when: {step: age, skipped: true}
        goto: bye
      - goto: themes
  - key: youth
    kind: text
    text: What would you organise?
  - key: themes
    kind: multiple_choice
    text: Pick themes
    options:
      - {value: a, label: Alpha}
      - {value: b, label: Beta}
      - {value: c, label: Gamma}
  - key: bye
    kind: message
    text: Bye
"""


def test_start_says_messages_then_asks_the_first_question(ctx: FlowContext) -> None:
    turn, state = engine.start(flow_from(FLOW), ctx)
    assert isinstance(turn.messages[0], Say)
    assert turn.messages[0].text == "Hello from Welzijn Almelo!"
    ask = turn.messages[1]
    assert isinstance(ask, Ask) and ask.step == "age"
    # Unanswered branches take their default: age -> themes.
    assert ask.text.startswith("Question 1 of 2\n")
    assert [o.value for o in ask.options] == ["young", "old", "_skip"]
    assert state.step == "age" and state.version == 3


def test_branching_on_an_answer(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Pick("age", "young"), ctx)
    assert state.step == "youth"
    assert turn.messages[-1].text.startswith("Question 2 of 3\n")  # the branch is counted
    assert turn.answers[0].value == "young" and turn.answers[0].display == "Young"
    turn, state = engine.handle(flow, state, Text("A football day"), ctx)
    assert state.step == "themes"


def test_skip_is_stored_as_skipped_and_can_branch(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Text("Rather not say"), ctx)
    assert turn.answers[0].skipped and turn.answers[0].value is None
    assert state.finished and turn.finished
    assert [m.text for m in turn.messages] == ["Bye"]


def test_wrong_answer_explains_and_asks_again_without_an_answer(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    turn, new_state = engine.handle(flow, state, Text("🎉"), ctx)
    assert turn.answers == [] and new_state.step == "age" and new_state.retries == 1
    assert isinstance(turn.messages[0], Say) and "choose" in turn.messages[0].text
    assert isinstance(turn.messages[1], Ask) and turn.messages[1].step == "age"


def test_a_sticker_where_text_is_expected_is_refused(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    _, state = engine.handle(flow, state, Pick("age", "young"), ctx)
    turn, state = engine.handle(flow, state, Other("sticker"), ctx)
    assert state.step == "youth" and turn.answers == []


def test_stale_button_changes_nothing(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    _, state = engine.handle(flow, state, Pick("age", "old"), ctx)
    turn, after = engine.handle(flow, state, Pick("age", "young"), ctx)
    assert turn.stale and after == state and turn.answers == []


def test_multiple_choice_toggles_then_done(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    _, state = engine.handle(flow, state, Pick("age", "old"), ctx)
    turn, state = engine.handle(flow, state, Toggle("themes", "c"), ctx)
    turn, state = engine.handle(flow, state, Toggle("themes", "a"), ctx)
    ask = turn.messages[0]
    assert isinstance(ask, Ask) and ask.refresh and ask.selected == ("a", "c")
    turn, state = engine.handle(flow, state, Toggle("themes", "c"), ctx)
    turn, state = engine.handle(flow, state, Done("themes"), ctx)
    assert turn.answers[0].value == ["a"]
    assert state.finished


def test_done_with_nothing_chosen_is_refused(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    _, state = engine.handle(flow, state, Pick("age", "old"), ctx)
    turn, after = engine.handle(flow, state, Done("themes"), ctx)
    assert not turn.answers and after.step == "themes"
    assert "at least 1 option" in turn.messages[0].text


def test_language_answer_switches_language_for_the_rest_of_the_turn(ctx: FlowContext) -> None:
    flow = flow_from(
        """
id: lang
version: 1
title: L
steps:
  - {key: language, kind: language, text: "Which language?"}
  - {key: q, kind: yes_no, text: "Is it OK?"}
"""
    )
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Pick("language", "nl"), ctx)
    assert turn.language == "nl"
    assert any(isinstance(e, SetProfile) and e.value == "nl" for e in turn.effects)
    ask = turn.messages[-1]
    assert isinstance(ask, Ask)
    assert ask.options[0].label == ctx.with_language("nl").t.gettext("Yes")


def test_consent_is_an_effect_not_an_answer(ctx: FlowContext) -> None:
    flow = flow_from(
        """
id: c
version: 1
title: C
steps:
  - {key: consent, kind: consent, text: "OK?"}
  - {key: q, kind: text, text: Tell me}
"""
    )
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Text("no"), ctx)
    assert turn.answers == []
    assert turn.effects[:1] == [Consent(given=False)]


def test_repeat_asks_the_current_question_again(ctx: FlowContext) -> None:
    flow = flow_from(FLOW)
    _, state = engine.start(flow, ctx)
    turn = engine.repeat(flow, state, ctx)
    assert isinstance(turn.messages[0], Ask) and turn.messages[0].step == "age"
    assert engine.progress(flow, state) == (0, 3)
