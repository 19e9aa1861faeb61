"""`subflow`: runs another flow here, then goes on with this one (call and return).

Example::

    - key: registration
      kind: subflow
      flow: registration
      next: last_question

The engine stops at this step and hands the service an `EnterFlow` effect; the
service pauses this conversation and starts the other flow. When that one ends, the
service calls `engine.returned`, and this flow goes on at the step's `next` (RapidPro's
`enter_flow` and its "Complete" exit). It asks nothing and keeps no answer; the other
flow's answers are kept under that flow, as RapidPro keeps a subflow's results in its
own run. If the other flow expires unfinished, this one waits, and expires in its
turn; `/start` picks the other flow up again and this one goes on after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from bot.flows.effects import Effect, EffectTarget
from bot.flows.steps.base import Step, register


@dataclass(frozen=True)
class EnterFlow(Effect):
    """Start `flow` now; the current conversation waits and goes on after it."""

    flow: str

    async def apply(self, target: EffectTarget) -> None:
        target.enter_flow(self.flow)


@register
class SubflowStep(Step):
    kind: Literal["subflow"] = "subflow"
    flow: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    is_question: ClassVar[bool] = False
    counts_in_progress: ClassVar[bool] = False
    records_answer: ClassVar[bool] = False

    @model_validator(mode="after")
    def _says_nothing(self) -> SubflowStep:
        if self.text:
            raise ValueError(
                "a subflow step says nothing: put the text in a message step before it"
            )
        if self.skippable:
            raise ValueError("a subflow step asks nothing, so it cannot be skippable")
        if self.answer_key:
            raise ValueError("a subflow step keeps no answer: its flow keeps its own")
        return self

    def enters(self) -> Effect:
        return EnterFlow(self.flow)
