"""`confirm`: a yes or no that, on yes, asks the conversation service to act.

Example::

    - key: sure
      kind: confirm
      action: forget
      text: Do you want us to delete everything we know about you?
      yes_label: Yes, delete everything
      no_label: No, keep it

The engine only reports the decision (a `Confirmed` effect); the service carries it out.
Actions: `forget` (erase the person), `restart` (start the paused flow again instead of
going on with it). The buttons say Yes and No unless `yes_label` and `no_label` say
something clearer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.flows.context import FlowContext
from bot.flows.effects import Effect, EffectTarget
from bot.flows.events import Event, Option, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, match_option, register
from bot.flows.steps.yes_no import read_yes_no, yes_no_options


@dataclass(frozen=True)
class Confirmed(Effect):
    """The person answered a `confirm` step: on yes, `action` is carried out."""

    action: str
    yes: bool

    async def apply(self, target: EffectTarget) -> None:
        if self.action == "forget" and self.yes:
            await target.forget()
        elif self.action == "restart":
            await target.resume(restart=self.yes)


@register
class ConfirmStep(Step):
    kind: Literal["confirm"] = "confirm"
    expects = "choice"
    records_answer = False
    action: Literal["forget", "restart"]
    yes_label: str = ""
    no_label: str = ""

    def effects(self, accepted: Accept) -> list[Effect]:
        return [Confirmed(self.action, bool(accepted.value)), *super().effects(accepted)]

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        yes, no = yes_no_options(ctx.t)
        if self.yes_label:
            yes = Option("yes", ctx.flow_text(self.msgctxt(flow_id, "yes"), self.yes_label))
        if self.no_label:
            no = Option("no", ctx.flow_text(self.msgctxt(flow_id, "no"), self.no_label))
        return [yes, no]

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        options = self.options(ctx, flow_id)
        answer = None
        if isinstance(event, Text):
            option = match_option(event.text, options)
            answer = None if option is None else option.value == "yes"
        if answer is None:
            answer = read_yes_no(event, ctx.t)
        if answer is None:
            return Reject(ctx.t.gettext("Please choose one of the options."))
        label = options[0].label if answer else options[1].label
        return Accept(answer, raw=event.text if isinstance(event, Text) else "", display=label)
