"""`media`: a photo or a voice note as the answer.

Example::

    - key: photo
      kind: media
      text: Send a photo of a place you like in your neighbourhood.
      accept: [photo, voice]
      skippable: true

The stored value is `{kind, ref}`: the platform's file reference, not the file.
With `allow_text: true` a written answer is accepted too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.flows.context import FlowContext
from bot.flows.events import Event, Media, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.flows.steps.text import has_words


@register
class MediaStep(Step):
    kind: Literal["media"] = "media"
    expects = "media"
    accept: list[Literal["photo", "voice", "video"]] = Field(
        default=["photo", "voice"], min_length=1
    )
    allow_text: bool = False

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if isinstance(event, Media) and event.kind in self.accept:
            return Accept({"kind": event.kind, "ref": event.ref}, raw=event.caption)
        if self.allow_text and isinstance(event, Text) and has_words(event.text):
            text = event.text.strip()[:1000]
            return Accept({"kind": "text", "text": text}, raw=event.text, display=text)
        if self.accept == ["photo"]:
            return Reject(ctx.t.gettext("Please send a photo."))
        if self.accept == ["voice"]:
            return Reject(ctx.t.gettext("Please send a voice message."))
        return Reject(ctx.t.gettext("Please send a photo or a voice message."))
