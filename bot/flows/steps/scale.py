"""`scale`: a number on a short scale (1 to 5 by default), each point with a label.

Example::

    - key: rating
      kind: scale
      text: How was the activity?
      min: 1
      max: 5
      labels:
        1: Very bad
        3: OK
        5: Very good

The stored value is the number.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bot.flows.context import FlowContext
from bot.flows.events import Event, Option, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Step, register
from bot.flows.steps.choice import choose
from bot.i18n.typed import normalise


@register
class ScaleStep(Step):
    kind: Literal["scale"] = "scale"
    expects = "choice"
    min: int = 1
    max: int = 5
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _range(self) -> ScaleStep:
        if not self.min < self.max:
            raise ValueError("min must be smaller than max")
        if self.max - self.min > 10:
            raise ValueError("a scale has at most 11 points")
        outside = [k for k in self.labels if not self.min <= k <= self.max]
        if outside:
            raise ValueError(f"labels outside the scale: {outside}")
        return self

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        own = []
        for point in range(self.min, self.max + 1):
            label = self.labels.get(point)
            text = str(point)
            if label:
                text = f"{point} {ctx.flow_text(self.msgctxt(flow_id, str(point)), label)}"
            own.append(Option(str(point), text))
        return own + self.skip_option(ctx, flow_id)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        typed = normalise(event.text).strip() if isinstance(event, Text) else ""
        if typed.isdecimal():
            point = int(typed)
            if self.min <= point <= self.max:
                option = self.options(ctx, flow_id)[point - self.min]
                return Accept(point, raw=event.text, display=option.label)
        parsed = choose(self, event, ctx, flow_id)
        if isinstance(parsed, Accept):
            return Accept(int(parsed.value), raw=parsed.raw, display=parsed.display)
        return parsed
