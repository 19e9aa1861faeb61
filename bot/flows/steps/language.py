"""`language`: the language the person wants; every language in its own name.

Example::

    - key: language
      kind: language
      text: Which language do you want?

The options are the deployment's languages ("Nederlands", "Türkçe", "العربية", ...),
the one the person's app suggests first. The choice is set on the profile at once, so the
next message is already in the new language.
"""

from __future__ import annotations

from typing import Literal

from babel import Locale

from bot.flows.context import FlowContext
from bot.flows.events import Event, Option
from bot.flows.state import State
from bot.flows.steps.base import Parsed, Step, register
from bot.flows.steps.choice import choose


def language_name(code: str) -> str:
    """A language in its own name, capitalised as in a menu: `tr` -> `Türkçe`."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, LookupError):
        return code
    return name[:1].upper() + name[1:]


def language_options(ctx: FlowContext) -> list[Option]:
    codes = list(ctx.languages)
    if ctx.suggested_language in codes:
        codes.remove(ctx.suggested_language)
        codes.insert(0, ctx.suggested_language)
    return [Option(code, language_name(code)) for code in codes]


@register
class LanguageStep(Step):
    kind: Literal["language"] = "language"
    expects = "choice"
    store_as: Literal["language"] | None = "language"  # type: ignore[assignment]

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        return language_options(ctx)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        return choose(self, event, ctx, flow_id)
