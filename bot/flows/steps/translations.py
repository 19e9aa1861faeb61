"""`translations`: a text in other languages, one line a language, `code: text`.

Example::

    - key: title_translations
      kind: translations
      text: |
        Type the title in other languages, one line each, for example:
        tr: Mahalle barbeküsü
        ar: شواء الحي
      max_length: 200
      skippable: true

Only the deployment's languages are taken (`tr:`, `TR =` and `tr -` all work). The
stored value is `{"tr": "...", "ar": "..."}`; together with the original it becomes a
worker's text with translations (`{"_": original, "tr": ...}`) that each resident
sees in their own language.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from bot.flows.context import FlowContext
from bot.flows.events import Event, Text
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step, register
from bot.flows.steps.text import MAX_TEXT, has_words

_LINE = re.compile(r"^\s*([A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)\s*[:=\-–]\s*(.+?)\s*$")


def read_translations(text: str, languages: tuple[str, ...]) -> dict[str, str] | None:
    """`{code: text}` from `code: text` lines, or None when a line is not one."""
    found: dict[str, str] = {}
    offered = {code.casefold(): code for code in languages}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            return None
        code = offered.get(match[1].replace("-", "_").casefold())
        if code is None or not has_words(match[2]):
            return None
        found[code] = match[2]
    return found or None


@register
class TranslationsStep(Step):
    kind: Literal["translations"] = "translations"
    max_length: int = Field(default=1000, ge=1, le=MAX_TEXT)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        example = ctx.t.gettext("Please write one language a line, like this: tr: Merhaba")
        if not isinstance(event, Text):
            return Reject(example)
        found = read_translations(event.text, ctx.languages)
        if found is None:
            return Reject(example)
        if any(len(text) > self.max_length for text in found.values()):
            return Reject(
                ctx.t.ngettext(
                    "Your answer is too long. Please use at most {n} character.",
                    "Your answer is too long. Please use at most {n} characters.",
                    self.max_length,
                ).format(n=self.max_length)
            )
        return Accept(found, raw=event.text, display=", ".join(found))
