"""Readable names for what is stored: flow titles, questions, options, neighbourhoods.

Stored answers hold codes (`green`, `true`, `3`); people read labels in their language.
The labels come from the flows themselves, through the same translations the engine uses
(`{flow}:{step}:{option}` message contexts), so a report reads like the questions did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.deployment import Deployment
from bot.flows.context import FlowContext
from bot.flows.library import REQUIRED, FlowLibrary
from bot.flows.steps.base import SKIP, Step
from bot.flows.steps.language import language_name
from bot.flows.steps.set import SetStep
from bot.i18n.translator import Translator, language_of

FREE_TEXT_KINDS = frozenset({"text", "media"})
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
WORDS = re.compile(r"[^\W\d_]", re.UNICODE)
QUESTION = re.compile(r"[?؟]")
SENTENCE = re.compile(r"(?<=[.!?؟])\s+")
SKIPPED = SKIP
OTHER = "other"
UNKNOWN = ""


def option_keys(value: Any) -> list[str]:
    """The option codes of a stored value: a list gives one code per element."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    return [str(value)]


def free_text_of(value: Any) -> str | None:
    """The text of a free-text answer (a text step, or a media step answered in words)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return None


class Labels:
    """Labels in one language for the flows of a deployment."""

    def __init__(
        self,
        library: FlowLibrary,
        deployment: Deployment,
        translator: Translator,
        languages: Iterable[str] = (),
        language: str = "",
    ):
        self.library = library
        self.deployment = deployment
        self.t = translator
        # For texts a worker wrote with translations (a poll): the translator's language.
        self.language = language or language_of(translator)
        self.ctx = FlowContext(
            language="",
            translators=lambda _code: translator,
            deployment=deployment,
            languages=tuple(languages),
        )
        self._options: dict[tuple[str, str], dict[str, str]] = {}

    def step(self, flow_id: str, step_key: str) -> Step | None:
        """The step whose answers are stored under `step_key` (its answer key).

        Of steps sharing an answer key (`answer_key`), the first that asks: its words
        are the question's and its kind the answer's.
        """
        return next(iter(self._answering(flow_id, step_key)), None)

    def _answering(self, flow_id: str, step_key: str) -> list[Step]:
        flow = self.library.get(flow_id)
        if flow is None:
            return []
        steps = flow.answering(step_key)
        return sorted(steps, key=lambda step: isinstance(step, SetStep))

    def kind(self, flow_id: str, step_key: str) -> str | None:
        step = self.step(flow_id, step_key)
        return step.kind if step is not None else None

    def is_free_text(self, flow_id: str, step_key: str) -> bool:
        """Whether answers to this step are typed words; an unknown step counts as such."""
        kind = self.kind(flow_id, step_key)
        return kind is None or kind in FREE_TEXT_KINDS

    def context(self, flow_id: str) -> FlowContext:
        """The context for one flow's texts (its own written ones included)."""
        flow = self.library.get(flow_id)
        if flow is None or not flow.written:
            return self.ctx
        return self.ctx.for_flow(flow.written).with_language(self.language)

    def flow_title(self, flow_id: str) -> str:
        flow = self.library.get(flow_id)
        if flow is None:
            return flow_id
        return self.context(flow_id).flow_title(flow_id, flow.title)

    def question(self, flow_id: str, step_key: str, width: int = 90) -> str:
        """The question itself in this language, shortened to `width` characters.

        A question's text may greet, say what it is about ("Yesterday was
        "{activity_title}".") and then ask; a title is the sentence that asks, and a
        placeholder left in it (filled per person in the chat) reads "…".
        """
        step = self.step(flow_id, step_key)
        if step is None or not step.text:
            return step_key
        full = PLACEHOLDER.sub("…", step.question_text(self.context(flow_id), flow_id))
        lines = [line.strip() for line in full.splitlines() if WORDS.search(line)]
        if not lines:
            return step_key
        text = next((line for line in lines if QUESTION.search(line)), lines[0])
        # "What would you like to change? Choose one or more, ..." -> the question only.
        sentences = [part for part in SENTENCE.split(text) if part.strip()]
        asking = [part for part in sentences if QUESTION.search(part)]
        if asking:
            text = asking[0].strip()
        return text if len(text) <= width else text[: width - 1].rstrip() + "…"

    def options(self, flow_id: str, step_key: str) -> dict[str, str]:
        """Option code -> label, in the flow's order, "rather not say" last."""
        key = (flow_id, step_key)
        if key not in self._options:
            found: dict[str, str] = {}
            # Steps sharing the answer key: the options of all of them, in flow order.
            flow = self.library.get(flow_id)
            for step in flow.answering(step_key) if flow is not None else []:
                if step.kind == "language":
                    continue
                try:
                    options = step.options(self.context(flow_id), flow_id)
                except Exception:  # a step whose options need a live conversation
                    options = []
                for option in options:
                    found.setdefault(option.value, option.label)
            found.pop(SKIP, None)
            found[SKIP] = self.t.gettext("Rather not say")
            self._options[key] = found
        return self._options[key]

    def option(self, flow_id: str, step_key: str, code: str) -> str:
        if self.kind(flow_id, step_key) == "language":
            return language_name(code)
        step = self.step(flow_id, step_key)
        if isinstance(step, SetStep) and step.label is None:
            # A set step without a label: a profile value reads as the profile shows it.
            if step.store_as == "language":
                return language_name(code)
            if step.store_as == "neighbourhood":
                return self.neighbourhood(code)
        return self.options(flow_id, step_key).get(code, code)

    def profile(self, field: str, code: str) -> str:
        """The label of a profile value (`interests`: `green`) from the step that sets it:
        the welcome's first (an imported flow may set the same field with other labels)."""
        flows = sorted(self.library.flows.values(), key=lambda flow: flow.id not in REQUIRED)
        for flow in flows:
            for step in flow.steps:
                if step.store_as == field:
                    return self.option(flow.id, step.answer_as, code)
        return code

    def neighbourhood(self, key: str | None) -> str:
        if not key:
            return self.t.gettext("Not known")
        if key == OTHER:
            return self.t.gettext("Somewhere else")
        found = self.deployment.neighbourhood(key)
        return found.name if found else key

    def shown(self, flow_id: str, step_key: str, value: Any, skipped: bool = False) -> str:
        """A stored answer as a person reads it."""
        if skipped:
            return self.t.gettext("Rather not say")
        text = free_text_of(value)
        if text is not None and self.is_free_text(flow_id, step_key):
            return text
        if isinstance(value, dict):
            return self.t.gettext("(a photo or voice message)")
        codes = option_keys(value)
        return ", ".join(self.option(flow_id, step_key, code) for code in codes) or "-"
