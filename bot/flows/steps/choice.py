"""`choice`: one answer from a list of buttons.

Example::

    - key: age
      kind: choice
      text: How old are you?
      store_as: age_group
      skippable: true
      options:
        - {value: 12-17, label: 12 to 17}
        - {value: 18-27, label: 18 to 27}
      next:
        - when: {step: age, in: [12-17]}
          goto: youth
        - goto: themes

A person answers with the button, the option's number, or its label in their language.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.flows.context import FlowContext
from bot.flows.events import Event, Option, Pick, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, match_option, register


class OptionDef(BaseModel):
    """An option as written in a flow: `value` is stored, `label` is translated."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_+-]*$", max_length=24)
    label: str = Field(min_length=1)


class ChoiceStepBase(Step):
    """What single and multiple choice share: their options."""

    options_: list[OptionDef] = Field(alias="options", min_length=1)

    @field_validator("options_")
    @classmethod
    def _unique_values(cls, options: list[OptionDef]) -> list[OptionDef]:
        values = [option.value for option in options]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"duplicate option values: {', '.join(duplicates)}")
        return options

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        own = [
            Option(o.value, ctx.flow_text(self.msgctxt(flow_id, o.value), o.label))
            for o in self.options_
        ]
        return own + self.skip_option(ctx, flow_id)

    def option_values(self) -> list[str]:
        return [option.value for option in self.options_]


def choose(step: Step, event: Event, ctx: FlowContext, flow_id: str) -> Parsed:
    """One option from a button press or typed text; shared by every one-of-a-list kind."""
    options = step.options(ctx, flow_id)
    if isinstance(event, Pick):
        option = next((o for o in options if o.value == event.value), None)
    elif isinstance(event, Text):
        option = match_option(event.text, options)
    else:
        option = None
    if option is None:
        return Reject(ctx.t.gettext("Please choose one of the options."))
    raw = event.text if isinstance(event, Text) else ""
    return Accept(option.value, raw=raw, display=option.label)


@register
class ChoiceStep(ChoiceStepBase):
    kind: Literal["choice"] = "choice"
    expects = "choice"

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        return choose(self, event, ctx, flow_id)
