"""The conversation service with a real database: what is stored, and what is not."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.storage.models import Answer, Conversation, Participant
from tests.helpers import Person


async def count(app: App, model: type) -> int:
    async with app.database.transaction() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def answers(app: App) -> dict[str, object]:
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Answer).order_by(Answer.id))).scalars().all()
    return {f"{r.flow_id}.{r.step_key}": (None if r.skipped else r.value) for r in rows}


async def onboard(person: Person) -> str:
    await person.say("/start")
    await person.pick("en")
    await person.pick("yes")
    await person.pick("kerkelanden")
    await person.say("2")  # 18 to 27
    return await person.toggle("green", "sport")


async def test_onboarding_then_what_matters_stores_each_answer_once(app: App) -> None:
    person = Person(app.service)
    reply = await onboard(person)
    assert "What is good about your neighbourhood?" in reply
    assert "Question 1 of 6" in reply  # 7 with "something else"
    await person.say("The park and the market")
    await person.say("1, 9")  # green + other -> asks what else
    assert person.question().step == "change_other"
    await person.say("Fewer cars")
    await person.say("More benches")
    await person.say("A vegetable garden")
    await person.toggle("time", "skill")
    reply = await person.say("yes")
    assert "Thank you!" in reply
    stored = await answers(app)
    assert stored == {
        "onboarding.neighbourhood": "kerkelanden",
        "onboarding.age_group": "18-27",
        "onboarding.interests": ["green", "sport"],
        "what-matters.good": "The park and the market",
        "what-matters.change": ["green", "other"],
        "what-matters.change_other": "Fewer cars",
        "what-matters.change_why": "More benches",
        "what-matters.want_to_do": "A vegetable garden",
        "what-matters.contribute": ["time", "skill"],
        "what-matters.keep_informed": True,
    }
    async with app.database.transaction() as session:
        p = (await session.execute(select(Participant))).scalar_one()
    assert (p.language, p.neighbourhood, p.age_group) == ("en", "kerkelanden", "18-27")
    assert p.consented_at is not None and p.consent_version == "2026-11"


async def test_no_consent_keeps_nothing(app: App) -> None:
    person = Person(app.service)
    await person.say("/start")
    await person.pick("tr")
    reply = await person.pick("no")
    assert "/start" in reply
    assert await count(app, Participant) == 0
    assert await count(app, Conversation) == 0
    assert await count(app, Answer) == 0


async def test_bad_input_stores_nothing_and_asks_again(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    before = await answers(app)
    for bad in ["", "👍👍", "x" * 10_000]:
        reply = await person.say(bad)
        assert "What is good about your neighbourhood?" in reply
    assert await answers(app) == before
    await person.say("مكان جميل للعب")  # Arabic text is a fine answer
    assert (await answers(app))["what-matters.good"] == "مكان جميل للعب"


async def test_a_redelivered_update_is_handled_once(app: App) -> None:
    from bot.conversation.turns import Incoming
    from bot.flows.events import Text

    first = await app.service.handle(Incoming("test", "9", Text("/start"), key="u1"))
    again = await app.service.handle(Incoming("test", "9", Text("/start"), key="u1"))
    assert again.duplicate
    # The reply may have been lost: the current question is asked again, not answered twice.
    assert [m.step for m in again.messages] == ["language"]
    assert first.messages[-1] == again.messages[-1]
    await app.service.handle(Incoming("test", "9", Text("2"), key="u2"))
    after = await app.service.handle(Incoming("test", "9", Text("2"), key="u2"))
    assert after.duplicate and [m.step for m in after.messages] == ["consent"]
    async with app.database.transaction() as session:
        p = (await session.execute(select(Participant))).scalar_one()
    assert p.language == "en"  # option 2, once


async def test_stop_and_start_again(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    reply = await person.say("stop")
    assert "no more messages" in reply
    async with app.database.transaction() as session:
        p = (await session.execute(select(Participant))).scalar_one()
    assert p.opted_out_at is not None
    reply = await person.say("hello")
    assert "/start" in reply
    reply = await person.say("/start")
    assert "Welcome back" in reply and "What is good about your neighbourhood?" in reply


async def test_language_mid_flow_returns_to_the_same_question(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    reply = await person.say("/language")
    assert "Which language do you want?" in reply
    reply = await person.pick("pl")
    assert person.question().step == "good"
    async with app.database.transaction() as session:
        p = (await session.execute(select(Participant))).scalar_one()
    assert p.language == "pl"


async def test_help_and_unknown_command_repeat_the_question(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    reply = await person.say("/help")
    assert "/forget" in reply and "What is good" in reply
    reply = await person.say("/frobnicate")
    assert "do not know that command" in reply and "What is good" in reply


async def test_forget_erases_the_person(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    await person.say("The park")
    assert await count(app, Answer) > 0
    reply = await person.say("/forget")
    assert "delete everything" in reply
    reply = await person.pick("no")
    assert "did not delete" in reply and "What would you like to change?" in reply
    await person.say("/forget")
    reply = await person.pick("yes")
    assert "We deleted everything" in reply
    assert await count(app, Participant) == 0
    assert await count(app, Answer) == 0
    assert await count(app, Conversation) == 0
