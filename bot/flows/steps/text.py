"""`text`: a free-text answer.

Example::

    - key: good
      kind: text
      text: What is good about your neighbourhood?
      min_length: 2
      max_length: 500
      skippable: true

An answer needs at least one letter or digit (any script): empty text or emoji alone
get a short explanation and the question again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from bot.flows.context import FlowContext
from bot.flows.events import Event, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register

MAX_TEXT = 4000


def has_words(text: str) -> bool:
    """Whether a text holds at least one letter or digit, in any script."""
    return any(ch.isalnum() for ch in text)


@register
class TextStep(Step):
    kind: Literal["text"] = "text"
    min_length: int = 1
    max_length: int = 1000

    @model_validator(mode="after")
    def _range(self) -> TextStep:
        if self.min_length < 1:
            raise ValueError("min_length must be at least 1")
        if self.max_length < self.min_length:
            raise ValueError("max_length must be at least min_length")
        if self.max_length > MAX_TEXT:
            raise ValueError(f"max_length can be at most {MAX_TEXT}")
        return self

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if not isinstance(event, Text):
            return Reject(ctx.t.gettext("Please answer with text."))
        text = event.text.strip()
        if not text or not has_words(text):
            return Reject(ctx.t.gettext("Please answer in words."))
        if len(text) < self.min_length:
            return Reject(
                ctx.t.ngettext(
                    "Please write at least {n} character.",
                    "Please write at least {n} characters.",
                    self.min_length,
                ).format(n=self.min_length)
            )
        if len(text) > self.max_length:
            return Reject(
                ctx.t.ngettext(
                    "Your answer is too long. Please use at most {n} character.",
                    "Your answer is too long. Please use at most {n} characters.",
                    self.max_length,
                ).format(n=self.max_length)
            )
        return Accept(text, raw=event.text, display=text)
