"""`message`: says something and goes on at once; no answer.

Example::

    - key: thanks
      kind: message
      text: "Thank you! {organisation} reads every answer."
"""

from __future__ import annotations

from typing import ClassVar, Literal

from bot.flows.steps.base import Step, register


@register
class MessageStep(Step):
    kind: Literal["message"] = "message"
    is_question: ClassVar[bool] = False
    counts_in_progress: ClassVar[bool] = False
