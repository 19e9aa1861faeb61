"""What the builder's parts share: the report note, the result, routes and graph look-ups.

A goflow node leaves through exits; a router's categories name the exit they take.
These helpers answer "where does this category lead" and merge the `next` rules the
builder makes, so `building.py`, `questions.py` and `linking.py` read the graph alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.flows.importing import routers

END = "end"
KEY_LIMIT = 32


@dataclass
class Note:
    """Something not carried over: at a node (uuid) or of the flow as a whole (None)."""

    node: str | None
    text: str


@dataclass
class Built:
    """A flow as data for its YAML file, with its texts and what was not carried over."""

    id: str
    name: str
    uuid: str
    data: dict[str, Any]
    #: msgctxt -> (source text, {language: translation})
    texts: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass
class Route:
    """Where an answer leads: `when` (a condition, or None for always) -> a node uuid."""

    when: dict[str, Any] | None
    destination: str | None
    label: str = ""


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def category_named(router: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (
            c
            for c in router.get("categories") or []
            if str(c.get("name")).casefold() == name.casefold()
        ),
        None,
    )


def category_by_uuid(router: dict[str, Any], uuid: Any) -> dict[str, Any] | None:
    return next((c for c in router.get("categories") or [] if c.get("uuid") == uuid), None)


def answer_categories(router: dict[str, Any], cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The categories that cases lead to (not Other, not a timeout), in category order."""
    used = {c.get("category_uuid") for c in cases if c.get("type") in routers.TEXT_TESTS}
    return [c for c in router.get("categories") or [] if c.get("uuid") in used]


def exit_to(node: dict[str, Any], category: dict[str, Any] | None) -> str | None:
    if category is None:
        return None
    for exit_ in node.get("exits") or []:
        if exit_.get("uuid") == category.get("exit_uuid"):
            return exit_.get("destination_uuid")
    return None


def frozen(target: str | list[dict[str, Any]]) -> str:
    return target if isinstance(target, str) else repr(target)


def default_goto(rules: list[dict[str, Any]]) -> str:
    return next((r["goto"] for r in rules if "when" not in r), rules[-1]["goto"])


def merge_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules of one step that test the same step with `in` and go the same way: one rule."""
    merged: list[dict[str, Any]] = []
    for rule in rules:
        when = rule.get("when")
        last = merged[-1] if merged else None
        if (
            last is not None
            and when is not None
            and "in" in when
            and last.get("goto") == rule["goto"]
            and "in" in (last.get("when") or {})
            and last["when"]["step"] == when["step"]
        ):
            last["when"]["in"] = list(dict.fromkeys([*last["when"]["in"], *when["in"]]))
            continue
        merged.append({**rule, "when": dict(when)} if when is not None else dict(rule))
    if merged and "when" in merged[-1]:
        merged.append({"goto": END})
    # A rule just before the default that goes where the default goes says nothing.
    while len(merged) > 1 and "when" in merged[-2] and merged[-2]["goto"] == merged[-1]["goto"]:
        del merged[-2]
    return merged
