"""`yes_no`: a yes or no question; the stored value is true or false.

Example::

    - key: keep_informed
      kind: yes_no
      text: Do you want to hear what happens with the answers?
      next:
        - when: {step: keep_informed, equals: true}
          goto: thanks
        - goto: end

Typed, a person may answer with the words for yes and no in their language.
"""

from __future__ import annotations

from typing import Literal

from bot.flows.context import FlowContext
from bot.flows.events import Event, Option, Pick, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, match_option, register
from bot.i18n.translator import Translator
from bot.i18n.typed import fold, word_list


def yes_no_options(t: Translator) -> list[Option]:
    return [Option("yes", t.gettext("Yes")), Option("no", t.gettext("No"))]


def read_yes_no(event: Event, t: Translator) -> bool | None:
    """True, False, or None when the event is neither yes nor no."""
    if isinstance(event, Pick):
        return {"yes": True, "no": False}.get(event.value)
    if not isinstance(event, Text):
        return None
    option = match_option(event.text, yes_no_options(t))
    if option is not None:
        return option.value == "yes"
    word = fold(event.text)
    # Translators list the everyday words for yes and no, comma-separated.
    yes_words = t.pgettext("words that mean yes", "yes, y, ok, okay, sure")
    no_words = t.pgettext("words that mean no", "no, n, nope")
    if word in word_list(yes_words) | {"yes", "y"}:
        return True
    if word in word_list(no_words) | {"no", "n"}:
        return False
    return None


@register
class YesNoStep(Step):
    kind: Literal["yes_no"] = "yes_no"
    expects = "choice"

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        return yes_no_options(ctx.t) + self.skip_option(ctx, flow_id)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        answer = read_yes_no(event, ctx.t)
        if answer is None:
            return Reject(ctx.t.gettext("Please answer yes or no."))
        label = ctx.t.gettext("Yes") if answer else ctx.t.gettext("No")
        raw = event.text if isinstance(event, Text) else ""
        return Accept(answer, raw=raw, display=label)
