"""What the engine may know about the world, handed in so that it stays pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bot.deployment import Deployment
from bot.i18n import bidi
from bot.i18n.translator import Translator, base_language


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: Mapping[str, Any]) -> str:
    """Put `{name}` values into a text, leaving unknown placeholders as they are."""
    try:
        return text.format_map(_SafeDict(values))
    except (ValueError, IndexError):
        return text


@dataclass(frozen=True)
class FlowContext:
    """The person's language, the deployment, today's date and text variables.

    `translators` gives the translator for a language code, so that a turn that changes
    the language can go on in the new one.
    """

    language: str
    translators: Callable[[str], Translator]
    deployment: Deployment
    languages: tuple[str, ...] = ("nl", "en", "tr", "ar", "pl", "uk")
    suggested_language: str | None = None
    today: date = field(default_factory=date.today)
    variables: Mapping[str, Any] = field(default_factory=dict)
    # The running flow's own texts with translations (`Flow.written`), by message context.
    written: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def t(self) -> Translator:
        return self.translators(self.language)

    def with_language(self, language: str) -> FlowContext:
        return replace(self, language=language)

    def with_variables(self, variables: Mapping[str, Any]) -> FlowContext:
        if not variables:
            return self
        return replace(self, variables={**self.variables, **variables})

    def for_flow(self, written: Mapping[str, Mapping[str, str]]) -> FlowContext:
        """This context for a flow with texts of its own (`Flow.written`)."""
        if not written and not self.written:
            return self
        return replace(self, written=written)

    def written_text(self, context: str) -> str | None:
        """A worker-written text in the person's language (the original where it has no
        translation), or None when the flow did not write this one itself."""
        own = self.written.get(context)
        if own is None:
            return None
        text = str(self.localised(own))
        return bidi.rtl_lines(text) if bidi.is_rtl(self.language) else text

    def flow_title(self, flow_id: str, source: str) -> str:
        """A flow's title in the person's language."""
        context = f"{flow_id}:title"
        own = self.written_text(context)
        return own if own is not None else self.t.pgettext(context, source)

    def flow_text(self, context: str, source: str) -> str:
        """A flow's text in the person's language, with the deployment's values filled in.

        A text the flow wrote itself (a worker's poll) is taken as written: nothing is
        filled into it, so a `{` a worker typed stays a `{`.
        """
        if not source:
            return ""
        own = self.written_text(context)
        if own is not None:
            return own
        text = self.t.pgettext(context, source)
        if "{" not in text and "}" not in text:
            # Nothing to fill in (most labels and many questions): the deployment's values
            # are not gathered for it. `fill` would return such a text as it is.
            return bidi.rtl_lines(text) if bidi.is_rtl(self.language) else text
        if bidi.is_rtl(self.language):
            # Values keep their own direction; lines stay right-to-left.
            return bidi.rtl_lines(fill(text, bidi.isolate_values(self.values())))
        return fill(text, self.values())

    def localised(self, value: Any) -> Any:
        """A worker's text in the person's language when it has a translation.

        Worker-written content is stored as `{"_": original, "tr": "...", ...}`; someone
        without a translation gets the original.
        """
        if not isinstance(value, Mapping) or "_" not in value:
            return value
        base = base_language(self.language)
        for code in (self.language, base):
            if value.get(code):
                return value[code]
        return value["_"]

    def values(self) -> dict[str, Any]:
        org = self.deployment.organisation
        base = {
            "organisation": org.name,
            "town": org.town,
            "website": org.website,
            "privacy_url": org.privacy_url,
            "contact": org.contact,
        }
        base.update({name: self.localised(value) for name, value in self.variables.items()})
        return base
