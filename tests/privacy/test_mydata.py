"""/mydata holds every answer and every other row of the person, readable and as JSON."""

from __future__ import annotations

import json
from gettext import NullTranslations

from sqlalchemy import select

from bot.app import App
from bot.flows.events import Document, Say
from bot.privacy import mydata
from bot.storage import participants
from bot.storage.models import Answer, OutboxMessage, Participant
from tests.helpers import Person
from tests.privacy.people import onboard

T = NullTranslations()


async def a_person_with_answers(app: App, user_id: str = "600000007") -> Person:
    person = Person(app.service, user_id=user_id)
    await onboard(person)
    await person.say("The park and the market")
    await person.toggle("green", "other")
    await person.say("Fewer cars")
    await person.say("More benches, call me 0612345678")
    return person


async def load(app: App, user_id: str) -> tuple[dict, list[Answer], Participant]:
    async with app.database.transaction() as session:
        participant = await participants.get(session, "test", user_id)
        assert participant is not None
        data = await mydata.collect(
            session, participant, app.deployment, secret=app.settings.secret
        )
        rows = (
            (await session.execute(select(Answer).where(Answer.participant_id == participant.id)))
            .scalars()
            .all()
        )
    return data, list(rows), participant


async def test_every_stored_answer_is_in_mydata(app: App) -> None:
    await a_person_with_answers(app)
    other = Person(app.service, user_id="600000099")
    await onboard(other)
    await other.say("Somebody else's answer")
    data, rows, participant = await load(app, "600000007")
    assert len(rows) >= 7
    stored = {(r.flow_id, r.step_key, json.dumps(r.value), r.raw) for r in rows}
    listed = {(a["flow"], a["step"], json.dumps(a["value"]), a["typed"]) for a in data["answers"]}
    assert listed == stored
    assert "Somebody else's answer" not in json.dumps(data)
    assert data["profile"]["channel_user_id"] == "600000007"
    assert data["profile"]["neighbourhood"] == participant.neighbourhood
    assert data["consent"]["given_at"] and data["consent"]["privacy_version"] == "2026-11"
    assert data["pseudonym"].startswith("P-")
    assert data["conversations"] and {c["flow"] for c in data["conversations"]} >= {
        "onboarding",
        "what-matters",
    }


async def test_the_message_and_the_file(app: App) -> None:
    await a_person_with_answers(app)
    async with app.database.transaction() as session:
        participant = await participants.get(session, "test", "600000007")
        assert participant is not None
        session.add(
            OutboxMessage(
                participant_id=participant.id,
                channel="test",
                kind="followup",
                content={"type": "flow", "flow": "checkin"},
            )
        )
    async with app.database.transaction() as session:
        participant = await participants.get(session, "test", "600000007")
        assert participant is not None
        out = await mydata.messages(session, participant, app.deployment, T, library=app.library)
    assert isinstance(out[0], Say) and isinstance(out[1], Document)
    text = out[0].text
    assert len(text) < 4096
    for answer in ("The park and the market", "Fewer cars", "More benches"):
        assert answer in text
    # Options read as the person saw them, not as codes.
    assert "More green and gardens" in text and "Kerkelanden" in text
    assert "1 other thing of yours" in text
    # What is planned, with when it goes, in words: what the person was promised.
    assert "We will send you:" in text and "– What happened with your answers" in text
    document = out[1]
    assert document.filename == "my-data.json" and document.mime_type == "application/json"
    data = json.loads(document.data.decode("utf-8"))
    assert data["other"]["outbox"][0]["content"] == {"type": "flow", "flow": "checkin"}
    assert len(data["answers"]) >= 7


async def test_a_long_history_is_cut_with_a_pointer_to_the_file(app: App) -> None:
    await a_person_with_answers(app)
    data, _, _ = await load(app, "600000007")
    data["answers"] = data["answers"] * 200
    text = mydata.render_text(data, T)
    assert len(text) < 4096
    assert "more answers: see the file" in text


async def test_rows_of_others_that_name_the_person_hide_the_others(app: App) -> None:
    from bot.storage.models import community

    await a_person_with_answers(app)
    resident = Person(app.service, user_id="600000099")
    await onboard(resident)
    async with app.database.transaction() as session:
        worker = await participants.get(session, "test", "600000007")
        other = await participants.get(session, "test", "600000099")
        assert worker is not None and other is not None
        activity = community.Activity(title={"_": "Barbecue"}, description={}, created_by=worker.id)
        session.add(activity)
        await session.flush()
        session.add(
            community.Invitation(
                activity_id=activity.id,
                participant_id=other.id,
                batch_id="b",
                invited_by=worker.id,
            )
        )
    data, _, _ = await load(app, "600000007")
    invitations = data["linked"]["invitations.invited_by"]
    assert len(invitations) == 1 and "participant_id" not in invitations[0]
    assert data["linked"]["activities.created_by"][0]["title"] == {"_": "Barbecue"}
    assert "things for others" in mydata.render_text(data, T)


async def test_before_consent_only_what_is_needed_to_ask(app: App) -> None:
    person = Person(app.service, user_id="600000123")
    await person.say("/start")
    data, rows, _ = await load(app, "600000123")
    assert rows == [] and data["answers"] == []
    assert data["consent"]["given_at"] is None
    assert "not agreed" in mydata.render_text(data, T)
