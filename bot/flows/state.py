"""The state of one conversation: small, JSON-serialisable, stored after every turn."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class State:
    """Where a person is in a flow.

    `values` holds the answers so far (for branching and progress), `selection` a
    multiple-choice pick in progress, `retries` how often the current question was
    answered wrongly, `variables` the values the flow was started with (an activity's
    title, a neighbourhood's news) for the `{name}` placeholders in its texts.
    """

    flow: str
    version: int
    step: str | None
    values: dict[str, Any] = field(default_factory=dict)
    selection: list[str] = field(default_factory=list)
    retries: int = 0
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.step is None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(**data)
