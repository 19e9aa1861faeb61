"""`neighbourhood`: the person's neighbourhood, from the deployment's list or a postcode.

Example::

    - key: neighbourhood
      kind: neighbourhood
      text: Which neighbourhood do you live in? You can also type your postcode.
      skippable: true

The options are the deployment's neighbourhoods and "somewhere else". A Dutch postcode
(`7606 AB` or `7606`) is looked up and said back as a yes/no question of its own
("This postcode is in Kerkelanden. Do you live there?" 1. Yes 2. No, choose another):
yes (the button, 1 or the word) takes it, no shows the list again. The question goes
out as `<key>.ok`, so neither a number typed nor a button of the list is taken for it.
Only the neighbourhood is kept, not the postcode.
Stored as the neighbourhood key and, unless `store_as` says otherwise, set on the
participant's profile.
"""

from __future__ import annotations

from typing import Literal

from bot.deployment import Neighbourhood, normalise_postcode
from bot.flows.context import FlowContext
from bot.flows.events import Ask, Event, Option, Pick, Text
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
from bot.i18n import bidi
from bot.i18n.typed import normalise

OTHER = "other"
#: What the confirmation question's id adds to the step's key.
CONFIRM = ".ok"


@register
class NeighbourhoodStep(Step):
    kind: Literal["neighbourhood"] = "neighbourhood"
    expects = "choice"
    store_as: Literal["neighbourhood"] | None = "neighbourhood"  # type: ignore[assignment]

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        own = [Option(n.key, n.name) for n in ctx.deployment.neighbourhoods]
        own.append(Option(OTHER, ctx.t.gettext("Somewhere else")))
        return own + self.skip_option(ctx, flow_id)

    def _confirming(self, ctx: FlowContext, state: State) -> Neighbourhood | None:
        """The neighbourhood a postcode matched, while the person is asked to confirm it."""
        if not state.selection:
            return None
        return ctx.deployment.neighbourhood(state.selection[0])

    def asked_as(self, state: State) -> str:
        return f"{self.key}{CONFIRM}" if state.selection else self.key

    def _confirm_options(self, ctx: FlowContext) -> list[Option]:
        return [
            Option("yes", ctx.t.gettext("Yes")),
            Option("no", ctx.t.gettext("No, choose another")),
        ]

    def current_options(self, ctx: FlowContext, flow_id: str, state: State) -> list[Option]:
        if self._confirming(ctx, state) is not None:
            return self._confirm_options(ctx)
        return self.options(ctx, flow_id)

    def ask(self, ctx: FlowContext, flow_id: str, state: State, prefix: str = "") -> Ask:
        found = self._confirming(ctx, state)
        if found is None:
            return super().ask(ctx, flow_id, state, prefix)
        text = bidi.fill(
            ctx.t.gettext("This postcode is in {neighbourhood}. Do you live there?"),
            ctx.language,
            neighbourhood=found.name,
        )
        return Ask(
            step=self.asked_as(state),
            text=f"{prefix}{text}",
            options=tuple(self._confirm_options(ctx)),
            expects="choice",
        )

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        found = self._confirming(ctx, state)
        if found is not None:
            return self._confirm(found, event, ctx, flow_id, state)
        options = self.options(ctx, flow_id)
        option = None
        if isinstance(event, Pick):
            option = next((o for o in options if o.value == event.value), None)
        elif isinstance(event, Text):
            option = match_option(event.text, options)
            if option is None and normalise_postcode(event.text) is not None:
                return self._postcode(event.text, ctx)
        if option is None:
            return Reject(ctx.t.gettext("Please choose your neighbourhood, or type your postcode."))
        # The raw text may be a postcode: it is not kept, only the neighbourhood.
        return Accept(option.value, raw="", display=option.label)

    def _postcode(self, text: str, ctx: FlowContext) -> Parsed:
        found = ctx.deployment.by_postcode(text)
        if found is None:
            return Reject(
                ctx.t.gettext(
                    "We do not know this postcode. Please choose your neighbourhood from the list."
                )
            )
        # Asked back first: the ranges are rough, and a wrong one is easy to fix.
        return Suggest((found.key,), "")

    def _confirm(
        self, found: Neighbourhood, event: Event, ctx: FlowContext, flow_id: str, state: State
    ) -> Parsed:
        """An answer to "This postcode is in X. Do you live there?"."""
        answer: bool | None = None
        if isinstance(event, Text):
            option = match_option(event.text, self._confirm_options(ctx))
            answer = None if option is None else option.value == "yes"
        if answer is None:
            answer = read_yes_no(event, ctx.t)
        if answer is True:
            return Accept(found.key, raw="", display=found.name)
        if answer is False:
            return Suggest((), "")  # the list again
        if isinstance(event, Text):
            text = event.text.strip()
            if normalise_postcode(text) is not None:
                return self._postcode(text, ctx)
            # A neighbourhood typed by its name (not by a number: that is yes or no here).
            if not normalise(text).strip().rstrip(".)").isdecimal():
                option = match_option(text, self.options(ctx, flow_id))
                if option is not None:
                    return Accept(option.value, raw="", display=option.label)
        return Reject(ctx.t.gettext("Please choose one of the options."))
