"""Conversations and answers: one answer a step, and the active conversation of a turn."""

from __future__ import annotations

from sqlalchemy import select

from bot.flows.events import Answer as EngineAnswer
from bot.flows.state import State
from bot.storage import conversations as convs
from bot.storage import participants
from bot.storage.db import Database
from bot.storage.models import Answer


async def test_an_answer_given_again_replaces_the_earlier_one(database: Database) -> None:
    async with database.transaction() as session:
        person = await participants.get_or_create(session, "test", "1")
        conversation = await convs.begin(session, person.id, State("feedback", 1, "mood"))
        await convs.store_answers(
            session, conversation, [EngineAnswer("mood", 2, raw="2")], "nl", "centrum"
        )
        await convs.store_answers(
            session,
            conversation,
            # The same step twice in one turn: the last one counts.
            [EngineAnswer("mood", 4), EngineAnswer("mood", 5), EngineAnswer("remark", "fijn")],
            "tr",
            "de-riet",
        )
    async with database.transaction() as session:
        rows = (await session.execute(select(Answer).order_by(Answer.step_key))).scalars().all()
    assert [(row.step_key, row.value, row.language, row.neighbourhood) for row in rows] == [
        ("mood", 5, "tr", "de-riet"),
        ("remark", "fijn", "tr", "de-riet"),
    ]
    assert rows[0].raw is None


async def test_active_in_follows_what_the_turn_changed(database: Database) -> None:
    async with database.transaction() as session:
        person = await participants.get_or_create(session, "test", "2")
        first = await convs.begin(session, person.id, State("checkin", 1, "how"))
    async with database.transaction() as session:
        person, loaded = await participants.arrive(session, "test", "2")
        assert loaded is not None and loaded.id == first.id
        assert convs.active_in(session, person.id) is loaded
        convs.set_status(loaded, convs.PAUSED)
        assert convs.active_in(session, person.id) is None
        second = await convs.begin(session, person.id, State("feedback", 1, "mood"))
        assert convs.active_in(session, person.id) is second
        # What the database says once the changes are written agrees.
        assert await convs.active(session, person.id) is second
        convs.save_state(second, State("feedback", 1, None))
        assert convs.active_in(session, person.id) is None
        assert await convs.active(session, person.id) is None


async def test_arrive_creates_a_person_once(database: Database) -> None:
    async with database.transaction() as session:
        created, active = await participants.arrive(session, "test", "3")
        assert active is None
    async with database.transaction() as session:
        again, active = await participants.arrive(session, "test", "3")
        assert again.id == created.id and active is None
        assert again.last_seen_at >= created.last_seen_at
