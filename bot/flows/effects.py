"""Effects: what a turn asks the conversation service to do beyond storing answers.

The engine stays pure: a step kind decides which effects an accepted answer has
(`Step.effects`), the engine hands them over in `Turn.effects`, and the service carries
each out through `apply`, which may only use what `EffectTarget` offers. So a new step
kind with an effect is one module: its model, its effect dataclass and that effect's
`apply`. The effects every step can have live here; `Consent` and `Confirmed` live with
their step kinds (`bot.flows.steps.consent`, `bot.flows.steps.confirm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class EffectTarget(Protocol):
    """What the service lets an effect do to the person of the current turn."""

    def set_profile(self, field: str, value: Any) -> None:
        """Set a field of the person's profile (`language`, `neighbourhood`, ...)."""

    def consent(self, given: bool) -> None:
        """Record consent, or a refusal (then nothing more is kept about the person)."""

    async def forget(self) -> None:
        """Erase the person; the turn ends here."""

    async def resume(self, restart: bool) -> None:
        """Go on with the paused conversation, or start its flow again."""

    def enter_flow(self, flow: str) -> None:
        """Run `flow` now; the current conversation goes on after it (a `subflow` step)."""


@dataclass(frozen=True)
class Effect:
    """One thing to do; subclasses say what in `apply`."""

    async def apply(self, target: EffectTarget) -> None:
        """Carry the effect out; the default does nothing (the effect only informs)."""


@dataclass(frozen=True)
class SetProfile(Effect):
    """A step with `store_as`: the answer goes into the person's profile too."""

    field: str
    value: Any

    async def apply(self, target: EffectTarget) -> None:
        target.set_profile(self.field, self.value)


@dataclass(frozen=True)
class Finished(Effect):
    """The flow ended in this turn (the service reads it from the state as well)."""
