"""Actions that set a value without asking: `set` steps.

A part of `Builder` (building.py). `set_run_result` with a literal value becomes a `set`
step keyed by the result name (so the answer exports under RapidPro's column name), its
category the label. `set_contact_field` with a literal value for a field Buurtbot keeps
(neighbourhood, language, age group) and `set_contact_language` with a fixed language
become a `set` step with `store_as`. A value that is an expression Buurtbot cannot
evaluate is reported, not carried over.
"""

from __future__ import annotations

import re
from typing import Any

from bot.flows.importing import actions as act
from bot.flows.importing.graph import KEY_LIMIT
from bot.flows.importing.texts import (
    flow_id,
    language_code,
    option_value,
    plain,
    snakify,
    unique,
)

LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def literal(value: Any) -> str | None:
    """The value as stored, or None when it holds an expression (or nothing)."""
    source = str(value if value is not None else "")
    _, dropped = plain(source)
    text = source.replace("@@", "@").strip()
    return None if dropped or not text else text


class Setting:
    """`set_run_result`, and contact fields set to a fixed value; mixed into `Builder`."""

    def _set_result(self, node: str, action: dict[str, Any]) -> dict[str, Any] | None:
        name = str(action.get("name") or "")
        value = literal(action.get("value"))
        if value is None or not snakify(name):
            self.note(
                node,
                f'set_run_result "{name or "?"}" with the value {action.get("value")!r}: '
                "an expression that cannot be evaluated; not carried over",
            )
            return None
        result = snakify(name)
        taken = result[:KEY_LIMIT].rstrip("_") in self.keys and result not in self.results
        key, shares = self._result_step(result, "result")
        if taken:
            self.note(
                node,
                f'set_run_result "{name}": its answer is kept under {key!r} '
                f"(another step has the key {result[:KEY_LIMIT]!r})",
            )
        step: dict[str, Any] = {"key": key, "kind": "set", "value": value}
        if shares:
            step["answer_key"] = shares
        category = str(action.get("category") or "").strip()
        if category:
            step["label"] = category
            self.texts[f"{self.id}:{key}:{value}"] = (category, {})
        self.questions[key] = step
        return step

    def _set_field(self, node: str, kind: str, action: dict[str, Any]) -> dict[str, Any] | None:
        """A profile field set to a fixed value; None (reported) when it is none we keep."""
        if kind == "set_contact_language":
            field, source = "language", action.get("language")
        else:
            field, source = act.profile_field(act.field_key(action)), action.get("value")
        value = literal(source)
        what = (
            kind
            if field == "language" and kind == "set_contact_language"
            else (f"set_contact_field {act.field_key(action)!r}")
        )
        if field is None or value is None:
            reason = "is not a field Buurtbot keeps" if field is None else "has no fixed value"
            self.note(node, f"{what} with the value {source!r} {reason}: not carried over")
            return None
        if field == "language":
            stored = language_code(value)
        elif field == "neighbourhood":
            stored = flow_id(value, "")  # keys as in buurtbot.yaml: `de-riet`
        else:
            stored = option_value(value)
        if not stored or (field == "language" and not LANGUAGE.fullmatch(stored)):
            self.note(node, f"{what}: {value!r} is no value Buurtbot can keep; not carried over")
            return None
        if field == "neighbourhood":
            self.note(
                node,
                f"{what}: the neighbourhood is set to {stored!r}; it must be a neighbourhood "
                "key in buurtbot.yaml",
            )
        # The contact field's own key (`wijk`), as RapidPro names it.
        name = snakify(act.field_key(action)) if kind == "set_contact_field" else field
        key = unique(name[:KEY_LIMIT].rstrip("_") or field, self.keys, KEY_LIMIT)
        return {"key": key, "kind": "set", "value": stored, "store_as": field}
