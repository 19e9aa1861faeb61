"""`dynamic_choice`: one or more answers from a list that the bot fills in when it starts
the flow (a worker's activities, their neighbourhoods, the open proposals).

Example::

    - key: activity
      kind: dynamic_choice
      text: Which activity?
      options_from: activities
      options:
        - {value: none, label: None of these}

`options_from` names a flow variable holding a list of `{value, label}`; a label may be
a worker's text with translations (`{"_": ..., "tr": ...}`). The fixed `options` come
after them and are translated like any flow text. With `multiple: true` the buttons
toggle and "done" closes, as in `multiple_choice`, between `min` and `max` answers; the
stored value is then the list of chosen values, and a flow's `prefill` gives it as a
JSON list (`'["centrum"]'`). Values that were not offered are never
accepted, so a flow started with a worker's own activities cannot be answered with
someone else's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from bot.flows.context import FlowContext
from bot.flows.events import Ask, Event, Option, Pick
from bot.flows.state import State
from bot.flows.steps.base import SKIP, Parsed, Reject, Step, register
from bot.flows.steps.choice import OptionDef, choose
from bot.flows.steps.multiple_choice import (
    ask_several,
    check_range,
    close_selection,
    read_several,
)


def listed_options(ctx: FlowContext, name: str) -> list[Option]:
    """The options held by flow variable `name`; anything malformed is left out."""
    found: list[Option] = []
    raw = ctx.variables.get(name) or []
    if not isinstance(raw, list):
        return found
    for item in raw:
        if not isinstance(item, Mapping) or "value" not in item:
            continue
        label = ctx.localised(item.get("label", item["value"]))
        found.append(Option(str(item["value"]), str(label)))
    return found


@register
class DynamicChoiceStep(Step):
    kind: Literal["dynamic_choice"] = "dynamic_choice"
    options_from: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    fixed: list[OptionDef] = Field(default_factory=list, alias="options")
    multiple: bool = False
    min: int = 1
    max: int | None = None

    @model_validator(mode="after")
    def _range(self) -> DynamicChoiceStep:
        check_range(self.min, self.max)
        if not self.multiple and (self.min != 1 or self.max is not None):
            raise ValueError("min and max are for multiple: true")
        return self

    @property
    def expects(self) -> str:  # type: ignore[override]
        return "multiple" if self.multiple else "choice"

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        fixed = [
            Option(o.value, ctx.flow_text(self.msgctxt(flow_id, o.value), o.label))
            for o in self.fixed
        ]
        return listed_options(ctx, self.options_from) + fixed + self.skip_option(ctx, flow_id)

    def toggles(self) -> bool:
        return self.multiple

    def ask(self, ctx: FlowContext, flow_id: str, state: State, prefix: str = "") -> Ask:
        if not self.multiple:
            return super().ask(ctx, flow_id, state, prefix)
        return ask_several(self, ctx, flow_id, state, prefix)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if not self.multiple:
            return choose(self, event, ctx, flow_id)
        options = self.options(ctx, flow_id)
        if isinstance(event, Pick) and event.value.startswith("["):
            return self._prefilled(event.value, ctx, options)
        return read_several(event, options, state, self.min, self.max, ctx)

    def _prefilled(self, text: str, ctx: FlowContext, options: list[Option]) -> Parsed:
        """A flow's `prefill` of several answers, as a JSON list."""
        try:
            picked = json.loads(text)
        except ValueError:
            picked = None
        values = {o.value for o in options if o.value != SKIP}
        if not isinstance(picked, list) or not all(str(v) in values for v in picked):
            return Reject(ctx.t.gettext("Please choose one or more of the options."))
        return close_selection([str(v) for v in picked], options, self.min, self.max, ctx)

    def option_values(self) -> list[str]:
        """The fixed values (the listed ones are only known when the flow starts)."""
        return [o.value for o in self.fixed]


def option(value: Any, label: Any) -> dict[str, Any]:
    """One entry for a `dynamic_choice` variable."""
    return {"value": str(value), "label": label}
