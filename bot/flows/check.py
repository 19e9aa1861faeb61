"""Checks on a flow as a graph of steps: what pydantic alone cannot see.

Every problem names the file and line, so a town writing its own flows is pointed at
the exact place.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.flows.loader import FlowError, LoadedFlow, Problem, flow_files, load_flow
from bot.flows.model import Flow
from bot.flows.polls import poll_id
from bot.flows.steps import END, Step
from bot.flows.steps.base import Rule
from bot.flows.steps.choice import ChoiceStepBase
from bot.flows.steps.consent import ConsentStep
from bot.flows.steps.multiple_choice import MultipleChoiceStep
from bot.flows.steps.scale import ScaleStep
from bot.flows.steps.set import SetStep
from bot.flows.steps.subflow import SubflowStep
from bot.flows.steps.yes_no import YesNoStep


def successors(flow: Flow, step: Step) -> list[str]:
    """Where a step can lead: its `next` targets, or the step after it in the file."""
    if step.next is None:
        following = flow.following(step.key)
        return [following or END]
    if isinstance(step.next, str):
        return [step.next]
    targets = [rule.goto for rule in step.next]
    if all(rule.when is not None for rule in step.next):
        targets.append(flow.following(step.key) or END)
    return targets


def check_graph(loaded: LoadedFlow) -> list[Problem]:
    """References, reachability, a way out, and conditions that can hold."""
    flow = loaded.flow
    name = str(loaded.path)
    problems: list[Problem] = []
    index = {step.key: i for i, step in enumerate(flow.steps)}

    def at(i: int, *rest: object) -> int:
        return loaded.line_of("steps", i, *rest)

    for i, step in enumerate(flow.steps):
        if isinstance(step.next, list):
            for r, rule in enumerate(step.next):
                if rule.goto != END and rule.goto not in index:
                    problems.append(
                        Problem(name, at(i, "next", r, "goto"), f"unknown step {rule.goto!r}")
                    )
                if rule.when is not None:
                    line = at(i, "next", r, "when")
                    problems += _check_condition(flow, rule, line, name)
                    target = rule.when.step
                    answering = flow.answering(target)
                    if (
                        answering
                        and target != step.answer_as
                        and all(step.key not in _reachable(flow, s.key) for s in answering)
                    ):
                        problems.append(
                            Problem(
                                name,
                                line,
                                f"step {target!r} is never answered before {step.key!r}",
                            )
                        )
            defaults = [r for r, rule in enumerate(step.next) if rule.when is None]
            if defaults and defaults[0] != len(step.next) - 1:
                problems.append(
                    Problem(
                        name,
                        at(i, "next", defaults[0]),
                        "a rule without 'when' must be the last: the rules after it never run",
                    )
                )
        elif isinstance(step.next, str) and step.next != END and step.next not in index:
            problems.append(Problem(name, at(i, "next"), f"unknown step {step.next!r}"))
        if isinstance(step, ConsentStep) and step.skippable:
            problems.append(Problem(name, at(i, "skippable"), "consent cannot be skipped"))
        if isinstance(step, SubflowStep) and step.flow == flow.id:
            problems.append(Problem(name, at(i, "flow"), "a flow cannot run itself as a subflow"))
    problems += _check_answer_keys(loaded)

    reachable = _reachable(flow)
    for i, step in enumerate(flow.steps):
        if step.key not in reachable:
            problems.append(Problem(name, at(i), f"step {step.key!r} can never be reached"))

    exits = _can_end(flow)
    for i, step in enumerate(flow.steps):
        if step.key in reachable and step.key not in exits:
            problems.append(
                Problem(name, at(i), f"step {step.key!r} has no way out: the flow can never end")
            )
    for f, followup in enumerate(flow.followups):
        if followup.when is not None:
            line = loaded.line_of("followups", f, "when")
            problems += _check_condition(flow, Rule(when=followup.when, goto=END), line, name)
    return problems


def _check_answer_keys(loaded: LoadedFlow) -> list[Problem]:
    """Steps that share an answer key (`answer_key`) give one answer, of one kind.

    Sharing is for steps on different branches that ask or set the same thing (one
    RapidPro result written by two nodes); a `set` step may share with a question (one
    branch asks, the other knows). The key must not be another step's own answer.
    """
    flow = loaded.flow
    name = str(loaded.path)
    problems: list[Problem] = []
    keys = {step.key: step for step in flow.steps}
    for i, step in enumerate(flow.steps):
        if step.answer_key is None:
            continue
        line = loaded.line_of("steps", i, "answer_key")
        if not _keeps_answer(step):
            problems.append(Problem(name, line, f"a {step.kind} step keeps no answer"))
            continue
        other = keys.get(step.answer_key)
        if other is not None and other is not step and not _keeps_answer(other):
            problems.append(
                Problem(
                    name,
                    line,
                    f"answer_key {step.answer_key!r} is the key of a {other.kind} step, "
                    "which keeps no answer",
                )
            )
            continue
        if other is not None and other.answer_as != other.key:
            problems.append(
                Problem(
                    name,
                    line,
                    f"answer_key {step.answer_key!r} is the key of a step whose answer is "
                    f"kept under {other.answer_as!r}",
                )
            )
            continue
        kinds = {s.kind for s in flow.answering(step.answer_as) if not isinstance(s, SetStep)}
        if len(kinds) > 1:
            problems.append(
                Problem(
                    name,
                    line,
                    f"steps sharing the answer key {step.answer_as!r} ask in different "
                    f"ways ({', '.join(sorted(kinds))}): they must be of one kind",
                )
            )
    return problems


def _keeps_answer(step: Step) -> bool:
    return step.records_answer and (step.is_question or isinstance(step, SetStep))


def _check_condition(flow: Flow, rule: Rule, line: int, name: str) -> list[Problem]:
    """A condition that some step keeping its answer can make true."""
    assert rule.when is not None
    answering = flow.answering(rule.when.step)
    if not answering:
        return [Problem(name, line, f"condition on unknown step {rule.when.step!r}")]
    if len(answering) == 1:
        return _condition_on(answering[0], rule, line, name)
    # Steps sharing the answer key: each value tested must be one that some step gives
    # (`in: [weekly, never]` on a choice in one branch and a `set` never in the other).
    when = rule.when
    tested = [v for v in [when.equals, *(when.in_ or [])] if v is not None]
    asking = sorted(answering, key=lambda step: isinstance(step, SetStep))
    if not tested:
        return _condition_on(asking[0], rule, line, name)
    problems: list[Problem] = []
    for value in tested:
        single = Rule(when=when.model_copy(update={"equals": value, "in_": None}), goto=END)
        found = [_condition_on(step, single, line, name) for step in asking]
        if all(found):
            problems += found[0]
    return problems


def _condition_on(target: Step, rule: Rule, line: int, name: str) -> list[Problem]:
    assert rule.when is not None
    when = rule.when
    tested = [v for v in [when.equals, *(when.in_ or [])] if v is not None]
    if isinstance(target, SetStep):
        if tested and target.value not in tested:
            return [
                Problem(
                    name, line, f"step {when.step!r} always stores {target.value!r}: never true"
                )
            ]
        return []
    if not target.is_question:
        return [Problem(name, line, f"step {when.step!r} is a message: it has no answer")]
    problems = []
    if isinstance(target, YesNoStep | ConsentStep):
        for value in tested:
            if not isinstance(value, bool):
                problems.append(
                    Problem(name, line, f"step {when.step!r} answers true or false, not {value!r}")
                )
    elif isinstance(target, ChoiceStepBase):
        values = target.option_values()
        if when.includes is not None:
            tested.append(when.includes)
            if not isinstance(target, MultipleChoiceStep):
                problems.append(
                    Problem(name, line, "'includes' is for multiple_choice; use 'equals' or 'in'")
                )
        for value in tested:
            if str(value) not in values:
                problems.append(Problem(name, line, f"step {when.step!r} has no option {value!r}"))
    elif isinstance(target, ScaleStep):
        for value in tested:
            if not isinstance(value, int) or not target.min <= value <= target.max:
                problems.append(
                    Problem(name, line, f"{value!r} is not on the scale of step {when.step!r}")
                )
    return problems


def _reachable(flow: Flow, start: str | None = None) -> set[str]:
    """The steps a conversation can reach from `start` (the first step by default)."""
    seen: set[str] = set()
    todo = [start or flow.steps[0].key]
    while todo:
        key = todo.pop()
        if key in seen or key == END or not flow.has_step(key):
            continue
        seen.add(key)
        todo.extend(successors(flow, flow.step(key)))
    return seen


def _can_end(flow: Flow) -> set[str]:
    """Steps from which some path reaches the end."""
    ends: set[str] = set()
    changed = True
    while changed:
        changed = False
        for step in flow.steps:
            if step.key in ends:
                continue
            if any(t == END or t in ends for t in successors(flow, step)):
                ends.add(step.key)
                changed = True
    return ends


def check_paths(
    paths: list[Path], known_flows: set[str] | None = None
) -> tuple[list[LoadedFlow], list[Problem]]:
    """Load and check flow files; references between flows are checked across them."""
    loaded: list[LoadedFlow] = []
    problems: list[Problem] = []
    broken: set[str] = set()
    for path in paths:
        try:
            flow = load_flow(path)
        except FlowError as error:
            problems.extend(error.problems)
            broken.add(_raw_id(path))
            continue
        loaded.append(flow)
        problems.extend(check_graph(flow))
    ids: dict[str, LoadedFlow] = {}
    commands: dict[str, LoadedFlow] = {}
    for item in loaded:
        flow = item.flow
        if flow.id in ids:
            first = ids[flow.id].path
            problems.append(
                Problem(
                    str(item.path),
                    item.line_of("id"),
                    f"flow id {flow.id!r} is also used in {first}",
                )
            )
        ids[flow.id] = item
        if poll_id(flow.id) is not None:
            problems.append(
                Problem(
                    str(item.path),
                    item.line_of("id"),
                    f"flow id {flow.id!r} is kept for the polls written in the dashboard "
                    "(poll-<number>); choose another id",
                )
            )
        if flow.command:
            if flow.command in commands:
                problems.append(
                    Problem(
                        str(item.path),
                        item.line_of("command"),
                        f"command /{flow.command} is also used by {commands[flow.command].path}",
                    )
                )
            commands[flow.command] = item
    every = set(ids) | broken | (known_flows or set())
    for item in loaded:
        flow = item.flow
        for i, step in enumerate(flow.steps):
            if isinstance(step, SubflowStep) and step.flow not in every:
                problems.append(
                    Problem(
                        str(item.path),
                        item.line_of("steps", i, "flow"),
                        f"unknown flow {step.flow!r}",
                    )
                )
        if flow.then and flow.then not in every:
            problems.append(
                Problem(str(item.path), item.line_of("then"), f"unknown flow {flow.then!r}")
            )
        for f, followup in enumerate(flow.followups):
            if followup.flow not in every:
                problems.append(
                    Problem(
                        str(item.path),
                        item.line_of("followups", f, "flow"),
                        f"unknown flow {followup.flow!r}",
                    )
                )
    return loaded, sorted(problems)


def _raw_id(path: Path) -> str:
    """The id of a flow that did not load, so other flows naming it are not blamed too."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError):
        return ""
    return str(data.get("id", "")) if isinstance(data, dict) else ""


def check_folder(folder: Path) -> tuple[list[LoadedFlow], list[Problem]]:
    return check_paths(flow_files(folder))
