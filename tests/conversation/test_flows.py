"""Each shipped flow, end to end through the conversation service and a real database."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.conversation.service import parse_start_payload
from bot.storage.models import Answer, Conversation, Participant
from tests.conversation.test_service import answers, onboard
from tests.helpers import Person


async def participant(app: App) -> Participant:
    async with app.database.transaction() as session:
        return (await session.execute(select(Participant))).scalar_one()


async def test_deep_link_preselects_the_neighbourhood_and_names_the_campaign(app: App) -> None:
    person = Person(app.service)
    await person.say("/start n-de-riet_c-poster-buurthuis")
    await person.pick("nl")
    reply = await person.pick("yes")
    # The neighbourhood question is skipped: the poster said where we are.
    assert person.question().step == "age_group", reply
    stored = await answers(app)
    assert stored["onboarding.neighbourhood"] == "de-riet"
    async with app.database.transaction() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.flow_id == "onboarding"))
        ).scalar_one()
    assert conversation.state["variables"]["campaign"] == "poster-buurthuis"
    assert (await participant(app)).neighbourhood == "de-riet"


def test_start_payloads(app: App) -> None:
    deployment = app.deployment
    assert parse_start_payload("kerkelanden", deployment).neighbourhood == "kerkelanden"
    assert parse_start_payload("n-nowhere", deployment) is None
    assert parse_start_payload("c-x_n-centrum", deployment).campaign == "x"
    assert parse_start_payload("", deployment) is None
    assert parse_start_payload("c-<script>", deployment) is None


async def test_start_offers_to_go_on_or_start_again(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    await person.say("De markt")
    await person.say("/stop")
    reply = await person.say("/start")
    assert 'You did not finish "What matters to you"' in reply
    reply = await person.say("2")  # Go on
    assert "What would you like to change?" in reply
    await person.say("/stop")
    await person.say("/start")
    reply = await person.pick("yes")  # Start again
    assert "What is good about your neighbourhood?" in reply
    async with app.database.transaction() as session:
        statuses = dict(
            (await session.execute(select(Conversation.flow_id, Conversation.status))).all()
        )
    assert statuses["what-matters"] == "active"
    # The answer of the abandoned run is kept: only the unfinished run was left.
    assert (await answers(app))["what-matters.good"] == "De markt"


async def test_youth_proposal(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    reply = await person.say("/propose")
    assert "What do you want to organise?" in reply and "Question 1 of 7" in reply
    await person.say("Een sportdag met barbecue")
    await person.toggle("youth", "families")
    await person.say("Het veldje bij de school")
    await person.say("12-06")
    await person.toggle("space", "money")
    await person.say("yes")
    reply = await person.pick("chat")
    assert "no community worker works in your neighbourhood" in reply
    # Then back to where the person was.
    assert "What is good about your neighbourhood?" in reply
    stored = await answers(app)
    assert stored["propose.what"] == "Een sportdag met barbecue"
    assert stored["propose.for_whom"] == ["youth", "families"]
    assert stored["propose.when"] == "2027-06-12"
    assert stored["propose.needs"] == ["space", "money"]
    assert stored["propose.organise"] is True and stored["propose.hear_back"] == "chat"


async def test_propose_needs_consent_first(app: App) -> None:
    person = Person(app.service)
    await person.say("/start")
    reply = await person.say("/propose")
    nl = app.service.catalogs("nl")
    assert nl.gettext("First, let us get to know each other.") in reply
    assert (
        app.service.catalogs("nl").pgettext(
            "onboarding:language", "Hello! 👋 Which language do you want?"
        )
        in reply
    )


async def test_activity_feedback(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    p = await participant(app)
    reply = await app.service.start_flow_for(p.id, "feedback", {"activity_title": "Buurtbarbecue"})
    person.last = reply
    assert 'Yesterday was "Buurtbarbecue"' in Person.text(reply)
    await person.pick("yes")
    await person.say("5")
    await person.say("Lekker eten, leuke mensen")
    reply = await person.say("No")
    assert "Thank you! We will use your tips" in reply
    assert "What is good about your neighbourhood?" in reply  # back to the paused flow
    stored = await answers(app)
    assert stored["feedback.rating"] == 5 and stored["feedback.help_next"] is False


async def test_feedback_did_not_go_stores_only_that(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    p = await participant(app)
    person.last = await app.service.start_flow_for(p.id, "feedback", {"activity_title": "X"})
    await person.pick("no")
    stored = await answers(app)
    assert stored["feedback.went"] is False
    assert not any(key.startswith("feedback.rating") for key in stored)


async def test_checkin_closes_the_loop(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    p = await participant(app)
    person.last = await app.service.start_flow_for(
        p.id, "checkin", {"neighbourhood_update": "Er komt een moestuin bij de school."}
    )
    assert "Er komt een moestuin bij de school." in Person.text(person.last)
    assert not p.wants_activities
    reply = await person.pick("yes")
    assert "we will invite you" in reply
    assert (await answers(app))["checkin.join"] is True
    assert (await participant(app)).wants_activities  # "yes" counts for invitations


async def test_skip_stores_a_skip_and_no_content(app: App) -> None:
    person = Person(app.service)
    await person.say("/start")
    await person.pick("en")
    await person.pick("yes")
    await person.pick("_skip")
    await person.say("Rather not say")
    await person.pick("_skip")
    async with app.database.transaction() as session:
        rows = (await session.execute(select(Answer))).scalars().all()
    assert {r.step_key for r in rows} == {"neighbourhood", "age_group", "interests"}
    assert all(r.skipped and r.value is None for r in rows)
    p = await participant(app)
    assert (p.neighbourhood, p.age_group, p.interests) == (None, None, None)


async def test_stop_halfway_keeps_what_was_given_and_nothing_after(app: App) -> None:
    person = Person(app.service)
    await onboard(person)
    await person.say("The park")
    await person.say("stop")
    await person.say("some text after stopping")
    stored = await answers(app)
    assert "what-matters.change" not in stored
    assert stored["what-matters.good"] == "The park"


async def test_finishing_what_matters_schedules_the_checkin_in_14_days(app: App) -> None:
    from datetime import timedelta

    from bot.storage.models import OutboxMessage

    person = Person(app.service)
    await onboard(person)
    for answer in ("Het park", "1", "Meer bankjes", "Een moestuin"):
        await person.say(answer)
    await person.toggle("time")
    await person.say("yes")
    async with app.database.transaction() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        finished = (
            await session.execute(
                select(Conversation.finished_at).where(Conversation.flow_id == "what-matters")
            )
        ).scalar_one()
    assert [(r.content["flow"], r.kind) for r in rows] == [("checkin", "followup")]
    assert abs(rows[0].due_at - (finished + timedelta(days=14))) < timedelta(hours=13)
