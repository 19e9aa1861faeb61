"""The pure flow engine: `(flow, state, event) -> (turn, new state)`.

It renders questions in the person's language, reads answers through the step kinds,
follows `next` rules, and reports answers and effects; it stores nothing and sends
nothing. A `subflow` step stops it with an `EnterFlow` effect: the service runs that
flow, and `returned` goes on from the step's `next` once it has ended.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.flows.context import FlowContext
from bot.flows.effects import Finished
from bot.flows.events import Answer, Ask, Done, Event, Pick, Say, Skip, Toggle, Turn
from bot.flows.model import Flow
from bot.flows.state import State
from bot.flows.steps import END, Step
from bot.flows.steps.base import SKIP, Accept, Refresh, Reject, Suggest

PREFILL = "prefill"


def start(
    flow: Flow, ctx: FlowContext, variables: dict[str, Any] | None = None
) -> tuple[Turn, State]:
    """Begin a flow: the messages up to and including its first question.

    `variables` fill the `{name}` placeholders of the flow's texts; under `prefill` they
    may hold answers already known (a neighbourhood from a poster's QR code), which are
    taken without asking.
    """
    state = State(
        flow=flow.id, version=flow.version, step=flow.steps[0].key, variables=variables or {}
    )
    turn = Turn()
    state = _advance(flow, state, ctx.for_flow(flow.written).with_variables(state.variables), turn)
    return turn, state


def handle(flow: Flow, state: State, event: Event, ctx: FlowContext) -> tuple[Turn, State]:
    """Take one event in the current step."""
    turn = Turn()
    if state.step is None:
        turn.finished = True
        return turn, state
    step = flow.step(state.step)
    if step.enters() is not None:
        # Waiting for a subflow that is no longer running: go on after it.
        return returned(flow, state, ctx)
    ctx = ctx.for_flow(flow.written).with_variables(state.variables)
    asked = step.asked_as(state)
    if isinstance(event, Pick | Toggle | Done | Skip) and event.step != asked:
        return _stale(turn, ctx), state
    if isinstance(event, Pick):
        resolved = _resolve(event, step, state, ctx, flow.id)
        if resolved is None:
            return _stale(turn, ctx), state
        event = resolved

    parsed = step.parse(event, ctx, flow.id, state)
    if isinstance(parsed, Reject):
        state = replace(state, retries=state.retries + 1)
        turn.messages.append(Say(parsed.reason))
        turn.messages.append(_ask(flow, step, state, ctx))
        return turn, state
    if isinstance(parsed, Suggest):
        state = replace(state, selection=list(parsed.selection))
        if parsed.note:
            turn.messages.append(Say(parsed.note))
        turn.messages.append(_ask(flow, step, state, ctx))
        return turn, state
    if isinstance(parsed, Refresh):
        state = replace(state, selection=list(parsed.selection))
        turn.messages.append(replace(_ask(flow, step, state, ctx), refresh=True))
        return turn, state
    state, ctx = _accept(flow, step, parsed, state, ctx, turn)
    # Under the id it was asked with, so a channel can close that question's buttons.
    accepted = turn.answers[-1] if turn.answers else _answer(step, parsed)
    turn.accepted = replace(accepted, step=asked)
    state = _advance(flow, state, ctx, turn)
    return turn, state


def waiting_for(flow: Flow, state: State) -> bool:
    """Whether the conversation waits at a `subflow` step for another flow to end."""
    return (
        state.step is not None
        and flow.has_step(state.step)
        and flow.step(state.step).enters() is not None
    )


def returned(flow: Flow, state: State, ctx: FlowContext) -> tuple[Turn, State]:
    """The flow a `subflow` step ran has ended: go on from the step's `next`.

    The messages up to the next question (or the end), as `start` gives them.
    """
    turn = Turn()
    if not waiting_for(flow, state):
        turn.finished = state.step is None
        return turn, state
    assert state.step is not None
    ctx = ctx.for_flow(flow.written).with_variables(state.variables)
    step = flow.step(state.step)
    state = replace(state, step=_next(flow, step, state.values), selection=[], retries=0)
    state = _advance(flow, state, ctx, turn)
    return turn, state


def resumed(flow: Flow, state: State, ctx: FlowContext) -> tuple[Turn, State]:
    """A conversation that waited behind another goes on at its current question.

    Answers that came meanwhile under `prefill` (the service puts them there) are taken
    without asking, as at a start; the first question still open is asked again.
    """
    turn = Turn()
    if state.step is None or not flow.has_step(state.step) or waiting_for(flow, state):
        return turn, state
    ctx = ctx.for_flow(flow.written).with_variables(state.variables)
    return turn, _advance(flow, state, ctx, turn)


def repeat(flow: Flow, state: State, ctx: FlowContext) -> Turn:
    """Ask the current question again (after a command, or in a new language)."""
    ctx = ctx.for_flow(flow.written).with_variables(state.variables)
    turn = Turn()
    if state.step is not None and not waiting_for(flow, state):
        turn.messages.append(_ask(flow, flow.step(state.step), state, ctx))
    return turn


def progress(flow: Flow, state: State) -> tuple[int, int]:
    """How many questions are answered, of how many there are."""
    questions = [s.answer_as for s in flow.questions()]
    return sum(1 for key in questions if key in state.values), len(questions)


def _answer(step: Step, parsed: Accept) -> Answer:
    return Answer(
        step=step.answer_as,
        value=parsed.value,
        raw=parsed.raw,
        display=parsed.display,
        skipped=parsed.skipped,
    )


def _accept(
    flow: Flow, step: Step, parsed: Accept, state: State, ctx: FlowContext, turn: Turn
) -> tuple[State, FlowContext]:
    """Record an accepted answer and its effects; move to the next step."""
    if step.records_answer:
        turn.answers.append(_answer(step, parsed))
    turn.effects.extend(step.effects(parsed))
    if step.store_as == "language" and not parsed.skipped:
        ctx = ctx.with_language(str(parsed.value))
        turn.language = str(parsed.value)
    values = {**state.values, step.answer_as: parsed.value}
    next_step = _next(flow, step, values)
    return replace(state, values=values, selection=[], retries=0, step=next_step), ctx


def _stale(turn: Turn, ctx: FlowContext) -> Turn:
    turn.stale = True
    turn.messages.append(Say(ctx.t.gettext("This button is from an earlier question.")))
    return turn


def _resolve(event: Pick, step: Step, state: State, ctx: FlowContext, flow_id: str) -> Event | None:
    """A pick by position becomes a pick by value; on multiple choice, a toggle."""
    value = event.value
    if event.index is not None:
        options = step.current_options(ctx, flow_id, state)
        if not 0 <= event.index < len(options):
            return None
        value = options[event.index].value
    if step.toggles() and value != SKIP:
        return Toggle(step.key, value)
    return Pick(step.key, value)


def _next(flow: Flow, step: Step, values: dict[str, object]) -> str | None:
    target: str | None
    if isinstance(step.next, str):
        target = step.next
    elif isinstance(step.next, list):
        target = next(
            (rule.goto for rule in step.next if rule.when is None or rule.when.holds(values)),
            flow.following(step.key),
        )
    else:
        target = flow.following(step.key)
    return None if target in (None, END) else target


def _prefilled(step: Step, state: State, ctx: FlowContext, flow_id: str) -> Accept | None:
    known = state.variables.get(PREFILL) or {}
    # A decision (consent, a confirmation) is the person's own, never taken from a link.
    if step.answer_as not in known or not step.records_answer:
        return None
    parsed = step.parse(Pick(step.key, str(known[step.answer_as])), ctx, flow_id, state)
    return parsed if isinstance(parsed, Accept) else None


def _advance(flow: Flow, state: State, ctx: FlowContext, turn: Turn) -> State:
    """Say messages and store fixed answers until the next question to ask (or the end)."""
    guard = 0
    while state.step is not None and guard <= 2 * len(flow.steps):
        guard += 1
        step = flow.step(state.step)
        entering = step.enters()
        if entering is not None:
            # Another flow runs now; `returned` goes on from here when it has ended.
            turn.effects.append(entering)
            return state
        if step.is_question:
            parsed = _prefilled(step, state, ctx, flow.id)
            if parsed is None:
                turn.messages.append(_ask(flow, step, state, ctx))
                return state
            state, ctx = _accept(flow, step, parsed, state, ctx, turn)
            continue
        fixed = step.fixed_answer(ctx, flow.id)
        if fixed is not None:
            state, ctx = _accept(flow, step, fixed, state, ctx, turn)
            continue
        turn.messages.append(Say(step.question_text(ctx, flow.id)))
        state = replace(state, step=_next(flow, step, state.values))
    turn.finished = True
    turn.effects.append(Finished())
    return replace(state, step=None)


def _ask(flow: Flow, step: Step, state: State, ctx: FlowContext) -> Ask:
    prefix = ""
    if flow.progress and step.counts_in_progress:
        done, total = _position(flow, state)
        prefix = ctx.t.gettext("Question {n} of {total}").format(n=done + 1, total=total) + "\n"
    return step.ask(ctx, flow.id, state, prefix)


def _position(flow: Flow, state: State) -> tuple[int, int]:
    """Questions answered so far, and the questions on the way ahead as answered now.

    Branches the person did not take are not counted, so someone who never sees the
    follow-up question of "something else" is not told "question 3 of 7" and then "5".
    """
    answered = sum(1 for s in flow.questions() if s.answer_as in state.values)
    ahead = 0
    key = state.step
    seen: set[str] = set()
    while key is not None and key not in seen:
        seen.add(key)
        step = flow.step(key)
        if step.counts_in_progress and step.answer_as not in state.values:
            ahead += 1
        key = _next(flow, step, state.values)
    return answered, answered + ahead
