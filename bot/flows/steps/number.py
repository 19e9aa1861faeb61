"""`number`: a number within a range.

Example::

    - key: people
      kind: number
      text: How many people live in your home?
      min: 1
      max: 20
      integer: true

Digits of any script are read (١٢ is 12), and a decimal comma, a point or the Arabic
decimal separator (`2٫5`).
"""

from __future__ import annotations

import re
from typing import Literal

from babel.numbers import format_decimal
from pydantic import model_validator

from bot.flows.context import FlowContext
from bot.flows.events import Event, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.i18n.typed import normalise

_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def read_number(text: str) -> float | None:
    cleaned = normalise(text).strip().replace(" ", "")
    if not _NUMBER.match(cleaned):
        return None
    whole, _, fraction = cleaned.replace(",", ".").partition(".")
    value = float(int(whole))
    if fraction:
        value += (-1 if whole.startswith("-") else 1) * int(fraction) / 10 ** len(fraction)
    return value


@register
class NumberStep(Step):
    kind: Literal["number"] = "number"
    min: float | None = None
    max: float | None = None
    integer: bool = True

    @model_validator(mode="after")
    def _range(self) -> NumberStep:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be larger than max")
        return self

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if not isinstance(event, Text):
            return Reject(ctx.t.gettext("Please type a number."))
        value = read_number(event.text)
        if value is None or (self.integer and value != int(value)):
            if self.integer:
                return Reject(ctx.t.gettext("Please type a whole number, like 3."))
            return Reject(ctx.t.gettext("Please type a number."))
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            low = format_decimal(self.min if self.min is not None else 0, locale=ctx.language)
            high = format_decimal(self.max if self.max is not None else 0, locale=ctx.language)
            return Reject(
                ctx.t.gettext("Please type a number from {low} to {high}.").format(
                    low=low, high=high
                )
            )
        number: int | float = int(value) if self.integer else value
        return Accept(number, raw=event.text, display=format_decimal(number, locale=ctx.language))
