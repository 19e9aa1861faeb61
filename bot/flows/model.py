"""A flow as written in `conversations/*.yaml`, validated into typed models."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.flows.steps import STEP_KINDS, Step
from bot.flows.steps.base import Condition

_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str | int) -> timedelta:
    """`14d`, `2h`, `30m`, `1w` -> timedelta."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"not a duration like 14d, 2h or 30m: {text!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value)


class FollowUp(BaseModel):
    """Start flow `flow` with the person `after` this flow is finished, only `when` an
    answer says they want it (`when: {step: keep_informed, equals: true}`)."""

    model_config = ConfigDict(extra="forbid")

    after: timedelta
    flow: str
    when: Condition | None = None

    def wanted(self, values: dict[str, Any]) -> bool:
        """Whether the person's answers ask for this follow-up."""
        return self.when is None or self.when.holds(values)

    _after = field_validator("after", mode="before")(classmethod(lambda cls, v: _duration(v)))


AnyStep = Annotated[Union[tuple(STEP_KINDS.values())], Field(discriminator="kind")]  # noqa: UP007


class Flow(BaseModel):
    """One conversation.

    `command` lets a person start it (`/propose`), if they have at least `role` (worker
    flows are for community workers only); `then` is the flow that follows when
    this one ends; `followups` are scheduled after it ends; `remind_after` and
    `expires_after` say how long a half-finished conversation waits. `audience` says
    who answers it: residents (their flows are what reports and `/results` count) or
    workers (planning an activity, reviewing a proposal: left out of the residents'
    results); by default workers when only workers may start it. `written` holds texts
    a worker wrote with their translations (a poll from the dashboard), by message
    context (`poll-7:answer:o1`), as `{"_": original, "tr": ...}`: they are used instead
    of the catalogs, and the original where a language has none.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    version: int = Field(ge=1)
    language: str = "en"
    title: str
    description: str = ""
    command: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,31}$")
    role: Literal["resident", "worker", "admin"] = "resident"
    audience: Literal["residents", "workers"] | None = None
    progress: bool = False
    then: str | None = None
    followups: list[FollowUp] = []
    remind_after: timedelta = timedelta(days=1)
    expires_after: timedelta = timedelta(days=7)
    steps: list[AnyStep] = Field(min_length=1)
    written: dict[str, dict[str, str]] = {}

    _durations = field_validator("remind_after", "expires_after", mode="before")(
        classmethod(lambda cls, v: _duration(v))
    )

    @model_validator(mode="after")
    def _audience(self) -> Flow:
        if self.audience is None:
            self.audience = "residents" if self.role == "resident" else "workers"
        elif self.audience == "residents" and self.role != "resident":
            raise ValueError(
                f"audience: residents, but only a {self.role} may start this flow "
                "(role); write audience: workers"
            )
        return self

    @property
    def for_residents(self) -> bool:
        """Whether residents answer it, so that reports count it."""
        return self.audience == "residents"

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)

    def has_step(self, key: str) -> bool:
        return any(step.key == key for step in self.steps)

    def answering(self, answer: str) -> list[Step]:
        """The steps whose answer is kept under `answer` (one, unless they share it)."""
        return [step for step in self.steps if step.answer_as == answer]

    def has_answer(self, answer: str) -> bool:
        return any(step.answer_as == answer for step in self.steps)

    def following(self, key: str) -> str | None:
        """The step after `key` in the file, or None after the last."""
        keys = [step.key for step in self.steps]
        index = keys.index(key)
        return keys[index + 1] if index + 1 < len(keys) else None

    def questions(self) -> list[Step]:
        """The questions, one a answer key (steps sharing one count once)."""
        seen: set[str] = set()
        found = []
        for step in self.steps:
            if step.counts_in_progress and step.answer_as not in seen:
                seen.add(step.answer_as)
                found.append(step)
        return found
