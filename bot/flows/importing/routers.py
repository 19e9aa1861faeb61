"""goflow routers and their cases, read as Buurtbot question kinds and conditions.

A `wait_for_response` router becomes one question. Its kind follows its cases:

| cases                                                   | kind     |
|---------------------------------------------------------|----------|
| text tests (`has_any_word`, `has_phrase`, ...)          | `choice`, a category an option |
| `has_number`, `has_number_between`, `_lt`, `_gt`, ...   | `number`, categories as branches |
| `has_date`, `has_date_lt`, `has_date_gt`                | `date`   |
| none, `has_text`, `has_email`, `has_phone`, the rest    | `text` (a `choice` with quick replies) |

Buurtbot does not match free words against a category: people answer with a button,
the option's number or its label. Which words a case matched is reported.
"""

from __future__ import annotations

import re
from typing import Any

TEXT_TESTS = frozenset(
    {
        "has_any_word",
        "has_all_words",
        "has_phrase",
        "has_only_phrase",
        "has_beginning",
        "has_only_text",
    }
)
NUMBER_TESTS = frozenset(
    {
        "has_number",
        "has_number_between",
        "has_number_lt",
        "has_number_lte",
        "has_number_gt",
        "has_number_gte",
        "has_number_eq",
    }
)
DATE_TESTS = frozenset({"has_date", "has_date_lt", "has_date_gt", "has_date_eq"})
#: Tests that read free text: the answer is kept as text, unchecked.
UNCHECKED = {
    "has_email": "an e-mail address",
    "has_phone": "a phone number",
    "has_pattern": "a pattern",
    "has_text": "",
}
TODAY = re.compile(r"^@\(\s*today\(\)\s*\)$|^@date\.today$")
_RESULT = re.compile(r"^@\(?\s*results\.([\w]+)(?:\.(category|value))?\s*\)?$")


def kind_of(cases: list[dict[str, Any]]) -> str:
    """The question kind for these cases (the most common family wins)."""
    counts = {"choice": 0, "number": 0, "date": 0}
    for case in cases:
        test = case.get("type")
        if test in TEXT_TESTS:
            counts["choice"] += 1
        elif test in NUMBER_TESTS:
            counts["number"] += 1
        elif test in DATE_TESTS:
            counts["date"] += 1
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] else "text"


def result_of(operand: Any) -> str | None:
    """`@results.colour.category` -> `colour`; None for any other operand."""
    match = _RESULT.match(str(operand or "").strip())
    return match[1].lower() if match else None


def number(text: Any) -> float | None:
    try:
        return float(str(text).strip().replace(",", "."))
    except ValueError:
        return None


def whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def number_range(case: dict[str, Any]) -> tuple[float | None, float | None] | None:
    """(min, max) a number case accepts, bounds included; None when it cannot be read.

    Answers are whole numbers unless an argument has decimals, so `< 10` is `max 9`.
    """
    test = case.get("type")
    arguments = [number(a) for a in case.get("arguments") or []]
    if test == "has_number":
        return None, None
    if any(a is None for a in arguments) or not arguments:
        return None
    first = arguments[0]
    assert first is not None
    step = 1 if all(float(a).is_integer() for a in arguments if a is not None) else 0
    if test == "has_number_between" and len(arguments) >= 2 and arguments[1] is not None:
        return first, arguments[1]
    if test == "has_number_lt":
        return None, first - step
    if test == "has_number_lte":
        return None, first
    if test == "has_number_gt":
        return first + step, None
    if test == "has_number_gte":
        return first, None
    if test == "has_number_eq":
        return first, first
    return None


def words(case: dict[str, Any]) -> list[str]:
    """The words or phrases a text case looks for."""
    arguments = [str(a) for a in case.get("arguments") or [] if str(a).strip()]
    if case.get("type") in ("has_any_word", "has_all_words"):
        return [word for argument in arguments for word in argument.split()]
    return arguments


def date_when(cases: list[dict[str, Any]]) -> str | None:
    """`future` or `past` when the only date case compares with today; else None."""
    tests = [(c.get("type"), (c.get("arguments") or [""])[0]) for c in cases]
    if len(tests) != 1:
        return None
    test, argument = tests[0]
    if test == "has_date_gt" and TODAY.match(str(argument).strip()):
        return "future"
    if test == "has_date_lt" and TODAY.match(str(argument).strip()):
        return "past"
    return None
