"""`consent`: asks for permission to keep the person's answers.

Example::

    - key: consent
      kind: consent
      text: |
        After {retention_period}, your answers are no longer linked to you.
        Do you agree?
      next:
        - when: {step: consent, equals: false}
          goto: no_consent
        - goto: neighbourhood

Yes records consent with the deployment's privacy version; no tells the conversation
service to keep nothing more about the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.flows.context import FlowContext
from bot.flows.effects import Effect, EffectTarget
from bot.flows.events import Event, Option, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.flows.steps.yes_no import read_yes_no
from bot.i18n.typed import fold


@dataclass(frozen=True)
class Consent(Effect):
    """The person agreed (`given`) or did not; the service records it or keeps nothing."""

    given: bool

    async def apply(self, target: EffectTarget) -> None:
        target.consent(self.given)


@register
class ConsentStep(Step):
    kind: Literal["consent"] = "consent"
    expects = "choice"
    records_answer = False

    def effects(self, accepted: Accept) -> list[Effect]:
        return [Consent(bool(accepted.value)), *super().effects(accepted)]

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        return [Option("yes", ctx.t.gettext("Yes, I agree")), Option("no", ctx.t.gettext("No"))]

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        answer = read_yes_no(event, ctx.t)
        if answer is None and isinstance(event, Text):
            options = self.options(ctx, flow_id)
            if fold(event.text) == fold(options[0].label):
                answer = True
        if answer is None:
            return Reject(ctx.t.gettext("Please answer yes or no."))
        label = ctx.t.gettext("Yes, I agree") if answer else ctx.t.gettext("No")
        return Accept(answer, raw=event.text if isinstance(event, Text) else "", display=label)
