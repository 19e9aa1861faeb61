"""`multiple_choice`: several answers from a list; buttons toggle, "done" closes.

Example::

    - key: themes
      kind: multiple_choice
      text: What do you care about? Choose one or more.
      store_as: interests
      min: 1
      max: 3
      options:
        - {value: green, label: Green spaces and gardens}
        - {value: cooking, label: Cooking and eating together}
        - {value: other, label: Something else}

Typed, a person answers `1, 3` or `1 3`, or the labels separated by commas, in any
script (`١، ٣`, `3، 8`). A question with `min: 0` also takes "none": `0`, an empty
message, or the done word of the person's language (`klaar`, `tamam`, `تم`), so Signal and
the terminal can do what Telegram's Done button does. The done word also closes a
selection made with buttons. The stored value is the list of chosen option values, in
the order of the options.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import model_validator

from bot.flows.context import FlowContext
from bot.flows.events import Ask, Done, Event, Option, Text, Toggle
from bot.flows.state import State
from bot.flows.steps.base import (
    SKIP,
    Accept,
    Parsed,
    Refresh,
    Reject,
    Step,
    match_option,
    register,
)
from bot.flows.steps.choice import ChoiceStepBase
from bot.i18n.typed import fold, normalise, word_list

_SEPARATORS = re.compile(r"[,;\n]+|\s+(?=\d)|(?<=\d)\s+")


@register
class MultipleChoiceStep(ChoiceStepBase):
    kind: Literal["multiple_choice"] = "multiple_choice"
    expects = "multiple"
    min: int = 1
    max: int | None = None

    @model_validator(mode="after")
    def _range(self) -> MultipleChoiceStep:
        check_range(self.min, self.max)
        if self.min > len(self.options_):
            raise ValueError("min is larger than the number of options")
        return self

    def toggles(self) -> bool:
        return True

    def ask(self, ctx: FlowContext, flow_id: str, state: State, prefix: str = "") -> Ask:
        return ask_several(self, ctx, flow_id, state, prefix)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        return read_several(event, self.options(ctx, flow_id), state, self.min, self.max, ctx)


def check_range(low: int, high: int | None) -> None:
    """The `min` and `max` of a question with several answers make sense."""
    if low < 0:
        raise ValueError("min must be 0 or more")
    if high is not None and high < max(low, 1):
        raise ValueError("max must be at least min and at least 1")


def ask_several(step: Step, ctx: FlowContext, flow_id: str, state: State, prefix: str) -> Ask:
    """A question whose buttons toggle, with the selection so far and a done button."""
    return Ask(
        step=step.key,
        text=step.question_text(ctx, flow_id, prefix),
        options=tuple(step.options(ctx, flow_id)),
        multiple=True,
        selected=tuple(state.selection),
        done_label=ctx.t.gettext("Done"),
        expects="multiple",
        none_allowed=getattr(step, "min", 1) == 0,
    )


def read_several(
    event: Event,
    options: list[Option],
    state: State,
    low: int,
    high: int | None,
    ctx: FlowContext,
) -> Parsed:
    """A toggle, "done", or typed numbers and labels (`1, 3`, `1 3`) as several answers."""
    values = [o.value for o in options if o.value != SKIP]
    if isinstance(event, Toggle):
        if event.value not in values:
            return Reject(ctx.t.gettext("Please choose one of the options."))
        chosen = set(state.selection) ^ {event.value}
        if high is not None and len(chosen) > high:
            return Reject(too_many(ctx, high))
        return Refresh(tuple(v for v in values if v in chosen))
    if isinstance(event, Done):
        return close_selection(state.selection, options, low, high, ctx)
    if isinstance(event, Text):
        # An option whose label is the done word ("Nothing") is that option.
        if match_option(event.text, options) is None and is_done_word(event.text, ctx):
            return close_selection(state.selection, options, low, high, ctx, raw=event.text)
        if normalise(event.text).strip(" .,;-") in ("", "0"):
            return close_selection([], options, low, high, ctx, raw=event.text)
        parts = [p for p in _SEPARATORS.split(normalise(event.text).strip()) if p.strip()]
        picked: list[str] = []
        for part in parts:
            option = match_option(part, options)
            if option is None or option.value == SKIP:
                return Reject(ctx.t.gettext("Please choose one or more of the options."))
            picked.append(option.value)
        if picked:
            return close_selection(picked, options, low, high, ctx, raw=event.text)
    return Reject(ctx.t.gettext("Please choose one or more of the options."))


def is_done_word(text: str, ctx: FlowContext) -> bool:
    """Whether a typed text is the person's word for "done" (the Done button's label too)."""
    # TRANSLATORS: what people type to close a question with several answers, or to choose
    # none of the options, comma-separated. Include the word on the Done button.
    words = ctx.t.pgettext("words that mean done", "done, ready, nothing, none")
    folded = fold(text)
    return bool(folded) and folded in word_list(words) | {fold(ctx.t.gettext("Done")), "done"}


def close_selection(
    picked: list[str],
    options: list[Option],
    low: int,
    high: int | None,
    ctx: FlowContext,
    raw: str = "",
) -> Parsed:
    """A finished pick of several options, checked against `low` and `high`.

    The stored list follows the order of the options, not the order of picking.
    """
    chosen = set(picked)
    values = [o.value for o in options if o.value in chosen]
    if len(values) < low:
        return Reject(
            ctx.t.ngettext(
                "Please choose at least {n} option.",
                "Please choose at least {n} options.",
                low,
            ).format(n=low)
        )
    if high is not None and len(values) > high:
        return Reject(too_many(ctx, high))
    labels = {o.value: o.label for o in options}
    return Accept(values, raw=raw, display=", ".join(labels[v] for v in values))


def too_many(ctx: FlowContext, n: int) -> str:
    return ctx.t.ngettext(
        "You can choose at most {n} option.", "You can choose at most {n} options.", n
    ).format(n=n)
