"""Adding to the bot in one place: a command is a row of the command table and its
handler; a step kind with an effect is one module (here: this test module)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from bot.app import App
from bot.channels.telegram.commands import menu
from bot.conversation.commands import Command
from bot.conversation.extensions import Actions
from bot.flows.context import FlowContext
from bot.flows.effects import Effect, EffectTarget
from bot.flows.events import Event, Text
from bot.flows.model import Flow
from bot.flows.state import State
from bot.flows.steps.base import Accept, Parsed, Reject, Step
from bot.storage.models import Answer, Participant
from tests.conversation.test_service import onboard
from tests.helpers import Person

# ---- a new command: its handler and its row in the table ---------------------------


async def weather(actions: Actions, argument: str) -> None:
    actions.say(f"Sunny in {argument or 'town'}.")
    await actions.repeat_question()


WEATHER = Command(
    "weather",
    weather,
    words=lambda t: "weather, weer",
    description=lambda t: "The weather today",
    help=lambda t: "/weather – the weather today",
    listed="help",
    order=65,
)


async def test_a_new_command_is_typed_matched_listed_and_in_the_menu(app: App) -> None:
    app.service.commands.add(WEATHER)
    person = Person(app.service)
    await onboard(person)
    assert "Sunny in Soest." in await person.say("/weather Soest")
    assert "Sunny in town." in await person.say("Weer!")  # the plain word, any case
    help_text = await person.say("/help")
    assert "/weather – the weather today" in help_text
    assert help_text.index("/stop") < help_text.index("/weather")  # in its order
    names = [c.command for c in menu(app.service.catalogs("en"), app.library, app.service.commands)]
    assert "weather" in names and names.index("weather") > names.index("stop")


async def test_a_worker_command_stays_out_of_reach_and_out_of_the_menu(app: App) -> None:
    app.service.commands.add(Command("secret", weather, role="worker"))
    person = Person(app.service)
    await onboard(person)
    assert "only community workers" in await person.say("/secret")
    names = [c.command for c in menu(app.service.catalogs("en"), app.library, app.service.commands)]
    assert "secret" not in names


# ---- a new step kind with its own effect ----------------------------------------------


@dataclass(frozen=True)
class Mood(Effect):
    """How the person feels becomes one of their interests (a made-up rule)."""

    word: str

    async def apply(self, target: EffectTarget) -> None:
        target.set_profile("interests", [self.word])


class MoodStep(Step):
    kind: Literal["mood"] = "mood"

    def parse_answer(self, event: Event, ctx: FlowContext, flow_id: str, state: State) -> Parsed:
        if isinstance(event, Text) and event.text.strip().isalpha():
            return Accept(event.text.strip().casefold(), raw=event.text)
        return Reject("One word, please.")

    def effects(self, accepted: Accept) -> list[Effect]:
        return [Mood(str(accepted.value)), *super().effects(accepted)]


async def test_a_new_step_kind_with_an_effect_works_through_the_service(app: App) -> None:
    # Built directly: a kind from outside bot/flows/steps is not in the YAML schema.
    moods = Flow.model_construct(
        id="moods",
        version=1,
        title="Moods",
        command="mood",
        steps=[MoodStep(key="feel", text="How do you feel, in one word?")],
    )
    app.library.flows["moods"] = moods
    person = Person(app.service)
    await onboard(person)
    assert "How do you feel" in await person.say("/mood")
    assert "One word, please." in await person.say("so-so 🙂")
    await person.say("Happy")
    async with app.database.transaction() as session:
        participant = (await session.execute(select(Participant))).scalar_one()
        stored = (
            (await session.execute(select(Answer).where(Answer.flow_id == "moods"))).scalars().all()
        )
    assert participant.interests == ["happy"]  # the effect, carried out by the service
    assert [(a.step_key, a.value) for a in stored] == [("feel", "happy")]
