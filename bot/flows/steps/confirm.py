"""`confirm`: a yes or no that, on yes, asks the conversation service to act.

Example::

    - key: sure
      kind: confirm
      action: forget
      text: Do you want us to delete everything we know about you?

The engine only reports the decision (an `action` effect); the service carries it out.
Actions: `forget` (erase the person).
"""

from __future__ import annotations

from typing import Literal

from bot.flows.context import FlowContext
from bot.flows.events import Event, Option, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.flows.steps.yes_no import read_yes_no, yes_no_options


@register
class ConfirmStep(Step):
    kind: Literal["confirm"] = "confirm"
    expects = "choice"
    action: Literal["forget"]

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        return yes_no_options(ctx.t)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        answer = read_yes_no(event, ctx.t)
        if answer is None:
            return Reject(ctx.t.gettext("Please answer yes or no."))
        label = ctx.t.gettext("Yes") if answer else ctx.t.gettext("No")
        return Accept(answer, raw=event.text if isinstance(event, Text) else "", display=label)
