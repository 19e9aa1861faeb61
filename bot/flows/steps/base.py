"""What every step kind shares, and the registry that finds a kind by its name.

A step kind is one module in this package: a pydantic model with a `kind` literal, a
docstring that shows a complete example, validation in its fields and validators, and
two pure methods: `ask` renders the question, `parse` reads an event into an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.flows.context import FlowContext
from bot.flows.effects import Effect, SetProfile
from bot.flows.events import Ask, Event, Option, Pick, Skip, Text
from bot.i18n.typed import fold, normalise

if TYPE_CHECKING:
    from bot.flows.state import State

SKIP = "_skip"
END = "end"

STEP_KINDS: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    """Class decorator: make a step kind known by the name in its `kind` literal."""
    kind = cls.model_fields["kind"].default
    STEP_KINDS[kind] = cls
    return cls


# ---- what parse returns ----------------------------------------------------------------


@dataclass(frozen=True)
class Accept:
    value: Any
    raw: str = ""
    display: str = ""
    skipped: bool = False


@dataclass(frozen=True)
class Reject:
    """Not an answer; `reason` is already translated."""

    reason: str


@dataclass(frozen=True)
class Refresh:
    """A multiple-choice selection changed; ask the same question again."""

    selection: tuple[str, ...]


@dataclass(frozen=True)
class Suggest:
    """An answer understood, to be confirmed first (the neighbourhood of a postcode):
    the question comes again with `selection` kept, so the step can ask it as the
    confirmation; `note`, when not empty, is said before it. An empty `selection` goes
    back to the plain question."""

    selection: tuple[str, ...]
    note: str


Parsed = Accept | Reject | Refresh | Suggest


# ---- branching -------------------------------------------------------------------------


class Condition(BaseModel):
    """A test on an earlier answer: `{step: age, in: [12-17, 18-27]}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    step: str
    equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    includes: str | None = None
    skipped: bool | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.equals, self.in_, self.includes, self.skipped, self.min, self.max]
        if all(test is None for test in tests):
            raise ValueError("a condition needs a test: equals, in, includes, skipped, min or max")
        return self

    def holds(self, values: dict[str, Any]) -> bool:
        if self.step not in values:
            return False
        value = values[self.step]
        if self.skipped is not None:
            return (value is None) == self.skipped
        if value is None:
            return False
        if self.equals is not None and value != self.equals:
            return False
        if self.in_ is not None and value not in self.in_:
            return False
        if self.includes is not None and (
            not isinstance(value, list) or self.includes not in value
        ):
            return False
        if self.min is not None and not (isinstance(value, int | float) and value >= self.min):
            return False
        return not (
            self.max is not None and not (isinstance(value, int | float) and value <= self.max)
        )


class Rule(BaseModel):
    """One branch of `next`: go to `goto` when `when` holds (always, without `when`)."""

    model_config = ConfigDict(extra="forbid")

    when: Condition | None = None
    goto: str


# ---- the step --------------------------------------------------------------------------


class Step(BaseModel):
    """Fields every step has. `next` is a step key, `end`, or a list of rules.

    `key` names the step (its place in the flow); its answer is kept under the same
    key, unless `answer_key` names another: steps on different branches that give the
    same answer (a RapidPro result written by two nodes: `status` set in the yes and in
    the no branch) share one answer key, so the answer is one column in exports, one
    question in reports, and `when: {step: status}` tests it whichever branch gave it.
    """

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=32)
    kind: str
    answer_key: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=32)
    text: str = ""
    next: str | list[Rule] | None = None
    skippable: bool = False
    # What the skip button says, when "Rather not say" is not what it means (a worker's
    # "No description"); translated like the step's other labels.
    skip_label: str = ""
    store_as: Literal["language", "neighbourhood", "age_group", "interests", "postcode"] | None = (
        None
    )
    counts_in_progress: ClassVar[bool] = True
    # False for kinds whose answer is a decision for the service, not data (consent).
    records_answer: ClassVar[bool] = True
    is_question: ClassVar[bool] = True
    expects: ClassVar[str] = "text"

    @property
    def answer_as(self) -> str:
        """The key its answer is kept, exported, reported and tested under."""
        return self.answer_key or self.key

    # -- rendering --

    def msgctxt(self, flow_id: str, part: str = "") -> str:
        return f"{flow_id}:{self.key}" + (f":{part}" if part else "")

    def question_text(self, ctx: FlowContext, flow_id: str, prefix: str = "") -> str:
        text = ctx.flow_text(self.msgctxt(flow_id), self.text)
        return f"{prefix}{text}" if prefix else text

    def toggles(self) -> bool:
        """Whether a pressed option toggles (several answers) rather than answers."""
        return False

    def options(self, ctx: FlowContext, flow_id: str) -> list[Option]:
        """The answer buttons, skip included; empty for typed answers."""
        return self.skip_option(ctx, flow_id)

    def skip_option(self, ctx: FlowContext, flow_id: str = "") -> list[Option]:
        return [Option(SKIP, self.skip_text(ctx, flow_id))] if self.skippable else []

    def skip_text(self, ctx: FlowContext, flow_id: str) -> str:
        """The skip button's words: the step's own `skip_label`, or "Rather not say"."""
        if self.skip_label and flow_id:
            return ctx.flow_text(self.msgctxt(flow_id, "skip"), self.skip_label)
        return ctx.t.gettext("Rather not say")

    def fixed_answer(self, ctx: FlowContext, flow_id: str) -> Accept | None:
        """The answer a step gives without asking (`set`); None for every other kind."""
        return None

    def enters(self) -> Effect | None:
        """The effect that runs another flow at this step (`subflow`); None for the rest."""
        return None

    def asked_as(self, state: State) -> str:
        """The id its question goes out under (`Ask.step`); a button must carry it.

        The step's key, unless a kind asks a second question in the same step (the
        neighbourhood's "is that right?"), whose buttons must not be mistaken for the
        first question's.
        """
        return self.key

    def current_options(self, ctx: FlowContext, flow_id: str, state: State) -> list[Option]:
        """The options of the question as it stands now (a pick by position reads these)."""
        return self.options(ctx, flow_id)

    def effects(self, accepted: Accept) -> list[Effect]:
        """What an accepted answer asks the service to do; a kind adds its own."""
        if self.store_as and not accepted.skipped:
            return [SetProfile(self.store_as, accepted.value)]
        return []

    def ask(self, ctx: FlowContext, flow_id: str, state: State, prefix: str = "") -> Ask:
        return Ask(
            step=self.key,
            text=self.question_text(ctx, flow_id, prefix),
            options=tuple(self.options(ctx, flow_id)),
            expects=self.expects,
        )

    # -- reading answers --

    def parse(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        """Read an event as an answer to this step; "rather not say" is handled here."""
        if self.skippable:
            label = self.skip_text(ctx, flow_id)
            skipped = Accept(None, raw="", display=label, skipped=True)
            if isinstance(event, Skip) or (isinstance(event, Pick) and event.value == SKIP):
                return skipped
            if isinstance(event, Text):
                option = match_option(event.text, self.options(ctx, flow_id))
                if (option and option.value == SKIP) or _same(event.text, label):
                    return Accept(None, raw=event.text, display=label, skipped=True)
        return self.parse_answer(event, ctx, flow_id, state)

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        raise NotImplementedError


def _same(a: str, b: str) -> bool:
    return fold(a) == fold(b)


def match_option(text: str, options: list[Option]) -> Option | None:
    """An option by its number (1-based, any script's digits), its label or its value.

    Labels compare folded (see `bot.i18n.typed`): without case, accents, vowel marks and
    the direction marks the bot may have put on its own label.
    """
    cleaned = normalise(text).strip().rstrip(".)").strip()
    if not cleaned:
        return None
    if cleaned.isdecimal():
        number = int(cleaned)
        return options[number - 1] if 1 <= number <= len(options) else None
    folded = fold(cleaned)
    for option in options:
        if fold(option.label) == folded or fold(option.value) == folded:
            return option
    return None
