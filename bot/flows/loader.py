"""Read flow files into `Flow` models, with every problem reported as `file:line: message`.

Two passes: pydantic checks each flow's shape (kinds, types, ranges); `check.py` then
checks the steps as a graph (references, reachability, a way out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.flows.model import Flow
from bot.flows.steps import STEP_KINDS


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a flow file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LoadedFlow:
    """A valid flow and where each of its parts stands in its file."""

    flow: Flow
    path: Path
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, *location: Any) -> int:
        return line_for(self.lines, location)


class FlowError(Exception):
    """Flows that do not load; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


#: libyaml's parser when PyYAML has it (it is some ten times faster), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _construct(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
    """Turn a composed YAML node into plain data, remembering each value's line (1-based)."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            child = (*path, key)
            result[key] = _construct(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """A scalar with its YAML type (int, bool, date, str), as safe_load would give it."""
    return yaml.SafeLoader("").construct_object(node, deep=True)


def line_for(lines: dict[tuple[Any, ...], int], location: tuple[Any, ...]) -> int:
    """The line of the deepest part of `location` that stands in the file."""
    known: tuple[Any, ...] = ()
    for part in location:
        candidate = (*known, part)
        if candidate in lines:
            known = candidate
        elif isinstance(part, str) and (*known, part.rstrip("_")) in lines:
            known = (*known, part.rstrip("_"))
    return lines.get(known, 1)


def read_yaml(text: str, name: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML text; a syntax error becomes a FlowError at its line."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise FlowError([Problem(name, line, f"YAML: {error.problem or error}")]) from None
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return None, lines
    return _construct(node, (), lines), lines


def _messages(error: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    found = []
    for item in error.errors():
        # Discriminated unions put the step kind into the location: take it out.
        location = tuple(
            part
            for i, part in enumerate(item["loc"])
            if not (i > 0 and isinstance(item["loc"][i - 1], int) and part in STEP_KINDS)
        )
        message = item["msg"].removeprefix("Value error, ")
        field_name = location[-1] if location and isinstance(location[-1], str) else ""
        if item["type"] == "extra_forbidden":
            message = f"unknown field {field_name!r}"
        elif item["type"] == "missing":
            message = f"missing field {field_name!r}"
        elif item["type"] == "union_tag_invalid":
            kinds = ", ".join(sorted(STEP_KINDS))
            message = f"unknown step kind; the kinds are: {kinds}"
            location = (*location, "kind")
        elif item["type"] == "union_tag_not_found":
            message = "a step needs a kind"
        elif field_name:
            message = f"{field_name}: {message}"
        found.append((location, message))
    return found


def load_flow_text(text: str, path: Path) -> LoadedFlow:
    """Validate one flow's YAML text; raises FlowError with every problem found."""
    name = str(path)
    data, lines = read_yaml(text, name)
    if not isinstance(data, dict):
        raise FlowError([Problem(name, 1, "a flow file must be a mapping with id, steps, ...")])
    problems: list[Problem] = []
    steps = data.get("steps")
    if isinstance(steps, list):
        seen: dict[str, int] = {}
        for index, step in enumerate(steps):
            if isinstance(step, dict) and isinstance(step.get("key"), str):
                key = step["key"]
                if key in seen:
                    line = line_for(lines, ("steps", index, "key"))
                    problems.append(
                        Problem(
                            name, line, f"duplicate step key {key!r} (first on line {seen[key]})"
                        )
                    )
                else:
                    seen[key] = line_for(lines, ("steps", index, "key"))
    try:
        flow = Flow.model_validate(data)
    except ValidationError as error:
        for location, message in _messages(error):
            problems.append(Problem(name, line_for(lines, location), message))
        raise FlowError(sorted(set(problems))) from None
    if problems:
        raise FlowError(problems)
    return LoadedFlow(flow=flow, path=path, lines=lines)


def load_flow(path: Path) -> LoadedFlow:
    return load_flow_text(path.read_text(encoding="utf-8"), path)


def flow_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
