"""`set`: stores a fixed answer without asking anything, then goes on to `next`.

Example::

    - key: status
      kind: set
      value: registered
      label: Registered
    - key: hood
      kind: set
      value: centrum
      store_as: neighbourhood
      next: end

The answer is stored under the step's key like any question's, so it is a column in
`buurtbot export answers` and `next` rules of later steps can test it. `label` (optional,
translated) is how reports and `export answers --labels` show the value. With
`store_as` the value goes into the person's profile too, through the same effect as a
question's. It is what an imported RapidPro `set_run_result` becomes: the result name
is the key, its category the label. It sends no message and is not counted as a
question.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from bot.flows.context import FlowContext
from bot.flows.events import Option
from bot.flows.steps.base import Accept, Step, register


@register
class SetStep(Step):
    kind: Literal["set"] = "set"
    value: str | int | float | bool
    label: str | None = Field(default=None, min_length=1)
    is_question: ClassVar[bool] = False
    counts_in_progress: ClassVar[bool] = False

    @field_validator("value", mode="before")
    @classmethod
    def _one_value(cls, value: object) -> object:
        if not isinstance(value, str | int | float | bool):
            raise ValueError("value must be one text, number or true/false, not a list or mapping")
        return value

    @model_validator(mode="after")
    def _says_nothing(self) -> SetStep:
        if self.text:
            raise ValueError("a set step says nothing: put the text in a message step before it")
        if self.skippable:
            raise ValueError("a set step asks nothing, so it cannot be skippable")
        if isinstance(self.value, str) and not self.value.strip():
            raise ValueError("value is empty: a set step stores a value")
        return self

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        """The value and its label, for reports; no buttons are ever shown."""
        if self.label is None:
            return []
        code = str(self.value)
        return [Option(code, ctx.flow_text(self.msgctxt(flow_id, code), self.label))]

    def fixed_answer(self, ctx: FlowContext, flow_id: str) -> Accept:
        options = self.options(ctx, flow_id)
        display = options[0].label if options else str(self.value)
        return Accept(self.value, display=display)
