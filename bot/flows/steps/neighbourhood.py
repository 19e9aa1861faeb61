"""`neighbourhood`: the person's neighbourhood, from the deployment's list or a postcode.

Example::

    - key: neighbourhood
      kind: neighbourhood
      text: Which neighbourhood do you live in? You can also type your postcode.
      skippable: true

The options are the deployment's neighbourhoods and "somewhere else". A Dutch postcode
(`7606 AB` or `7606`) is looked up and said back ("This postcode is in Kerkelanden. Is
that right?"): the person presses it, types yes, or chooses another. Only the
neighbourhood is kept, not the postcode.
Stored as the neighbourhood key and, unless `store_as` says otherwise, set on the
participant's profile.
"""

from __future__ import annotations

from typing import Literal

from bot.deployment import normalise_postcode
from bot.flows.context import FlowContext
from bot.flows.events import Event, Option, Pick, Text
from bot.flows.state import State
from bot.flows.steps.base import (
    Accept,
    Parsed,
    Reject,
    Step,
    Suggest,
    match_option,
    register,
)
from bot.flows.steps.yes_no import read_yes_no

OTHER = "other"


@register
class NeighbourhoodStep(Step):
    kind: Literal["neighbourhood"] = "neighbourhood"
    expects = "choice"
    store_as: Literal["neighbourhood"] | None = "neighbourhood"  # type: ignore[assignment]

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        own = [Option(n.key, n.name) for n in ctx.deployment.neighbourhoods]
        own.append(Option(OTHER, ctx.t.gettext("Somewhere else")))
        return own + self.skip_option(ctx, flow_id)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        options = self.options(ctx, flow_id)
        option = None
        if isinstance(event, Pick):
            option = next((o for o in options if o.value == event.value), None)
        elif isinstance(event, Text):
            option = match_option(event.text, options)
            if option is None and state.selection and read_yes_no(event, ctx.t) is True:
                # "yes" to the neighbourhood a postcode matched.
                option = next((o for o in options if o.value == state.selection[0]), None)
            if option is None and normalise_postcode(event.text) is not None:
                found = ctx.deployment.by_postcode(event.text)
                if found is None:
                    return Reject(
                        ctx.t.gettext(
                            "We do not know this postcode. Please choose your "
                            "neighbourhood from the list."
                        )
                    )
                # Said back first: the ranges are rough, and a wrong one is easy to fix.
                return Suggest(
                    (found.key,),
                    ctx.t.gettext(
                        "This postcode is in {neighbourhood}. Is that right? Then press "
                        "{neighbourhood} or type yes. If not, choose your neighbourhood."
                    ).format(neighbourhood=found.name),
                )
        if option is None:
            return Reject(ctx.t.gettext("Please choose your neighbourhood, or type your postcode."))
        # The raw text may be a postcode: it is not kept, only the neighbourhood.
        return Accept(option.value, raw="", display=option.label)
