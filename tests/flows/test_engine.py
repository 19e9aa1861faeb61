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


def test_resumed_takes_what_came_meanwhile_and_asks_the_first_open_question(
    ctx: FlowContext,
) -> None:
    flow = flow_from(FLOW)
    _, waiting = engine.start(flow, ctx)
    # Nothing came meanwhile: the current question again, nothing answered.
    turn, state = engine.resumed(flow, waiting, ctx)
    assert [m.step for m in turn.messages if isinstance(m, Ask)] == ["age"]
    assert state.step == "age" and not turn.answers
    # The age came meanwhile: answered without asking, on to the next question.
    waiting.variables = {**waiting.variables, engine.PREFILL: {"age": "young"}}
    turn, state = engine.resumed(flow, waiting, ctx)
    assert [a.value for a in turn.answers] == ["young"]
    assert [m.step for m in turn.messages if isinstance(m, Ask)] == ["youth"]
    assert state.step == "youth"


SHARED = """
id: shared
version: 1
title: Shared
progress: true
steps:
  - key: uses
    kind: yes_no
    text: Do you use the community centre?
    next:
      - when: {step: uses, equals: true}
        goto: status
      - goto: status_2
  - key: status
    kind: set
    value: user
    label: User
    next: why
  - key: status_2
    kind: set
    answer_key: status
    value: non_user
    label: Not a user
    next: why_2
  - key: why
    kind: text
    text: What do you do there?
    next: after
  - key: why_2
    kind: text
    answer_key: why
    text: Why not?
    next: after
  - key: after
    kind: message
    text:  Thanks
    next:
      - when: {step: status, equals: non_user}
        goto: bye
      - goto: end
  - key: bye
    kind: message
    text: We hope to see you!
"""


def test_steps_on_two_branches_keep_one_answer_key(ctx: FlowContext) -> None:
    flow = flow_from(SHARED)
    for said, status, asked, bye in (
        ("yes", "user", "What do you do there?", False),
        ("no", "non_user", "Why not?", True),
    ):
        _, state = engine.start(flow, ctx)
        turn, state = engine.handle(flow, state, Text(said), ctx)
        assert [(a.step, a.value) for a in turn.answers][1] == ("status", status)
        ask = turn.messages[-1]
        assert isinstance(ask, Ask) and ask.text == f"Question 2 of 2\n{asked}"
        turn, state = engine.handle(flow, state, Text("Cards"), ctx)
        assert [(a.step, a.value) for a in turn.answers] == [("why", "Cards")]
        # The answer goes under its key; the question closed is the one asked.
        assert turn.accepted is not None and turn.accepted.step == ask.step
        assert state.values == {"uses": said == "yes", "status": status, "why": "Cards"}
        assert ("We hope to see you!" in [m.text for m in turn.messages]) is bye
        assert engine.progress(flow, state) == (2, 2)


PARENT = """
id: parent
version: 1
title: Parent
steps:
  - key: hello
    kind: message
    text: Hello
  - key: register
    kind: subflow
    flow: child
    next: last
  - key: skipped
    kind: message
    text: Never said
  - key: last
    kind: text
    text: Anything else?
"""


def test_a_subflow_step_enters_the_flow_and_goes_on_after_it(ctx: FlowContext) -> None:
    from bot.flows.steps.subflow import EnterFlow

    flow = flow_from(PARENT)
    turn, state = engine.start(flow, ctx)
    # It says what comes before, then waits for the subflow: no question, not finished.
    assert [m.text for m in turn.messages] == ["Hello"]
    assert turn.effects == [EnterFlow("child")] and not turn.finished
    assert state.step == "register" and engine.waiting_for(flow, state)
    assert engine.repeat(flow, state, ctx).messages == []
    turn, state = engine.returned(flow, state, ctx)
    ask = turn.messages[-1]
    assert isinstance(ask, Ask) and ask.text == "Anything else?"  # at the step's next
    assert state.step == "last" and not engine.waiting_for(flow, state)
    # Returned twice (a redelivered update) goes no further.
    again, same = engine.returned(flow, state, ctx)
    assert again.messages == [] and same == state
    turn, state = engine.handle(flow, state, Text("No"), ctx)
    assert state.finished and turn.answers[0].step == "last"


def test_an_answer_while_waiting_for_a_subflow_goes_on_after_it(ctx: FlowContext) -> None:
    flow = flow_from(PARENT)
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Text("hello?"), ctx)
    assert turn.answers == [] and state.step == "last"
    assert turn.messages[-1].text == "Anything else?"


HOOD_FLOW = """
id: hood
version: 1
title: Hood
steps:
  - key: neighbourhood
    kind: neighbourhood
    text: Which neighbourhood do you live in? Choose one, or type your postcode.
  - key: bye
    kind: message
    text: Bye
"""


def test_a_postcode_is_confirmed_by_a_yes_no_question_of_its_own(ctx: FlowContext) -> None:
    flow = flow_from(HOOD_FLOW)
    _, state = engine.start(flow, ctx)
    turn, state = engine.handle(flow, state, Text("7606 AB"), ctx)
    assert len(turn.messages) == 1  # one question, not a note and the list again
    ask = turn.messages[0]
    assert isinstance(ask, Ask) and ask.step == "neighbourhood.ok"
    assert ask.text == "This postcode is in Kerkelanden. Do you live there?"
    assert [o.label for o in ask.options] == ["Yes", "No, choose another"]
    # 1 is yes here, not the first neighbourhood of the list (Centrum).
    turn, done = engine.handle(flow, state, Text("1"), ctx)
    assert [(a.step, a.value) for a in turn.answers] == [("neighbourhood", "kerkelanden")]
    assert turn.accepted is not None and turn.accepted.step == "neighbourhood.ok"
    assert done.finished
    # A button of the confirmation, by position (Telegram), is yes too.
    turn, done = engine.handle(flow, state, Pick("neighbourhood.ok", index=0), ctx)
    assert turn.answers[0].value == "kerkelanden"
    # A button of the list under it is from an earlier question: nothing changes.
    turn, same = engine.handle(flow, state, Pick("neighbourhood", index=0), ctx)
    assert turn.stale and turn.answers == [] and same == state
    # No: the list again, and its numbers mean neighbourhoods again.
    turn, state = engine.handle(flow, state, Text("2"), ctx)
    ask = turn.messages[-1]
    assert isinstance(ask, Ask) and ask.step == "neighbourhood"
    assert ask.options[0].label == "Centrum" and turn.answers == []
    turn, state = engine.handle(flow, state, Text("1"), ctx)
    assert turn.answers[0].value == "centrum" and state.finished


def test_the_neighbourhood_in_an_arabic_confirmation_is_isolated(ctx: FlowContext) -> None:
    from bidi import get_display

    from bot.i18n.bidi import FSI, PDI

    arabic = ctx.with_language("ar")
    flow = flow_from(HOOD_FLOW)
    _, state = engine.start(flow, arabic)
    turn, state = engine.handle(flow, state, Text("7606 AB"), arabic)
    text = turn.messages[-1].text
    assert text.count(f"{FSI}Kerkelanden{PDI}") == 1  # isolated once
    assert text != "This postcode is in Kerkelanden. Do you live there?"  # translated
    # Laid out right to left, the name keeps its letters in order and the question mark
    # stays at the end of the sentence (the left edge), not beside the name.
    shown = get_display(text)
    assert "Kerkelanden" in shown
    assert shown.lstrip("\u200f").startswith("؟")
