"""Driving people through the real service, whatever the onboarding asks exactly."""

from __future__ import annotations

from bot.flows.events import Ask
from bot.flows.steps.base import SKIP
from tests.helpers import Person

LANGUAGE = "en"
NEIGHBOURHOOD = "kerkelanden"


async def answer_until(person: Person, step: str, limit: int = 25) -> None:
    """Answer every question with its first real option (or a word) until `step` is asked."""
    for _ in range(limit):
        question = person.question()
        if question.step == step:
            return
        await answer(person, question)
    raise AssertionError(f"never reached {step!r}")


async def answer(person: Person, question: Ask) -> None:
    values = [o.value for o in question.options if o.value != SKIP]
    if question.step == "language" and LANGUAGE in values:
        await person.pick(LANGUAGE)
    elif question.expects == "consent" or "yes" in values:
        await person.pick("yes")
    elif NEIGHBOURHOOD in values:
        await person.pick(NEIGHBOURHOOD)
    elif question.multiple:
        await person.toggle(values[0])
    elif values:
        await person.pick(values[0])
    else:
        await person.say("something")


async def onboard(person: Person) -> None:
    """From /start to the first question of what-matters (`good`)."""
    await person.say("/start")
    await answer_until(person, "good")
