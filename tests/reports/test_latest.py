"""The answers' order (`bot.storage.answer_order`) stays right as answers change.

Reports count each person's latest answer through `answers.next_in_step_at` and
`next_in_flow_at`, kept where answers are written. These tests change answers every
way the bot does (stored, given again, a second run in another neighbourhood, erased
by /forget, anonymised by retention) and after each compare the stored columns with
the order worked out here from the answers themselves; and count a past period, in
which a person's latest answer is not their latest now.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from bot.deployment import Deployment
from bot.flows.events import Answer as EngineAnswer
from bot.flows.labels import Labels
from bot.flows.library import FlowLibrary
from bot.flows.state import State
from bot.privacy import erasure, retention
from bot.reports.counting import count
from bot.reports.model import Scope
from bot.reports.periods import Period
from bot.storage import conversations as convs
from bot.storage import participants
from bot.storage.db import Database
from bot.storage.models import Answer, Conversation

ZONE = ZoneInfo("Europe/Amsterdam")


def expected_order(engine: Engine) -> dict[int, tuple[datetime | None, datetime | None]]:
    """Answer id -> (next in its question, next in its flow), from the answers alone."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Answer.id, Answer.participant_id, Answer.flow_id, Answer.step_key, Answer.created_at
            )
        ).all()
    found: dict[int, tuple[datetime | None, datetime | None]] = {}
    for row in rows:
        if row.participant_id is None:  # anonymised: a person of its own
            found[row.id] = (None, None)
            continue
        later = [
            r
            for r in rows
            if r.participant_id == row.participant_id
            and r.flow_id == row.flow_id
            and (r.created_at, r.id) > (row.created_at, row.id)
        ]
        in_step = [r.created_at for r in later if r.step_key == row.step_key]
        found[row.id] = (
            min(in_step, default=None),
            min((r.created_at for r in later), default=None),
        )
    return found


def stored_order(engine: Engine) -> dict[int, tuple[datetime | None, datetime | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Answer.id, Answer.next_in_step_at, Answer.next_in_flow_at)
        ).all()
    return {row.id: (row.next_in_step_at, row.next_in_flow_at) for row in rows}


def assert_in_order(engine: Engine) -> None:
    assert stored_order(engine) == expected_order(engine)


async def answer(
    database: Database,
    user: str,
    neighbourhood: str,
    answers: list[EngineAnswer],
    conversation_id: int | None = None,
) -> int:
    """Store `answers` in a new run of what-matters (or in `conversation_id`)."""
    async with database.transaction() as session:
        person = await participants.get_or_create(session, "test", user)
        if conversation_id is None:
            conversation = await convs.begin(session, person.id, State("what-matters", 1, "good"))
        else:
            found = await session.get(convs.Conversation, conversation_id)
            assert found is not None
            conversation = found
        await convs.store_answers(session, conversation, answers, "nl", neighbourhood)
        return conversation.id


async def person_id(database: Database, user: str) -> int:
    async with database.transaction() as session:
        return (await participants.get_or_create(session, "test", user)).id


async def test_the_order_follows_every_change(
    db_url: str, engine: Engine, library: FlowLibrary
) -> None:
    began = datetime.now(UTC)
    database = Database(db_url)
    try:
        first = await answer(database, "ann", "centrum", [EngineAnswer("change", ["green"])])
        await answer(database, "bob", "centrum", [EngineAnswer("change", ["sport"])])
        await answer(database, "cas", "de-riet", [EngineAnswer("good", "the park")])
        assert_in_order(engine)
        # Answered again: another step of the same run, then the first step again.
        await asyncio.sleep(0.01)
        await answer(database, "ann", "centrum", [EngineAnswer("good", "trees")], first)
        await asyncio.sleep(0.01)
        await answer(database, "ann", "centrum", [EngineAnswer("change", ["safety"])], first)
        assert_in_order(engine)
        # A second run, after moving house.
        await asyncio.sleep(0.01)
        await answer(database, "ann", "kerkelanden", [EngineAnswer("change", ["youth"])])
        assert_in_order(engine)
        stored = stored_order(engine)
        assert sum(1 for _, in_flow in stored.values() if in_flow is None) == 3  # one a person
        # /forget: all of Bob goes.
        bob = await person_id(database, "bob")
        async with database.transaction() as session:
            await erasure.erase_person(session, bob)
        assert_in_order(engine)
        # Retention, by a conversation left long ago: Cas's second run goes, though it
        # came after his first, which stays his and is his latest again.
        second = await answer(database, "cas", "de-riet", [EngineAnswer("good", "the market")])
        with engine.begin() as connection:
            connection.execute(
                update(Conversation)
                .where(Conversation.id == second)
                .values(updated_at=began - timedelta(days=2))
            )
        await retention.purge(database, library, days=1, now=began)
        assert_in_order(engine)
        with engine.connect() as connection:
            cas_kept = connection.execute(
                select(Answer.step_key, Answer.value, Answer.next_in_flow_at).where(
                    Answer.participant_id == await person_id(database, "cas")
                )
            ).all()
        assert [tuple(row) for row in cas_kept] == [("good", "the park", None)]
        # Retention by age: what is older than `cut` is anonymised; Ann's last stays hers.
        await asyncio.sleep(0.01)
        cut = datetime.now(UTC)
        await asyncio.sleep(0.01)
        await answer(database, "ann", "kerkelanden", [EngineAnswer("want_to_do", "paint")])
        await retention.purge(database, library, days=1, now=cut + timedelta(days=1))
        assert_in_order(engine)
        with engine.connect() as connection:
            kept = connection.execute(
                select(Answer.participant_id, Answer.step_key, Answer.next_in_flow_at)
            ).all()
        ann = await person_id(database, "ann")
        assert [(p == ann, k, n) for p, k, n in kept if p is not None] == [
            (True, "want_to_do", None)
        ]
        assert len([p for p, _, _ in kept if p is None]) == 5  # three of Ann's, both of Cas's
    finally:
        await database.close()


async def test_a_past_period_counts_the_latest_answer_then(
    db_url: str, engine: Engine, library: FlowLibrary, deployment: Deployment, t
) -> None:
    """Ann said "green" in Centrum, then (after moving) "youth" in Kerkelanden: a period
    that ended between the two counts her in Centrum with "green"; all time, in
    Kerkelanden with "youth"; a period from the move on, only the second."""
    database = Database(db_url)
    try:
        await answer(database, "ann", "centrum", [EngineAnswer("change", ["green"])])
        await asyncio.sleep(0.01)
        moved = datetime.now(UTC)
        await asyncio.sleep(0.01)
        await answer(database, "ann", "kerkelanden", [EngineAnswer("change", ["youth"])])
    finally:
        await database.close()
    labels = Labels(library, deployment, t)

    def counted(period: Period) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        scope = Scope(flow="what-matters", period=period)
        with engine.connect() as connection:
            flow = count(connection, scope, labels, ZONE)["what-matters"]
        step = flow.steps["change"]
        return dict(flow.people), {code: dict(n) for code, n in step.chose.items()}

    assert counted(Period(None, moved, "before")) == ({"centrum": 1}, {"green": {"centrum": 1}})
    assert counted(Period(None, None, "")) == ({"kerkelanden": 1}, {"youth": {"kerkelanden": 1}})
    assert counted(Period(moved, None, "after")) == (
        {"kerkelanden": 1},
        {"youth": {"kerkelanden": 1}},
    )
